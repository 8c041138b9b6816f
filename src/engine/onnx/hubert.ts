/**
 * The HuBERT encoder up to block n, as transformers' HubertModel computes it (reference doc §3):
 *   wave [1, samples] (optionally zero-mean/unit-variance) → 7 convolutions with GELU: "group" variant
 *   (base) GroupNorm with one group per channel over the whole clip after conv 0 only; "layer" variant
 *   (large) LayerNorm over channels after every conv → [1, T, C], T = ⌊(samples − 400)/320⌋ + 1
 *   → LayerNorm(C) (when feat_proj_layer_norm) → Linear(C → d)
 *   → + GELU(weight-normalised grouped positional conv, last frame dropped for an even kernel)
 *   → base: LayerNorm, then post-LN blocks (x = LN(x + attn(x)); x = LN(x + ffn(x)))
 *     large: pre-LN blocks (x = x + attn(LN(x)); x = x + ffn(LN(x))), and "final-norm" adds encoder.layer_norm
 *   → output of block n: acts [1, T, d]. Only blocks 1..n are built.
 */
import { AudioSaeError } from '../errors.ts';
import { actsOutput, checkedLayers, type EncoderTap } from './whisper.ts';
import { GraphBuilder, f } from './graph.ts';
import { gelu, layerNorm, linear, selfAttention, type Named, type Weight } from './layers.ts';

export interface HubertEncoderConfig {
  convDim: number[];
  convKernel: number[];
  convStride: number[];
  convBias: boolean;
  featExtractNorm: 'group' | 'layer';
  featProjLayerNorm: boolean;
  stableLayerNorm: boolean;
  layerNormEps: number;
  posConvKernel: number;
  posConvGroups: number;
  dModel: number;
  heads: number;
  ffnDim: number;
  layers: number;
}

/** Frames for a clip: the receptive field of the conv stack is 400 samples, the hop 320. */
export function hubertFrames(c: Pick<HubertEncoderConfig, 'convKernel' | 'convStride'>, samples: number): number {
  let n = samples;
  for (let i = 0; i < c.convKernel.length; i++) n = Math.floor((n - c.convKernel[i]!) / c.convStride[i]!) + 1;
  return Math.max(0, n);
}

/** The fewest samples that give one frame: the conv stack's receptive field (400 for HuBERT's). */
export function hubertMinSamples(c: Pick<HubertEncoderConfig, 'convKernel' | 'convStride'>): number {
  let samples = 1;
  for (let i = c.convKernel.length - 1; i >= 0; i--) samples = (samples - 1) * c.convStride[i]! + c.convKernel[i]!;
  return samples;
}

/**
 * What in a config the graph below cannot build, or null: one conv_dim, conv_kernel and conv_stride entry per
 * conv layer (the lists zip together), every size a positive integer, and the attention heads and the
 * positional convolution's groups dividing the width. Named by their config.json keys.
 */
export function hubertConfigProblem(c: HubertEncoderConfig): string | null {
  const lists: Array<[string, number[]]> = [['conv_dim', c.convDim], ['conv_kernel', c.convKernel], ['conv_stride', c.convStride]];
  for (const [key, list] of lists) {
    if (list.length === 0) return `"${key}" is empty`;
    const bad = list.findIndex((v) => !Number.isSafeInteger(v) || v <= 0);
    if (bad >= 0) return `"${key}"[${bad}] is ${list[bad]}, not a positive integer`;
  }
  if (c.convKernel.length !== c.convDim.length || c.convStride.length !== c.convDim.length) {
    return `"conv_dim", "conv_kernel" and "conv_stride" must have one entry per conv layer; they have ${c.convDim.length}, ${c.convKernel.length} and ${c.convStride.length}`;
  }
  const sizes: Array<[string, number]> = [
    ['hidden_size', c.dModel], ['num_attention_heads', c.heads], ['intermediate_size', c.ffnDim], ['num_hidden_layers', c.layers],
    ['num_conv_pos_embeddings', c.posConvKernel], ['num_conv_pos_embedding_groups', c.posConvGroups],
  ];
  for (const [key, v] of sizes) if (!Number.isSafeInteger(v) || v <= 0) return `"${key}" is ${v}, not a positive integer`;
  if (c.dModel % c.heads !== 0) return `"num_attention_heads" (${c.heads}) does not divide "hidden_size" (${c.dModel})`;
  if (c.dModel % c.posConvGroups !== 0) return `"num_conv_pos_embedding_groups" (${c.posConvGroups}) does not divide "hidden_size" (${c.dModel})`;
  if (!(c.layerNormEps > 0) || !Number.isFinite(c.layerNormEps)) return `"layer_norm_eps" is ${c.layerNormEps}, not a positive number`;
  return null;
}

/** w = g · v / ‖v‖, the norm taken over every dimension but 2 (torch weight_norm with dim=2), in float64. */
export function weightNorm(gain: Weight, direction: Weight, shape: [number, number, number]): Weight {
  return () => weightNormNow(gain(), direction(), shape);
}

function weightNormNow(g: Float32Array, v: Float32Array, shape: [number, number, number]): Float32Array {
  const [o, i, k] = shape;
  const norms = new Float64Array(k);
  for (let a = 0; a < o * i; a++) for (let c = 0; c < k; c++) norms[c]! += v[a * k + c]! ** 2;
  const out = new Float32Array(v.length);
  for (let a = 0; a < o * i; a++) for (let c = 0; c < k; c++) out[a * k + c] = (g[c]! * v[a * k + c]!) / Math.sqrt(norms[c]!);
  return out;
}

export function buildHubertEncoderGraph(
  w: Named,
  c: HubertEncoderConfig,
  options: { layers: readonly number[]; tap: EncoderTap; normalizeInput: boolean; posConvWeight: Weight },
): GraphBuilder {
  const { tap } = options;
  const problem = hubertConfigProblem(c);
  if (problem) throw new AudioSaeError(`the HuBERT encoder config is unusable: ${problem}.`);
  const layers = checkedLayers(options.layers, c.layers, 'HuBERT');
  const deepest = layers[layers.length - 1]!;
  const g = new GraphBuilder(`hubert-encoder-l${layers.join('+')}-${tap}`);
  const d = c.dModel;
  let x = g.input('wave', 'float', [1, 'samples']);
  if (options.normalizeInput) {
    const mean = g.node('ReduceMean', [x], { axes: [1], keepdims: 1 });
    const centred = g.node('Sub', [x, mean]);
    // torch's var() is unbiased: Σ(x − mean)² / (n − 1)
    const n = g.node('Cast', [g.node('Shape', [x], { start: 1 })], { to: 1 });
    const sumSq = g.node('ReduceSum', [g.node('Mul', [centred, centred]), g.constInt64([1])], { keepdims: 1 });
    const variance = g.node('Div', [sumSq, g.node('Sub', [n, g.constFloat(1)])]);
    x = g.node('Div', [centred, g.node('Sqrt', [g.node('Add', [variance, g.constFloat(1e-7)])])]);
  }
  x = g.node('Unsqueeze', [x, g.constInt64([1])]); // [1, 1, samples]
  let channels = 1;
  for (let i = 0; i < c.convKernel.length; i++) {
    const p = `feature_extractor.conv_layers.${i}.`;
    const out = c.convDim[i]!;
    const k = c.convKernel[i]!;
    const inputs = [x, g.init(`conv${i}.weight`, { dims: [out, channels, k], data: w(`${p}conv.weight`, [out, channels, k]) })];
    if (c.convBias) inputs.push(g.init(`conv${i}.bias`, { dims: [out], data: w(`${p}conv.bias`, [out]) }));
    x = g.node('Conv', inputs, { kernel_shape: [k], strides: [c.convStride[i]!] }); // [1, out, T]
    if (c.featExtractNorm === 'group' && i === 0) {
      // GroupNorm with one group per channel = instance normalisation over the whole clip's time axis.
      x = g.node('InstanceNormalization', [x, g.init(`conv0.gn.weight`, { dims: [out], data: w(`${p}layer_norm.weight`, [out]) }),
        g.init(`conv0.gn.bias`, { dims: [out], data: w(`${p}layer_norm.bias`, [out]) })], { epsilon: f(1e-5) });
    } else if (c.featExtractNorm === 'layer') {
      const t = layerNorm(g, g.node('Transpose', [x], { perm: [0, 2, 1] }), w(`${p}layer_norm.weight`, [out]), w(`${p}layer_norm.bias`, [out]), out, 1e-5, `conv${i}.ln`);
      x = g.node('Transpose', [t], { perm: [0, 2, 1] });
    }
    x = gelu(g, x);
    channels = out;
  }
  x = g.node('Transpose', [x], { perm: [0, 2, 1] }); // [1, T, C]
  if (c.featProjLayerNorm) {
    x = layerNorm(g, x, w('feature_projection.layer_norm.weight', [channels]), w('feature_projection.layer_norm.bias', [channels]), channels, c.layerNormEps, 'proj.ln');
  }
  x = linear(g, x, w('feature_projection.projection.weight', [d, channels]), d, channels, w('feature_projection.projection.bias', [d]), 'proj');

  const K = c.posConvKernel;
  const pos = g.node('Conv', [g.node('Transpose', [x], { perm: [0, 2, 1] }),
    g.init('pos_conv.weight', { dims: [d, d / c.posConvGroups, K], data: options.posConvWeight }),
    g.init('pos_conv.bias', { dims: [d], data: w('encoder.pos_conv_embed.conv.bias', [d]) })], {
    kernel_shape: [K], pads: [Math.floor(K / 2), Math.floor(K / 2)], group: c.posConvGroups,
  }); // [1, d, T (+1 when K is even)]
  const trimmed = K % 2 === 0
    ? g.node('Slice', [pos, g.constInt64([0]), g.constInt64([-1]), g.constInt64([2])])
    : pos;
  x = g.node('Add', [x, g.node('Transpose', [gelu(g, trimmed)], { perm: [0, 2, 1] })]);

  const eps = c.layerNormEps;
  const ln = (input: string, name: string, tag: string) => layerNorm(g, input, w(`${name}.weight`, [d]), w(`${name}.bias`, [d]), d, eps, tag);
  if (!c.stableLayerNorm) x = ln(x, 'encoder.layer_norm', 'enc.ln');
  for (let i = 0; i < deepest; i++) {
    const p = `encoder.layers.${i}.`;
    const attn = (input: string) => selfAttention(g, input, {
      q: w(`${p}attention.q_proj.weight`, [d, d]), qBias: w(`${p}attention.q_proj.bias`, [d]),
      k: w(`${p}attention.k_proj.weight`, [d, d]), kBias: w(`${p}attention.k_proj.bias`, [d]),
      v: w(`${p}attention.v_proj.weight`, [d, d]), vBias: w(`${p}attention.v_proj.bias`, [d]),
      out: w(`${p}attention.out_proj.weight`, [d, d]), outBias: w(`${p}attention.out_proj.bias`, [d]),
    }, d, c.heads, `l${i}.attn`);
    const ffn = (input: string) => linear(g, gelu(g, linear(g, input, w(`${p}feed_forward.intermediate_dense.weight`, [c.ffnDim, d]), c.ffnDim, d,
      w(`${p}feed_forward.intermediate_dense.bias`, [c.ffnDim]), `l${i}.fc1`)), w(`${p}feed_forward.output_dense.weight`, [d, c.ffnDim]), d, c.ffnDim,
      w(`${p}feed_forward.output_dense.bias`, [d]), `l${i}.fc2`);
    if (c.stableLayerNorm) {
      x = g.node('Add', [x, attn(ln(x, `${p}layer_norm`, `l${i}.ln1`))]);
      x = g.node('Add', [x, ffn(ln(x, `${p}final_layer_norm`, `l${i}.ln2`))]);
    } else {
      x = ln(g.node('Add', [x, attn(x)]), `${p}layer_norm`, `l${i}.ln1`);
      x = ln(g.node('Add', [x, ffn(x)]), `${p}final_layer_norm`, `l${i}.ln2`);
    }
    const layer = i + 1;
    if (!layers.includes(layer)) continue;
    const tapped = tap === 'final-norm' && c.stableLayerNorm ? ln(x, 'encoder.layer_norm', `enc.final_ln.l${layer}`) : x;
    g.node('Identity', [tapped], {}, actsOutput(layer));
    g.output(actsOutput(layer), 'float', [1, 'frames', d]);
  }
  return g;
}
