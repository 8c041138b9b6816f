/**
 * Reads a model folder in Hugging Face layout: `config.json` plus `model.safetensors`, sharded safetensors
 * with `model.safetensors.index.json`, or `pytorch_model.bin` (through the restricted unpickler). Only the
 * tensors a filter accepts are read, so a Whisper decoder is never loaded.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadSafetensors, loadTorchCheckpoint, toFloat32, type StateDict } from '../checkpoints/index.ts';
import { AudioSaeError } from '../errors.ts';
import type { Named } from '../onnx/layers.ts';

export async function readJson(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new AudioSaeError('cannot be read.', path, 'A model folder needs a config.json next to its weights.');
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new AudioSaeError(`is not valid JSON (${(e as Error).message}).`, path);
  }
}

/** Which weight files a folder has, in order of preference. */
export function weightFiles(folder: string): { kind: 'safetensors' | 'sharded' | 'bin'; files: string[] } | undefined {
  if (existsSync(join(folder, 'model.safetensors'))) return { kind: 'safetensors', files: [join(folder, 'model.safetensors')] };
  if (existsSync(join(folder, 'model.safetensors.index.json'))) return { kind: 'sharded', files: [join(folder, 'model.safetensors.index.json')] };
  if (existsSync(join(folder, 'pytorch_model.bin'))) return { kind: 'bin', files: [join(folder, 'pytorch_model.bin')] };
  return undefined;
}

export async function loadHfWeights(folder: string, keep: (name: string) => boolean): Promise<StateDict> {
  const found = weightFiles(folder);
  if (!found) {
    throw new AudioSaeError('holds no model weights (model.safetensors, model.safetensors.index.json or pytorch_model.bin).', folder);
  }
  if (found.kind === 'safetensors') return loadSafetensors(found.files[0]!, keep);
  if (found.kind === 'bin') {
    const all = await loadTorchCheckpoint(found.files[0]!);
    return new Map([...all].filter(([k]) => keep(k)));
  }
  const index = await readJson(found.files[0]!);
  const map = (index.weight_map ?? {}) as Record<string, string>;
  const shards = [...new Set(Object.entries(map).filter(([k]) => keep(k)).map(([, file]) => file))];
  const out: StateDict = new Map();
  for (const shard of shards) for (const [k, v] of await loadSafetensors(join(folder, shard), keep)) out.set(k, v);
  return out;
}

/** A lookup that returns float32 data and checks the shape, naming the folder and tensor on failure. */
export function namedWeights(dict: StateDict, folder: string, prefix = ''): Named {
  return (name: string, shape: number[]) => {
    const t = dict.get(prefix + name);
    if (!t) throw new AudioSaeError(`lacks the tensor "${prefix + name}".`, folder, 'Is this the right model folder, and is the download complete?');
    if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i])) {
      throw new AudioSaeError(`has "${prefix + name}" with shape [${t.shape.join(', ')}], expected [${shape.join(', ')}].`, folder);
    }
    return toFloat32(t);
  };
}

/** A positive integer from a config, or a clear error. */
export function configInt(config: Record<string, unknown>, key: string, file: string): number {
  const v = config[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new AudioSaeError(`has no valid "${key}" (got ${JSON.stringify(v)}).`, file);
  return v;
}
