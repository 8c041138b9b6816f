/**
 * Loads a HuBERT encoder from a Hugging Face model folder, driven by its config.json; accepts both
 * weight-norm namings of the positional convolution and an optional "hubert." key prefix (CTC heads).
 */
import { join } from 'node:path';
import { AudioSaeError } from '../errors.ts';
import { weightNorm, type HubertEncoderConfig } from '../onnx/hubert.ts';
import type { Named, Weight } from '../onnx/layers.ts';
import { configInt, loadHfWeights, namedWeights, readJson } from './hfWeights.ts';

export async function loadHubertEncoder(folder: string): Promise<{ config: HubertEncoderConfig; weights: Named; posConvWeight: Weight }> {
  const configPath = join(folder, 'config.json');
  const raw = await readJson(configPath);
  const ints = (key: string): number[] => {
    const v = raw[key];
    if (!Array.isArray(v) || !v.every((n) => Number.isInteger(n) && n > 0)) throw new AudioSaeError(`has no valid "${key}" list.`, configPath);
    return v as number[];
  };
  const norm = raw.feat_extract_norm;
  if (norm !== 'group' && norm !== 'layer') throw new AudioSaeError(`has feat_extract_norm "${String(norm)}"; expected "group" or "layer".`, configPath);
  if (raw.hidden_act !== undefined && raw.hidden_act !== 'gelu') throw new AudioSaeError(`uses hidden_act "${String(raw.hidden_act)}"; only "gelu" is supported.`, configPath);
  const config: HubertEncoderConfig = {
    convDim: ints('conv_dim'), convKernel: ints('conv_kernel'), convStride: ints('conv_stride'),
    convBias: raw.conv_bias === true,
    featExtractNorm: norm,
    featProjLayerNorm: raw.feat_proj_layer_norm !== false,
    stableLayerNorm: raw.do_stable_layer_norm === true,
    layerNormEps: typeof raw.layer_norm_eps === 'number' ? raw.layer_norm_eps : 1e-5,
    posConvKernel: configInt(raw, 'num_conv_pos_embeddings', configPath),
    posConvGroups: configInt(raw, 'num_conv_pos_embedding_groups', configPath),
    dModel: configInt(raw, 'hidden_size', configPath),
    heads: configInt(raw, 'num_attention_heads', configPath),
    ffnDim: configInt(raw, 'intermediate_size', configPath),
    layers: configInt(raw, 'num_hidden_layers', configPath),
  };
  const dict = await loadHfWeights(folder, (k) => !k.endsWith('masked_spec_embed') && !k.startsWith('lm_head') && !k.startsWith('hubert.masked_spec_embed'));
  const prefix = [...dict.keys()].some((k) => k.startsWith('hubert.')) ? 'hubert.' : '';
  const weights = namedWeights(dict, folder, prefix);
  const d = config.dModel;
  const shape: [number, number, number] = [d, d / config.posConvGroups, config.posConvKernel];
  const has = (k: string) => dict.has(prefix + k);
  const [gName, vName] = has('encoder.pos_conv_embed.conv.weight_g')
    ? ['encoder.pos_conv_embed.conv.weight_g', 'encoder.pos_conv_embed.conv.weight_v']
    : ['encoder.pos_conv_embed.conv.parametrizations.weight.original0', 'encoder.pos_conv_embed.conv.parametrizations.weight.original1'];
  const posConvWeight = weightNorm(weights(gName, [1, 1, shape[2]]), weights(vName, shape), shape);
  return { config, weights, posConvWeight };
}
