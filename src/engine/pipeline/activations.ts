/**
 * Audio → the residual stream after encoder block n (1-based), 50 frames per second, only frames of real audio.
 *
 * Whisper: consecutive 30 s windows, each log-mel'd on its own and run through the encoder on all 1500
 * positions; the last window keeps ceil(real samples / 320) frames (reference doc §3).
 * HuBERT: the whole clip in one pass up to `maxHubertSeconds` (its GroupNorm and attention span the whole
 * input, so chunking changes every frame), then consecutive chunks of that length, with a note saying so.
 */
import { MODEL_FRAMES_PER_SECOND, SAMPLES_PER_MODEL_FRAME, SAMPLE_RATE_HZ, whisperLogMel } from '../audio/index.ts';
import { AudioSaeError } from '../errors.ts';
import { cachedGraph, defaultCacheDir } from '../onnx/cache.ts';
import { buildHubertEncoderGraph, hubertFrames } from '../onnx/hubert.ts';
import type { EncoderTap } from '../onnx/whisper.ts';
import { buildWhisperEncoderGraph } from '../onnx/whisper.ts';
import type { ModelRunner } from '../runtime/types.ts';
import type { OpenBackbone } from './backbone.ts';

export interface ActivationOptions {
  layer: number;
  tap?: EncoderTap;
  /** HuBERT only: zero-mean, unit-variance input (off by default; the authors' choice is unknown). */
  normalizeInput?: boolean;
  /** HuBERT only: longest clip run in one pass. */
  maxHubertSeconds?: number;
  cacheDir?: string;
  /** Called as each window (Whisper) or chunk (HuBERT) completes: frames so far, and of how many. */
  onProgress?: (framesDone: number, framesTotal: number) => void;
  /** Stops between windows (or chunks) with a "cancelled" error; a window already running finishes first. */
  signal?: AbortSignal;
}

export interface Activations {
  frames: number;
  dModel: number;
  framesPerSecond: number;
  data: Float32Array; // [frames, dModel] row-major
  notes: string[];
}

function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AudioSaeError('cancelled.');
}

export async function layerActivations(runner: ModelRunner, backbone: OpenBackbone, samples16k: Float32Array, options: ActivationOptions): Promise<Activations> {
  const tap = options.tap ?? 'block';
  if (!Number.isInteger(options.layer) || options.layer < 1 || options.layer > backbone.layers) {
    throw new AudioSaeError(`layer ${options.layer} does not exist in ${backbone.folder}.`, undefined, `Layers are numbered 1 to ${backbone.layers}.`);
  }
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const d = backbone.dModel;
  const notes: string[] = [];

  if (backbone.family === 'whisper') {
    const parts = { family: 'whisper', weights: backbone.identity, layer: options.layer, tap };
    const { path } = cachedGraph(cacheDir, parts, () => buildWhisperEncoderGraph(backbone.weights, backbone.config, { layer: options.layer, tap }));
    const key = `encoder:${path}`;
    await runner.load(key, () => ({ key, path }));
    const total = Math.ceil(samples16k.length / SAMPLES_PER_MODEL_FRAME);
    const out = new Float32Array(total * d);
    let done = 0;
    await whisperLogMel(runner, samples16k, backbone.config.melBins as 80 | 128, async (info, mel) => {
      throwIfCancelled(options.signal);
      const r = await runner.run(key, { mel: { type: 'float32', dims: [1, mel.nMels, mel.frames], data: mel.data } });
      const keep = Math.ceil(info.realSamples / SAMPLES_PER_MODEL_FRAME);
      out.set((r.acts!.data as Float32Array).subarray(0, keep * d), done * d);
      done += keep;
      options.onProgress?.(done, total);
    });
    if (total > 1500) notes.push(`Whisper ran ${Math.ceil(total / 1500)} consecutive 30 s windows.`);
    return { frames: done, dModel: d, framesPerSecond: MODEL_FRAMES_PER_SECOND, data: out.subarray(0, done * d), notes };
  }

  const normalizeInput = options.normalizeInput ?? false;
  const parts = { family: 'hubert', weights: backbone.identity, layer: options.layer, tap, normalizeInput };
  const { path } = cachedGraph(cacheDir, parts, () =>
    buildHubertEncoderGraph(backbone.weights, backbone.config, { layer: options.layer, tap, normalizeInput, posConvWeight: backbone.posConvWeight }));
  const key = `encoder:${path}`;
  await runner.load(key, () => ({ key, path }));
  const maxSamples = Math.round((options.maxHubertSeconds ?? 60) * SAMPLE_RATE_HZ);
  const chunks: Array<[number, number]> = [];
  for (let s = 0; s < samples16k.length; s += maxSamples) chunks.push([s, Math.min(samples16k.length, s + maxSamples)]);
  const total = chunks.reduce((a, [s, e]) => a + hubertFrames(backbone.config, e - s), 0);
  if (hubertFrames(backbone.config, samples16k.length) === 0) {
    throw new AudioSaeError(`the clip is too short for HuBERT: ${samples16k.length} samples at 16 kHz; at least 400 (25 ms) are needed.`);
  }
  if (chunks.length > 1) {
    notes.push(`HuBERT ran the clip in ${chunks.length} chunks of up to ${options.maxHubertSeconds ?? 60} s: its normalisation and attention see one chunk at a time.`);
  }
  const out = new Float32Array(total * d);
  let done = 0;
  for (const [s, e] of chunks) {
    throwIfCancelled(options.signal);
    const n = hubertFrames(backbone.config, e - s);
    if (n === 0) continue; // a tail shorter than 25 ms
    const r = await runner.run(key, { wave: { type: 'float32', dims: [1, e - s], data: samples16k.slice(s, e) } });
    out.set((r.acts!.data as Float32Array).subarray(0, n * d), done * d);
    done += n;
    options.onProgress?.(done, total);
  }
  return { frames: done, dModel: d, framesPerSecond: MODEL_FRAMES_PER_SECOND, data: out.subarray(0, done * d), notes };
}
