/**
 * A clip's SAE features delivered window by window, for views that show results as they come (the editor)
 * and for clips too long to hold every activation at once.
 *
 * Threshold mode is per frame, so each 30 s window (Whisper) or chunk (HuBERT) is encoded as soon as its
 * activations exist. Batch top-k spreads k·n over all n frames of the clip: up to `batchTopKMaxFrames` the
 * activations are gathered and the clip is encoded in one batch at the end (exactly as `clipFeatures`); longer
 * clips are encoded per window, and a note says so.
 */
import type { Audio16k, AudioStream16k } from '../audio/index.ts';
import type { ModelRunner } from '../runtime/types.ts';
import { MetricsAccumulator, resolveMode, runSae, type Metrics, type Sae, type SaeMode, type SparseCodes } from '../sae/index.ts';
import { aboutClip, layerActivations, layerFrameCount } from './activations.ts';
import { l0Note, openClipModels, type ClipModelOptions } from './clipModels.ts';

/** The codes of consecutive frames [startFrame, startFrame + frames). */
export interface FeatureChunk {
  startFrame: number;
  frames: number;
  sparse: SparseCodes;
  relError: Float32Array; // [frames]: ‖x − x̂‖ / ‖x‖ (0 for a zero frame)
  acts: Float32Array; // [frames, dModel] row-major: the layer's activations x
  recon: Float32Array; // [frames, dModel] row-major: the SAE's reconstruction x̂
}

export interface StreamOptions extends ClipModelOptions {
  /** The clip in memory, or opened for reading by range (long files streamed from disk). */
  audio: Audio16k | AudioStream16k;
  /** The SAE already loaded (then `saePath` only names it). */
  sae?: Sae;
  /** Longest clip (in model frames, 50 per second) encoded in one batch in batch top-k mode. */
  batchTopKMaxFrames?: number;
  /** Whisper: reuse an already computed log-mel window ([melBins, 3000]). */
  melWindow?: (index: number) => Float32Array | undefined;
  /** Before any model runs: the SAE, the mode that will run, and the clip's total number of frames at the layer. */
  onStart?: (info: { sae: Sae; mode: SaeMode; totalFrames: number }) => void | Promise<void>;
  onChunk: (chunk: FeatureChunk) => void | Promise<void>;
}

export interface StreamSummary {
  sae: Sae;
  modeUsed: SaeMode;
  frames: number;
  metrics: Metrics;
  notes: string[];
}

function relErrors(x: Float32Array, recon: Float32Array, frames: number, d: number): Float32Array {
  const out = new Float32Array(frames);
  for (let t = 0; t < frames; t++) {
    let e2 = 0;
    let x2 = 0;
    for (let i = t * d; i < (t + 1) * d; i++) {
      e2 += (x[i]! - recon[i]!) ** 2;
      x2 += x[i]! ** 2;
    }
    out[t] = x2 > 0 ? Math.sqrt(e2 / x2) : 0;
  }
  return out;
}

export async function streamClipFeatures(runner: ModelRunner, o: StreamOptions): Promise<StreamSummary> {
  const { backbone, sae } = await openClipModels(o, o.sae);
  const { mode, notice } = resolveMode(sae, o.mode ?? 'auto');
  const d = sae.dModel;
  const samples = 'reader' in o.audio ? o.audio.reader : o.audio.samples;
  const totalFrames = layerFrameCount(backbone, samples.length, o.maxHubertSeconds);
  const notes: string[] = [];
  if (notice) notes.push(notice);
  const wholeClipBatch = mode === 'batch-topk' && totalFrames <= (o.batchTopKMaxFrames ?? 30_000);
  if (mode === 'batch-topk' && !wholeClipBatch) {
    notes.push(`Batch top-k ran per window (k·n over each window's n frames): the clip is longer than ${((o.batchTopKMaxFrames ?? 30_000) / 50 / 60).toFixed(0)} min.`);
  }
  await o.onStart?.({ sae, mode, totalFrames });
  const metrics = new MetricsAccumulator(d, sae.dictSize);

  const encode = async (startFrame: number, x: Float32Array, frames: number) => {
    const r = await runSae(runner, sae, x, { mode, source: o.audio.name });
    metrics.add(x, r.recon, r.sparse);
    await o.onChunk({ startFrame, frames, sparse: r.sparse, relError: relErrors(x, r.recon, frames, d), acts: x, recon: r.recon });
  };
  const acts = await layerActivations(runner, backbone, samples, {
    layer: o.layer,
    tap: o.tap,
    normalizeInput: o.normalizeInput,
    maxHubertSeconds: o.maxHubertSeconds,
    cacheDir: o.cacheDir,
    signal: o.signal,
    melWindow: o.melWindow,
    keep: wholeClipBatch,
    onChunk: wholeClipBatch ? undefined : (start, x, frames) => encode(start, x, frames),
  }).catch((e: unknown) => {
    throw aboutClip(e, o.audio.name);
  });
  if (wholeClipBatch) await encode(0, acts.data, acts.frames);
  notes.push(...acts.notes);
  const m = metrics.finish();
  const far = l0Note(m.l0, sae.k);
  if (far) notes.push(far);
  return { sae, modeUsed: mode, frames: m.frames, metrics: m, notes };
}
