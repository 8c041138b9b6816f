/**
 * Mono mixdown and band-limited resampling to 16 kHz. With a ModelRunner, resampling is a polyphase
 * Kaiser-windowed sinc filter run as an ONNX convolution (resampleGraph.ts), streamed in chunks. Without one,
 * or for rate pairs whose filter bank would be too large, libsamplerate's best sinc converter
 * (SRC_SINC_BEST_QUALITY, WebAssembly) runs instead, slower. Either way the output has round(n · to / from)
 * samples, aligned so that output sample i sits at input time i · from / to.
 */
import LibSampleRate from '@alexanderolsen/libsamplerate-js';
import { basename } from 'node:path';
import type { ModelRunner } from '../runtime/types.ts';
import { SAMPLE_RATE_HZ } from './constants.ts';
import { loadAudioFile } from './decode.ts';
import { buildResampleGraph, resamplePlan, type ResamplePlan } from './resampleGraph.ts';

/** Input samples per graph run (bounds the convolution's working memory). */
const CHUNK_INPUT_SAMPLES = 1 << 22;

/** Average of the channels. */
export function toMono(channels: Float32Array[]): Float32Array {
  if (channels.length === 1) return channels[0]!;
  const n = channels[0]!.length;
  const out = new Float32Array(n);
  if (channels.length === 2) {
    const [a, b] = channels as [Float32Array, Float32Array];
    for (let i = 0; i < n; i++) out[i] = (a[i]! + b[i]!) * 0.5;
    return out;
  }
  for (const ch of channels) for (let i = 0; i < n; i++) out[i]! += ch[i]!;
  const scale = 1 / channels.length;
  for (let i = 0; i < n; i++) out[i]! *= scale;
  return out;
}

/**
 * Output samples [outStart, outEnd) of the resampled signal, reading the input through `readInput(from, to)`,
 * which returns input samples [from, to) with zeros outside the signal. Each output sample depends only on the
 * input around it, so any range comes out as it would from resampling the whole signal.
 */
export async function resampleRange(
  runner: ModelRunner,
  plan: ResamplePlan,
  readInput: (from: number, to: number) => Float32Array | Promise<Float32Array>,
  outStart: number,
  outEnd: number,
): Promise<Float32Array> {
  const key = `resample-${plan.fromHz}-${plan.toHz}`;
  await runner.load(key, () => ({ key, bytes: buildResampleGraph(plan).toBytes() }));
  const { up: L, down: M, halfWidth: H, kernelSize: K } = plan;
  const out = new Float32Array(Math.max(0, outEnd - outStart));
  const firstBlock = Math.floor(outStart / L);
  const endBlock = Math.ceil(outEnd / L);
  const perChunk = Math.max(1, Math.floor(CHUNK_INPUT_SAMPLES / M));
  for (let b0 = firstBlock; b0 < endBlock; b0 += perChunk) {
    const b = Math.min(perChunk, endBlock - b0);
    const start = b0 * M - (H - 1);
    const chunk = await readInput(start, start + (b - 1) * M + K);
    const r = await runner.run(key, { chunk: { type: 'float32', dims: [1, 1, chunk.length], data: chunk } });
    const y = (r.out!.data as Float32Array).subarray(0, b * L); // outputs b0·L … (b0 + b)·L − 1
    const from = Math.max(outStart, b0 * L);
    const to = Math.min(outEnd, (b0 + b) * L);
    out.set(y.subarray(from - b0 * L, to - b0 * L), from - outStart);
  }
  return out;
}

/** Input samples [from, to) of `signal`, zero outside it (a fresh array: runners may take their inputs). */
export function zeroPaddedSlice(signal: Float32Array, from: number, to: number): Float32Array {
  const out = new Float32Array(to - from);
  const a = Math.max(0, from);
  const b = Math.min(signal.length, to);
  if (b > a) out.set(signal.subarray(a, b), a - from);
  return out;
}

/** Samples at `fromHz` → samples at `toHz`. */
export async function resample(mono: Float32Array, fromHz: number, toHz = SAMPLE_RATE_HZ, runner?: ModelRunner): Promise<Float32Array> {
  if (fromHz === toHz) return mono;
  const expected = Math.round((mono.length * toHz) / fromHz);
  const plan = runner ? resamplePlan(fromHz, toHz) : undefined;
  if (runner && plan) return resampleRange(runner, plan, (from, to) => zeroPaddedSlice(mono, from, to), 0, expected);
  // A fresh converter per call: its filter state must not carry over between files.
  const src = await LibSampleRate.create(1, fromHz, toHz, { converterType: LibSampleRate.ConverterType.SRC_SINC_BEST_QUALITY });
  try {
    const out = src.simple(mono);
    if (out.length === expected) return out;
    const fixed = new Float32Array(expected);
    fixed.set(out.subarray(0, Math.min(out.length, expected)));
    return fixed;
  } finally {
    src.destroy();
  }
}

export interface Audio16k {
  /** Mono samples at 16 kHz. */
  samples: Float32Array;
  sourceRateHz: number;
  channels: number;
  durationS: number;
  name: string;
}

/** Decode → mono → 16 kHz, as the model cards load audio (`librosa.load(path, sr=16000, mono=True)`). */
export async function loadAudio16kMono(path: string, runner?: ModelRunner): Promise<Audio16k> {
  const decoded = await loadAudioFile(path);
  const mono = toMono(decoded.channels);
  const samples = await resample(mono, decoded.sampleRateHz, SAMPLE_RATE_HZ, runner);
  return {
    samples,
    sourceRateHz: decoded.sampleRateHz,
    channels: decoded.sourceChannels ?? decoded.channels.length,
    durationS: mono.length / decoded.sampleRateHz,
    name: basename(path),
  };
}
