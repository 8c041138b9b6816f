/**
 * Everything the editor knows about one clip, held on the host, and the queries the webview makes of it: the
 * 16 kHz samples (and min/max peaks), the log-mel windows as they are computed, and per model run the sparse
 * codes as they stream in. A query answers for a time range at a given number of columns, so what crosses to
 * the webview is bounded by the screen, not by the clip's length. No VS Code imports: unit-tested directly.
 */
import type { FeatureChunk } from '../../engine/pipeline/stream.ts';
import { FeatureStatsAccumulator, featureStatsOver } from '../../engine/sae/featureStats.ts';
import { featureColumn, nextFiring, sliceFrames, SparseCodesBuilder } from '../../engine/sae/sparseCodes.ts';
import type { FeatureStats, ViewReply } from '../../shared/editorProtocol.ts';

export const MEL_FRAMES_PER_SECOND = 100;
export const MEL_FRAMES_PER_WINDOW = 3000;
const SAMPLES_PER_PEAK = 160; // one min/max pair per mel frame

/** The sparse codes of one model run on the clip, filled window by window, with per-frame L0 and error. */
export class RunCodes {
  /** Frames [0, framesDone) are filled (windows complete in order). */
  readonly codes: SparseCodesBuilder;
  readonly l0: Float32Array; // [totalFrames]
  readonly relError: Float32Array; // [totalFrames]
  /** Clip-wide statistics per feature, kept up to date as chunks arrive (the engine's, as the CLI's). */
  private readonly stats: FeatureStatsAccumulator;

  constructor(
    readonly totalFrames: number,
    readonly dictSize: number,
    readonly framesPerSecond = 50,
  ) {
    this.codes = new SparseCodesBuilder(totalFrames);
    this.l0 = new Float32Array(totalFrames);
    this.relError = new Float32Array(totalFrames);
    this.stats = new FeatureStatsAccumulator(dictSize);
  }

  get framesDone(): number {
    return this.codes.frames;
  }

  add(chunk: FeatureChunk): void {
    if (chunk.startFrame !== this.framesDone) throw new Error(`chunk starts at frame ${chunk.startFrame}, expected ${this.framesDone}`);
    const start = this.framesDone;
    const frames = this.codes.append(chunk.sparse, chunk.frames);
    const { rowPtr } = chunk.sparse;
    for (let t = 0; t < frames; t++) {
      this.l0[start + t] = rowPtr[t + 1]! - rowPtr[t]!;
      this.relError[start + t] = chunk.relError[t]!;
    }
    this.stats.add(start, frames === chunk.sparse.frames ? chunk.sparse : sliceFrames(chunk.sparse, 0, frames));
  }

  get complete(): boolean {
    return this.framesDone === this.totalFrames;
  }

  /** Features active in frames [from, to), ranked by max or total activation (ties: lower id first). */
  rank(from: number, to: number, by: 'max' | 'total', n: number): FeatureStats[] {
    from = Math.max(0, from);
    to = Math.min(this.framesDone, to);
    const summaries = from === 0 && to === this.framesDone
      ? this.stats.top(this.dictSize, this.framesPerSecond)
      : featureStatsOver(this.codes, this.dictSize, from, to, this.framesPerSecond);
    const stats = summaries.map((f) => ({ id: f.id, max: f.maxValue, timeOfMaxS: f.maxTimeS, activeFrames: f.activeFrames, total: f.total }));
    return stats.sort((a, b) => b[by] - a[by] || a.id - b.id).slice(0, n);
  }

  /** The active features of one frame (sorted by value, as the codes are), at most `n`. */
  frame(t: number, n: number): { ids: number[]; values: number[]; l0: number; relError: number } | undefined {
    if (t < 0 || t >= this.framesDone) return undefined;
    const { rowPtr, indices, values } = this.codes;
    const a = rowPtr[t]!;
    const b = Math.min(rowPtr[t + 1]!, a + n);
    return { ids: Array.from(indices.subarray(a, b)), values: Array.from(values.subarray(a, b)), l0: this.l0[t]!, relError: this.relError[t]! };
  }

  /** The start of the feature's next (direction 1) or previous (−1) firing from frame `from`; undefined if none. */
  nextFiring(feature: number, from: number, direction: 1 | -1): number | undefined {
    return nextFiring(this.codes, feature, from, direction);
  }

  /** A feature's activation per frame over [from, to) (0 where inactive). */
  track(feature: number, from = 0, to = this.framesDone): Float32Array {
    return featureColumn(this.codes, feature, from, to);
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
    const { rowPtr, indices, values } = run.codes;
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
        for (let p = rowPtr[t]!; p < rowPtr[t + 1]!; p++) {
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
