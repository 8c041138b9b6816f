/**
 * Mono mixdown and band-limited resampling to 16 kHz with libsamplerate's best sinc converter
 * (SRC_SINC_BEST_QUALITY, WebAssembly). The output has round(n · to / from) samples: libsamplerate's output
 * is trimmed or zero-extended at the end by the one or two samples its flushing may differ by.
 */
import LibSampleRate from '@alexanderolsen/libsamplerate-js';
import { basename } from 'node:path';
import { SAMPLE_RATE_HZ } from './constants.ts';
import { loadAudioFile } from './decode.ts';

/** Average of the channels. */
export function toMono(channels: Float32Array[]): Float32Array {
  if (channels.length === 1) return channels[0]!;
  const n = channels[0]!.length;
  const out = new Float32Array(n);
  for (const ch of channels) for (let i = 0; i < n; i++) out[i]! += ch[i]!;
  const scale = 1 / channels.length;
  for (let i = 0; i < n; i++) out[i]! *= scale;
  return out;
}

/** Samples at `fromHz` → samples at `toHz`. */
export async function resample(mono: Float32Array, fromHz: number, toHz = SAMPLE_RATE_HZ): Promise<Float32Array> {
  if (fromHz === toHz) return mono;
  const expected = Math.round((mono.length * toHz) / fromHz);
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
export async function loadAudio16kMono(path: string): Promise<Audio16k> {
  const decoded = await loadAudioFile(path);
  const mono = toMono(decoded.channels);
  const samples = await resample(mono, decoded.sampleRateHz);
  return {
    samples,
    sourceRateHz: decoded.sampleRateHz,
    channels: decoded.channels.length,
    durationS: mono.length / decoded.sampleRateHz,
    name: basename(path),
  };
}
