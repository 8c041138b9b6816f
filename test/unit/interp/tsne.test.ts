/**
 * The feature map's numerics: PCA against numpy's SVD (fixtures/pca, test/reference/make_pca.py), the t-SNE
 * gradient against a numerical gradient of the exact KL divergence, Barnes–Hut against the exact gradient, the
 * perplexity calibration, well-separated clusters staying separated, and determinism for a seed.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { pca } from '../../../src/engine/interp/pca.ts';
import { makeRng } from '../../../src/engine/interp/random.ts';
import { affinities, conditionalProbabilities, klGradient, nearestNeighbours, tsne, tsneAffinities } from '../../../src/engine/interp/tsne.ts';
import { assertClose, fixture } from '../../helpers/compare.ts';

/** `clusters` Gaussian blobs of `perCluster` points in `dim` dimensions, centres `spread` apart in scale. */
function blobs(clusters: number, perCluster: number, dim: number, spread: number, seed: number): { x: Float64Array; labels: Int32Array; n: number } {
  const rng = makeRng(seed);
  const n = clusters * perCluster;
  const centres = Array.from({ length: clusters }, () => Float64Array.from({ length: dim }, () => spread * rng.normal()));
  const x = new Float64Array(n * dim);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % clusters;
    for (let t = 0; t < dim; t++) x[i * dim + t] = centres[i % clusters]![t]! + rng.normal();
  }
  return { x, labels, n };
}

/** Central differences of f at y, step h. */
function numericalGradient(f: (y: Float64Array) => number, y: Float64Array, h = 1e-6): Float64Array {
  const g = new Float64Array(y.length);
  for (let t = 0; t < y.length; t++) {
    const plus = Float64Array.from(y), minus = Float64Array.from(y);
    plus[t]! += h;
    minus[t]! -= h;
    g[t] = (f(plus) - f(minus)) / (2 * h);
  }
  return g;
}

/** Fraction of each point's 10 nearest embedded neighbours that share its label. */
function knnPurity(y: Float64Array, labels: Int32Array, k = 10): number {
  const n = labels.length;
  const { indices } = nearestNeighbours(y, n, 2, k);
  let same = 0;
  for (let i = 0; i < n; i++) for (let t = 0; t < k; t++) if (labels[indices[i * k + t]!] === labels[i]) same++;
  return same / (n * k);
}

describe('PCA', () => {
  it('matches numpy SVD: components (sign-aligned), explained variance, projections', async () => {
    const ref = JSON.parse(readFileSync(fixture('pca', 'pca.json'), 'utf8')) as { n: number; d: number; k: number; x: number[]; mean: number[]; components: number[]; explained_variance: number[]; projected: number[] };
    const { n, d, k } = ref;
    const r = await pca(Float32Array.from(ref.x), n, d, k);
    assert.equal(r.k, k);
    assertClose(r.mean, ref.mean, { atol: 1e-5, what: 'mean' });
    assertClose(r.explainedVariance, ref.explained_variance, { rtol: 1e-4, what: 'explained variance' });
    const components = Float64Array.from(r.components);
    const projected = Float64Array.from(r.projected);
    for (let c = 0; c < k; c++) {
      let dot = 0;
      for (let j = 0; j < d; j++) dot += components[c * d + j]! * ref.components[c * d + j]!;
      if (dot < 0) {
        for (let j = 0; j < d; j++) components[c * d + j] = -components[c * d + j]!;
        for (let i = 0; i < n; i++) projected[i * k + c] = -projected[i * k + c]!;
      }
    }
    assertClose(components, ref.components, { atol: 1e-4, what: 'components' });
    assertClose(projected, ref.projected, { atol: 1e-4, rtol: 1e-4, what: 'projections' });
  });

  it('is deterministic and keeps min(k, n, d) components', async () => {
    const rng = makeRng(5);
    const x = Float32Array.from({ length: 30 * 7 }, () => rng.normal());
    const a = await pca(x, 30, 7, 50);
    const b = await pca(x, 30, 7, 50);
    assert.equal(a.k, 7);
    assert.deepEqual(a.projected, b.projected);
  });
});

describe('t-SNE', () => {
  it('calibrates each row to the perplexity asked for; P is symmetric and sums to 1', () => {
    const { x, n } = blobs(3, 40, 5, 4, 1);
    const k = 30;
    const { indices, dist2 } = nearestNeighbours(x, n, 5, k);
    const cond = conditionalProbabilities(dist2, n, k, 10);
    for (let i = 0; i < n; i++) {
      let sum = 0, entropy = 0;
      for (let t = 0; t < k; t++) {
        const v = cond[i * k + t]!;
        sum += v;
        if (v > 0) entropy -= v * Math.log(v);
      }
      assert.ok(Math.abs(sum - 1) < 1e-12 && Math.abs(Math.exp(entropy) - 10) < 1e-6, `row ${i}: Σ ${sum}, perplexity ${Math.exp(entropy)}`);
    }
    const p = affinities(indices, dist2, n, k, 10);
    const at = (i: number, j: number) => {
      for (let e = p.rowStart[i]!; e < p.rowStart[i + 1]!; e++) if (p.cols[e] === j) return p.values[e]!;
      return 0;
    };
    let sum = 0;
    for (let i = 0; i < n; i++) {
      for (let e = p.rowStart[i]!; e < p.rowStart[i + 1]!; e++) {
        sum += p.values[e]!;
        assert.equal(at(p.cols[e]!, i), p.values[e]!);
      }
    }
    assert.ok(Math.abs(sum - 1) < 1e-12, `Σ P = ${sum}`);
    // The neighbours are the exact ones: row 0's nearest by brute force.
    const d0 = Array.from({ length: n - 1 }, (_, j) => j + 1).map((j) => [x.subarray(0, 5).reduce((s2, v, t) => s2 + (v - x[j * 5 + t]!) ** 2, 0), j] as const).sort((u, v) => u[0] - v[0]);
    assert.deepEqual([...indices.subarray(0, k)], d0.slice(0, k).map(([, j]) => j));
  });

  it('exact gradient (θ = 0) equals the numerical gradient of KL(P ‖ Q)', () => {
    const { x, n } = blobs(3, 10, 6, 3, 2);
    const p = tsneAffinities(x, n, 6, 5);
    const rng = makeRng(9);
    const y = Float64Array.from({ length: 2 * n }, () => rng.normal());
    const { gradient } = klGradient(p, y, 0);
    const numeric = numericalGradient((yy) => klGradient(p, yy, 0).kl, y);
    assertClose(gradient, numeric, { atol: 1e-7, rtol: 1e-5, what: '∂KL/∂y' });
  });

  it('the exaggerated gradient is the numerical gradient of the exaggerated objective', () => {
    const { x, n } = blobs(2, 12, 4, 3, 4);
    const p = tsneAffinities(x, n, 4, 5);
    const rng = makeRng(11);
    const y = Float64Array.from({ length: 2 * n }, () => rng.normal());
    const alpha = 12;
    // α·Σ p ln(p/q) differs from KL(αP ‖ Q) by a constant; its gradient is α·attraction − repulsion.
    const objective = (yy: Float64Array) => {
      const exact = klGradient(p, yy, 0).kl;
      // KL = Σp ln p − Σp ln w + ln Z; exaggerated: α(Σp ln p − Σp ln w) + ln Z = α·KL − (α − 1)·ln Z
      let z = 0;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) z += 1 / (1 + (yy[2 * i]! - yy[2 * j]!) ** 2 + (yy[2 * i + 1]! - yy[2 * j + 1]!) ** 2);
      return alpha * exact - (alpha - 1) * Math.log(z);
    };
    const { gradient } = klGradient(p, y, 0, alpha);
    const numeric = numericalGradient(objective, y);
    assertClose(gradient, numeric, { atol: 1e-6, rtol: 1e-5, what: '∂(exaggerated)/∂y' });
  });

  it('Barnes–Hut at θ = 0.5 is close to the exact gradient and KL', () => {
    const { x, n } = blobs(5, 80, 10, 5, 3);
    const p = tsneAffinities(x, n, 10);
    const rng = makeRng(12);
    const y = Float64Array.from({ length: 2 * n }, () => 5 * rng.normal());
    const exact = klGradient(p, y, 0);
    const bh = klGradient(p, y, 0.5);
    let num = 0, den = 0;
    for (let t = 0; t < 2 * n; t++) {
      num += (bh.gradient[t]! - exact.gradient[t]!) ** 2;
      den += exact.gradient[t]! ** 2;
    }
    const rel = Math.sqrt(num / den);
    assert.ok(rel < 0.05, `relative error of the BH gradient ${rel}`);
    assert.ok(Math.abs(bh.kl - exact.kl) < 0.01 * exact.kl, `KL ${bh.kl} vs exact ${exact.kl}`);
  });

  it('well-separated Gaussian clusters stay separated (10-NN label purity)', () => {
    const { x, labels, n } = blobs(4, 100, 50, 4, 7);
    const r = tsne(x, n, 50, { seed: 1 });
    assert.equal(r.iterations, 750);
    const purity = knnPurity(r.embedding, labels);
    assert.ok(purity >= 0.99, `10-NN purity ${purity}`);
    assert.ok(r.kl > 0 && r.kl < 2, `KL ${r.kl}`);
  });

  it('a handful of points (fewer than 3·perplexity) is spread out, not collapsed: the perplexity drops to (n − 1)/3', () => {
    const { x, labels, n } = blobs(2, 4, 8, 6, 3); // 8 points, 2 clusters
    const r = tsne(x, n, 8, { seed: 2 });
    let spread = 0;
    for (const v of r.embedding) spread = Math.max(spread, Math.abs(v));
    assert.ok(spread > 1e-2, `the map spans ${spread}`);
    assert.equal(knnPurity(r.embedding, labels, 3), 1, 'each point\'s 3 nearest are its own cluster');
  });

  it('is deterministic for a seed, differs across seeds, reports progress, and stops when asked', () => {
    const { x, n } = blobs(3, 50, 20, 4, 8);
    const opts = { earlyExaggerationIterations: 40, iterations: 40, seed: 3 };
    const seen: number[] = [];
    const a = tsne(x, n, 20, opts, { onProgress: (p) => seen.push(p.iteration) });
    const b = tsne(x, n, 20, opts);
    const c = tsne(x, n, 20, { ...opts, seed: 4 });
    assert.deepEqual(a.embedding, b.embedding);
    assert.notDeepEqual(a.embedding, c.embedding);
    assert.deepEqual(seen, [25, 50, 75, 80]);
    let calls = 0;
    const stopped = tsne(x, n, 20, opts, { shouldStop: () => ++calls > 10 });
    assert.equal(stopped.cancelled, true);
    assert.equal(stopped.iterations, 10);
  });
});
