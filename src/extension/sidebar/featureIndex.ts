/**
 * Reads one layer of a run from a corpus store into the columns the feature search filters (search.ts): per
 * feature the corpus frame and audio frequency, the max and mean activation, the frame frequency per domain
 * (the sparklines), and the three-way frame-level label and grade of appendix C (classify.ts). Also the run's
 * SAE identity (its layer's sae_sha256), which keys the annotations. No `vscode` import.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { classifyFeatures } from '../../engine/interp/classify.ts';
import { featureStats, requireRun, type FeatureStatsRow } from '../../engine/store/queries.ts';
import { rows } from '../../engine/store/sqlRows.ts';
import { labelIndex, type FeatureColumns } from './search.ts';

/** The SAE identity of a run's layer: sha256 of the layer's checkpoint as the run recorded it. */
export async function saeIdentity(conn: DuckDBConnection, runId: string, layer: number): Promise<string> {
  const r = await rows(conn, `SELECT sae_sha256::VARCHAR AS s FROM runs WHERE run_id = $run`, { run: runId });
  let map: Record<string, unknown> = {};
  try {
    map = JSON.parse(String(r[0]?.s ?? '{}')) as Record<string, unknown>;
  } catch {
    map = {};
  }
  const sha = map[String(layer)];
  // A run without a recorded checksum (should not happen) is keyed by the run itself, so nothing is mixed up.
  return typeof sha === 'string' && sha !== '' ? sha : `run:${runId}:${layer}`;
}

/** Per feature the largest per-clip max over the layer's done clips (0 for a feature that never fires). */
export async function featureMaxima(conn: DuckDBConnection, runId: string, layer: number, dictSize: number): Promise<Float64Array> {
  const out = new Float64Array(dictSize);
  const r = await rows(
    conn,
    `SELECT f.feature, max(f.max_act)::DOUBLE AS m FROM clip_features f JOIN clips c ON c.run_id = f.run_id AND c.clip_id = f.clip_id
     WHERE f.run_id = $run AND f.layer = $layer AND c.status = 'done' GROUP BY f.feature`,
    { run: runId, layer },
  );
  for (const row of r) {
    const f = Number(row.feature);
    if (f >= 0 && f < dictSize) out[f] = Number(row.m);
  }
  return out;
}

/** The search columns from featureStats rows (by domain) and the per-feature maxima; pure. */
export function columnsFromStats(stats: readonly FeatureStatsRow[], maxima: Float64Array, dictSize: number): FeatureColumns {
  const domains = [...new Set(stats.map((s) => s.group ?? '(none)'))].sort();
  const nd = domains.length;
  const c: FeatureColumns = {
    count: dictSize, domains,
    frameFreq: new Float64Array(dictSize), audioFreq: new Float64Array(dictSize), maxAct: Float64Array.from(maxima.subarray(0, dictSize)),
    meanAct: new Float64Array(dictSize), domainFreq: new Float32Array(dictSize * nd),
    label: new Uint8Array(dictSize).fill(labelIndex('none')), grade: new Int8Array(dictSize).fill(-1),
  };
  const sums = new Float64Array(dictSize * 5); // active frames, frames, active clips, clips, Σ codes
  for (const s of stats) {
    const f = s.feature;
    if (f < 0 || f >= dictSize) continue;
    c.domainFreq[f * nd + domains.indexOf(s.group ?? '(none)')] = s.frameFreq;
    sums[5 * f] += s.activeFrames;
    sums[5 * f + 1] += s.frames;
    sums[5 * f + 2] += s.activeClips;
    sums[5 * f + 3] += s.clips;
    sums[5 * f + 4] += (s.meanActFrame ?? 0) * s.activeFrames;
  }
  for (let f = 0; f < dictSize; f++) {
    c.frameFreq[f] = sums[5 * f + 1]! > 0 ? sums[5 * f]! / sums[5 * f + 1]! : 0;
    c.audioFreq[f] = sums[5 * f + 3]! > 0 ? sums[5 * f + 2]! / sums[5 * f + 3]! : 0;
    c.meanAct[f] = sums[5 * f]! > 0 ? sums[5 * f + 4]! / sums[5 * f]! : 0;
  }
  try {
    for (const t of classifyFeatures(stats, { level: 'frame' }).threeWay) {
      if (t.feature < 0 || t.feature >= dictSize) continue;
      c.label[t.feature] = labelIndex(t.label);
      c.grade[t.feature] = t.grade ?? -1;
    }
  } catch (e) {
    c.labelNote = (e as Error).message; // e.g. the corpus has no music clips: no labels, everything else works
  }
  return c;
}

export interface LayerIndexData {
  runId: string;
  backbone: string;
  layer: number;
  sae: string;
  dictSize: number;
  columns: FeatureColumns;
}

/** Everything the search needs about one layer of a run, in three queries. */
export async function loadLayerIndex(conn: DuckDBConnection, runId: string, layer: number): Promise<LayerIndexData> {
  const run = await requireRun(conn, runId, layer);
  const stats = await featureStats(conn, run.runId, layer, { by: 'domain' });
  const maxima = await featureMaxima(conn, run.runId, layer, run.dictSize);
  return {
    runId: run.runId, backbone: run.backbone, layer, sae: await saeIdentity(conn, run.runId, layer), dictSize: run.dictSize,
    columns: columnsFromStats(stats, maxima, run.dictSize),
  };
}
