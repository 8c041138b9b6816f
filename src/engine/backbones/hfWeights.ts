/**
 * Reads a model folder in Hugging Face layout: `config.json` plus `model.safetensors`, sharded safetensors
 * with `model.safetensors.index.json`, or `pytorch_model.bin` (through the restricted unpickler). Only the
 * tensors a filter accepts are read, so a Whisper decoder is never loaded.
 */
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadTorchCheckpoint, readSafetensorsHeader, toFloat32, type StateDict, type Tensor } from '../checkpoints/index.ts';
import { typedArrayFor } from '../checkpoints/dtypes.ts';
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

/** A tensor whose data is read from disk only when asked for. */
export interface LazyTensor {
  shape: number[];
  read(): Tensor;
}
export type LazyStateDict = Map<string, LazyTensor>;

const eager = (t: Tensor): LazyTensor => ({ shape: t.shape, read: () => t });

/** safetensors: the header now, each tensor's bytes when read (positional reads; nothing kept afterwards). */
async function lazySafetensors(path: string, keep: (name: string) => boolean): Promise<LazyStateDict> {
  const header = await readSafetensorsHeader(path);
  const out: LazyStateDict = new Map();
  for (const [name, e] of header.entries) {
    if (!keep(name)) continue;
    out.set(name, {
      shape: e.shape,
      read: () => {
        const bytes = new Uint8Array(e.end - e.begin);
        const fd = openSync(path, 'r');
        try {
          let done = 0;
          while (done < bytes.length) {
            const n = readSync(fd, bytes, done, bytes.length - done, e.begin + done);
            if (n === 0) throw new AudioSaeError(`is truncated inside tensor "${name}".`, path);
            done += n;
          }
        } finally {
          closeSync(fd);
        }
        return { dtype: e.dtype, shape: e.shape, data: typedArrayFor(e.dtype, bytes.buffer, 0, e.shape.reduce((a, b) => a * b, 1)) };
      },
    });
  }
  return out;
}

/**
 * The tensors a filter keeps. Safetensors files (single or sharded) are read lazily, tensor by tensor, when a
 * graph is written out, so memory stays bounded for multi-gigabyte models; pytorch_model.bin is read whole.
 */
export async function loadHfWeights(folder: string, keep: (name: string) => boolean): Promise<LazyStateDict> {
  const found = weightFiles(folder);
  if (!found) {
    throw new AudioSaeError('holds no model weights (model.safetensors, model.safetensors.index.json or pytorch_model.bin).', folder);
  }
  if (found.kind === 'safetensors') return lazySafetensors(found.files[0]!, keep);
  if (found.kind === 'bin') {
    const all = await loadTorchCheckpoint(found.files[0]!);
    return new Map([...all].filter(([k]) => keep(k)).map(([k, t]) => [k, eager(t)]));
  }
  const index = await readJson(found.files[0]!);
  const map = (index.weight_map ?? {}) as Record<string, string>;
  const shards = [...new Set(Object.entries(map).filter(([k]) => keep(k)).map(([, file]) => file))];
  const out: LazyStateDict = new Map();
  for (const shard of shards) for (const [k, v] of await lazySafetensors(join(folder, shard), keep)) out.set(k, v);
  return out;
}

/** A lookup that checks names and shapes at once (naming the folder) and reads float32 data on demand. */
export function namedWeights(dict: LazyStateDict | StateDict, folder: string, prefix = ''): Named {
  return (name: string, shape: number[]) => {
    const entry = dict.get(prefix + name);
    if (!entry) throw new AudioSaeError(`lacks the tensor "${prefix + name}".`, folder, 'Is this the right model folder, and is the download complete?');
    if (entry.shape.length !== shape.length || entry.shape.some((s, i) => s !== shape[i])) {
      throw new AudioSaeError(`has "${prefix + name}" with shape [${entry.shape.join(', ')}], expected [${shape.join(', ')}].`, folder);
    }
    return () => toFloat32('read' in entry ? entry.read() : entry);
  };
}

/** A positive integer from a config, or a clear error. */
export function configInt(config: Record<string, unknown>, key: string, file: string): number {
  const v = config[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new AudioSaeError(`has no valid "${key}" (got ${JSON.stringify(v)}).`, file);
  return v;
}
