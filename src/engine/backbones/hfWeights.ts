/**
 * Reads a model folder in Hugging Face layout: `config.json` plus `model.safetensors`, sharded safetensors
 * with `model.safetensors.index.json`, or `pytorch_model.bin` (through the restricted unpickler). Only the
 * tensors a filter accepts are read, so a Whisper decoder is never loaded.
 */
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { loadTorchCheckpoint, readSafetensorsHeader, toFloat32, type StateDict, type Tensor } from '../checkpoints/index.ts';
import { clip, describeValue } from '../checkpoints/describe.ts';
import { typedArrayFor } from '../checkpoints/dtypes.ts';
import { FILE_NOT_FOUND, fsError, readSmallFile } from '../checkpoints/files.ts';
import { AudioSaeError } from '../errors.ts';
import type { Named } from '../onnx/layers.ts';
import { configValue, isJsonObject, type ConfigObject } from './config.ts';

/** config.json and index files are small; anything larger is not one. */
const MAX_JSON_BYTES = 64 * 1024 * 1024;

/**
 * A JSON file that must hold an object (config.json, model.safetensors.index.json). The object comes back
 * without a prototype, so looking up a key the file lacks finds nothing, not Object.prototype's members.
 */
export async function readJson(path: string, hint = 'A model folder needs a config.json next to its weights.'): Promise<ConfigObject> {
  let bytes: Uint8Array;
  try {
    bytes = await readSmallFile(path, MAX_JSON_BYTES);
  } catch (e) {
    const err = fsError(e, path);
    throw err.problem === FILE_NOT_FOUND ? new AudioSaeError(err.problem, path, hint) : err;
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new AudioSaeError(`is not valid JSON (${(e as Error).message}).`, path);
  }
  if (!isJsonObject(json)) throw new AudioSaeError(`holds ${describeValue(json)}, not a JSON object.`, path);
  return Object.setPrototypeOf(json, null) as ConfigObject;
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
        // The header checked e.begin/e.end against the file's size; a file changed since then fails clearly.
        const bytes = new Uint8Array(e.end - e.begin);
        let fd: number;
        try {
          fd = openSync(path, 'r');
        } catch (err) {
          throw fsError(err, path);
        }
        try {
          let done = 0;
          while (done < bytes.length) {
            const n = readSync(fd, bytes, done, bytes.length - done, e.begin + done);
            if (n === 0) throw new AudioSaeError(`is truncated inside tensor "${clip(name)}".`, path);
            done += n;
          }
        } catch (err) {
          throw fsError(err, path);
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
  const index = await readJson(found.files[0]!, 'A sharded model lists its shards in model.safetensors.index.json.');
  const shards = [...new Set(shardList(index, found.files[0]!).filter(([k]) => keep(k)).map(([, file]) => file))];
  const out: LazyStateDict = new Map();
  for (const shard of shards) for (const [k, v] of await lazySafetensors(join(folder, shard), keep)) out.set(k, v);
  return out;
}

/**
 * The (tensor, shard file) pairs of an index's `weight_map`. Shard names are plain file names in the model
 * folder: a name with a path separator or `..` (which could reach files outside the folder) is refused.
 */
function shardList(index: ConfigObject, file: string): Array<[string, string]> {
  const map = configValue(index, 'weight_map');
  if (!isJsonObject(map)) throw new AudioSaeError(`has no "weight_map" object (got ${describeValue(map)}).`, file);
  const pairs = Object.entries(map);
  for (const [tensor, shard] of pairs) {
    if (typeof shard !== 'string' || shard === '' || shard === '.' || shard === '..' || /[/\\]/.test(shard) || shard.includes('\0')) {
      throw new AudioSaeError(`maps "${clip(tensor)}" to ${describeValue(shard)}, which is not a file name in the model folder.`, file);
    }
  }
  return pairs as Array<[string, string]>;
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
