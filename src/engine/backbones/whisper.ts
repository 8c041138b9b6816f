/**
 * Loads a Whisper encoder from a Hugging Face model folder: its config and only the `model.encoder.` tensors.
 * The config is checked before anything else: every size a positive integer, the heads dividing d_model, and
 * the sizes AudioSAE's front end produces (80 or 128 mel bins, 1500 positions = one 30 s window). Then every
 * tensor the deepest graph reads is checked by name and shape (no data is read), and the weights may not hold
 * more encoder layers than the config says.
 */
import { join } from 'node:path';
import { MEL_FRAMES_PER_WINDOW } from '../audio/constants.ts';
import { AudioSaeError } from '../errors.ts';
import type { Named } from '../onnx/layers.ts';
import { buildWhisperEncoderGraph, whisperConfigProblem, type WhisperEncoderConfig } from '../onnx/whisper.ts';
import { configInt } from './config.ts';
import { loadHfWeights, namedWeights, readJson } from './hfWeights.ts';

const MEL_BINS = [80, 128];

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
  const problem = whisperConfigProblem(config);
  if (problem) throw new AudioSaeError(`${problem}.`, configPath);
  if (!MEL_BINS.includes(config.melBins)) {
    throw new AudioSaeError(`has "num_mel_bins" ${config.melBins}; the Whisper front end makes ${MEL_BINS.join(' or ')} mel bins.`, configPath);
  }
  if (config.positions * 2 !== MEL_FRAMES_PER_WINDOW) {
    throw new AudioSaeError(
      `has "max_source_positions" ${config.positions}; AudioSAE runs 30 s windows of ${MEL_FRAMES_PER_WINDOW} mel frames, which need ${MEL_FRAMES_PER_WINDOW / 2}.`,
      configPath,
    );
  }
  // Only the encoder: decoder names such as model.decoder.layers.0.encoder_attn.* also contain "encoder".
  const dict = await loadHfWeights(folder, (name) => name.startsWith('model.encoder.'));
  const weights = namedWeights(dict, folder);
  // A dry build of the deepest graph asks for every tensor by name and shape; nothing is read or serialised.
  buildWhisperEncoderGraph(weights, config, { layers: [config.layers], tap: 'final-norm' });
  if (dict.has(`model.encoder.layers.${config.layers}.fc1.weight`)) {
    throw new AudioSaeError(`holds more encoder layers than "encoder_layers" (${config.layers}) in config.json says.`, folder, 'Check that config.json belongs to these weights.');
  }
  return { config, weights };
}
