/**
 * Writes a file so that readers only ever see the old file or the complete new one: the bytes go to a
 * temporary file in the same folder, which is renamed over the target once fully written and flushed.
 * On failure the temporary file is removed and nothing else changes.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { AudioSaeError } from '../errors.ts';

export async function writeFileAtomic(path: string, chunks: Uint8Array | readonly Uint8Array[]): Promise<void> {
  const parts = chunks instanceof Uint8Array ? [chunks] : chunks;
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
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
    await rm(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new AudioSaeError(`cannot write: the folder ${dirname(path)} does not exist.`, path);
    if (code === 'ENOSPC') throw new AudioSaeError('cannot write: no space left on the device.', path, 'Free some disk space and try again.');
    if (code === 'EACCES' || code === 'EPERM') throw new AudioSaeError('cannot write: permission denied.', path);
    throw e;
  }
}
