/**
 * A BatchTopK sparse autoencoder as the AudioSAE checkpoints store it (reference doc §2): the state dict of
 * `ae.pt` (`encoder.weight` [F, d], `encoder.bias` [F], `decoder.weight` [d, F], `b_dec` [d], `k`, optional
 * `threshold`), cross-checked against the training `config.json` next to it.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { configInt, configPositive, configValue, isJsonObject, type ConfigObject } from '../backbones/config.ts';
import { clip, describeValue } from '../checkpoints/describe.ts';
import { readSmallFile } from '../checkpoints/files.ts';
import { loadTorchCheckpoint, toFloat32 } from '../checkpoints/index.ts';
import type { StateDict, Tensor } from '../checkpoints/tensor.ts';
import { AudioSaeError } from '../errors.ts';

const MAX_CONFIG_BYTES = 64 * 1024 * 1024;

export interface Sae {
  /** Where the weights came from (for messages and cache keys). */
  file: string;
  dModel: number;
  dictSize: number;
  k: number;
  /** The stored global threshold, or null when absent or negative (never set). */
  threshold: number | null;
  encoderWeight: Float32Array; // [dictSize, dModel] row-major: row j = encoder direction of feature j
  encoderBias: Float32Array; // [dictSize]
  decoderWeight: Float32Array; // [dModel, dictSize] row-major: column j = decoder direction of feature j
  bDec: Float32Array; // [dModel]
  /** Training config values found in config.json, when there was one. */
  config: { activationDim?: number; dictSize?: number; k?: number; normFactor?: number } | null;
}

function need(dict: StateDict, key: string, file: string): Tensor {
  const t = dict.get(key);
  if (!t) {
    throw new AudioSaeError(
      `is not an SAE checkpoint: the tensor "${key}" is missing (found: ${[...dict.keys()].slice(0, 8).map((k) => clip(k, 60)).join(', ') || 'nothing'}).`,
      file,
      'Expected a BatchTopK SAE state dict with encoder.weight, encoder.bias, decoder.weight, b_dec and k.',
    );
  }
  return t;
}

function checkShape(t: Tensor, expected: number[], key: string, file: string): void {
  if (t.shape.length !== expected.length || t.shape.some((s, i) => s !== expected[i])) {
    throw new AudioSaeError(`"${key}" has shape [${t.shape.join(', ')}], expected [${expected.join(', ')}].`, file);
  }
}

function finite(data: Float32Array, key: string, file: string): Float32Array {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) throw new AudioSaeError(`"${key}" holds a non-finite value (${data[i]}) at index ${i}.`, file);
  }
  return data;
}

function scalar(t: Tensor, key: string, file: string): number {
  if (t.shape.length !== 0 && !(t.shape.length === 1 && t.shape[0] === 1)) {
    throw new AudioSaeError(`"${key}" should be a scalar; it has shape [${t.shape.join(', ')}].`, file);
  }
  const v = t.data[0]!;
  return typeof v === 'bigint' ? Number(v) : Number(toFloat32(t)[0]);
}

/**
 * Reads `activation_dim`, `dict_size`, `k` (positive integers) and `norm_factor` (a positive number) from
 * config.json text, each at the top level or else under "trainer". A key may be absent; present, it must have
 * the right type (`null` included), or the error names the file and the key. Only own keys count.
 */
export function parseSaeConfig(text: string, file: string): NonNullable<Sae['config']> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new AudioSaeError(`is not valid JSON (${(e as Error).message}).`, file);
  }
  if (!isJsonObject(json)) throw new AudioSaeError(`holds ${describeValue(json)}, not a JSON object (an SAE training config).`, file);
  const trainer = configValue(json, 'trainer');
  if (trainer !== undefined && !isJsonObject(trainer)) {
    throw new AudioSaeError(`has an invalid "trainer": expected an object, got ${describeValue(trainer)}.`, file);
  }
  const where = (key: string): ConfigObject | undefined =>
    configValue(json, key) !== undefined ? json : trainer && configValue(trainer, key) !== undefined ? trainer : undefined;
  const int = (key: string) => { const o = where(key); return o ? configInt(o, key, file) : undefined; };
  const num = (key: string) => { const o = where(key); return o ? configPositive(o, key, file, Number.NaN) : undefined; };
  return { activationDim: int('activation_dim'), dictSize: int('dict_size'), k: int('k'), normFactor: num('norm_factor') };
}

/** Builds and validates an SAE from a state dict and optional config. */
export function saeFromStateDict(dict: StateDict, file: string, config: Sae['config'] = null, configFile = 'config.json'): Sae {
  const encW = need(dict, 'encoder.weight', file);
  if (encW.shape.length !== 2) throw new AudioSaeError(`"encoder.weight" must be 2-D [F, d]; it has shape [${encW.shape.join(', ')}].`, file);
  const [dictSize, dModel] = encW.shape as [number, number];
  const encB = need(dict, 'encoder.bias', file);
  const decW = need(dict, 'decoder.weight', file);
  const bDec = need(dict, 'b_dec', file);
  checkShape(encB, [dictSize], 'encoder.bias', file);
  checkShape(decW, [dModel, dictSize], 'decoder.weight', file);
  checkShape(bDec, [dModel], 'b_dec', file);
  const k = scalar(need(dict, 'k', file), 'k', file);
  if (!Number.isInteger(k) || k < 1 || k > dictSize) throw new AudioSaeError(`"k" = ${k} is not between 1 and the dictionary size ${dictSize}.`, file);
  const thrTensor = dict.get('threshold');
  const thr = thrTensor ? scalar(thrTensor, 'threshold', file) : null;
  if (thr !== null && Number.isNaN(thr)) throw new AudioSaeError('"threshold" is NaN.', file);

  if (config) {
    const mismatches: string[] = [];
    if (config.activationDim !== undefined && config.activationDim !== dModel) mismatches.push(`activation_dim ${config.activationDim} vs d = ${dModel} in the weights`);
    if (config.dictSize !== undefined && config.dictSize !== dictSize) mismatches.push(`dict_size ${config.dictSize} vs F = ${dictSize} in the weights`);
    if (config.k !== undefined && config.k !== k) mismatches.push(`k ${config.k} vs k = ${k} in the weights`);
    if (mismatches.length) {
      throw new AudioSaeError(`does not match its weights ${file}: ${mismatches.join('; ')}.`, configFile, 'Check that the config.json and ae.pt come from the same layer folder.');
    }
  }
  return {
    file,
    dModel,
    dictSize,
    k,
    threshold: thr !== null && thr >= 0 ? thr : null,
    encoderWeight: finite(toFloat32(encW), 'encoder.weight', file),
    encoderBias: finite(toFloat32(encB), 'encoder.bias', file),
    decoderWeight: finite(toFloat32(decW), 'decoder.weight', file),
    bDec: finite(toFloat32(bDec), 'b_dec', file),
    config,
  };
}

/**
 * Loads `ae.pt` and, when given or found next to it, `config.json`.
 * `configPath` null means "do not look for one".
 */
export async function loadSae(aePath: string, configPath?: string | null): Promise<Sae> {
  const dict = await loadTorchCheckpoint(aePath);
  const cfgPath = configPath === undefined ? join(dirname(aePath), 'config.json') : configPath;
  let config: Sae['config'] = null;
  if (cfgPath && (configPath || existsSync(cfgPath))) {
    // A missing, folder or unreadable config fails naming it; config files are small.
    const bytes = await readSmallFile(cfgPath, MAX_CONFIG_BYTES);
    config = parseSaeConfig(new TextDecoder().decode(bytes), cfgPath);
  }
  return saeFromStateDict(dict, aePath, config, cfgPath ?? undefined);
}
