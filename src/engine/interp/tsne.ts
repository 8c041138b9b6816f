/**
 * Barnes–Hut t-SNE (van der Maaten 2014) on rows [n, dim] (for the feature map: PCA-50 coordinates of SAE
 * encoder rows) → a 2-D embedding [n, 2]. Flat typed arrays throughout; deterministic for a seed.
 *
 * Defaults are openTSNE's `TSNE` (openTSNE/tsne.py, checked against its source):
 *   perplexity 30 on the exact k = min(n − 1, 3·perplexity) = 90 nearest neighbours (squared Euclidean, brute
 *   force), p_{j|i} ∝ exp(−β_i d²_ij) with β_i by bisection to entropy ln(perplexity), P = (P_cond + P_condᵀ)/(2n);
 *   initialisation "pca": the first two principal coordinates scaled so that column 0 has std 1e-4, plus jitter
 *   N(0, (0.01·1e-4)²) as openTSNE's `initialization.pca` adds;
 *   early_exaggeration_iter 250 with early_exaggeration 12 at learning_rate "auto" = n / 12, then n_iter 500
 *   with exaggeration 1 at learning rate n; initial_momentum 0.8 and final_momentum 0.8 (openTSNE's current
 *   defaults: the 0.5 → 0.8 schedule is scikit-learn's and older openTSNE's); theta 0.5; max_step_norm 5;
 *   delta-bar-delta gains (+0.2 on a sign flip of update vs gradient, else ×0.8 + min_gain 0.01), kept across
 *   the two phases; the embedding re-centred after every step.
 *   openTSNE's gradient is ∂KL/∂y / 4 (the factor 4 left out, learning rate n instead of scikit-learn's n/4):
 *   the optimiser here does the same; `klGradient` returns the true ∂KL/∂y.
 *   openTSNE switches to FFT interpolation above 10 000 points; this uses Barnes–Hut at every size.
 *
 * Barnes–Hut: a quadtree over the embedding each iteration (leaves of at most 4 points, summed exactly); a cell
 * of side w at distance r from the point is summarised by its centre of mass when w < θ·r. θ = 0 opens every
 * cell, which is the exact O(n²) gradient (used by the tests against a numerical gradient).
 */
import { makeRng } from './random.ts';

export interface TsneOptions {
  perplexity?: number;
  /** Iterations with exaggeration (default 250). */
  earlyExaggerationIterations?: number;
  earlyExaggeration?: number;
  /** Iterations after the early phase (default 500). */
  iterations?: number;
  theta?: number;
  initialMomentum?: number;
  finalMomentum?: number;
  maxStepNorm?: number;
  minGain?: number;
  seed?: number;
  /** A number: that learning rate in both phases; 'auto' (default): n / exaggeration in each, as openTSNE. */
  learningRate?: number | 'auto';
  /** [n, 2] starting embedding; default the first two columns of x (PCA output), rescaled as openTSNE does. */
  initial?: Float64Array;
  /** Report progress every this many iterations (default 25). */
  progressEvery?: number;
}

export interface TsneProgress {
  /** Iterations done, 0…total. */
  iteration: number;
  total: number;
  phase: 'early' | 'main';
  /** Barnes–Hut estimate of KL(P ‖ Q) of the current embedding (un-exaggerated P). */
  kl: number;
}

export interface TsneHooks {
  onProgress?: (p: TsneProgress) => void;
  /** Polled once per iteration; true stops the optimisation (the result says cancelled). */
  shouldStop?: () => boolean;
}

export interface TsneResult {
  embedding: Float64Array; // [n, 2] row-major
  kl: number;
  iterations: number;
  cancelled: boolean;
}

/** Symmetric joint probabilities P as CSR (both (i, j) and (j, i) stored); Σ P = 1. */
export interface Affinities {
  n: number;
  rowStart: Int32Array; // [n + 1]
  cols: Int32Array; // [nnz]
  values: Float64Array; // [nnz]
}

export const TSNE_DEFAULTS = {
  perplexity: 30, earlyExaggerationIterations: 250, earlyExaggeration: 12, iterations: 500, theta: 0.5,
  initialMomentum: 0.8, finalMomentum: 0.8, maxStepNorm: 5, minGain: 0.01, seed: 0, progressEvery: 25,
} as const;

/** Exact k nearest neighbours (squared Euclidean) of every row of x [n, dim], nearest first: [n, k] each. */
export function nearestNeighbours(x: Float64Array, n: number, dim: number, k: number): { indices: Int32Array; dist2: Float64Array } {
  const heapD = new Float64Array(n * k).fill(Infinity);
  const heapI = new Int32Array(n * k).fill(-1);
  // Max-heap per row: the root is the farthest of the k kept.
  const push = (row: number, d2: number, j: number) => {
    const base = row * k;
    if (d2 >= heapD[base]!) return;
    let pos = 0;
    for (;;) {
      const l = 2 * pos + 1;
      if (l >= k) break;
      const r = l + 1;
      const c = r < k && heapD[base + r]! > heapD[base + l]! ? r : l;
      if (heapD[base + c]! <= d2) break;
      heapD[base + pos] = heapD[base + c]!;
      heapI[base + pos] = heapI[base + c]!;
      pos = c;
    }
    heapD[base + pos] = d2;
    heapI[base + pos] = j;
  };
  for (let i = 0; i < n; i++) {
    const bi = i * dim;
    for (let j = i + 1; j < n; j++) {
      const bj = j * dim;
      let s = 0;
      for (let t = 0; t < dim; t++) {
        const diff = x[bi + t]! - x[bj + t]!;
        s += diff * diff;
      }
      push(i, s, j);
      push(j, s, i);
    }
  }
  // Sort each row ascending (by distance, then index, so ties are deterministic).
  const order = new Int32Array(k);
  const d2Row = new Float64Array(k), iRow = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    const base = i * k;
    for (let t = 0; t < k; t++) order[t] = t;
    const sorted = Array.from(order).sort((a, b) => heapD[base + a]! - heapD[base + b]! || heapI[base + a]! - heapI[base + b]!);
    for (let t = 0; t < k; t++) {
      d2Row[t] = heapD[base + sorted[t]!]!;
      iRow[t] = heapI[base + sorted[t]!]!;
    }
    heapD.set(d2Row, base);
    heapI.set(iRow, base);
  }
  return { indices: heapI, dist2: heapD };
}

/**
 * Conditional p_{j|i} [n, k] over each row's neighbours (squared distances dist2 [n, k]), with β_i chosen by
 * bisection so that the row's entropy is ln(perplexity) (to 1e-10).
 */
export function conditionalProbabilities(dist2: Float64Array, n: number, k: number, perplexity: number): Float64Array {
  const target = Math.log(perplexity);
  const cond = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    const base = i * k;
    const dmin = dist2[base]!; // shift: exp(−β(d − dmin)) avoids underflow, the normalised p is unchanged
    let beta = 1, lo = 0, hi = Infinity;
    for (let it = 0; it < 200; it++) {
      let sum = 0, sumDP = 0;
      for (let t = 0; t < k; t++) {
        const e = Math.exp(-beta * (dist2[base + t]! - dmin));
        cond[base + t] = e;
        sum += e;
        sumDP += e * (dist2[base + t]! - dmin);
      }
      const entropy = Math.log(sum) + (beta * sumDP) / sum;
      for (let t = 0; t < k; t++) cond[base + t]! /= sum;
      const diff = entropy - target;
      if (Math.abs(diff) < 1e-10) break;
      if (diff > 0) {
        lo = beta;
        beta = hi === Infinity ? beta * 2 : (beta + hi) / 2;
      } else {
        hi = beta;
        beta = (beta + lo) / 2;
      }
    }
  }
  return cond;
}

/** P = (P_cond + P_condᵀ) / (2n) over the neighbour graph, as CSR with sorted columns. */
export function affinities(indices: Int32Array, dist2: Float64Array, n: number, k: number, perplexity: number): Affinities {
  const cond = conditionalProbabilities(dist2, n, k, perplexity);
  // Symmetrise: every (i, j) entry and its mirror (j, i), duplicates merged by sorting each row.
  const degree = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) {
      degree[i]!++;
      degree[indices[i * k + t]!]!++;
    }
  }
  const start = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) start[i + 1] = start[i]! + degree[i]!;
  const rawCols = new Int32Array(start[n]!), rawVals = new Float64Array(start[n]!);
  const fill = start.slice(0, n);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) {
      const j = indices[i * k + t]!;
      const p = cond[i * k + t]! / (2 * n);
      rawCols[fill[i]!] = j;
      rawVals[fill[i]!++] = p;
      rawCols[fill[j]!] = i;
      rawVals[fill[j]!++] = p;
    }
  }
  const rowStart = new Int32Array(n + 1);
  const cols: number[] = [], vals: number[] = [];
  for (let i = 0; i < n; i++) {
    const idx = Array.from({ length: start[i + 1]! - start[i]! }, (_, t) => start[i]! + t).sort((a, b) => rawCols[a]! - rawCols[b]!);
    for (const at of idx) {
      if (cols.length > rowStart[i]! && cols[cols.length - 1] === rawCols[at]) vals[vals.length - 1]! += rawVals[at]!;
      else {
        cols.push(rawCols[at]!);
        vals.push(rawVals[at]!);
      }
    }
    rowStart[i + 1] = cols.length;
  }
  return { n, rowStart, cols: Int32Array.from(cols), values: Float64Array.from(vals) };
}

/** Enough for a traversal: each of at most 49 levels leaves three siblings pending. */
const STACK_SIZE = 256;

/** The quadtree over an embedding, rebuilt each iteration into preallocated, growable flat arrays. */
class QuadTree {
  private cap = 0;
  comX = new Float64Array(0);
  comY = new Float64Array(0);
  count = new Int32Array(0);
  width = new Float64Array(0); // full side length of the cell
  firstChild = new Int32Array(0); // −1 for a leaf; else four consecutive children
  lo = new Int32Array(0); // a leaf's points: perm[lo, hi)
  hi = new Int32Array(0);
  nodes = 0;
  perm: Int32Array;
  private scratch: Int32Array;

  constructor(private readonly n: number) {
    this.perm = new Int32Array(n);
    this.scratch = new Int32Array(n);
    this.grow(Math.max(16, 2 * n));
  }

  private grow(cap: number): void {
    const copy = <T extends Float64Array | Int32Array>(a: T, make: (c: number) => T): T => {
      const b = make(cap);
      b.set(a.subarray(0, this.nodes));
      return b;
    };
    this.comX = copy(this.comX, (c) => new Float64Array(c));
    this.comY = copy(this.comY, (c) => new Float64Array(c));
    this.width = copy(this.width, (c) => new Float64Array(c));
    this.count = copy(this.count, (c) => new Int32Array(c));
    this.firstChild = copy(this.firstChild, (c) => new Int32Array(c));
    this.lo = copy(this.lo, (c) => new Int32Array(c));
    this.hi = copy(this.hi, (c) => new Int32Array(c));
    this.cap = cap;
  }

  build(y: Float64Array): void {
    const n = this.n;
    let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
    for (let i = 0; i < n; i++) {
      const px = y[2 * i]!, py = y[2 * i + 1]!;
      if (px < minX) minX = px;
      if (px > maxX) maxX = px;
      if (py < minY) minY = py;
      if (py > maxY) maxY = py;
    }
    const side = Math.max(maxX - minX, maxY - minY, 1e-12) * (1 + 1e-9);
    for (let i = 0; i < n; i++) this.perm[i] = i;
    this.nodes = 1;
    this.fill(0, y, 0, n, (minX + maxX) / 2, (minY + maxY) / 2, side, 0);
  }

  private fill(node: number, y: Float64Array, lo: number, hi: number, cx: number, cy: number, side: number, depth: number): void {
    const perm = this.perm;
    let sx = 0, sy = 0;
    for (let t = lo; t < hi; t++) {
      sx += y[2 * perm[t]!]!;
      sy += y[2 * perm[t]! + 1]!;
    }
    const m = hi - lo;
    this.count[node] = m;
    this.comX[node] = m > 0 ? sx / m : cx;
    this.comY[node] = m > 0 ? sy / m : cy;
    this.width[node] = side;
    this.lo[node] = lo;
    this.hi[node] = hi;
    if (m <= 4 || depth >= 48) {
      this.firstChild[node] = -1;
      return;
    }
    // Partition perm[lo, hi) into the four quadrants (counting sort through the scratch buffer).
    const counts = [0, 0, 0, 0];
    const quad = (i: number) => (y[2 * i]! >= cx ? 1 : 0) + (y[2 * i + 1]! >= cy ? 2 : 0);
    for (let t = lo; t < hi; t++) counts[quad(perm[t]!)]!++;
    const offs = [lo, lo + counts[0]!, lo + counts[0]! + counts[1]!, lo + counts[0]! + counts[1]! + counts[2]!];
    const bounds = [...offs, hi];
    for (let t = lo; t < hi; t++) this.scratch[offs[quad(perm[t]!)]!++] = perm[t]!;
    perm.set(this.scratch.subarray(lo, hi), lo);
    if (this.nodes + 4 > this.cap) this.grow(2 * this.cap);
    const first = this.nodes;
    this.nodes += 4;
    this.firstChild[node] = first;
    const h = side / 4;
    for (let q = 0; q < 4; q++) {
      this.fill(first + q, y, bounds[q]!, bounds[q + 1]!, cx + (q & 1 ? h : -h), cy + (q & 2 ? h : -h), side / 2, depth + 1);
    }
  }
}

/**
 * The repulsive forces: rep_i = Σ_{j≠i} w_ij² (y_i − y_j) with w = 1 / (1 + ‖y_i − y_j‖²), approximated by
 * Barnes–Hut with θ, into rep [n, 2]; returns Z = Σ_{i≠j} w_ij.
 */
function repulsion(tree: QuadTree, y: Float64Array, n: number, theta: number, rep: Float64Array, stack: Int32Array): number {
  tree.build(y);
  const { comX, comY, count, width, firstChild, lo, hi, perm } = tree;
  const theta2 = theta * theta;
  let z = 0;
  for (let i = 0; i < n; i++) {
    const yx = y[2 * i]!, yy = y[2 * i + 1]!;
    let fx = 0, fy = 0;
    let top = 0;
    stack[top++] = 0;
    while (top > 0) {
      const node = stack[--top]!;
      const m = count[node]!;
      if (m === 0) continue;
      const dx = yx - comX[node]!, dy = yy - comY[node]!;
      const d2 = dx * dx + dy * dy;
      const wd = width[node]!;
      if (wd * wd < theta2 * d2) {
        const w = 1 / (1 + d2);
        z += m * w;
        const mw2 = m * w * w;
        fx += mw2 * dx;
        fy += mw2 * dy;
      } else if (firstChild[node] === -1) {
        for (let t = lo[node]!; t < hi[node]!; t++) {
          const j = perm[t]!;
          if (j === i) continue;
          const ex = yx - y[2 * j]!, ey = yy - y[2 * j + 1]!;
          const w = 1 / (1 + ex * ex + ey * ey);
          z += w;
          fx += w * w * ex;
          fy += w * w * ey;
        }
      } else {
        const c = firstChild[node]!;
        stack[top++] = c;
        stack[top++] = c + 1;
        stack[top++] = c + 2;
        stack[top++] = c + 3;
      }
    }
    rep[2 * i] = fx;
    rep[2 * i + 1] = fy;
  }
  return z;
}

/**
 * The attractive forces exaggeration · Σ_j p_ij w_ij (y_i − y_j) into attr [n, 2]; returns Σ p_ij ln w_ij
 * (for the KL divergence) when `withLog`.
 */
function attraction(p: Affinities, y: Float64Array, exaggeration: number, attr: Float64Array, withLog: boolean): number {
  const { rowStart, cols, values, n } = p;
  let sumPLogW = 0;
  for (let i = 0; i < n; i++) {
    const yx = y[2 * i]!, yy = y[2 * i + 1]!;
    let fx = 0, fy = 0;
    for (let e = rowStart[i]!; e < rowStart[i + 1]!; e++) {
      const j = cols[e]!;
      const dx = yx - y[2 * j]!, dy = yy - y[2 * j + 1]!;
      const w = 1 / (1 + dx * dx + dy * dy);
      const pw = values[e]! * w;
      fx += pw * dx;
      fy += pw * dy;
      if (withLog) sumPLogW += values[e]! * Math.log(w);
    }
    attr[2 * i] = exaggeration * fx;
    attr[2 * i + 1] = exaggeration * fy;
  }
  return sumPLogW;
}

/** Σ p ln p over the stored entries. */
function entropyTerm(p: Affinities): number {
  let s = 0;
  for (const v of p.values) if (v > 0) s += v * Math.log(v);
  return s;
}

/**
 * The true gradient ∂KL(P ‖ Q)/∂y [n, 2] (with exaggeration multiplying P, 1 for the plain objective) and the
 * KL divergence of the un-exaggerated P, with repulsion by Barnes–Hut at θ (θ = 0: exact).
 */
export function klGradient(p: Affinities, y: Float64Array, theta: number, exaggeration = 1): { gradient: Float64Array; kl: number } {
  const n = p.n;
  const attr = new Float64Array(2 * n), rep = new Float64Array(2 * n);
  const z = repulsion(new QuadTree(n), y, n, theta, rep, new Int32Array(STACK_SIZE));
  const sumPLogW = attraction(p, y, exaggeration, attr, true);
  const gradient = new Float64Array(2 * n);
  for (let t = 0; t < 2 * n; t++) gradient[t] = 4 * (attr[t]! - rep[t]! / z);
  return { gradient, kl: entropyTerm(p) - sumPLogW + Math.log(z) };
}

/** The PCA initialisation: the first two columns of x, scaled so that column 0 has std 1e-4, plus jitter. */
function initialEmbedding(x: Float64Array, n: number, dim: number, seed: number, given?: Float64Array): Float64Array {
  const y = new Float64Array(2 * n);
  if (given) {
    if (given.length !== 2 * n) throw new Error(`tsne: the initial embedding has ${given.length} values, not ${n} × 2`);
    y.set(given);
  } else {
    for (let i = 0; i < n; i++) {
      y[2 * i] = x[i * dim]!;
      y[2 * i + 1] = dim > 1 ? x[i * dim + 1]! : 0;
    }
  }
  let mean = 0;
  for (let i = 0; i < n; i++) mean += y[2 * i]!;
  mean /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (y[2 * i]! - mean) ** 2;
  const std = Math.sqrt(v / n);
  const scale = std > 0 ? 1e-4 / std : 1;
  const rng = makeRng(seed);
  const jitter = 1e-4 * 0.01;
  for (let t = 0; t < 2 * n; t++) y[t] = y[t]! * scale + jitter * rng.normal();
  return y;
}

/** Everything t-SNE needs before the optimisation: neighbours, P. */
export function tsneAffinities(x: Float64Array, n: number, dim: number, perplexity: number = TSNE_DEFAULTS.perplexity): Affinities {
  if (n < 2) return { n, rowStart: new Int32Array(n + 1), cols: new Int32Array(0), values: new Float64Array(0) };
  // Fewer than 3·perplexity + 1 points: the perplexity drops to (n − 1)/3, as openTSNE does. At perplexity n − 1
  // every row of P would be uniform, and the exact optimum of KL for a uniform P is every point in one place.
  const effective = Math.min(perplexity, Math.max(1, (n - 1) / 3));
  const k = Math.min(n - 1, Math.floor(3 * effective));
  const { indices, dist2 } = nearestNeighbours(x, n, dim, k);
  return affinities(indices, dist2, n, k, Math.min(effective, k));
}

/** t-SNE of rows x [n, dim] (see the module comment for the defaults). */
export function tsne(x: Float64Array, n: number, dim: number, opts: TsneOptions = {}, hooks: TsneHooks = {}): TsneResult {
  const o = { ...TSNE_DEFAULTS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) } as typeof TSNE_DEFAULTS & TsneOptions;
  if (x.length !== n * dim) throw new Error(`tsne: ${x.length} values are not ${n} rows × ${dim}`);
  const y = initialEmbedding(x, n, dim, o.seed, o.initial);
  if (n < 2) return { embedding: y.fill(0), kl: 0, iterations: 0, cancelled: false };
  const p = tsneAffinities(x, n, dim, o.perplexity);
  const pLogP = entropyTerm(p);
  const total = o.earlyExaggerationIterations + o.iterations;
  const update = new Float64Array(2 * n);
  const gains = new Float64Array(2 * n).fill(1);
  const attr = new Float64Array(2 * n), rep = new Float64Array(2 * n);
  const tree = new QuadTree(n);
  const stack = new Int32Array(STACK_SIZE);
  let kl = Number.NaN;
  let done = 0;
  let cancelled = false;
  for (let it = 0; it < total; it++) {
    if (hooks.shouldStop?.()) {
      cancelled = true;
      break;
    }
    const early = it < o.earlyExaggerationIterations;
    const exaggeration = early ? o.earlyExaggeration : 1;
    const learningRate = typeof o.learningRate === 'number' ? o.learningRate : n / exaggeration;
    const momentum = early ? o.initialMomentum : o.finalMomentum;
    const report = hooks.onProgress !== undefined && ((it + 1) % o.progressEvery === 0 || it + 1 === total);
    const z = repulsion(tree, y, n, o.theta, rep, stack);
    const sumPLogW = attraction(p, y, exaggeration, attr, report);
    if (report) kl = pLogP - sumPLogW + Math.log(z);
    let mx = 0, my = 0;
    for (let i = 0; i < n; i++) {
      let sx = 0, sy = 0;
      for (let c = 0; c < 2; c++) {
        const t = 2 * i + c;
        const g = attr[t]! - rep[t]! / z; // openTSNE's scale: ∂KL/∂y / 4
        const flipped = Math.sign(update[t]!) !== Math.sign(g);
        gains[t] = flipped ? gains[t]! + 0.2 : gains[t]! * 0.8 + o.minGain;
        update[t] = momentum * update[t]! - learningRate * gains[t]! * g;
        if (c === 0) sx = update[t]!;
        else sy = update[t]!;
      }
      const norm = Math.sqrt(sx * sx + sy * sy);
      if (norm > o.maxStepNorm) {
        update[2 * i]! *= o.maxStepNorm / norm;
        update[2 * i + 1]! *= o.maxStepNorm / norm;
      }
      y[2 * i]! += update[2 * i]!;
      y[2 * i + 1]! += update[2 * i + 1]!;
      mx += y[2 * i]!;
      my += y[2 * i + 1]!;
    }
    mx /= n;
    my /= n;
    for (let i = 0; i < n; i++) {
      y[2 * i]! -= mx;
      y[2 * i + 1]! -= my;
    }
    done = it + 1;
    if (report) hooks.onProgress!({ iteration: done, total, phase: early ? 'early' : 'main', kl });
  }
  const final = klGradient(p, y, o.theta);
  return { embedding: y, kl: final.kl, iterations: done, cancelled };
}
