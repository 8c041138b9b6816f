/**
 * A disk cache of built ONNX graphs, so a backbone layer is built once and reused across sessions.
 * Each entry is a folder named by the SHA-256 of its key parts: `model.onnx` plus `weights.bin` (external data:
 * every initializer of 1 KiB or more, which keeps the protobuf far below its 2 GiB limit). Entries are built in
 * a temporary folder and renamed into place, so a failed or interrupted build never leaves one that looks valid.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { AudioSaeError } from '../errors.ts';
import type { GraphBuilder } from './graph.ts';

/** Bump when graph builders change what they emit, so old entries are not reused. */
export const GRAPH_FORMAT_VERSION = 1;

export function defaultCacheDir(): string {
  const base = process.env.AUDIOSAE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'audiosae');
  return join(base, 'graphs');
}

export function cacheKey(parts: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify({ v: GRAPH_FORMAT_VERSION, ...parts })).digest('hex').slice(0, 32);
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.byteLength) done += writeSync(fd, bytes, done, bytes.byteLength - done);
}

/** Path of the cached model.onnx for `parts`, building it with `build` when absent. */
export function cachedGraph(dir: string, parts: Record<string, unknown>, build: () => GraphBuilder): { path: string; built: boolean } {
  const entry = join(dir, cacheKey(parts));
  const model = join(entry, 'model.onnx');
  if (existsSync(model)) return { path: model, built: false };
  const tmp = `${entry}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    mkdirSync(tmp, { recursive: true });
    const dataFd = openSync(join(tmp, 'weights.bin'), 'w');
    let offset = 0;
    let chunks: Uint8Array[];
    try {
      chunks = build().toModel({
        external: {
          location: 'weights.bin',
          append(bytes) {
            // 64-byte alignment lets onnxruntime map tensors directly.
            const pad = (64 - (offset % 64)) % 64;
            if (pad) writeAll(dataFd, new Uint8Array(pad));
            const at = offset + pad;
            writeAll(dataFd, bytes);
            offset = at + bytes.byteLength;
            return at;
          },
        },
      });
      fsyncSync(dataFd);
    } finally {
      closeSync(dataFd);
    }
    const modelFd = openSync(join(tmp, 'model.onnx'), 'w');
    try {
      for (const c of chunks) writeAll(modelFd, c);
      fsyncSync(modelFd);
    } finally {
      closeSync(modelFd);
    }
    try {
      renameSync(tmp, entry);
    } catch (e) {
      if (!existsSync(model)) throw e; // another process built the same entry meanwhile: use theirs
      rmSync(tmp, { recursive: true, force: true });
    }
    return { path: model, built: true };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if ((e as NodeJS.ErrnoException).code === 'ENOSPC') {
      throw new AudioSaeError('no space left on the device while caching a model graph.', dir, 'Free disk space or point AUDIOSAE_CACHE at a larger disk.');
    }
    throw e;
  }
}
