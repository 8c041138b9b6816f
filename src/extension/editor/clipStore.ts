/**
 * Everything the editor knows about one clip, held on the host, and the queries the webview makes of it: the
 * 16 kHz samples (and min/max peaks), the log-mel windows as they are computed, and per model run the sparse
 * codes as they stream in. A query answers for a time range at a given number of columns, so what crosses to
 * the webview is bounded by the screen, not by the clip's length. No VS Code imports: unit-tested directly.
 */
import type { FeatureChunk } from '../../engine/pipeline/stream.ts';
import { FeatureStatsAccumulator } from '../../engine/sae/featureStats.ts';
import type { FeatureStats, ViewReply } from '../../shared/editorProtocol.ts';

export const MEL_FRAMES_PER_SECOND = 100;
export const MEL_FRAMES_PER_WINDOW = 3000;
const SAMPLES_PER_PEAK = 160; // one min/max pair per mel frame

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

/** The sparse codes of one model run on the clip, filled window by window. */
export class RunCodes {
  /** Frames [0, framesDone) are filled (windows complete in order). */
  framesDone = 0;
  readonly rowPtr: Int32Array; // [totalFrames + 1]
  private readonly indices = new Growable(new Int32Array(1024), (n) => new Int32Array(n));
  private readonly values = new Growable(new Float32Array(1024), (n) => new Float32Array(n));
  readonly l0: Float32Array; // [totalFrames]
  readonly relError: Float32Array; // [totalFrames]
  /** Clip-wide statistics per feature, kept up to date as chunks arrive (the engine's, as the CLI's). */
  private readonly stats: FeatureStatsAccumulator;

  constructor(
    readonly totalFrames: number,
    readonly dictSize: number,
    readonly framesPerSecond = 50,
  ) {
    this.rowPtr = new Int32Array(totalFrames + 1);
    this.l0 = new Float32Array(totalFrames);
    this.relError = new Float32Array(totalFrames);
    this.stats = new FeatureStatsAccumulator(dictSize);
  }

  get indicesView(): Int32Array {
    return this.indices.view;
  }

  get valuesView(): Float32Array {
    return this.values.view;
  }

  add(chunk: FeatureChunk): void {
    if (chunk.startFrame !== this.framesDone) throw new Error(`chunk starts at frame ${chunk.startFrame}, expected ${this.framesDone}`);
    const frames = Math.min(chunk.frames, this.totalFrames - this.framesDone);
    const { rowPtr, indices, values } = chunk.sparse;
    const base = this.rowPtr[this.framesDone]!;
    const end = rowPtr[frames]!;
    this.indices.push(indices.subarray(0, end));
    this.values.push(values.subarray(0, end));
    for (let t = 0; t < frames; t++) {
      const frame = this.framesDone + t;
      this.rowPtr[frame + 1] = base + rowPtr[t + 1]!;
      this.l0[frame] = rowPtr[t + 1]! - rowPtr[t]!;
      this.relError[frame] = chunk.relError[t]!;
    }
    this.stats.add(this.framesDone, frames === chunk.frames ? chunk.sparse : { frames, rowPtr: rowPtr.subarray(0, frames + 1), indices, values });
    this.framesDone += frames;
  }

  get complete(): boolean {
    return this.framesDone === this.totalFrames;
  }

  /** Features active in frames [from, to), ranked by max or total activation (ties: lower id first). */
  rank(from: number, to: number, by: 'max' | 'total', n: number): FeatureStats[] {
    from = Math.max(0, from);
    to = Math.min(this.framesDone, to);
    let stats: FeatureStats[];
    if (from === 0 && to === this.framesDone) {
      stats = this.stats.top(this.dictSize, this.framesPerSecond).map((f) => ({ id: f.id, max: f.maxValue, timeOfMaxS: f.maxTimeS, activeFrames: f.activeFrames, total: f.total }));
    } else {
      const byId = new Map<number, FeatureStats>();
      const indices = this.indices.view;
      const values = this.values.view;
      for (let t = from; t < to; t++) {
        for (let p = this.rowPtr[t]!; p < this.rowPtr[t + 1]!; p++) {
          const id = indices[p]!;
          const v = values[p]!;
          let s = byId.get(id);
          if (!s) byId.set(id, (s = { id, max: 0, timeOfMaxS: 0, activeFrames: 0, total: 0 }));
          s.activeFrames++;
          s.total += v;
          if (v > s.max) {
            s.max = v;
            s.timeOfMaxS = t / this.framesPerSecond;
          }
        }
      }
      stats = [...byId.values()];
    }
    return stats.sort((a, b) => b[by] - a[by] || a.id - b.id).slice(0, n);
  }

  /** The active features of one frame (sorted by value, as the codes are), at most `n`. */
  frame(t: number, n: number): { ids: number[]; values: number[]; l0: number; relError: number } | undefined {
    if (t < 0 || t >= this.framesDone) return undefined;
    const indices = this.indices.view;
    const values = this.values.view;
    const a = this.rowPtr[t]!;
    const b = Math.min(this.rowPtr[t + 1]!, a + n);
    return { ids: Array.from(indices.subarray(a, b)), values: Array.from(values.subarray(a, b)), l0: this.l0[t]!, relError: this.relError[t]! };
  }

  /**
   * The first frame after `from` (direction 1) or before it (−1) where `feature` is active and the frame before
   * it (in that direction) is not: the start of its next or previous firing. Undefined if there is none.
   */
  nextFiring(feature: number, from: number, direction: 1 | -1): number | undefined {
    const indices = this.indices.view;
    const active = (t: number) => {
      for (let p = this.rowPtr[t]!; p < this.rowPtr[t + 1]!; p++) if (indices[p] === feature) return true;
      return false;
    };
    const starts = (t: number) => active(t) && (t === 0 || !active(t - 1));
    for (let t = from + direction; t >= 0 && t < this.framesDone; t += direction) if (starts(t)) return t;
    return undefined;
  }

  /** A feature's activation per frame over [from, to) (0 where inactive). */
  track(feature: number, from = 0, to = this.framesDone): Float32Array {
    const out = new Float32Array(Math.max(0, to - from));
    const indices = this.indices.view;
    const values = this.values.view;
    for (let t = from; t < to; t++) {
      for (let p = this.rowPtr[t]!; p < this.rowPtr[t + 1]!; p++) if (indices[p] === feature) out[t - from] = values[p]!;
    }
    return out;
  }
}

/** Columns over items [from, to): column c covers [from + ⌊c·n/cols⌋, from + ⌊(c+1)·n/cols⌋), at least one item. */
export function columnsOf(from: number, to: number, wanted: number): { cols: number; start: (c: number) => number } {
  const n = Math.max(0, to - from);
  const cols = Math.max(0, Math.min(Math.floor(wanted), n));
  return { cols, start: (c) => from + Math.floor((c * n) / cols) };
}

export class ClipStore {
  readonly durationS: number;
  readonly melFrames: number;
  /** Mel windows as computed, [nMels, 3000] each; frames [0, melDone) are available. */
  private readonly melWindows: Float32Array[] = [];
  melDone = 0;
  private readonly peaks: Float32Array; // [melFrames, 2]: min, max of each 10 ms
  /** The largest |sample| (1 = full scale; 0 for digital silence). */
  readonly peak: number;

  constructor(
    readonly samples: Float32Array, // 16 kHz mono
    readonly nMels = 80,
  ) {
    this.durationS = samples.length / 16000;
    this.melFrames = Math.ceil(samples.length / SAMPLES_PER_PEAK);
    this.peaks = new Float32Array(2 * this.melFrames);
    for (let i = 0; i < this.melFrames; i++) {
      let lo = 0;
      let hi = 0;
      for (let j = i * SAMPLES_PER_PEAK; j < Math.min(samples.length, (i + 1) * SAMPLES_PER_PEAK); j++) {
        const v = samples[j]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      this.peaks[2 * i] = lo;
      this.peaks[2 * i + 1] = hi;
    }
    let peak = 0;
    for (let i = 0; i < this.melFrames; i++) peak = Math.max(peak, -this.peaks[2 * i]!, this.peaks[2 * i + 1]!);
    this.peak = peak;
  }

  /** Adds the next log-mel window ([nMels, 3000], the padded tail included). */
  addMelWindow(window: Float32Array): void {
    const index = this.melWindows.length;
    this.melWindows.push(window);
    const real = Math.min(MEL_FRAMES_PER_WINDOW, this.melFrames - index * MEL_FRAMES_PER_WINDOW);
    this.melDone = Math.min(this.melFrames, this.melDone + real);
  }

  melWindow(index: number): Float32Array | undefined {
    return this.melWindows[index];
  }

  /** The last log-mel columns computed, reused while the same range is asked for again (as during a model run). */
  private melMemo: { key: string; mel: Float32Array; peaks: Float32Array; cols: number } | undefined;

  /** Log-mel (max per column, [nMels, cols], NaN where not computed) and peaks ([cols, 2]) over mel frames [from, to). */
  private melColumns(from: number, to: number, columns: number): { mel: Float32Array; peaks: Float32Array; cols: number } {
    const key = `${from}:${to}:${columns}:${this.melDone}`;
    if (this.melMemo?.key === key) return this.melMemo;
    const mc = columnsOf(from, to, columns);
    const mel = new Float32Array(this.nMels * mc.cols).fill(NaN); // [nMels, cols] row-major, bin 0 lowest
    const peaks = new Float32Array(2 * mc.cols);
    for (let c = 0; c < mc.cols; c++) {
      const a = mc.start(c);
      const b = Math.max(a + 1, mc.start(c + 1));
      let lo = 0;
      let hi = 0;
      for (let t = a; t < b; t++) {
        lo = Math.min(lo, this.peaks[2 * t]!);
        hi = Math.max(hi, this.peaks[2 * t + 1]!);
      }
      peaks[2 * c] = lo;
      peaks[2 * c + 1] = hi;
      if (a >= this.melDone) continue;
      // Frames [a, min(b, melDone)) may span two windows: take each window's contiguous run per mel bin.
      for (let m = 0; m < this.nMels; m++) mel[m * mc.cols + c] = -Infinity;
      for (let t = a; t < Math.min(b, this.melDone); ) {
        const w = Math.floor(t / MEL_FRAMES_PER_WINDOW);
        const end = Math.min(b, this.melDone, (w + 1) * MEL_FRAMES_PER_WINDOW);
        const data = this.melWindows[w]!;
        const offset = t - w * MEL_FRAMES_PER_WINDOW;
        for (let m = 0; m < this.nMels; m++) {
          let v = mel[m * mc.cols + c]!;
          const row = m * MEL_FRAMES_PER_WINDOW + offset;
          for (let i = 0; i < end - t; i++) if (data[row + i]! > v) v = data[row + i]!;
          mel[m * mc.cols + c] = v;
        }
        t = end;
      }
    }
    this.melMemo = { key, mel, peaks, cols: mc.cols };
    return this.melMemo;
  }

  /**
   * What the webview draws for [t0S, t1S) at about `columns` columns: the log-mel (max per column), waveform
   * peaks, and if a run is given its L0, relative error and the listed features' activations (max per column).
   * Not yet computed columns are NaN.
   */
  view(t0S: number, t1S: number, columns: number, run: RunCodes | undefined, features: number[]): Omit<ViewReply, 'type' | 'id'> {
    const melFrom = Math.max(0, Math.floor(t0S * MEL_FRAMES_PER_SECOND));
    const melTo = Math.min(this.melFrames, Math.ceil(t1S * MEL_FRAMES_PER_SECOND));
    const { mel, peaks, cols } = this.melColumns(melFrom, melTo, columns);
    const reply: Omit<ViewReply, 'type' | 'id'> = {
      t0S, t1S, nMels: this.nMels, melCols: cols, melFromS: melFrom / MEL_FRAMES_PER_SECOND, melToS: melTo / MEL_FRAMES_PER_SECOND,
      mel: mel.slice().buffer, peaks: peaks.slice().buffer,
      featureCols: 0, featureFromS: 0, featureToS: 0, features: [], lanes: new ArrayBuffer(0), l0: new ArrayBuffer(0), relError: new ArrayBuffer(0),
    };
    if (!run) return reply;
    const fps = run.framesPerSecond;
    const from = Math.max(0, Math.floor(t0S * fps));
    const to = Math.min(run.totalFrames, Math.ceil(t1S * fps));
    const fc = columnsOf(from, to, columns);
    const lanes = new Float32Array(features.length * fc.cols).fill(NaN); // [features, cols]
    const l0 = new Float32Array(fc.cols).fill(NaN);
    const relError = new Float32Array(fc.cols).fill(NaN);
    const lane = new Int32Array(run.dictSize).fill(-1); // feature id → lane, −1 for none
    features.forEach((f, i) => { lane[f] = i; });
    const indices = run.indicesView;
    const values = run.valuesView;
    for (let c = 0; c < fc.cols; c++) {
      const a = fc.start(c);
      const b = Math.min(Math.max(a + 1, fc.start(c + 1)), run.framesDone);
      if (a >= run.framesDone) continue;
      for (let i = 0; i < features.length; i++) lanes[i * fc.cols + c] = 0;
      let sumL0 = 0;
      let sumErr = 0;
      for (let t = a; t < b; t++) {
        sumL0 += run.l0[t]!;
        sumErr += run.relError[t]!;
        for (let p = run.rowPtr[t]!; p < run.rowPtr[t + 1]!; p++) {
          const i = lane[indices[p]!]!;
          if (i >= 0 && values[p]! > lanes[i * fc.cols + c]!) lanes[i * fc.cols + c] = values[p]!;
        }
      }
      l0[c] = sumL0 / (b - a);
      relError[c] = sumErr / (b - a);
    }
    return { ...reply, featureCols: fc.cols, featureFromS: from / fps, featureToS: to / fps, features, lanes: lanes.buffer, l0: l0.buffer, relError: relError.buffer };
  }
}
