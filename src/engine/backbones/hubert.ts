/**
 * Loads a HuBERT encoder from a Hugging Face model folder, driven by its config.json; accepts both
 * weight-norm namings of the positional convolution and an optional "hubert." key prefix (CTC heads).
 *
 * The config is checked before anything else: types of every key read, one conv_dim/conv_kernel/conv_stride
 * entry per conv layer, heads and positional-conv groups dividing hidden_size, and a conv stack whose hop is
 * the 320 samples (20 ms) AudioSAE's time axis assumes. Then every tensor the deepest graph reads is checked by
 * name and shape (no data is read), and the weights may hold no conv or transformer layers the config lacks.
 */
import { join } from 'node:path';
import { SAMPLES_PER_MODEL_FRAME } from '../audio/constants.ts';
import { AudioSaeError } from '../errors.ts';
import { buildHubertEncoderGraph, hubertConfigProblem, weightNorm, type HubertEncoderConfig } from '../onnx/hubert.ts';
import type { Named, Weight } from '../onnx/layers.ts';
import { configBool, configChoice, configInt, configIntList, configPositive, configValue } from './config.ts';
import { loadHfWeights, namedWeights, readJson } from './hfWeights.ts';

export async function loadHubertEncoder(folder: string): Promise<{ config: HubertEncoderConfig; weights: Named; posConvWeight: Weight }> {
  const configPath = join(folder, 'config.json');
  const raw = await readJson(configPath);
  if (configValue(raw, 'hidden_act') !== undefined) configChoice(raw, 'hidden_act', configPath, ['gelu']);
  const config: HubertEncoderConfig = {
    convDim: configIntList(raw, 'conv_dim', configPath),
    convKernel: configIntList(raw, 'conv_kernel', configPath),
    convStride: configIntList(raw, 'conv_stride', configPath),
    convBias: configBool(raw, 'conv_bias', configPath, false),
    featExtractNorm: configChoice(raw, 'feat_extract_norm', configPath, ['group', 'layer'] as const),
    featProjLayerNorm: configBool(raw, 'feat_proj_layer_norm', configPath, true),
    stableLayerNorm: configBool(raw, 'do_stable_layer_norm', configPath, false),
    layerNormEps: configPositive(raw, 'layer_norm_eps', configPath, 1e-5),
    posConvKernel: configInt(raw, 'num_conv_pos_embeddings', configPath),
    posConvGroups: configInt(raw, 'num_conv_pos_embedding_groups', configPath),
    dModel: configInt(raw, 'hidden_size', configPath),
    heads: configInt(raw, 'num_attention_heads', configPath),
    ffnDim: configInt(raw, 'intermediate_size', configPath),
    layers: configInt(raw, 'num_hidden_layers', configPath),
  };
  const problem = hubertConfigProblem(config);
  if (problem) throw new AudioSaeError(`${problem}.`, configPath);
  const hop = config.convStride.reduce((a, s) => a * s, 1);
  if (hop !== SAMPLES_PER_MODEL_FRAME) {
    throw new AudioSaeError(
      `has "conv_stride" [${config.convStride.join(', ')}], a hop of ${hop} samples per frame; AudioSAE's time axis needs ${SAMPLES_PER_MODEL_FRAME} (50 frames per second at 16 kHz).`,
      configPath,
    );
  }

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
  // A dry build of the deepest graph asks for every tensor by name and shape; nothing is read or serialised.
  buildHubertEncoderGraph(weights, config, { layers: [config.layers], tap: 'final-norm', normalizeInput: false, posConvWeight });
  const check = 'Check that config.json belongs to these weights.';
  if (has(`feature_extractor.conv_layers.${config.convDim.length}.conv.weight`)) {
    throw new AudioSaeError(`holds more conv layers than the ${config.convDim.length} that "conv_dim", "conv_kernel" and "conv_stride" in config.json list.`, folder, check);
  }
  if (has(`encoder.layers.${config.layers}.attention.q_proj.weight`)) {
    throw new AudioSaeError(`holds more transformer layers than "num_hidden_layers" (${config.layers}) in config.json says.`, folder, check);
  }
  return { config, weights, posConvWeight };
}
