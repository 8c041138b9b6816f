/**
 * Per-frame sparse codes in the corpus store (`frame_codes`, filled by runs made with `--keep-frame-codes`):
 * staging a clip's codes for the clip's one write transaction, and reading them back for the frame-level
 * analyses (duplicates, coverage, interval label search). DuckDB keeps the table columnar and compressed; one
 * row per (layer, clip, frame, feature that fired).
 */
import { DuckDBDataChunk, FLOAT, INTEGER, SMALLINT, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import { AudioSaeError } from '../errors.ts';
import type { SparseCodes } from '../sae/index.ts';
import { requireRun, type RunInfo } from './runs.ts';
import { num, rows, storeName } from './sqlRows.ts';

/** The codes of frames [startFrame, startFrame + codes.frames) of a clip, as one SAE call produced them. */
export interface FrameCodeChunk {
  startFrame: number;
  codes: SparseCodes;
}

/** The staging table's columns: run and clip are constants of one write, added when the rows move. */
export const STAGE_FRAME_CODES_SQL = 'CREATE OR REPLACE TEMP TABLE stage_frame_codes (layer SMALLINT, frame INTEGER, feature INTEGER, value FLOAT)';

const STAGE_TYPES = [SMALLINT, INTEGER, INTEGER, FLOAT];
const ROWS_PER_CHUNK = 2048; // DuckDB's vector size

/**
 * Appends a layer's chunks (non-zero codes only) to the staging table, as DuckDB data chunks of 2048 rows: the
 * values go into the chunk's vectors in JS and cross to DuckDB once per vector (measured: about 5× the rate of one
 * appender call per value).
 */
export function appendFrameCodes(a: DuckDBAppender, layer: number, chunks: readonly FrameCodeChunk[]): void {
  let chunk = DuckDBDataChunk.create(STAGE_TYPES, ROWS_PER_CHUNK);
  let vectors = STAGE_TYPES.map((_, i) => chunk.getColumnVector(i));
  let n = 0;
  const flush = () => {
    for (const v of vectors) v.flush();
    chunk.rowCount = n;
    a.appendDataChunk(chunk);
    chunk = DuckDBDataChunk.create(STAGE_TYPES, ROWS_PER_CHUNK);
    vectors = STAGE_TYPES.map((_, i) => chunk.getColumnVector(i));
    n = 0;
  };
  for (const { startFrame, codes } of chunks) {
    const { rowPtr, indices, values } = codes;
    for (let t = 0; t < codes.frames; t++) {
      for (let p = rowPtr[t]!; p < rowPtr[t + 1]!; p++) {
        const v = values[p]!;
        if (v === 0) continue;
        vectors[0]!.setItem(n, layer);
        vectors[1]!.setItem(n, startFrame + t);
        vectors[2]!.setItem(n, indices[p]!);
        vectors[3]!.setItem(n++, v);
        if (n === ROWS_PER_CHUNK) flush();
      }
    }
  }
  if (n > 0) flush();
}

/** Whether a run kept its frame codes (the option is part of the run's identity). */
export function keepsFrameCodes(run: RunInfo): boolean {
  const o = run.options as Record<string, unknown> | null;
  return typeof o === 'object' && o !== null && o.keepFrameCodes === true;
}

/** The run, checked to exist, to have the layer, and to have kept its frame codes; an AudioSaeError otherwise. */
export async function requireFrameCodes(conn: DuckDBConnection, runId: string, layer?: number): Promise<RunInfo> {
  const run = await requireRun(conn, runId, layer);
  if (!keepsFrameCodes(run)) {
    throw new AudioSaeError(
      `run ${run.runId} did not keep per-frame codes, which this analysis needs.`,
      await storeName(conn),
      'Run the corpus again with `audiosae corpus run … --keep-frame-codes` (a new run in the same store).',
    );
  }
  return run;
}

/** Clips of two (run, layer)s paired by content (hash and segment), with the frames both have. */
export interface AlignedClips {
  clipA: Int32Array;
  clipB: Int32Array;
  /** Frames compared per pair: the fewer of the two layers' frame counts. */
  frames: Int32Array;
  /** Where each pair's frames start in the concatenation: [pairs + 1]. */
  offsets: Int32Array;
}

/**
 * The done clips of run A's layer paired with run B's (the same run for two layers of it) by content hash and
 * segment; identical files within one corpus pair up in clip order.
 */
export async function alignClips(conn: DuckDBConnection, a: { runId: string; layer: number }, b: { runId: string; layer: number }): Promise<AlignedClips> {
  const side = (run: string, layer: string) => `
    SELECT c.clip_id, c.content_hash, c.start_s, c.end_s, r.frames,
           row_number() OVER (PARTITION BY c.content_hash, c.start_s, c.end_s ORDER BY c.clip_id) AS nth
    FROM clips c JOIN clip_recon r ON r.run_id = c.run_id AND r.clip_id = c.clip_id AND r.layer = ${layer}
    WHERE c.run_id = ${run} AND c.status = 'done'`;
  const found = await rows(conn, `
    SELECT x.clip_id AS clip_a, y.clip_id AS clip_b, least(x.frames, y.frames) AS frames
    FROM (${side('$runA', '$layerA')}) x JOIN (${side('$runB', '$layerB')}) y
      ON x.content_hash = y.content_hash AND x.start_s IS NOT DISTINCT FROM y.start_s AND x.end_s IS NOT DISTINCT FROM y.end_s AND x.nth = y.nth
    ORDER BY x.clip_id`, { runA: a.runId, layerA: a.layer, runB: b.runId, layerB: b.layer });
  const n = found.length;
  const out: AlignedClips = { clipA: new Int32Array(n), clipB: new Int32Array(n), frames: new Int32Array(n), offsets: new Int32Array(n + 1) };
  found.forEach((r, i) => {
    out.clipA[i] = num(r, 'clip_a');
    out.clipB[i] = num(r, 'clip_b');
    out.frames[i] = num(r, 'frames');
    out.offsets[i + 1] = out.offsets[i]! + out.frames[i]!;
  });
  return out;
}

/** One layer's frame codes in COO form over the aligned frames: global frame (pair offset + frame), feature, value. */
export interface FrameCodesCoo {
  frames: number;
  frame: Int32Array;
  feature: Int32Array;
  value: Float32Array;
}

/**
 * Reads a layer's frame codes for the clips of `clipIds` (frame f of the i-th clip becomes global frame
 * offsets[i] + f; frames at or past frames[i] and other clips are left out), streamed chunk by chunk into arrays
 * sized once from a count of the rows (so the peak is the arrays themselves, 12 bytes a code, 8 without values).
 * With `clipMax`, each clip's max per feature instead (clip_features.max_act, as frame 0 of a one-frame clip:
 * pass frames all 1 and offsets 0, 1, 2 …); that needs no frame codes. With `values: false`, `value` is empty
 * (for co-occurrence, which only asks whether a code is non-zero). With `clipRange` [lo, hi], only clip ids in
 * lo..hi are read (a range of `clipIds`, for reading a run piece by piece).
 */
export async function readFrameCodes(
  conn: DuckDBConnection, runId: string, layer: number, clipIds: Int32Array, frames: Int32Array, offsets: Int32Array,
  opts: { clipMax?: boolean; values?: boolean; clipRange?: readonly [number, number] } = {},
): Promise<FrameCodesCoo> {
  const withValues = opts.values ?? true;
  let maxClip = -1;
  for (const c of clipIds) maxClip = Math.max(maxClip, c);
  const position = new Int32Array(maxClip + 1).fill(-1);
  clipIds.forEach((c, i) => (position[c] = i));
  const table = opts.clipMax ? 'clip_features' : 'frame_codes';
  const where = { run: runId, layer, ...(opts.clipRange ? { lo: opts.clipRange[0], hi: opts.clipRange[1] } : {}) };
  const filter = `run_id = $run AND layer = $layer${opts.clipRange ? ' AND clip_id BETWEEN $lo AND $hi' : ''}`;
  const [counted] = await rows(conn, `SELECT count(*)::DOUBLE AS n FROM ${table} WHERE ${filter}`, where);
  const cap = num(counted!, 'n');
  const frame = new Int32Array(cap);
  const feature = new Int32Array(cap);
  const value = new Float32Array(withValues ? cap : 0);
  let n = 0;
  const result = await conn.stream(
    opts.clipMax
      ? `SELECT clip_id, 0 AS frame, feature${withValues ? ', max_act AS value' : ''} FROM clip_features WHERE ${filter}`
      : `SELECT clip_id, frame, feature${withValues ? ', value' : ''} FROM frame_codes WHERE ${filter}`,
    where,
  );
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const clips = chunk.getColumnVector(0);
    const fr = chunk.getColumnVector(1);
    const fe = chunk.getColumnVector(2);
    const va = withValues ? chunk.getColumnVector(3) : undefined;
    const rowsIn = chunk.rowCount;
    if (n + rowsIn > cap) throw new Error(`readFrameCodes: ${table} grew while it was read (${cap} rows counted)`);
    for (let i = 0; i < rowsIn; i++) {
      const c = clips.getItem(i) as number;
      const at = c <= maxClip ? position[c]! : -1;
      if (at < 0) continue;
      const f = fr.getItem(i) as number;
      if (f >= frames[at]!) continue;
      frame[n] = offsets[at]! + f;
      feature[n] = fe.getItem(i) as number;
      if (va) value[n] = va.getItem(i) as number;
      n++;
    }
  }
  // Views, not copies (a copy would double the peak); rows of clips left out only leave an unused tail.
  return { frames: offsets[offsets.length - 1] ?? 0, frame: frame.subarray(0, n), feature: feature.subarray(0, n), value: withValues ? value.subarray(0, n) : value };
}
