/**
 * The Whisper log-mel spectrogram, exactly as openai-whisper's `log_mel_spectrogram` computes it, built as an
 * ONNX graph so it runs wherever the model runs (engine worker, GPU providers):
 *
 *   wave [B, 480000] → reflect-pad 200 on both sides (torch.stft center=True) → frames [B, 3000, 400] (hop 160;
 *   the 3001st frame torch drops is never built) → · periodic Hann → 400-point DFT, bins 0..200 → |·|²
 *   → mel filters → log10(max(mel, 1e-10)) → max(x, max(x) − 8) per window → (x + 4) / 4   → [B, nMels, 3000]
 *
 * The DFT is factored as 400 = 20 × 20 (Cooley–Tukey, n = 20·n1 + n2, k = k1 + 20·k2):
 *   A[n2, k1]  = Σ_n1 y[20·n1 + n2] · e^(−2πi·n1·k1/20)            (real input: one MatMul with cos|sin)
 *   B[n2, k1]  = A[n2, k1] · e^(−2πi·n2·k1/400)                       (twiddles)
 *   X[k1 + 20·k2] = Σ_n2 B[n2, k1] · e^(−2πi·n2·k2/20), k2 = 0..10    (complex MatMul as one real MatMul)
 * about a quarter of the multiply-adds of the direct DFT.
 *
 * Long audio is cut into consecutive 30 s windows, each zero-padded and floored on its own (reference doc §3).
 */
import { GraphBuilder } from '../onnx/graph.ts';
import type { ModelRunner } from '../runtime/types.ts';
import { HOP_SAMPLES, MEL_FRAMES_PER_WINDOW, N_FFT, WINDOW_SAMPLES } from './constants.ts';
import { melFilterBank } from './melFilters.ts';
import type { MelSpectrogram } from './types.ts';

const BINS = N_FFT / 2 + 1; // 201
const R = 20; // N_FFT = R · R
const K2 = 11; // k2 = 0..10 covers bins 0..219 ⊇ 0..200
const BLOCK = 80; // gcd(hop 160, n_fft 400): frames are built from 5 blocks of 80 samples

/** cos and −sin of 2π·a·b/n, computed in float64 with the angle reduced first. */
const cis = (a: number, b: number, n: number): [number, number] => {
  const angle = (2 * Math.PI * ((a * b) % n)) / n;
  return [Math.cos(angle), -Math.sin(angle)];
};

export function buildLogMelGraph(nMels: number): GraphBuilder {
  const g = new GraphBuilder(`whisper-logmel-${nMels}`);
  const F = MEL_FRAMES_PER_WINDOW;
  const wave = g.input('wave', 'float', ['batch', WINDOW_SAMPLES]);
  const x = g.node('Unsqueeze', [wave, g.constInt64([1])]); // [B, 1, 480000]
  const padded = g.node('Squeeze', [g.node('Pad', [x, g.constInt64([0, 0, N_FFT / 2, 0, 0, N_FFT / 2])], { mode: 'reflect' }), g.constInt64([1])]);
  const slice = (input: string, starts: number[], ends: number[], axes: number[]) =>
    g.node('Slice', [input, g.constInt64(starts), g.constInt64(ends), g.constInt64(axes)]);

  // frames[b, t, 80·j + m] = padded[b, 160·t + 80·j + m]
  const parts: string[] = [];
  for (let j = 0; j < N_FFT / BLOCK; j++) {
    const run = slice(padded, [BLOCK * j], [BLOCK * j + HOP_SAMPLES * F], [1]); // [B, 480000]
    parts.push(slice(g.node('Reshape', [run, g.constInt64([0, F, HOP_SAMPLES])]), [0], [BLOCK], [2])); // [B, F, 80]
  }
  const frames = g.node('Concat', parts, { axis: 2 }); // [B, F, 400]
  const hann = Float32Array.from({ length: N_FFT }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / N_FFT));
  const windowed = g.node('Mul', [frames, g.init('hann', { dims: [N_FFT], data: hann })]);

  // Stage A: contract n1. [B·F, n1, n2] → [B·F, n2, n1] · [n1, (re k1 | im k1)]
  const y = g.node('Transpose', [g.node('Reshape', [windowed, g.constInt64([-1, R, R])])], { perm: [0, 2, 1] });
  const stageA = new Float32Array(R * 2 * R);
  for (let n1 = 0; n1 < R; n1++) for (let k1 = 0; k1 < R; k1++) {
    const [c, s] = cis(n1, k1, R);
    stageA[n1 * 2 * R + k1] = c;
    stageA[n1 * 2 * R + R + k1] = s;
  }
  const a = g.node('MatMul', [y, g.init('dft_a', { dims: [R, 2 * R], data: stageA })]); // [B·F, n2, 2R]
  const aRe = slice(a, [0], [R], [2]);
  const aIm = slice(a, [R], [2 * R], [2]);

  // Stage B: twiddles e^(−2πi·n2·k1/400), [n2, k1]
  const twRe = new Float32Array(R * R);
  const twIm = new Float32Array(R * R);
  for (let n2 = 0; n2 < R; n2++) for (let k1 = 0; k1 < R; k1++) [twRe[n2 * R + k1], twIm[n2 * R + k1]] = cis(n2, k1, N_FFT);
  const tRe = g.init('twiddle_re', { dims: [R, R], data: twRe });
  const tIm = g.init('twiddle_im', { dims: [R, R], data: twIm });
  const bRe = g.node('Sub', [g.node('Mul', [aRe, tRe]), g.node('Mul', [aIm, tIm])]);
  const bIm = g.node('Add', [g.node('Mul', [aRe, tIm]), g.node('Mul', [aIm, tRe])]);

  // Stage C: contract n2. [B·F, k1, (re n2 | im n2)] · [[C, S], [−S, C]] → [B·F, k1, (re k2 | im k2)]
  const bT = g.node('Concat', [g.node('Transpose', [bRe], { perm: [0, 2, 1] }), g.node('Transpose', [bIm], { perm: [0, 2, 1] })], { axis: 2 });
  const stageC = new Float32Array(2 * R * 2 * K2);
  for (let n2 = 0; n2 < R; n2++) for (let k2 = 0; k2 < K2; k2++) {
    const [c, s] = cis(n2, k2, R);
    stageC[n2 * 2 * K2 + k2] = c; // re·re
    stageC[n2 * 2 * K2 + K2 + k2] = s; // re·im
    stageC[(R + n2) * 2 * K2 + k2] = -s; // im·im → re
    stageC[(R + n2) * 2 * K2 + K2 + k2] = c; // im·re → im
  }
  const xk = g.node('MatMul', [bT, g.init('dft_c', { dims: [2 * R, 2 * K2], data: stageC })]); // [B·F, k1, 2·K2]
  const xRe = slice(xk, [0], [K2], [2]);
  const xIm = slice(xk, [K2], [2 * K2], [2]);
  const power = g.node('Add', [g.node('Mul', [xRe, xRe]), g.node('Mul', [xIm, xIm])]); // [B·F, k1, k2]
  // bin k = k1 + 20·k2: [B·F, k2, k1] flattened, first 201
  const bins = slice(g.node('Reshape', [g.node('Transpose', [power], { perm: [0, 2, 1] }), g.constInt64([-1, R * K2])]), [0], [BINS], [1]);

  const filtersT = new Float32Array(BINS * nMels);
  const filters = melFilterBank(nMels);
  for (let m = 0; m < nMels; m++) for (let k = 0; k < BINS; k++) filtersT[k * nMels + m] = filters[m * BINS + k]!;
  const mel = g.node('MatMul', [bins, g.init('mel_filters_t', { dims: [BINS, nMels], data: filtersT })]); // [B·F, nMels]
  const melBatch = g.node('Transpose', [g.node('Reshape', [mel, g.constInt64([-1, F, nMels])])], { perm: [0, 2, 1] }); // [B, nMels, F]
  const log10 = g.node('Mul', [g.node('Log', [g.node('Max', [melBatch, g.constFloat(1e-10)])]), g.constFloat(1 / Math.LN10)]);
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
 * Any length: every window padded to 30 s and computed on its own; the full windows concatenated along frames
 * ([nMels, 3000 · windows]). `onWindow` receives each window as it completes (for streaming and progress).
 */
export async function whisperLogMel(
  runner: ModelRunner,
  samples16k: Float32Array,
  nMels: 80 | 128,
  onWindow?: (info: MelWindowInfo, window: MelSpectrogram) => void | Promise<void>,
): Promise<MelSpectrogram & { windows: MelWindowInfo[] }> {
  const windows = windowsOf(samples16k.length);
  const frames = windows.length * MEL_FRAMES_PER_WINDOW;
  const data = new Float32Array(nMels * frames);
  for (const info of windows) {
    const w = await whisperLogMelWindow(runner, samples16k.subarray(info.startSample, info.startSample + info.realSamples), nMels);
    for (let m = 0; m < nMels; m++) {
      data.set(w.data.subarray(m * MEL_FRAMES_PER_WINDOW, (m + 1) * MEL_FRAMES_PER_WINDOW), m * frames + info.index * MEL_FRAMES_PER_WINDOW);
    }
    await onWindow?.(info, w);
  }
  return { nMels, frames, data, windows };
}
