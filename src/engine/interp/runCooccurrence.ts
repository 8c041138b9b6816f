/**
 * Duplicates and coverage of a run's SAEs (paper appendix B) from its kept frame codes, read range by range.
 *
 * The aligned clips are cut into ranges of about RANGE_CODES codes a side (the store's own count per clip); each
 * range is read, turned into frame sets and added to one DenseIou, so memory is the dense matrix plus one range
 * whatever the corpus size (F = 6 144: 75 MB of counts for duplicates, 151 MB for coverage). Where the matrix
 * would pass DENSE_LIMIT counts (very large dictionaries), the whole layer is read at once and iouPairs counts
 * sparsely, one feature's row at a time: memory then grows with the codes instead (about 20 bytes a code).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { AudioSaeError } from '../errors.ts';
import { alignClips, readFrameCodes, requireFrameCodes, type AlignedClips } from '../store/frameCodes.ts';
import { num, rows, storeName } from '../store/sqlRows.ts';
import {
  coverageSummary, DenseIou, duplicateSummary, frameSetsFromCoo, iouPairs,
  type CoverageSummary, type DuplicateSummary, type FrameSets, type IouPair, type IouResult,
} from './cooccurrence.ts';

/** Codes a side per range read. */
export const RANGE_CODES = 4_000_000;
/** The most counts a dense matrix may hold (1 GiB); past it, the sparse path. */
export const DENSE_LIMIT = 2 ** 28;

export interface SaeRef {
  runId: string;
  layer: number;
}

/** How the counting is done (tests set small values to take every path on small runs). */
export interface IouOptions {
  rangeCodes?: number;
  denseLimit?: number;
}

interface Side {
  runId: string;
  layer: number;
  dictSize: number;
}

/** Codes stored per clip of a run's layer. */
async function codesPerClip(conn: DuckDBConnection, s: Side): Promise<Map<number, number>> {
  const found = await rows(conn, 'SELECT clip_id, count(*)::DOUBLE AS n FROM frame_codes WHERE run_id = $run AND layer = $layer GROUP BY clip_id', { run: s.runId, layer: s.layer });
  return new Map(found.map((r) => [num(r, 'clip_id'), num(r, 'n')]));
}

/** [from, to) ranges of the aligned pairs, each with at most `limit` codes a side (or one pair). */
export function clipRanges(perPair: readonly number[], limit: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let from = 0;
  let sum = 0;
  perPair.forEach((n, i) => {
    if (i > from && sum + n > limit) {
      out.push([from, i]);
      from = i;
      sum = 0;
    }
    sum += n;
  });
  if (from < perPair.length) out.push([from, perPair.length]);
  return out;
}

/** One side's frame sets over the pairs [from, to) of `clips`, frames numbered from 0. */
async function rangeSets(conn: DuckDBConnection, s: Side, ids: Int32Array, clips: AlignedClips, from: number, to: number): Promise<FrameSets> {
  const sub = ids.subarray(from, to);
  const offsets = clips.offsets.slice(from, to + 1).map((o) => o - clips.offsets[from]!);
  let lo = Infinity;
  let hi = -Infinity;
  for (const c of sub) (lo = Math.min(lo, c)), (hi = Math.max(hi, c));
  const coo = await readFrameCodes(conn, s.runId, s.layer, sub, clips.frames.subarray(from, to), offsets, { values: false, clipRange: [lo, hi] });
  return frameSetsFromCoo(coo, s.dictSize);
}

/** IoU counts of A against B (B null: A against itself) over the aligned clips. */
async function iouOverRun(conn: DuckDBConnection, a: Side, b: Side | null, clips: AlignedClips, theta: number, opts: IouOptions): Promise<IouResult> {
  if (DenseIou.entries(a.dictSize, b ? b.dictSize : null) > (opts.denseLimit ?? DENSE_LIMIT)) {
    const whole = (s: Side, ids: Int32Array) => rangeSets(conn, s, ids, clips, 0, ids.length);
    return iouPairs(await whole(a, clips.clipA), b ? await whole(b, clips.clipB) : null, theta);
  }
  const countsA = await codesPerClip(conn, a);
  const countsB = b ? await codesPerClip(conn, b) : countsA;
  const perPair = Array.from(clips.clipA, (c, i) => Math.max(countsA.get(c) ?? 0, countsB.get(clips.clipB[i]!) ?? 0));
  const dense = new DenseIou(a.dictSize, b ? b.dictSize : null);
  for (const [from, to] of clipRanges(perPair, opts.rangeCodes ?? RANGE_CODES)) {
    const setsA = await rangeSets(conn, a, clips.clipA, clips, from, to);
    dense.add(setsA, b ? await rangeSets(conn, b, clips.clipB, clips, from, to) : null);
  }
  return dense.result(theta);
}

/** Duplicates of a run's layers (each layer's SAE against itself over the run's clips): a summary per layer and the pairs. */
export async function duplicateFeatures(conn: DuckDBConnection, runId: string, layers: readonly number[], theta = 0.5, opts: IouOptions = {}): Promise<{
  summaries: Array<DuplicateSummary & { layer: number; frames: number }>;
  pairs: Array<IouPair & { layer: number }>;
}> {
  const summaries: Array<DuplicateSummary & { layer: number; frames: number }> = [];
  const pairs: Array<IouPair & { layer: number }> = [];
  for (const layer of layers) {
    const run = await requireFrameCodes(conn, runId, layer);
    const clips = await alignClips(conn, { runId: run.runId, layer }, { runId: run.runId, layer });
    const r = await iouOverRun(conn, { runId: run.runId, layer, dictSize: run.dictSize }, null, clips, theta, opts);
    summaries.push({ layer, frames: clips.offsets[clips.offsets.length - 1]!, ...duplicateSummary(r, theta) });
    for (const p of r.pairs) pairs.push({ layer, ...p });
  }
  return { summaries, pairs };
}

/** Coverage between two SAEs (two layers of one run, or layers of two runs over the same clips), both ways, and the pairs. */
export async function coverageBetween(conn: DuckDBConnection, a: SaeRef, b: SaeRef, theta = 0.5, opts: IouOptions = {}): Promise<{
  summary: CoverageSummary & { clips: number; frames: number };
  pairs: IouPair[];
}> {
  const runA = await requireFrameCodes(conn, a.runId, a.layer);
  const runB = await requireFrameCodes(conn, b.runId, b.layer);
  const clips = await alignClips(conn, { runId: runA.runId, layer: a.layer }, { runId: runB.runId, layer: b.layer });
  if (clips.clipA.length === 0) {
    throw new AudioSaeError(`runs ${runA.runId} and ${runB.runId} share no clips (compared by content hash and segment).`, await storeName(conn), 'Coverage compares two SAEs over the same clips: run both over one corpus.');
  }
  const r = await iouOverRun(conn, { runId: runA.runId, layer: a.layer, dictSize: runA.dictSize }, { runId: runB.runId, layer: b.layer, dictSize: runB.dictSize }, clips, theta, opts);
  return { summary: { clips: clips.clipA.length, frames: clips.offsets[clips.offsets.length - 1]!, ...coverageSummary(r, theta) }, pairs: r.pairs };
}
