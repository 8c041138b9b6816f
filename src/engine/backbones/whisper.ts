/** Loads a Whisper encoder from a Hugging Face model folder: its config and only the `model.encoder.` tensors. */
import { join } from 'node:path';
import type { Named } from '../onnx/layers.ts';
import type { WhisperEncoderConfig } from '../onnx/whisper.ts';
import { configInt, loadHfWeights, namedWeights, readJson } from './hfWeights.ts';

export async function loadWhisperEncoder(folder: string): Promise<{ config: WhisperEncoderConfig; weights: Named }> {
  const configPath = join(folder, 'config.json');
  const raw = await readJson(configPath);
  const config: WhisperEncoderConfig = {
    dModel: configInt(raw, 'd_model', configPath),
    layers: configInt(raw, 'encoder_layers', configPath),
    heads: configInt(raw, 'encoder_attention_heads', configPath),
    ffnDim: configInt(raw, 'encoder_ffn_dim', configPath),
    melBins: configInt(raw, 'num_mel_bins', configPath),
    positions: configInt(raw, 'max_source_positions', configPath),
  };
  // Only the encoder: decoder names such as model.decoder.layers.0.encoder_attn.* also contain "encoder".
  const dict = await loadHfWeights(folder, (name) => name.startsWith('model.encoder.'));
  return { config, weights: namedWeights(dict, folder) };
}
