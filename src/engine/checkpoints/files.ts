/**
 * Opening and reading the files a user names (checkpoints, safetensors, config.json), with every failure an
 * AudioSaeError naming the path: not found, a folder, not a regular file, permission denied, truncated, or any
 * other fs error code. Reads are positional and bounded by the file's size, so a length field in a file can
 * never make us allocate more than the file holds.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { AudioSaeError } from '../errors.ts';

/** An open regular file and its size in bytes. */
export interface OpenFile {
  handle: FileHandle;
  size: number;
}

/** The problem text of a missing file, for callers that add a hint to it. */
export const FILE_NOT_FOUND = 'file not found.';

/** The AudioSaeError for an fs error code met while opening or reading `path`. */
export function fsError(e: unknown, path: string): AudioSaeError {
  if (e instanceof AudioSaeError) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT': return new AudioSaeError(FILE_NOT_FOUND, path);
    case 'EISDIR': return new AudioSaeError('is a folder, not a file.', path);
    case 'ENOTDIR': return new AudioSaeError('cannot be opened: a part of its path is a file, not a folder.', path);
    case 'EACCES': case 'EPERM': return new AudioSaeError('cannot be read: permission denied.', path);
    case 'ELOOP': return new AudioSaeError('cannot be opened: its path has a loop of symbolic links.', path);
    case 'ENAMETOOLONG': return new AudioSaeError('cannot be opened: its path is too long.', path);
    default: return new AudioSaeError(`cannot be read (${code ?? (e as Error)?.message ?? String(e)}).`, path);
  }
}

/**
 * Opens a regular file for reading. Opened non-blocking, so a FIFO fails at once instead of waiting for a
 * writer (the flag does nothing to regular files); folders, FIFOs, sockets and devices are then refused.
 */
export async function openRegularFile(path: string): Promise<OpenFile> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw fsError(e, path);
  }
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) throw new AudioSaeError('is a folder, not a file.', path);
    if (!stat.isFile()) throw new AudioSaeError('is not a regular file (a device, pipe or socket).', path);
    return { handle, size: stat.size };
  } catch (e) {
    await handle.close().catch(() => undefined);
    throw fsError(e, path);
  }
}

/**
 * Reads exactly `length` bytes at `position`. The range is checked against `fileSize` before anything is
 * allocated; a file that shrinks while it is read still fails clearly.
 */
export async function readExactly(handle: FileHandle, file: string, position: number, length: number, fileSize: number): Promise<Uint8Array> {
  if (!Number.isSafeInteger(position) || !Number.isSafeInteger(length) || position < 0 || length < 0 || position + length > fileSize) {
    throw new AudioSaeError(`is truncated or corrupt: expected ${length} bytes at offset ${position}, the file has ${fileSize}.`, file);
  }
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(buf, done, Math.min(length - done, 1 << 30), position + done));
    } catch (e) {
      throw fsError(e, file);
    }
    if (bytesRead === 0) throw new AudioSaeError(`is truncated: expected ${length} bytes at offset ${position}, the file ends first.`, file);
    done += bytesRead;
  }
  return buf;
}

/** A whole small file (config.json, an index), refused when larger than `maxBytes`. */
export async function readSmallFile(path: string, maxBytes: number): Promise<Uint8Array> {
  const { handle, size } = await openRegularFile(path);
  try {
    if (size > maxBytes) throw new AudioSaeError(`is ${size} bytes, more than the ${maxBytes} a file of this kind may have.`, path);
    return await readExactly(handle, path, 0, size, size);
  } finally {
    await handle.close().catch(() => undefined);
  }
}
