/**
 * Audio → the residual stream after encoder block n (1-based), 50 frames per second, only frames of real audio.
 *
 * Whisper: consecutive 30 s windows, each log-mel'd on its own and run through the encoder on all 1500
 * positions; the last window keeps ceil(real samples / 320) frames (reference doc §3).
 * HuBERT: the whole clip in one pass up to `maxHubertSeconds` (its GroupNorm and attention span the whole
 * input, so chunking changes every frame), then consecutive chunks of that length, with a note saying so.
 */
import { forEachMelWindow, MODEL_FRAMES_PER_SECOND, SAMPLES_PER_MODEL_FRAME, SAMPLE_RATE_HZ, whisperLogMelWindow, windowsOf, type MelWindowInfo } from '../audio/index.ts';
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
  /** Receives each window's (Whisper) or chunk's (HuBERT) activations as it completes: first frame, [frames, dModel]. */
  onChunk?: (startFrame: number, acts: Float32Array, frames: number) => void | Promise<void>;
  /** Assemble the whole clip's activations (default); false when `onChunk` consumes them (long clips). */
  keep?: boolean;
  /** Whisper: the clip's log-mel window `index` ([melBins, 3000]) if already computed, to reuse. */
  melWindow?: (index: number) => Float32Array | undefined;
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
    const keep = options.keep ?? true;
    const out = new Float32Array(keep ? total * d : 0);
    let done = 0;
    const nMels = backbone.config.melBins as 80 | 128;
    const encode = async (info: MelWindowInfo, mel: Float32Array) => {
      throwIfCancelled(options.signal);
      const r = await runner.run(key, { mel: { type: 'float32', dims: [1, nMels, mel.length / nMels], data: mel } });
      const n = Math.ceil(info.realSamples / SAMPLES_PER_MODEL_FRAME);
      const acts = (r.acts!.data as Float32Array).subarray(0, n * d);
      if (keep) out.set(acts, done * d);
      await options.onChunk?.(done, acts, n);
      done += n;
      options.onProgress?.(done, total);
    };
    if (options.melWindow?.(0)) {
      for (const info of windowsOf(samples16k.length)) {
        throwIfCancelled(options.signal);
        // A copy: the runner may transfer its inputs to the worker, and the caller keeps its windows.
        const mel = options.melWindow(info.index)?.slice() ?? (await whisperLogMelWindow(runner, samples16k.subarray(info.startSample), nMels)).data;
        await encode(info, mel);
      }
    } else {
      await forEachMelWindow(runner, samples16k, nMels, (info, mel) => encode(info, mel.data));
    }
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
  const keep = options.keep ?? true;
  const out = new Float32Array(keep ? total * d : 0);
  let done = 0;
  for (const [s, e] of chunks) {
    throwIfCancelled(options.signal);
    const n = hubertFrames(backbone.config, e - s);
    if (n === 0) continue; // a tail shorter than 25 ms
    const r = await runner.run(key, { wave: { type: 'float32', dims: [1, e - s], data: samples16k.slice(s, e) } });
    const acts = (r.acts!.data as Float32Array).subarray(0, n * d);
    if (keep) out.set(acts, done * d);
    await options.onChunk?.(done, acts, n);
    done += n;
    options.onProgress?.(done, total);
  }
  return { frames: done, dModel: d, framesPerSecond: MODEL_FRAMES_PER_SECOND, data: out.subarray(0, done * d), notes };
}
