/**
 * A backbone opened from a model folder (Hugging Face layout): which family it is, its config and weights, and
 * an identity for cache keys. The family comes from config.json's `model_type`.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { readJson, weightFiles } from '../backbones/hfWeights.ts';
import { loadHubertEncoder } from '../backbones/hubert.ts';
import { loadWhisperEncoder } from '../backbones/whisper.ts';
import { describeValue } from '../checkpoints/describe.ts';
import { AudioSaeError } from '../errors.ts';
import type { HubertEncoderConfig } from '../onnx/hubert.ts';
import type { Named, Weight } from '../onnx/layers.ts';
import type { WhisperEncoderConfig } from '../onnx/whisper.ts';

export type OpenBackbone =
  | { family: 'whisper'; folder: string; identity: string; config: WhisperEncoderConfig; weights: Named; layers: number; dModel: number }
  | { family: 'hubert'; folder: string; identity: string; config: HubertEncoderConfig; weights: Named; posConvWeight: Weight; layers: number; dModel: number };

/** Folder, weight file sizes and modification times: changes when the weights change. */
function identityOf(folder: string): string {
  const files = [join(folder, 'config.json'), ...(weightFiles(folder)?.files ?? [])];
  return JSON.stringify(files.map((f) => {
    const s = statSync(f);
    return [f, s.size, s.mtimeMs];
  }));
}

export async function openBackbone(folder: string): Promise<OpenBackbone> {
  const configPath = join(folder, 'config.json');
  const config = await readJson(configPath);
  const identity = identityOf(folder);
  if (config.model_type === 'whisper') {
    const w = await loadWhisperEncoder(folder);
    return { family: 'whisper', folder, identity, ...w, layers: w.config.layers, dModel: w.config.dModel };
  }
  if (config.model_type === 'hubert') {
    const h = await loadHubertEncoder(folder);
    return { family: 'hubert', folder, identity, ...h, layers: h.config.layers, dModel: h.config.dModel };
  }
  const found = config.model_type === undefined ? 'has no model_type' : `has model_type ${describeValue(config.model_type)}`;
  throw new AudioSaeError(`${found}; AudioSAE runs "whisper" and "hubert" encoders.`, configPath);
}
