/**
 * One feature's duplicates: the features of the same layer whose active frames overlap its own with IoU > θ
 * (the definition of ../interp/cooccurrence.ts, over the run's kept frame codes). Only this feature's row of the
 * layer's co-occurrence matrix is computed: the frames where it is active, the features active in those frames
 * (their intersections with it), and each feature's active-frame count over the whole layer (the unions).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { frameSetsFromCoo, type FrameSets } from '../interp/cooccurrence.ts';
import { keepsFrameCodes } from '../store/frameCodes.ts';
import { requireRun } from '../store/runs.ts';
import { storeName } from '../store/sqlRows.ts';
import type { DuplicateRow, FeatureDuplicatesView } from '../../shared/jobProtocol.ts';

/**
 * The row of `feature`: `sets` are the frames where it is active (each frame lists it once, with the other
 * features active there), `counts` the active frames per feature over all frames. Rows with IoU > θ, the
 * highest IoU first (then by feature).
 */
export function iouRow(sets: FrameSets, feature: number, counts: ReadonlyMap<number, number>, theta: number): DuplicateRow[] {
  const mine = counts.get(feature) ?? 0;
  const intersect = new Map<number, number>();
  for (let t = 0; t < sets.frames; t++) {
    let listed = false;
    for (let p = sets.rowPtr[t]!; p < sets.rowPtr[t + 1]!; p++) {
      const f = sets.features[p]!;
      if (f === feature) listed = true;
      else intersect.set(f, (intersect.get(f) ?? 0) + 1);
    }
    if (!listed) throw new Error(`iouRow: frame ${t} of the sets does not list feature ${feature}`);
  }
  if (mine < sets.frames) throw new Error(`iouRow: feature ${feature} is active in ${sets.frames} frames of the sets but counted in ${mine}`);
  const rows: DuplicateRow[] = [];
  for (const [f, both] of intersect) {
    const union = mine + (counts.get(f) ?? 0) - both;
    const iou = both / union;
    if (iou > theta) rows.push({ feature: f, iou, intersect: both, union });
  }
  return rows.sort((a, b) => b.iou - a.iou || a.feature - b.feature);
}

/** The layer's codes over the frames the duplicates verb compares: done clips, frames below the layer's frame count. */
const CODES = `
  WITH done AS (
    SELECT c.clip_id, r.frames FROM clips c JOIN clip_recon r ON r.run_id = c.run_id AND r.clip_id = c.clip_id AND r.layer = $layer
    WHERE c.run_id = $run AND c.status = 'done'
  ), codes AS (
    SELECT f.clip_id, f.frame, f.feature FROM frame_codes f JOIN done d ON d.clip_id = f.clip_id AND f.frame < d.frames
    WHERE f.run_id = $run AND f.layer = $layer
  )`;

export async function featureDuplicates(conn: DuckDBConnection, runId: string, layer: number, feature: number, theta = 0.5): Promise<FeatureDuplicatesView> {
  const t0 = performance.now();
  const run = await requireRun(conn, runId, layer);
  if (!keepsFrameCodes(run)) {
    return {
      feature, layer, frameCodes: false,
      note: `Run ${run.runId.slice(0, 8)} of ${await storeName(conn)} kept no per-frame codes, which duplicates need. Run the corpus again with \`audiosae corpus run … --keep-frame-codes\` (a new run in the same store).`,
    };
  }
  const params = { run: run.runId, layer, feature };
  // Its active frames, numbered 0.. in (clip, frame) order, and every feature active in each.
  const coo = await conn.runAndReadAll(`${CODES}, mine AS (
      SELECT clip_id, frame, (row_number() OVER (ORDER BY clip_id, frame) - 1)::INTEGER AS t FROM codes WHERE feature = $feature
    )
    SELECT m.t, c.feature FROM mine m JOIN codes c ON c.clip_id = m.clip_id AND c.frame = m.frame`, params);
  const t = Int32Array.from(coo.getColumns()[0] ?? [], Number);
  const f = Int32Array.from(coo.getColumns()[1] ?? [], Number);
  const frames = t.reduce((m, x) => Math.max(m, x + 1), 0);
  const sets = frameSetsFromCoo({ frames, frame: t, feature: f }, run.dictSize);
  const counted = await conn.runAndReadAll(`${CODES}, touched AS (
      SELECT DISTINCT c.feature FROM codes c JOIN (SELECT clip_id, frame FROM codes WHERE feature = $feature) m ON c.clip_id = m.clip_id AND c.frame = m.frame
    )
    SELECT feature, count(*)::INTEGER FROM codes WHERE feature IN (SELECT feature FROM touched) GROUP BY feature`, params);
  const counts = new Map<number, number>(counted.getRows().map((r) => [Number(r[0]), Number(r[1])]));
  return { feature, layer, frameCodes: true, theta, activeFrames: frames, rows: iouRow(sets, feature, counts, theta), seconds: (performance.now() - t0) / 1000 };
}
