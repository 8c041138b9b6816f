/**
 * The SAE as one ONNX model: activations x [n, d] in, codes f [n, F] and reconstruction x̂ [n, d] out.
 *
 *   pre  = (x − b_dec) · Wencᵀ + b_enc          (Gemm with transB: no weight copy)
 *   post = relu(pre)
 *   threshold mode:   f = post where post > θ (strict), else 0
 *   batch top-k mode: f = the k·n largest entries of post over the whole [n, F] block, the rest 0
 *                     (TopK over the flattened block, then scattered back: ties are broken by TopK's order,
 *                     as torch.topk does in the reference trainer; the input `k_total` carries k·n)
 *   x̂    = f · Wdecᵀ + b_dec
 *
 * It also returns each frame's active features, largest first: TopK over F with K = the largest number of
 * active features in any frame (`top_values`, `top_indices`, [n, K]; rows with fewer actives end in zeros), so
 * the sparse codes never need a scan of the dense [n, F] block in JavaScript.
 */
import { GraphBuilder } from '../onnx/graph.ts';
import type { Sae } from './sae.ts';

export type SaeMode = 'threshold' | 'batch-topk';

export function buildSaeGraph(sae: Sae, mode: SaeMode): GraphBuilder {
  const g = new GraphBuilder(`sae-${mode}`);
  const { dModel: d, dictSize: F } = sae;
  const x = g.input('x', 'float', ['frames', d]);
  const encW = g.init('encoder_weight', { dims: [F, d], data: sae.encoderWeight });
  const encB = g.init('encoder_bias', { dims: [F], data: sae.encoderBias });
  const decW = g.init('decoder_weight', { dims: [d, F], data: sae.decoderWeight });
  const bDec = g.init('b_dec', { dims: [d], data: sae.bDec });

  const centred = g.node('Sub', [x, bDec]);
  const pre = g.node('Gemm', [centred, encW, encB], { transB: 1 });

  let codes: string;
  let active: string; // [frames, F] float 0/1: the support
  if (mode === 'threshold') {
    // With θ ≥ 0, pre > θ implies pre > 0, so relu is implied; one 0/1 mask gives both the codes (a Mul is
    // measured several times faster than Where here) and the per-frame counts.
    active = g.node('Cast', [g.node('Greater', [pre, g.constFloat(sae.threshold ?? 0)])], { to: 1 });
    codes = g.node('Mul', [pre, active], {}, 'codes');
  } else {
    const post = g.node('Relu', [pre]);
    const kTotal = g.input('k_total', 'int64', [1]);
    const flat = g.node('Reshape', [post, g.constInt64([-1])]);
    const [values, indices] = g.nodeMulti('TopK', [flat, kTotal], 2, { axis: 0, largest: 1, sorted: 0 });
    const zeros = g.node('Mul', [flat, g.constFloat(0)]);
    const scattered = g.node('ScatterElements', [zeros, indices!, values!], { axis: 0 });
    codes = g.node('Reshape', [scattered, g.node('Shape', [post])], {}, 'codes');
    active = g.node('Cast', [g.node('Greater', [codes, g.constFloat(0)])], { to: 1 });
  }
  g.node('Gemm', [codes, decW, bDec], { transB: 1 }, 'recon');

  const activePerFrame = g.node('ReduceSum', [active, g.constInt64([1])], { keepdims: 0 });
  const maxActive = g.node('Max', [g.node('ReduceMax', [activePerFrame], { keepdims: 1 }), g.constFloat([1])]);
  const topK = g.node('Cast', [maxActive], { to: 7 }); // int64 [1]
  g.nodeMulti('TopK', [codes, topK], 2, { axis: 1, largest: 1, sorted: 1 }, ['top_values', 'top_indices']);
  g.output('codes', 'float', ['frames', F]);
  g.output('recon', 'float', ['frames', d]);
  g.output('top_values', 'float', ['frames', 'maxActive']);
  g.output('top_indices', 'int64', ['frames', 'maxActive']);
  return g;
}
