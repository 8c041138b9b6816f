/**
 * Duplicate features and coverage between SAEs (paper appendix B), from co-occurrence counts over frames.
 *
 * Activations are binarised per frame (a feature is active where its code is non-zero). For features a and b over
 * the same frames, IoU(a, b) = |A ∩ B| / |A ∪ B| with A, B the sets of frames where each is active.
 * - duplicates of one SAE: pairs a < b of its features with IoU > θ (default 0.5); a feature is duplicated when it
 *   is in at least one such pair.
 * - coverage c(A, B): the fraction of the alive features of A (active at least once) that have some feature of B
 *   with IoU > θ; for two layers of one run (frames are the same), or two runs over the same clips.
 *
 * The intersections are a sparse matrix product Aᵀ·B of the frames × features incidence matrices: for each
 * feature a, walk the frames where it is active and, in each, the features of B active there, counting into one
 * dense row accumulator of length F (reset through the list of touched entries). That costs Σ_t |A_t|·|B_t|
 * additions (halved for one SAE against itself) and O(F) memory, never an F × F or F × frames array.
 * (bench/cooccurrence.ts measures it against the same counts done by DuckDB as a self-join on (clip, frame).)
 * DenseIou sums the same counts over batches of frames into one dense matrix instead, so that a run's frames can
 * be read range by range (runCooccurrence.ts); the store-facing verbs are there.
 */
import type { FrameCodesCoo } from '../store/frameCodes.ts';

/** The active features of one SAE in each of a sequence of frames (CSR, binarised: no values). */
export interface FrameSets {
  frames: number;
  dictSize: number;
  rowPtr: Int32Array; // [frames + 1]: frame t's active features are features[rowPtr[t] .. rowPtr[t + 1])
  features: Int32Array;
  /** Each frame's features in ascending order (as frameSetsFromCoo makes them); iouPairs sorts a copy otherwise. */
  sortedRows?: boolean;
}

export interface IouPair {
  featureA: number;
  featureB: number;
  iou: number;
  /** Frames where both are active. */
  intersect: number;
  /** Frames where at least one is active. */
  union: number;
}

export interface IouResult {
  /** Active frames per feature of A, and of B (the same array for one SAE against itself). */
  countsA: Int32Array;
  countsB: Int32Array;
  /** Pairs with IoU > θ, by featureA then featureB; for one SAE against itself only featureA < featureB. */
  pairs: IouPair[];
}

/**
 * The transpose: feature j's entries are entry[ptr[j] .. ptr[j + 1]) (positions in `features`, frame order),
 * and frame[...] the frame of each.
 */
function byFeature(s: FrameSets): { ptr: Int32Array; entry: Int32Array; frame: Int32Array } {
  const ptr = new Int32Array(s.dictSize + 1);
  for (let p = 0; p < s.features.length; p++) ptr[s.features[p]! + 1]!++;
  for (let j = 0; j < s.dictSize; j++) ptr[j + 1]! += ptr[j]!;
  const next = ptr.slice(0, s.dictSize);
  const entry = new Int32Array(s.features.length);
  const frame = new Int32Array(s.features.length);
  for (let t = 0; t < s.frames; t++) {
    for (let p = s.rowPtr[t]!; p < s.rowPtr[t + 1]!; p++) {
      const at = next[s.features[p]!]!++;
      entry[at] = p;
      frame[at] = t;
    }
  }
  return { ptr, entry, frame };
}

/** The same sets with each frame's features in ascending order. */
function sortedRows(s: FrameSets): FrameSets {
  const features = s.features.slice();
  for (let t = 0; t < s.frames; t++) features.subarray(s.rowPtr[t]!, s.rowPtr[t + 1]!).sort();
  return { ...s, features };
}

function activeCounts(s: FrameSets, ptr: Int32Array): Int32Array {
  const counts = new Int32Array(s.dictSize);
  for (let j = 0; j < s.dictSize; j++) counts[j] = ptr[j + 1]! - ptr[j]!;
  return counts;
}

/**
 * Every pair (a of A, b of B) with IoU > θ over the frames both describe (they must be the same frames, in the
 * same order). With `b` omitted, A against itself: pairs a < b. A frame must list a feature at most once.
 */
export function iouPairs(a: FrameSets, b: FrameSets | null, theta: number): IouResult {
  const self = b === null;
  if (self && !a.sortedRows) a = sortedRows(a);
  const other = b ?? a;
  if (other.frames !== a.frames) throw new Error(`iouPairs: ${a.frames} frames against ${other.frames}`);
  const colsA = byFeature(a);
  const countsA = activeCounts(a, colsA.ptr);
  const countsB = self ? countsA : activeCounts(other, byFeature(other).ptr);
  const acc = new Int32Array(other.dictSize);
  const touched = new Int32Array(other.dictSize);
  const pairs: IouPair[] = [];
  const { rowPtr, features } = other;
  for (let fa = 0; fa < a.dictSize; fa++) {
    const na = countsA[fa]!;
    if (na === 0) continue;
    let nTouched = 0;
    for (let p = colsA.ptr[fa]!; p < colsA.ptr[fa + 1]!; p++) {
      const t = colsA.frame[p]!;
      // Against itself, only the features after fa in the (ascending) frame: each pair once.
      for (let q = self ? colsA.entry[p]! + 1 : rowPtr[t]!, end = rowPtr[t + 1]!; q < end; q++) {
        const fb = features[q]!;
        if (acc[fb]++ === 0) touched[nTouched++] = fb;
      }
    }
    for (let i = 0; i < nTouched; i++) {
      const fb = touched[i]!;
      const intersect = acc[fb]!;
      acc[fb] = 0;
      const union = na + countsB[fb]! - intersect;
      const iou = intersect / union;
      if (iou > theta) pairs.push({ featureA: fa, featureB: fb, iou, intersect, union });
    }
  }
  pairs.sort((x, y) => x.featureA - y.featureA || x.featureB - y.featureB);
  return { countsA, countsB, pairs };
}

/** Features of one SAE, the paper's Table 4 way: how many of the alive ones have a duplicate. */
export interface DuplicateSummary {
  theta: number;
  /** Features active at least once over the frames. */
  alive: number;
  /** Alive features in at least one pair with IoU > θ. */
  duplicated: number;
  /** duplicated / alive (0 when nothing is alive). */
  duplicatedFraction: number;
  pairs: number;
}

export function duplicateSummary(r: IouResult, theta: number): DuplicateSummary {
  const inPair = new Uint8Array(r.countsA.length);
  for (const p of r.pairs) inPair[p.featureA] = inPair[p.featureB] = 1;
  const alive = r.countsA.reduce((n, c) => n + (c > 0 ? 1 : 0), 0);
  const duplicated = inPair.reduce((n, x) => n + x, 0);
  return { theta, alive, duplicated, duplicatedFraction: alive ? duplicated / alive : 0, pairs: r.pairs.length };
}

/** Coverage both ways between two SAEs over the same frames, the paper's Table 5 way. */
export interface CoverageSummary {
  theta: number;
  aliveA: number;
  /** Alive features of A with some feature of B at IoU > θ. */
  coveredA: number;
  /** c(A, B) = coveredA / aliveA. */
  coverageAB: number;
  aliveB: number;
  coveredB: number;
  /** c(B, A) = coveredB / aliveB. */
  coverageBA: number;
  pairs: number;
}

export function coverageSummary(r: IouResult, theta: number): CoverageSummary {
  const coveredA = new Uint8Array(r.countsA.length);
  const coveredB = new Uint8Array(r.countsB.length);
  for (const p of r.pairs) coveredA[p.featureA] = coveredB[p.featureB] = 1;
  const alive = (c: Int32Array) => c.reduce((n, x) => n + (x > 0 ? 1 : 0), 0);
  const sum = (c: Uint8Array) => c.reduce((n, x) => n + x, 0);
  const aliveA = alive(r.countsA);
  const aliveB = alive(r.countsB);
  return {
    theta, aliveA, coveredA: sum(coveredA), coverageAB: aliveA ? sum(coveredA) / aliveA : 0,
    aliveB, coveredB: sum(coveredB), coverageBA: aliveB ? sum(coveredB) / aliveB : 0, pairs: r.pairs.length,
  };
}

export const IOU_DEFINITIONS = {
  iou: 'IoU(a, b) = |A ∩ B| / |A ∪ B|, A and B the frames where a and b are active (code ≠ 0)',
  duplicates: 'duplicated = alive features with another feature of the same SAE at IoU > θ; fraction of the alive features',
  coverage: 'c(A, B) = fraction of the alive features of A with some feature of B at IoU > θ (frames aligned: the same clips by content hash, frame by frame)',
};

/** COO codes (any order) → the active features of each frame, each frame's in ascending order. */
export function frameSetsFromCoo(coo: Pick<FrameCodesCoo, 'frames' | 'frame' | 'feature'>, dictSize: number): FrameSets {
  const rowPtr = new Int32Array(coo.frames + 1);
  for (const t of coo.frame) rowPtr[t + 1]!++;
  for (let t = 0; t < coo.frames; t++) rowPtr[t + 1]! += rowPtr[t]!;
  const next = rowPtr.slice(0, coo.frames);
  const features = new Int32Array(coo.feature.length);
  for (let p = 0; p < coo.frame.length; p++) features[next[coo.frame[p]!]!++] = coo.feature[p]!;
  for (let t = 0; t < coo.frames; t++) features.subarray(rowPtr[t]!, rowPtr[t + 1]!).sort();
  return { frames: coo.frames, dictSize, rowPtr, features, sortedRows: true };
}

/**
 * Intersections summed over batches of frames into one dense matrix: F(F − 1)/2 counts for one SAE against
 * itself (pairs a < b), F_A · F_B for two. Each batch is walked as in iouPairs (feature a's frames, the features
 * active with it there), adding into a's row of the matrix; `result` then reads off the pairs with IoU > θ. The
 * memory is the matrix (4 bytes a count) whatever the number of frames.
 */
export class DenseIou {
  readonly countsA: Int32Array;
  readonly countsB: Int32Array;
  private readonly counts: Int32Array;

  /** `dictB` null: one SAE against itself. */
  constructor(private readonly dictA: number, private readonly dictB: number | null) {
    this.countsA = new Int32Array(dictA);
    this.countsB = dictB === null ? this.countsA : new Int32Array(dictB);
    this.counts = new Int32Array(DenseIou.entries(dictA, dictB));
  }

  /** The matrix's size in counts. */
  static entries(dictA: number, dictB: number | null): number {
    return dictB === null ? (dictA * (dictA - 1)) / 2 : dictA * dictB;
  }

  /** Where a's row starts, offset so that row[b] is the count of (a, b): b > a for one SAE, any b for two. */
  private rowBase(fa: number): number {
    return this.dictB === null ? fa * this.dictA - (fa * (fa + 1)) / 2 - fa - 1 : fa * this.dictB;
  }

  /** Adds a batch: A's sets and B's over the same frames (B omitted for one SAE against itself). */
  add(a: FrameSets, b: FrameSets | null): void {
    const self = b === null;
    if (a.dictSize !== this.dictA || (b && b.dictSize !== this.dictB)) throw new Error(`DenseIou: dictionary sizes ${a.dictSize}, ${b?.dictSize} against ${this.dictA}, ${this.dictB}`);
    if (self && !a.sortedRows) a = sortedRows(a);
    const other = b ?? a;
    if (other.frames !== a.frames) throw new Error(`DenseIou: ${a.frames} frames against ${other.frames}`);
    const cols = byFeature(a);
    const { rowPtr, features } = other;
    const counts = this.counts;
    if (!self) for (const f of other.features) this.countsB[f]!++;
    for (let fa = 0; fa < a.dictSize; fa++) {
      const from = cols.ptr[fa]!;
      const to = cols.ptr[fa + 1]!;
      if (from === to) continue;
      this.countsA[fa]! += to - from;
      const base = this.rowBase(fa);
      for (let p = from; p < to; p++) {
        const t = cols.frame[p]!;
        for (let q = self ? cols.entry[p]! + 1 : rowPtr[t]!, end = rowPtr[t + 1]!; q < end; q++) counts[base + features[q]!]!++;
      }
    }
  }

  /** Pairs with IoU > θ, by featureA then featureB, as iouPairs gives them. */
  result(theta: number): IouResult {
    const pairs: IouPair[] = [];
    const nB = this.dictB ?? this.dictA;
    for (let fa = 0; fa < this.dictA; fa++) {
      const na = this.countsA[fa]!;
      if (na === 0) continue;
      const base = this.rowBase(fa);
      for (let fb = this.dictB === null ? fa + 1 : 0; fb < nB; fb++) {
        const intersect = this.counts[base + fb]!;
        if (intersect === 0) continue;
        const union = na + this.countsB[fb]! - intersect;
        const iou = intersect / union;
        if (iou > theta) pairs.push({ featureA: fa, featureB: fb, iou, intersect, union });
      }
    }
    return { countsA: this.countsA, countsB: this.countsB, pairs };
  }
}
