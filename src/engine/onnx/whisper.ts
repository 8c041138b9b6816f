/**
 * The Whisper audio encoder up to block n, as openai-whisper's AudioEncoder computes it (reference doc §3):
 *   mel [B, n_mels, 3000] → conv1 (k 3, pad 1) → GELU → conv2 (k 3, stride 2, pad 1) → GELU → [B, 1500, d]
 *   → + stored positional embedding → blocks x = x + attn(ln1(x)); x = x + mlp(ln2(x))  (key without bias)
 *   → for each requested block n, its output ("block", the default tap) or ln_post of it ("final-norm"),
 *     as the graph output `acts_<n>`.
 * Only blocks up to the deepest requested one are built, so several layers cost one pass. Weights in Hugging
 * Face names (`model.encoder.…`).
 */
import { AudioSaeError } from '../errors.ts';
import { GraphBuilder } from './graph.ts';
import { gelu, layerNorm, linear, selfAttention, type Named } from './layers.ts';

export interface WhisperEncoderConfig {
  dModel: number;
  layers: number;
  heads: number;
  ffnDim: number;
  melBins: number;
  positions: number; // max_source_positions, 1500
}

export type EncoderTap = 'block' | 'final-norm';

/** The graph output holding block n's activations ([batch, frames, d]). */
export function actsOutput(layer: number): string {
  return `acts_${layer}`;
}

/** The requested layers, checked against the encoder's, ascending and each once. */
export function checkedLayers(layers: readonly number[], available: number, family: string): number[] {
  if (layers.length === 0) throw new AudioSaeError(`no layer was requested from this ${family} encoder.`);
  for (const layer of layers) {
    if (!Number.isInteger(layer) || layer < 1 || layer > available) {
      throw new AudioSaeError(`layer ${layer} does not exist: this ${family} encoder has layers 1 to ${available}.`);
    }
  }
  return [...new Set(layers)].sort((a, b) => a - b);
}

/**
 * What in a config the graph below cannot build, or null: every size a positive integer, and the attention
 * heads dividing the width (each head is d_model / heads wide). Named by their config.json keys.
 */
export function whisperConfigProblem(c: WhisperEncoderConfig): string | null {
  const sizes: Array<[string, number]> = [
    ['d_model', c.dModel], ['encoder_layers', c.layers], ['encoder_attention_heads', c.heads], ['encoder_ffn_dim', c.ffnDim],
    ['num_mel_bins', c.melBins], ['max_source_positions', c.positions],
  ];
  for (const [key, v] of sizes) if (!Number.isSafeInteger(v) || v <= 0) return `"${key}" is ${v}, not a positive integer`;
  if (c.dModel % c.heads !== 0) return `"encoder_attention_heads" (${c.heads}) does not divide "d_model" (${c.dModel})`;
  return null;
}

const LN_EPS = 1e-5;

export function buildWhisperEncoderGraph(w: Named, c: WhisperEncoderConfig, options: { layers: readonly number[]; tap: EncoderTap }): GraphBuilder {
  const { tap } = options;
  const problem = whisperConfigProblem(c);
  if (problem) throw new AudioSaeError(`the Whisper encoder config is unusable: ${problem}.`);
  const layers = checkedLayers(options.layers, c.layers, 'Whisper');
  const deepest = layers[layers.length - 1]!;
  const { dModel: d, melBins, positions } = c;
  const g = new GraphBuilder(`whisper-encoder-l${layers.join('+')}-${tap}`);
  const mel = g.input('mel', 'float', ['batch', melBins, 2 * positions]);
  const conv = (x: string, name: string, inCh: number, stride: number) =>
    gelu(g, g.node('Conv', [x, g.init(`${name}.weight`, { dims: [d, inCh, 3], data: w(`model.encoder.${name}.weight`, [d, inCh, 3]) }),
      g.init(`${name}.bias`, { dims: [d], data: w(`model.encoder.${name}.bias`, [d]) })], { kernel_shape: [3], pads: [1, 1], strides: [stride] }));
  const h = conv(conv(mel, 'conv1', melBins, 1), 'conv2', d, 2); // [B, d, 1500]
  let x = g.node('Add', [g.node('Transpose', [h], { perm: [0, 2, 1] }),
    g.init('embed_positions', { dims: [positions, d], data: w('model.encoder.embed_positions.weight', [positions, d]) })]);

  for (let i = 0; i < deepest; i++) {
    const p = `model.encoder.layers.${i}.`;
    const ln1 = layerNorm(g, x, w(`${p}self_attn_layer_norm.weight`, [d]), w(`${p}self_attn_layer_norm.bias`, [d]), d, LN_EPS, `l${i}.ln1`);
    const attn = selfAttention(g, ln1, {
      q: w(`${p}self_attn.q_proj.weight`, [d, d]), qBias: w(`${p}self_attn.q_proj.bias`, [d]),
      k: w(`${p}self_attn.k_proj.weight`, [d, d]),
      v: w(`${p}self_attn.v_proj.weight`, [d, d]), vBias: w(`${p}self_attn.v_proj.bias`, [d]),
      out: w(`${p}self_attn.out_proj.weight`, [d, d]), outBias: w(`${p}self_attn.out_proj.bias`, [d]),
    }, d, c.heads, `l${i}.attn`);
    x = g.node('Add', [x, attn]);
    const ln2 = layerNorm(g, x, w(`${p}final_layer_norm.weight`, [d]), w(`${p}final_layer_norm.bias`, [d]), d, LN_EPS, `l${i}.ln2`);
    const hidden = gelu(g, linear(g, ln2, w(`${p}fc1.weight`, [c.ffnDim, d]), c.ffnDim, d, w(`${p}fc1.bias`, [c.ffnDim]), `l${i}.fc1`));
    x = g.node('Add', [x, linear(g, hidden, w(`${p}fc2.weight`, [d, c.ffnDim]), d, c.ffnDim, w(`${p}fc2.bias`, [d]), `l${i}.fc2`)]);
    const layer = i + 1;
    if (!layers.includes(layer)) continue;
    const tapped = tap === 'final-norm' ? layerNorm(g, x, w('model.encoder.layer_norm.weight', [d]), w('model.encoder.layer_norm.bias', [d]), d, LN_EPS, `ln_post.l${layer}`) : x;
    g.node('Identity', [tapped], {}, actsOutput(layer));
    g.output(actsOutput(layer), 'float', ['batch', positions, d]);
  }
  return g;
}
