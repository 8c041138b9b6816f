/**
 * The one sparse-codes type of the project and what is read straight off it: per-frame SAE codes in CSR layout
 * (frame offsets, feature ids, values), a builder that grows as windows stream in, slices by frame range,
 * per-feature columns (activation tracks, firings and their intervals) and dense rows. The SAE writes it, the
 * editor keeps it per run, the CLI streams it to .npz/.npy, the corpus store reads it; per-feature statistics
 * over it are in featureStats.ts. "A feature fires in a frame" means its code there is non-zero.
 */

/** Per-frame active features, CSR layout; within a frame, features sorted by descending value. */
export interface SparseCodes {
  frames: number;
  rowPtr: Int32Array; // [frames + 1]: frame t's entries are rowPtr[t] .. rowPtr[t+1]-1
  indices: Int32Array; // feature ids
  values: Float32Array;
}

/** A growable typed array (capacity doubles). */
class Growable<T extends Float32Array | Int32Array> {
  length = 0;
  constructor(private data: T, private readonly make: (n: number) => T) {}
  push(values: ArrayLike<number>): void {
    if (this.length + values.length > this.data.length) {
      const next = this.make(Math.max(this.length + values.length, 2 * this.data.length));
      next.set(this.data.subarray(0, this.length));
      this.data = next;
    }
    this.data.set(values, this.length);
    this.length += values.length;
  }
  get view(): T {
    return this.data.subarray(0, this.length) as T;
  }
}

/**
 * Sparse codes of a clip of known length, appended chunk by chunk in frame order. Frames [0, frames) are filled;
 * `rowPtr`, `indices` and `values` are views of what is filled (valid until the next append).
 */
export class SparseCodesBuilder implements SparseCodes {
  frames = 0;
  private readonly offsets: Int32Array; // [totalFrames + 1]
  private readonly ids = new Growable(new Int32Array(1024), (n) => new Int32Array(n));
  private readonly vals = new Growable(new Float32Array(1024), (n) => new Float32Array(n));

  constructor(readonly totalFrames: number) {
    this.offsets = new Int32Array(totalFrames + 1);
  }

  get rowPtr(): Int32Array {
    return this.offsets.subarray(0, this.frames + 1);
  }

  get indices(): Int32Array {
    return this.ids.view;
  }

  get values(): Float32Array {
    return this.vals.view;
  }

  /** Appends the first `frames` frames of `chunk` (all of them by default; never past totalFrames). Returns how many. */
  append(chunk: SparseCodes, frames = chunk.frames): number {
    frames = Math.min(frames, chunk.frames, this.totalFrames - this.frames);
    const { rowPtr } = chunk;
    const from = rowPtr[0]!;
    const to = rowPtr[frames]!;
    this.ids.push(chunk.indices.subarray(from, to));
    this.vals.push(chunk.values.subarray(from, to));
    const base = this.offsets[this.frames]! - from;
    for (let t = 0; t < frames; t++) this.offsets[this.frames + t + 1] = base + rowPtr[t + 1]!;
    this.frames += frames;
    return frames;
  }
}

/** Frames [from, to) of `codes` (clamped), sharing its ids and values; the offsets are rebased to start at 0. */
export function sliceFrames(codes: SparseCodes, from: number, to: number): SparseCodes {
  from = Math.max(0, Math.min(from, codes.frames));
  to = Math.max(from, Math.min(to, codes.frames));
  const a = codes.rowPtr[from]!;
  const b = codes.rowPtr[to]!;
  const rowPtr = new Int32Array(to - from + 1);
  for (let t = from; t <= to; t++) rowPtr[t - from] = codes.rowPtr[t]! - a;
  return { frames: to - from, rowPtr, indices: codes.indices.subarray(a, b), values: codes.values.subarray(a, b) };
}

/** Frames t in [from, to) of one chunk's rows, written into a frame-major dense block [to - from, dictSize]. */
export function denseRows(codes: SparseCodes, dictSize: number, from = 0, to = codes.frames): Float32Array {
  const { rowPtr, indices, values } = codes;
  const out = new Float32Array(Math.max(0, to - from) * dictSize); // [frames, dictSize] row-major
  for (let t = from; t < to; t++) for (let p = rowPtr[t]!; p < rowPtr[t + 1]!; p++) out[(t - from) * dictSize + indices[p]!] = values[p]!;
  return out;
}

/** A feature's code per frame over [from, to) (0 where it is not active). */
export function featureColumn(codes: SparseCodes, feature: number, from = 0, to = codes.frames): Float32Array {
  return featureColumns(codes, [feature], from, to).get(feature)!;
}

/** The codes of several features per frame over [from, to), in one pass over the entries. */
export function featureColumns(codes: SparseCodes, features: readonly number[], from = 0, to = codes.frames): Map<number, Float32Array> {
  const columns = new Map(features.map((f) => [f, new Float32Array(Math.max(0, to - from))]));
  const { rowPtr, indices, values } = codes;
  for (let t = Math.max(0, from); t < Math.min(to, codes.frames); t++) {
    for (let p = rowPtr[t]!; p < rowPtr[t + 1]!; p++) {
      const column = columns.get(indices[p]!);
      if (column) column[t - from] = values[p]!;
    }
  }
  return columns;
}

/** Whether `feature` is active in frame t. */
export function firesAt(codes: SparseCodes, feature: number, t: number): boolean {
  for (let p = codes.rowPtr[t]!; p < codes.rowPtr[t + 1]!; p++) if (codes.indices[p] === feature && codes.values[p] !== 0) return true;
  return false;
}

/**
 * The first frame after `from` (direction 1) or before it (−1) where `feature` is active and the frame before
 * it (in time) is not: the start of its next or previous firing. Undefined if there is none.
 */
export function nextFiring(codes: SparseCodes, feature: number, from: number, direction: 1 | -1): number | undefined {
  const starts = (t: number) => firesAt(codes, feature, t) && (t === 0 || !firesAt(codes, feature, t - 1));
  for (let t = from + direction; t >= 0 && t < codes.frames; t += direction) if (starts(t)) return t;
  return undefined;
}

export interface Interval { startS: number; endS: number; max: number }

/** Runs of consecutive frames where the feature is active, in seconds (a frame spans 1 / framesPerSecond). */
export function firingIntervals(codes: SparseCodes, feature: number, framesPerSecond: number): Interval[] {
  const column = featureColumn(codes, feature);
  const out: Interval[] = [];
  let open: Interval | undefined;
  for (let t = 0; t < codes.frames; t++) {
    const v = column[t]!;
    if (v > 0) {
      if (!open) out.push((open = { startS: t / framesPerSecond, endS: 0, max: 0 }));
      open.endS = (t + 1) / framesPerSecond;
      open.max = Math.max(open.max, v);
    } else {
      open = undefined;
    }
  }
  return out;
}
