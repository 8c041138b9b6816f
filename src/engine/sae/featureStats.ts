/**
 * Per-feature statistics of a clip's sparse codes, accumulated chunk by chunk as codes stream in: each
 * feature's maximum, the frame of its maximum (the first one, on ties), how many frames it is active in (a
 * non-zero code) and the sum of its codes. Memory is one entry per feature, whatever the clip's length. The
 * editor, the CLI (`features`, `demo`) and the corpus run all use this one accumulator.
 */
import { featureColumns, sliceFrames, type SparseCodes } from './sparseCodes.ts';

export interface FeatureSummary {
  id: number;
  maxValue: number;
  /** Frame of the maximum, from the start of the clip. */
  maxFrame: number;
  maxTimeS: number;
  activeFrames: number;
  total: number;
}

export class FeatureStatsAccumulator {
  private readonly max: Float32Array;
  private readonly argMax: Int32Array;
  private readonly active: Int32Array;
  private readonly total: Float64Array;
  frames = 0;

  constructor(readonly dictSize: number) {
    this.max = new Float32Array(dictSize);
    this.argMax = new Int32Array(dictSize);
    this.active = new Int32Array(dictSize);
    this.total = new Float64Array(dictSize);
  }

  /** Adds the codes of frames [startFrame, startFrame + codes.frames). */
  add(startFrame: number, codes: SparseCodes): void {
    const { rowPtr, indices, values } = codes;
    for (let t = 0; t < codes.frames; t++) {
      for (let p = rowPtr[t]!; p < rowPtr[t + 1]!; p++) {
        const j = indices[p]!;
        const v = values[p]!;
        if (v === 0) continue;
        this.active[j]!++;
        this.total[j]! += v;
        if (this.active[j] === 1 || v > this.max[j]!) {
          this.max[j] = v;
          this.argMax[j] = startFrame + t;
        }
      }
    }
    this.frames = Math.max(this.frames, startFrame + codes.frames);
  }

  /** Every feature active at least once, by id: its max, the frame of its max, active frames and sum. */
  fired(): { feature: Int32Array; maxAct: Float32Array; argmaxFrame: Int32Array; activeFrames: Int32Array; sumAct: Float64Array } {
    const n = this.activeFeatures();
    const out = { feature: new Int32Array(n), maxAct: new Float32Array(n), argmaxFrame: new Int32Array(n), activeFrames: new Int32Array(n), sumAct: new Float64Array(n) };
    for (let j = 0, i = 0; j < this.dictSize; j++) {
      if (this.active[j] === 0) continue;
      out.feature[i] = j;
      out.maxAct[i] = this.max[j]!;
      out.argmaxFrame[i] = this.argMax[j]!;
      out.activeFrames[i] = this.active[j]!;
      out.sumAct[i++] = this.total[j]!;
    }
    return out;
  }

  /** How many features were active at least once. */
  activeFeatures(): number {
    let n = 0;
    for (let j = 0; j < this.dictSize; j++) if (this.active[j]! > 0) n++;
    return n;
  }

  /** The `count` active features with the largest maxima (ties: lower id first). */
  top(count: number, framesPerSecond: number): FeatureSummary[] {
    const ids: number[] = [];
    for (let j = 0; j < this.dictSize; j++) if (this.active[j]! > 0) ids.push(j);
    ids.sort((a, b) => this.max[b]! - this.max[a]! || a - b);
    return ids.slice(0, count).map((id) => ({
      id,
      maxValue: this.max[id]!,
      maxFrame: this.argMax[id]!,
      maxTimeS: this.argMax[id]! / framesPerSecond,
      activeFrames: this.active[id]!,
      total: this.total[id]!,
    }));
  }
}

/** Statistics of every feature active in frames [from, to) of `codes` (frames counted from the start of `codes`), by id. */
export function featureStatsOver(codes: SparseCodes, dictSize: number, from: number, to: number, framesPerSecond: number): FeatureSummary[] {
  const stats = new FeatureStatsAccumulator(dictSize);
  const start = Math.max(0, from);
  stats.add(start, sliceFrames(codes, start, to));
  return stats.top(dictSize, framesPerSecond).sort((a, b) => a.id - b.id);
}

export interface RankedFeature extends FeatureSummary {
  /** Activation per frame: [frames]. */
  track: Float32Array;
}

/** A clip's features ranked by their maximum over the clip (ties: lower id first), with their activation tracks. */
export function topFeatures(codes: SparseCodes, dictSize: number, count: number, framesPerSecond: number): RankedFeature[] {
  const stats = new FeatureStatsAccumulator(dictSize);
  stats.add(0, codes);
  const top = stats.top(count, framesPerSecond);
  const tracks = featureColumns(codes, top.map((f) => f.id));
  return top.map((f) => ({ ...f, track: tracks.get(f.id)! }));
}
