/**
 * Band-limited rational resampling (polyphase, Kaiser-windowed sinc) as an ONNX convolution, so it runs in the
 * engine worker at matrix-multiply speed.
 *
 * For rates fromHz → toHz with L/M = toHz/fromHz in lowest terms, output sample n sits at time n·M/L input
 * samples. Outputs n = r + jL (phase r = 0..L−1) all read the input through the same taps h_r, shifted by
 * j·M input samples — a convolution with L output channels and stride M:
 *
 *   y[r + jL] = Σ_s xpad[j·M + s] · W[r, s],   xpad[q] = x[q − (H − 1)]
 *   W[r, s]   = g((r·M mod L − (s − ⌊r·M/L⌋ − H + 1)·L) / L)   for s − ⌊r·M/L⌋ ∈ [0, 2H), else 0
 *   g(t)      = (2·fc/fromHz) · sinc(2·fc·t/fromHz) · kaiser(t / (H + 1), β)      (t in input samples)
 *
 * with cutoff fc = ROLLOFF · min(fromHz, toHz)/2, H input samples of half-width, and β for about 100 dB of
 * stopband attenuation. The caller feeds pre-padded chunks, so long audio streams through in bounded memory.
 */
import { GraphBuilder } from '../onnx/graph.ts';

/** Fraction of the lower Nyquist frequency kept in the passband. */
const ROLLOFF = 0.945;
/** Zero crossings of the sinc on each side. */
const ZERO_CROSSINGS = 32;
/** Kaiser β for roughly 100 dB stopband attenuation (Kaiser's formula 0.1102·(A − 8.7)). */
const KAISER_BETA = 10.06;
/** Larger filter banks than this (weights) are not worth a convolution; see `resamplePlan`. */
const MAX_WEIGHTS = 4_000_000;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Modified Bessel function of the first kind, order 0 (series). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 50; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

export interface ResamplePlan {
  fromHz: number;
  toHz: number;
  up: number; // L
  down: number; // M
  halfWidth: number; // H, input samples
  kernelSize: number; // K = M + 2H − 1
}

/** The plan for a rate pair, or undefined when the filter bank would be too large (odd rate pairs). */
export function resamplePlan(fromHz: number, toHz: number): ResamplePlan | undefined {
  const g = gcd(fromHz, toHz);
  const up = toHz / g;
  const down = fromHz / g;
  const spacing = Math.max(1, fromHz / toHz); // sinc zero crossings, in input samples
  const halfWidth = Math.ceil(ZERO_CROSSINGS * spacing);
  const kernelSize = down + 2 * halfWidth - 1;
  if (up * kernelSize > MAX_WEIGHTS) return undefined;
  return { fromHz, toHz, up, down, halfWidth, kernelSize };
}

/** W: [L, 1, K], computed in float64. */
export function resampleWeights(plan: ResamplePlan): Float32Array {
  const { fromHz, toHz, up: L, down: M, halfWidth: H, kernelSize: K } = plan;
  const fc = (ROLLOFF * Math.min(fromHz, toHz)) / 2;
  const scale = (2 * fc) / fromHz;
  const w = new Float32Array(L * K);
  const norm = besselI0(KAISER_BETA);
  for (let r = 0; r < L; r++) {
    const base = Math.floor((r * M) / L);
    const frac = (r * M) % L;
    for (let m = -H + 1; m <= H; m++) {
      const t = (frac - m * L) / L; // input samples between output time and input sample
      const x = (2 * fc * t) / fromHz;
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
      const ratio = t / (H + 1);
      const window = Math.abs(ratio) >= 1 ? 0 : besselI0(KAISER_BETA * Math.sqrt(1 - ratio * ratio)) / norm;
      w[r * K + base + m + H - 1] = scale * sinc * window;
    }
  }
  return w;
}

/** Input `chunk` [1, 1, (B − 1)·M + K] → output `out` [B·L]. */
export function buildResampleGraph(plan: ResamplePlan): GraphBuilder {
  const g = new GraphBuilder(`resample-${plan.fromHz}-${plan.toHz}`);
  const x = g.input('chunk', 'float', [1, 1, 'samples']);
  const w = g.init('taps', { dims: [plan.up, 1, plan.kernelSize], data: resampleWeights(plan) });
  const y = g.node('Conv', [x, w], { strides: [plan.down], kernel_shape: [plan.kernelSize] }); // [1, L, B]
  const interleaved = g.node('Transpose', [y], { perm: [0, 2, 1] }); // [1, B, L]
  g.node('Reshape', [interleaved, g.constInt64([-1])], {}, 'out');
  g.output('out', 'float', ['outSamples']);
  return g;
}
