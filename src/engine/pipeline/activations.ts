/**
 * Audio → the residual stream after encoder block n (1-based), 50 frames per second, only frames of real audio.
 *
 * Whisper: consecutive 30 s windows, each log-mel'd on its own and run through the encoder on all 1500
 * positions; the last window keeps ceil(real samples / 320) frames (reference doc §3).
 * HuBERT: the whole clip in one pass up to `maxHubertSeconds` (its GroupNorm and attention span the whole
 * input, so chunking changes every frame), then consecutive chunks of that length, with a note saying so.
 */
import { forEachMelWindow, MODEL_FRAMES_PER_SECOND, SAMPLES_PER_MODEL_FRAME, SAMPLE_RATE_HZ, samplesReader, whisperLogMelWindow, windowsOf, type MelWindowInfo, type SampleReader } from '../audio/index.ts';
import { AudioSaeError } from '../errors.ts';
import { cachedGraph, defaultCacheDir } from '../onnx/cache.ts';
import { buildHubertEncoderGraph, hubertFrames, hubertMinSamples } from '../onnx/hubert.ts';
import type { EncoderTap } from '../onnx/whisper.ts';
import { actsOutput, buildWhisperEncoderGraph } from '../onnx/whisper.ts';
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

/** A problem of the clip itself (too short for HuBERT, say) said about the clip's file; cancellation stays as it is. */
export function aboutClip(e: unknown, clipName: string): unknown {
  return e instanceof AudioSaeError && !e.file && e.problem !== 'cancelled.' ? new AudioSaeError(e.problem, clipName, e.hint) : e;
}

/** The 16 kHz sample ranges HuBERT runs in one pass each: the whole clip up to `maxHubertSeconds`, then chunks. */
function hubertChunks(samples: number, maxHubertSeconds = 60): Array<[number, number]> {
  const maxSamples = Math.round(maxHubertSeconds * SAMPLE_RATE_HZ);
  const chunks: Array<[number, number]> = [];
  for (let s = 0; s < samples; s += maxSamples) chunks.push([s, Math.min(samples, s + maxSamples)]);
  return chunks;
}

/** How many frames `layerActivations` gives for a clip of `samples` 16 kHz samples (known before any model runs). */
export function layerFrameCount(backbone: OpenBackbone, samples: number, maxHubertSeconds?: number): number {
  if (backbone.family === 'whisper') return Math.ceil(samples / SAMPLES_PER_MODEL_FRAME);
  return hubertChunks(samples, maxHubertSeconds).reduce((a, [s, e]) => a + hubertFrames(backbone.config, e - s), 0);
}

/** What the encoder pass needs besides the clip: which layers, where in the block, HuBERT's options. */
export interface EncoderPassOptions {
  layers: readonly number[];
  tap?: EncoderTap;
  normalizeInput?: boolean;
  maxHubertSeconds?: number;
  cacheDir?: string;
  signal?: AbortSignal;
  onProgress?: (framesDone: number, framesTotal: number) => void;
  melWindow?: (index: number) => Float32Array | undefined;
  /** Each window's (Whisper) or chunk's (HuBERT) activations at every requested layer: [frames, dModel] each. */
  onChunk: (startFrame: number, frames: number, acts: ReadonlyMap<number, Float32Array>) => void | Promise<void>;
}

/**
 * Runs the encoder once, to the deepest requested layer, and hands every requested layer's activations on
 * window by window (Whisper) or chunk by chunk (HuBERT); nothing is kept. Samples come from memory or from a
 * reader (a long file streamed from disk): only one window or chunk of samples is read at a time. Returns the
 * frame count and the notes a user should see.
 */
export async function encoderPass(runner: ModelRunner, backbone: OpenBackbone, source: Float32Array | SampleReader, options: EncoderPassOptions): Promise<{ frames: number; notes: string[] }> {
  const clip = source instanceof Float32Array ? samplesReader(source) : source;
  const tap = options.tap ?? 'block';
  for (const layer of options.layers) {
    if (!Number.isInteger(layer) || layer < 1 || layer > backbone.layers) {
      throw new AudioSaeError(`layer ${layer} does not exist in ${backbone.folder}.`, undefined, `Layers are numbered 1 to ${backbone.layers}.`);
    }
  }
  const layers = [...new Set(options.layers)].sort((a, b) => a - b);
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const d = backbone.dModel;
  const notes: string[] = [];
  const normalizeInput = backbone.family === 'hubert' && (options.normalizeInput ?? false);
  const share = { family: backbone.family, weights: backbone.identity };
  const parts = { ...share, layers, tap, ...(backbone.family === 'hubert' ? { normalizeInput } : {}) };
  const { path } = cachedGraph(cacheDir, parts, () => backbone.family === 'whisper'
    ? buildWhisperEncoderGraph(backbone.weights, backbone.config, { layers, tap })
    : buildHubertEncoderGraph(backbone.weights, backbone.config, { layers, tap, normalizeInput, posConvWeight: backbone.posConvWeight }), share);
  const key = `encoder:${path}`;
  await runner.load(key, () => ({ key, path }));
  const total = layerFrameCount(backbone, clip.length, options.maxHubertSeconds);
  let done = 0;
  const deliver = async (r: Record<string, { data: unknown }>, n: number) => {
    const acts = new Map(layers.map((layer) => [layer, (r[actsOutput(layer)]!.data as Float32Array).subarray(0, n * d)]));
    await options.onChunk(done, n, acts);
    done += n;
    options.onProgress?.(done, total);
  };

  if (backbone.family === 'whisper') {
    const nMels = backbone.config.melBins as 80 | 128;
    const encode = async (info: MelWindowInfo, mel: Float32Array) => {
      throwIfCancelled(options.signal);
      const r = await runner.run(key, { mel: { type: 'float32', dims: [1, nMels, mel.length / nMels], data: mel } });
      await deliver(r, Math.ceil(info.realSamples / SAMPLES_PER_MODEL_FRAME));
    };
    if (options.melWindow?.(0)) {
      for (const info of windowsOf(clip.length)) {
        throwIfCancelled(options.signal);
        // A copy: the runner may transfer its inputs to the worker, and the caller keeps its windows.
        const mel = options.melWindow(info.index)?.slice() ?? (await whisperLogMelWindow(runner, await clip.read(info.startSample, info.realSamples), nMels)).data;
        await encode(info, mel);
      }
    } else {
      await forEachMelWindow(runner, clip, nMels, (info, mel) => encode(info, mel.data));
    }
    if (total > 1500) notes.push(`Whisper ran ${Math.ceil(total / 1500)} consecutive 30 s windows.`);
    return { frames: done, notes };
  }

  const chunks = hubertChunks(clip.length, options.maxHubertSeconds);
  if (total === 0) {
    const min = hubertMinSamples(backbone.config);
    throw new AudioSaeError(
      `the clip is too short for HuBERT: ${clip.length} samples at 16 kHz (${(clip.length / SAMPLE_RATE_HZ * 1000).toFixed(1)} ms); its front end needs at least ${min} (${(min / SAMPLE_RATE_HZ * 1000).toFixed(1)} ms) per chunk.`,
    );
  }
  if (chunks.length > 1) {
    notes.push(`HuBERT ran the clip in ${chunks.length} chunks of up to ${options.maxHubertSeconds ?? 60} s: its normalisation and attention see one chunk at a time.`);
  }
  for (const [s, e] of chunks) {
    throwIfCancelled(options.signal);
    const n = hubertFrames(backbone.config, e - s);
    if (n === 0) continue; // a tail shorter than the front end's receptive field
    const r = await runner.run(key, { wave: { type: 'float32', dims: [1, e - s], data: await clip.read(s, e - s) } });
    await deliver(r, n);
  }
  return { frames: done, notes };
}

/**
 * The clip's activations at `options.layer` (one layer of `encoderPass`), assembled whole unless `keep` is
 * false, and handed on window by window through `onChunk`.
 */
export async function layerActivations(runner: ModelRunner, backbone: OpenBackbone, source: Float32Array | SampleReader, options: ActivationOptions): Promise<Activations> {
  const d = backbone.dModel;
  const keep = options.keep ?? true;
  const total = layerFrameCount(backbone, source.length, options.maxHubertSeconds);
  const out = new Float32Array(keep ? total * d : 0);
  const { frames, notes } = await encoderPass(runner, backbone, source, {
    ...options,
    layers: [options.layer],
    onChunk: async (start, n, acts) => {
      const x = acts.get(options.layer)!;
      if (keep) out.set(x, start * d);
      await options.onChunk?.(start, x, n);
    },
  });
  return { frames, dModel: d, framesPerSecond: MODEL_FRAMES_PER_SECOND, data: out.subarray(0, frames * d), notes };
}
