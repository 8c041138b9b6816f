/**
 * Transformer building blocks for encoder graphs, on activations shaped [batch, time, channels]:
 * Linear (PyTorch [out, in] weights), LayerNorm, exact-erf GELU and multi-head self-attention.
 * Weights are float32 row-major as read from checkpoints, passed as thunks so they are read when written out.
 */
import { GraphBuilder, f } from './graph.ts';

/** A weight whose float32 data is read (or computed) only when the model is serialised. */
export type Weight = () => Float32Array;

export interface Named {
  /**
   * A named weight of the given shape. Missing names and wrong shapes throw at once, with the file named;
   * the data itself is read later, when the graph is written out (see TensorData in graph.ts).
   */
  (name: string, shape: number[]): Weight;
}

/** y = x · Wᵀ + b with W [out, in] (transposed once here so the graph multiplies without copies). */
export function linear(g: GraphBuilder, x: string, weight: Weight, outDim: number, inDim: number, bias?: Weight, name = g.fresh('linear')): string {
  const transposed = () => {
    const w = weight();
    const wt = new Float32Array(inDim * outDim);
    for (let o = 0; o < outDim; o++) for (let i = 0; i < inDim; i++) wt[i * outDim + o] = w[o * inDim + i]!;
    return wt;
  };
  const y = g.node('MatMul', [x, g.init(`${name}.weight_t`, { dims: [inDim, outDim], data: transposed })]);
  return bias ? g.node('Add', [y, g.init(`${name}.bias`, { dims: [outDim], data: bias })]) : y;
}

/** LayerNorm over the last axis. */
export function layerNorm(g: GraphBuilder, x: string, weight: Weight, bias: Weight, d: number, eps: number, name = g.fresh('ln')): string {
  return g.node('LayerNormalization', [x, g.init(`${name}.weight`, { dims: [d], data: weight }), g.init(`${name}.bias`, { dims: [d], data: bias })], {
    axis: -1,
    epsilon: f(eps),
  });
}

/** GELU with the exact error function: 0.5 · x · (1 + erf(x / √2)). */
export function gelu(g: GraphBuilder, x: string): string {
  const erf = g.node('Erf', [g.node('Mul', [x, g.constFloat(Math.SQRT1_2)])]);
  return g.node('Mul', [g.node('Mul', [x, g.constFloat(0.5)]), g.node('Add', [erf, g.constFloat(1)])]);
}

export interface AttentionWeights {
  q: Weight; qBias?: Weight;
  k: Weight; kBias?: Weight;
  v: Weight; vBias?: Weight;
  out: Weight; outBias?: Weight;
}

/** Multi-head self-attention without mask: softmax(q·kᵀ / √dₕ) · v, heads concatenated, output projection. */
export function selfAttention(g: GraphBuilder, x: string, w: AttentionWeights, dModel: number, heads: number, name = g.fresh('attn')): string {
  const dh = dModel / heads;
  const split = (t: string, perm: number[]) => g.node('Transpose', [g.node('Reshape', [t, g.constInt64([0, 0, heads, dh])])], { perm });
  const q = split(linear(g, x, w.q, dModel, dModel, w.qBias, `${name}.q`), [0, 2, 1, 3]); // [B, h, T, dh]
  const kT = split(linear(g, x, w.k, dModel, dModel, w.kBias, `${name}.k`), [0, 2, 3, 1]); // [B, h, dh, T]
  const v = split(linear(g, x, w.v, dModel, dModel, w.vBias, `${name}.v`), [0, 2, 1, 3]);
  const scores = g.node('Mul', [g.node('MatMul', [q, kT]), g.constFloat(1 / Math.sqrt(dh))]);
  const attended = g.node('MatMul', [g.node('Softmax', [scores], { axis: -1 }), v]); // [B, h, T, dh]
  const merged = g.node('Reshape', [g.node('Transpose', [attended], { perm: [0, 2, 1, 3] }), g.constInt64([0, 0, dModel])]);
  return linear(g, merged, w.out, dModel, dModel, w.outBias, `${name}.out`);
}
