/**
 * Writes a file so that readers only ever see the old file or the complete new one: the bytes go to a
 * temporary file in the same folder, which is renamed over the target once fully written and flushed.
 * On failure the temporary file is removed and nothing else changes. Temporary names carry the writer's
 * process id, so the next write of the same target removes what a killed writer left behind.
 */
import { randomBytes } from 'node:crypto';
import { readdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { writeFailure } from './files.ts';

/** True when no process with this id exists (a writer that was killed). */
export function processGone(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Removes the temporary siblings of `path` (named `.<base>.<pid>-<hex><suffix>`) whose writer is gone.
 * Never throws: cleaning up is a courtesy, not part of the write.
 */
export async function removeStaleSiblings(path: string, suffix: string): Promise<void> {
  const prefix = `.${basename(path)}.`;
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith(suffix)) continue;
    const pid = Number(/^(\d+)-[0-9a-f]+$/.exec(name.slice(prefix.length, name.length - suffix.length))?.[1]);
    if (Number.isSafeInteger(pid) && pid > 0 && processGone(pid)) await rm(join(dirname(path), name), { recursive: true, force: true }).catch(() => undefined);
  }
}

/** A fresh temporary name beside `path`, owned by this process. */
export function siblingName(path: string, suffix: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(6).toString('hex')}${suffix}`);
}

export async function writeFileAtomic(path: string, chunks: Uint8Array | readonly Uint8Array[]): Promise<void> {
  const parts = chunks instanceof Uint8Array ? [chunks] : chunks;
  await removeStaleSiblings(path, '.tmp');
  const tmp = siblingName(path, '.tmp');
  let handle;
  try {
    handle = await open(tmp, 'wx');
    for (const part of parts) {
      let written = 0;
      while (written < part.byteLength) {
        const { bytesWritten } = await handle.write(part, written, part.byteLength - written);
        written += bytesWritten;
      }
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, path);
  } catch (e) {
    await handle?.close().catch(() => undefined);
    await rm(tmp, { force: true }).catch(() => undefined);
    throw writeFailure(e, path);
  }
}
