/**
 * A disk cache of built ONNX graphs, so a backbone's encoder graph is built once and reused across sessions.
 *
 *   <dir>/<group>/<entry>.onnx            one graph (small: it references its weights)
 *   <dir>/<group>/tensors/<sha256>.bin    one initializer of 1 KiB or more, named by its content
 *
 * `group` is the hash of the graph's `share` parts (the backbone's weights identity), `entry` of all its parts.
 * Graphs of one backbone (layer 3, layer 12, layers 3+6+12) share their weight files: a tensor is stored once
 * however many graphs use it (onnxruntime resolves external data relative to the model's folder and refuses
 * paths that leave it, so sharing happens within the group folder). Every file is written to a temporary name
 * and renamed into place, so a failed or interrupted build never leaves a file that looks valid; tensors are
 * content-addressed, so two processes building at once write identical files; a lock file beside the graph
 * (io/lock.ts) makes one process build it while others sharing the cache wait and then reuse it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { AudioSaeError } from '../errors.ts';
import { withLockSync } from '../io/lock.ts';
import type { GraphBuilder } from './graph.ts';

/** Bump when graph builders change what they emit, so old entries are not reused. */
export const GRAPH_FORMAT_VERSION = 2;

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

/** Writes `chunks` to `path` through a temporary file and a rename (flushed first). */
function writeFileOnce(path: string, chunks: readonly Uint8Array[]): void {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      for (const c of chunks) writeAll(fd, c);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Path of the cached .onnx for `parts`, building it with `build` when absent. `share` names what graphs with
 * shared weights have in common (default: all of `parts`, i.e. no sharing).
 */
export function cachedGraph(dir: string, parts: Record<string, unknown>, build: () => GraphBuilder, share: Record<string, unknown> = parts): { path: string; built: boolean } {
  const group = join(dir, cacheKey({ share }));
  const model = join(group, `${cacheKey(parts)}.onnx`);
  if (existsSync(model)) return { path: model, built: false };
  try {
    mkdirSync(join(group, 'tensors'), { recursive: true });
    // One process builds a graph; others sharing the cache wait for it, then find it built.
    return withLockSync(model, (lock) => {
      if (existsSync(model)) return { path: model, built: false };
      const chunks = build().toModel({
        external: {
          append(bytes) {
            lock.refresh();
            const name = `${createHash('sha256').update(bytes).digest('hex').slice(0, 40)}.bin`;
            const file = join(group, 'tensors', name);
            if (!existsSync(file)) writeFileOnce(file, [bytes]);
            return { location: `tensors/${name}`, offset: 0 };
          },
        },
      });
      writeFileOnce(model, chunks);
      return { path: model, built: true };
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOSPC') {
      throw new AudioSaeError('no space left on the device while caching a model graph.', dir, 'Free disk space or point AUDIOSAE_CACHE at a larger disk.');
    }
    throw e;
  }
}
