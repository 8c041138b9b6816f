/**
 * Principal component analysis for the feature map: rows [n, d] (one SAE encoder row per feature) → their
 * coordinates on the top k principal axes, as scikit-learn's PCA defines them (centred, covariance with n − 1).
 *
 * How, and why this way: the mean and the d × d covariance are one float32 Gemm in onnxruntime (CPU; a
 * 10 240 × 1280 matrix in about a second, where a JavaScript loop takes over ten), then the top k eigenpairs
 * come from subspace iteration in Float64 on C (see topEigen: iterated to convergence of the Ritz values,
 * where scikit-learn's randomised solver stops after 7) with cyclic Jacobi for the small Rayleigh–Ritz
 * problem; the projection is a second Gemm. Deterministic: the start block comes from a fixed seed. Each component's sign is fixed so that its
 * largest-magnitude entry is positive.
 */
import * as ort from 'onnxruntime-node';
import { f, GraphBuilder } from '../onnx/graph.ts';
import { threadOptions } from '../runtime/inProcess.ts';
import { makeRng, type Rng } from './random.ts';

export interface PcaResult {
  /** Number of components kept: min(k, n, d). */
  k: number;
  mean: Float64Array; // [d]
  components: Float64Array; // [k, d] row-major: row c = unit principal axis c, by decreasing variance
  explainedVariance: Float64Array; // [k] eigenvalues of the covariance (divisor n − 1)
  projected: Float64Array; // [n, k] row-major: (x_i − mean) · component_c
}

/**
 * Eigen-decomposition of a small dense symmetric matrix [m, m] by cyclic Jacobi rotations. Returns the
 * eigenvalues and the eigenvectors as columns of `vectors` [m, m], unsorted.
 */
export function jacobiEigen(matrix: Float64Array, m: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(m * m);
  for (let i = 0; i < m; i++) v[i * m + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0, diag = 0;
    for (let p = 0; p < m; p++) {
      diag += a[p * m + p]! ** 2;
      for (let q = p + 1; q < m; q++) off += a[p * m + q]! ** 2;
    }
    if (off <= 1e-30 * diag || off === 0) break;
    for (let p = 0; p < m - 1; p++) {
      for (let q = p + 1; q < m; q++) {
        const apq = a[p * m + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const app = a[p * m + p]!, aqq = a[q * m + q]!;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const cos = 1 / Math.sqrt(t * t + 1), sin = t * cos;
        for (let k = 0; k < m; k++) {
          const akp = a[k * m + p]!, akq = a[k * m + q]!;
          a[k * m + p] = cos * akp - sin * akq;
          a[k * m + q] = sin * akp + cos * akq;
        }
        for (let k = 0; k < m; k++) {
          const apk = a[p * m + k]!, aqk = a[q * m + k]!;
          a[p * m + k] = cos * apk - sin * aqk;
          a[q * m + k] = sin * apk + cos * aqk;
        }
        for (let k = 0; k < m; k++) {
          const vkp = v[k * m + p]!, vkq = v[k * m + q]!;
          v[k * m + p] = cos * vkp - sin * vkq;
          v[k * m + q] = sin * vkp + cos * vkq;
        }
      }
    }
  }
  const values = new Float64Array(m);
  for (let i = 0; i < m; i++) values[i] = a[i * m + i]!;
  return { values, vectors: v };
}

/** W = V·C for row blocks V [l, d] and a fixed symmetric C [d, d] (row r of W = C v_r), as a float32 Gemm. */
async function covTimes(cov: Float64Array, d: number, l: number): Promise<{ times(v: Float64Array, w: Float64Array): Promise<void>; release(): Promise<void> }> {
  const g = new GraphBuilder('pca-cov-times');
  const v = g.input('v', 'float', [l, d]);
  const c = g.init('cov', { dims: [d, d], data: Float32Array.from(cov) });
  g.node('MatMul', [v, c], {}, 'w');
  g.output('w', 'float', [l, d]);
  const session = await ort.InferenceSession.create(g.toBytes(), { executionProviders: ['cpu'], ...threadOptions() });
  return {
    async times(vIn, wOut) {
      const out = await session.run({ v: new ort.Tensor('float32', Float32Array.from(vIn), [l, d]) });
      wOut.set(out.w!.data as Float32Array);
    },
    release: () => session.release(),
  };
}

/** Orthonormalises the rows of V [l, d] in place (modified Gram–Schmidt, twice); a vanishing row is redrawn. */
function orthonormaliseRows(v: Float64Array, l: number, d: number, rng: Rng): void {
  for (let r = 0; r < l; r++) {
    const row = v.subarray(r * d, (r + 1) * d);
    for (let attempt = 0; ; attempt++) {
      let before = 0;
      for (let t = 0; t < d; t++) before += row[t]! ** 2;
      for (let pass = 0; pass < 2; pass++) {
        for (let q = 0; q < r; q++) {
          let dot = 0;
          for (let t = 0; t < d; t++) dot += v[q * d + t]! * row[t]!;
          for (let t = 0; t < d; t++) row[t]! -= dot * v[q * d + t]!;
        }
      }
      let norm = 0;
      for (let t = 0; t < d; t++) norm += row[t]! ** 2;
      if (norm > 1e-20 * Math.max(before, 1e-300) && norm > 0) {
        const inv = 1 / Math.sqrt(norm);
        for (let t = 0; t < d; t++) row[t]! *= inv;
        break;
      }
      if (attempt > 3) throw new Error('pca: could not orthonormalise the subspace');
      for (let t = 0; t < d; t++) row[t] = rng.normal();
    }
  }
}

/** H = V C Vᵀ given W = V C: [l, l]. */
function projectedMatrix(v: Float64Array, w: Float64Array, l: number, d: number): Float64Array {
  const h = new Float64Array(l * l);
  for (let a = 0; a < l; a++) {
    for (let b = a; b < l; b++) {
      let s = 0;
      for (let t = 0; t < d; t++) s += v[a * d + t]! * w[b * d + t]!;
      h[a * l + b] = h[b * l + a] = s;
    }
  }
  return h;
}

/**
 * Top-k eigenpairs of a symmetric positive semi-definite C [d, d] by subspace iteration on a block of
 * l = k + max(10, k/2) vectors with a Rayleigh–Ritz step at the end (scikit-learn's randomised PCA does the
 * same on X with 7 iterations); here the iteration continues until the top-k Ritz values change by less than
 * 1e-6 of the largest (at least 7, at most 100 iterations). When l ≥ d the block spans everything and one step is exact.
 */
async function topEigen(c: Float64Array, d: number, k: number, seed: number): Promise<{ values: Float64Array; vectors: Float64Array }> {
  const rng = makeRng(seed);
  const l = Math.min(d, k + Math.max(10, Math.ceil(k / 2)));
  let v = new Float64Array(l * d).map(() => rng.normal());
  let w = new Float64Array(l * d);
  orthonormaliseRows(v, l, d, rng);
  let previous: Float64Array | null = null;
  const cov = await covTimes(c, d, l);
  const maxIterations = l === d ? 1 : 100;
  for (let it = 0; it < maxIterations; it++) {
    await cov.times(v, w);
    const ritz = jacobiEigen(projectedMatrix(v, w, l, d), l).values.sort().reverse().subarray(0, k);
    const converged = previous !== null && it >= 7 && ritz.every((x, i) => Math.abs(x - previous![i]!) <= 1e-6 * Math.max(Math.abs(ritz[0]!), 1e-300));
    previous = ritz;
    if (converged) break;
    [v, w] = [w, v];
    orthonormaliseRows(v, l, d, rng);
  }
  // Rayleigh–Ritz on the final (orthonormal) block.
  await cov.times(v, w);
  await cov.release();
  const small = jacobiEigen(projectedMatrix(v, w, l, d), l);
  const order = Array.from({ length: l }, (_, i) => i).sort((a, b) => small.values[b]! - small.values[a]!);
  const values = new Float64Array(k);
  const vectors = new Float64Array(k * d);
  for (let out = 0; out < k; out++) {
    const col = order[out]!;
    values[out] = small.values[col]!;
    for (let r = 0; r < l; r++) {
      const s = small.vectors[r * l + col]!;
      if (s === 0) continue;
      for (let t = 0; t < d; t++) vectors[out * d + t]! += s * v[r * d + t]!;
    }
  }
  return { values, vectors };
}

/** Runs a one-off float32 graph on the CPU and returns its outputs. */
async function runOnce(g: GraphBuilder, feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.OnnxValueMapType> {
  const session = await ort.InferenceSession.create(g.toBytes(), { executionProviders: ['cpu'], ...threadOptions() });
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

/** Mean [d] and covariance [d, d] (divisor n − 1) of rows [n, d], as one Gemm. */
async function meanAndCovariance(x: Float32Array, n: number, d: number): Promise<{ mean: Float32Array; cov: Float64Array }> {
  const g = new GraphBuilder('pca-covariance');
  const input = g.input('x', 'float', ['n', d]);
  const mean = g.node('ReduceMean', [input], { axes: [0], keepdims: 1 }, 'mean');
  const centred = g.node('Sub', [input, mean]);
  g.node('Gemm', [centred, centred], { transA: 1, alpha: f(1 / Math.max(1, n - 1)) }, 'cov');
  g.output('mean', 'float', [1, d]);
  g.output('cov', 'float', [d, d]);
  const out = await runOnce(g, { x: new ort.Tensor('float32', x, [n, d]) });
  const cov = Float64Array.from(out.cov!.data as Float32Array);
  // Exactly symmetric, so Lanczos sees a symmetric operator.
  for (let a = 0; a < d; a++) for (let b = a + 1; b < d; b++) cov[a * d + b] = cov[b * d + a] = 0.5 * (cov[a * d + b]! + cov[b * d + a]!);
  return { mean: out.mean!.data as Float32Array, cov };
}

/** (x_i − mean) · componentsᵀ: [n, k]. */
async function project(x: Float32Array, n: number, d: number, mean: Float32Array, components: Float64Array, k: number): Promise<Float64Array> {
  const g = new GraphBuilder('pca-project');
  const input = g.input('x', 'float', ['n', d]);
  const m = g.input('mean', 'float', [1, d]);
  const v = g.input('components', 'float', [k, d]);
  g.node('Gemm', [g.node('Sub', [input, m]), v], { transB: 1 }, 'projected');
  g.output('projected', 'float', ['n', k]);
  const out = await runOnce(g, {
    x: new ort.Tensor('float32', x, [n, d]), mean: new ort.Tensor('float32', mean, [1, d]), components: new ort.Tensor('float32', Float32Array.from(components), [k, d]),
  });
  return Float64Array.from(out.projected!.data as Float32Array);
}

/** PCA of rows [n, d] to k components (see the module comment). */
export async function pca(x: Float32Array, n: number, d: number, k: number, opts: { seed?: number } = {}): Promise<PcaResult> {
  if (x.length !== n * d) throw new Error(`pca: ${x.length} values are not ${n} rows × ${d}`);
  const kk = Math.max(0, Math.min(k, n, d));
  const { mean, cov } = await meanAndCovariance(x, n, d);
  const { values, vectors } = kk > 0 ? await topEigen(cov, d, kk, opts.seed ?? 0) : { values: new Float64Array(0), vectors: new Float64Array(0) };
  for (let c = 0; c < kk; c++) {
    let best = 0;
    for (let j = 0; j < d; j++) if (Math.abs(vectors[c * d + j]!) > Math.abs(vectors[c * d + best]!)) best = j;
    if (vectors[c * d + best]! < 0) for (let j = 0; j < d; j++) vectors[c * d + j] = -vectors[c * d + j]!;
    values[c] = Math.max(0, values[c]!);
  }
  const projected = kk > 0 ? await project(x, n, d, mean, vectors, kk) : new Float64Array(0);
  return { k: kk, mean: Float64Array.from(mean), components: vectors, explainedVariance: values, projected };
}
