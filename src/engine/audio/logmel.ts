/**
 * The Whisper log-mel spectrogram, exactly as openai-whisper's `log_mel_spectrogram` computes it, built as an
 * ONNX graph so it runs wherever the model runs (engine worker, GPU providers):
 *
 *   wave [B, 480000] → reflect-pad 200 on both sides (torch.stft center=True)
 *   → Conv with fixed kernels [400, 1, 400], stride 160: rows 0..200 = hann·cos (bins 0..200), rows
 *     201..399 = hann·sin (bins 1..199; the sine parts of bins 0 and 200 are zero), i.e. the 400-point DFT as
 *     one matrix product, which onnxruntime runs faster here than a factored FFT made of small ops
 *     (torch.stft makes 3001 frames and Whisper drops the last; padding the right end by only 40 samples
 *     makes exactly the 3000 kept frames, with the same values) → power = re² + im² → mel filters · power
 *   → log10(max(mel, 1e-10)) → max(x, max(x) − 8) per window → (x + 4) / 4   → [B, nMels, 3000]
 *
 * Long audio is cut into consecutive 30 s windows, each zero-padded and floored on its own (reference doc §3).
 */
import { GraphBuilder } from '../onnx/graph.ts';
import type { ModelRunner } from '../runtime/types.ts';
import { HOP_SAMPLES, MEL_FRAMES_PER_WINDOW, N_FFT, WINDOW_SAMPLES } from './constants.ts';
import { melFilterBank } from './melFilters.ts';
import { samplesReader, type SampleReader } from './source.ts';
import type { MelSpectrogram } from './types.ts';

const BINS = N_FFT / 2 + 1; // 201
/** Windows per graph run: batching amortises the per-run overhead; results still stream per window. */
const WINDOWS_PER_RUN = 4;

const SINES = BINS - 2; // bins 1..199

/** [400, 1, 400]: windowed cosine rows (bins 0..200) then sine rows (bins 1..199), computed in float64. */
function dftKernels(): Float32Array {
  const w = new Float32Array((BINS + SINES) * N_FFT);
  for (let n = 0; n < N_FFT; n++) {
    const hann = 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / N_FFT); // periodic Hann
    for (let k = 0; k < BINS; k++) {
      // (k·n mod N) keeps the angle small, so cos/sin stay exact to float64 rounding.
      const angle = (2 * Math.PI * ((k * n) % N_FFT)) / N_FFT;
      w[k * N_FFT + n] = hann * Math.cos(angle);
      if (k >= 1 && k <= SINES) w[(BINS + k - 1) * N_FFT + n] = -hann * Math.sin(angle);
    }
  }
  return w;
}

export function buildLogMelGraph(nMels: number): GraphBuilder {
  const g = new GraphBuilder(`whisper-logmel-${nMels}`);
  const wave = g.input('wave', 'float', ['batch', WINDOW_SAMPLES]);
  const x = g.node('Unsqueeze', [wave, g.constInt64([1])]); // [B, 1, 480000]
  // Left: the centred STFT's 200 reflected samples. Right: what the last kept frame (t = 2999, ending at
  // 2999·160 − 200 + 400 = 480 040) reaches past the end: 40 reflected samples.
  const rightPad = (MEL_FRAMES_PER_WINDOW - 1) * HOP_SAMPLES - N_FFT / 2 + N_FFT - WINDOW_SAMPLES;
  const padded = g.node('Pad', [x, g.constInt64([0, 0, N_FFT / 2, 0, 0, rightPad])], { mode: 'reflect' });
  const kernels = g.init('dft_kernels', { dims: [BINS + SINES, 1, N_FFT], data: dftKernels() });
  const frames = g.node('Conv', [padded, kernels], { strides: [HOP_SAMPLES], kernel_shape: [N_FFT] }); // [B, 400, 3000]
  const slice = (start: number, end: number, axis: number, input: string) =>
    g.node('Slice', [input, g.constInt64([start]), g.constInt64([end]), g.constInt64([axis])]);
  const re = slice(0, BINS, 1, frames);
  const im = slice(BINS, BINS + SINES, 1, frames); // [B, 199, 3000]
  const imSquared = g.node('Pad', [g.node('Mul', [im, im]), g.constInt64([0, 1, 0, 0, 1, 0])]); // zero rows for bins 0, 200
  const power = g.node('Add', [g.node('Mul', [re, re]), imSquared]); // [B, 201, 3000]
  const filters = g.init('mel_filters', { dims: [nMels, BINS], data: melFilterBank(nMels) });
  const mel = g.node('MatMul', [filters, power]); // [B, nMels, 3000]
  const log10 = g.node('Mul', [g.node('Log', [g.node('Max', [mel, g.constFloat(1e-10)])]), g.constFloat(1 / Math.LN10)]);
  const peak = g.node('ReduceMax', [log10], { axes: [1, 2], keepdims: 1 });
  const floored = g.node('Max', [log10, g.node('Sub', [peak, g.constFloat(8)])]);
  g.node('Mul', [g.node('Add', [floored, g.constFloat(4)]), g.constFloat(0.25)], {}, 'logmel');
  g.output('logmel', 'float', ['batch', nMels, MEL_FRAMES_PER_WINDOW]);
  return g;
}

async function ensureGraph(runner: ModelRunner, nMels: number): Promise<string> {
  const key = `whisper-logmel-${nMels}`;
  await runner.load(key, () => ({ key, bytes: buildLogMelGraph(nMels).toBytes() }));
  return key;
}

/** One 30 s window: the samples are padded with zeros or cut to 480 000. → [nMels, 3000]. */
export async function whisperLogMelWindow(runner: ModelRunner, samples16k: Float32Array, nMels: 80 | 128): Promise<MelSpectrogram> {
  const key = await ensureGraph(runner, nMels);
  const wave = new Float32Array(WINDOW_SAMPLES);
  wave.set(samples16k.subarray(0, WINDOW_SAMPLES));
  const out = await runner.run(key, { wave: { type: 'float32', dims: [1, WINDOW_SAMPLES], data: wave } });
  return { nMels, frames: MEL_FRAMES_PER_WINDOW, data: out.logmel!.data as Float32Array };
}

export interface MelWindowInfo {
  index: number;
  /** First sample of the window in the clip. */
  startSample: number;
  /** How many of the window's 480 000 samples are real audio (the rest is zero padding). */
  realSamples: number;
  /** Mel frames that cover real audio: ceil(realSamples / 160). */
  realFrames: number;
}

/** Consecutive 30 s windows of a clip (at least one, even for empty input). */
export function windowsOf(totalSamples: number): MelWindowInfo[] {
  const count = Math.max(1, Math.ceil(totalSamples / WINDOW_SAMPLES));
  return Array.from({ length: count }, (_, index) => {
    const startSample = index * WINDOW_SAMPLES;
    const realSamples = Math.max(0, Math.min(WINDOW_SAMPLES, totalSamples - startSample));
    return { index, startSample, realSamples, realFrames: Math.ceil(realSamples / HOP_SAMPLES) };
  });
}

/**
 * Any length, streamed: every window padded to 30 s and computed on its own ([nMels, 3000] each), handed to
 * `onWindow` as it completes; nothing is kept. Windows run `WINDOWS_PER_RUN` at a time.
 */
export async function forEachMelWindow(
  runner: ModelRunner,
  samples16k: Float32Array | SampleReader,
  nMels: 80 | 128,
  onWindow: (info: MelWindowInfo, window: MelSpectrogram) => void | Promise<void>,
): Promise<MelWindowInfo[]> {
  const key = await ensureGraph(runner, nMels);
  const clip = samples16k instanceof Float32Array ? samplesReader(samples16k) : samples16k;
  const windows = windowsOf(clip.length);
  const perWindow = nMels * MEL_FRAMES_PER_WINDOW;
  for (let first = 0; first < windows.length; first += WINDOWS_PER_RUN) {
    const batch = windows.slice(first, first + WINDOWS_PER_RUN);
    const wave = new Float32Array(batch.length * WINDOW_SAMPLES); // zero padding included
    const head = batch[0]!;
    const real = await clip.read(head.startSample, batch.reduce((a, w) => a + w.realSamples, 0));
    wave.set(real); // consecutive windows: their real samples are consecutive too, and only the last is short
    const out = await runner.run(key, { wave: { type: 'float32', dims: [batch.length, WINDOW_SAMPLES], data: wave } });
    const all = out.logmel!.data as Float32Array;
    for (const [b, info] of batch.entries()) {
      await onWindow(info, { nMels, frames: MEL_FRAMES_PER_WINDOW, data: all.slice(b * perWindow, (b + 1) * perWindow) });
    }
  }
  return windows;
}

/**
 * Any length: every window padded to 30 s and computed on its own; the full windows concatenated along frames
 * ([nMels, 3000 · windows]). `onWindow` receives each window as it completes (for streaming and progress).
 */
export async function whisperLogMel(
  runner: ModelRunner,
  samples16k: Float32Array | SampleReader,
  nMels: 80 | 128,
  onWindow?: (info: MelWindowInfo, window: MelSpectrogram) => void | Promise<void>,
): Promise<MelSpectrogram & { windows: MelWindowInfo[] }> {
  const count = windowsOf(samples16k.length).length;
  const frames = count * MEL_FRAMES_PER_WINDOW;
  const data = new Float32Array(nMels * frames);
  const windows = await forEachMelWindow(runner, samples16k, nMels, async (info, w) => {
    for (let m = 0; m < nMels; m++) {
      data.set(w.data.subarray(m * MEL_FRAMES_PER_WINDOW, (m + 1) * MEL_FRAMES_PER_WINDOW), m * frames + info.index * MEL_FRAMES_PER_WINDOW);
    }
    await onWindow?.(info, w);
  });
  return { nMels, frames, data, windows };
}
