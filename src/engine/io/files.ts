/** Reading files users name and streaming HTTP bodies to disk, with errors that say what went wrong. */
import { writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { AudioSaeError } from '../errors.ts';

/** The whole file, or an AudioSaeError naming it (not found, a folder, unreadable). */
export async function readUserFile(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new AudioSaeError(code === 'ENOENT' ? 'file not found.' : code === 'EISDIR' ? 'is a folder, not a file.' : `cannot be read (${code}).`, path);
  }
}

/**
 * A file-system failure while creating or writing `path` as an error that names it and says what to do; errors
 * that are not file-system errors pass through unchanged.
 */
export function writeFailure(e: unknown, path: string): unknown {
  if (e instanceof AudioSaeError) return e;
  const code = (e as NodeJS.ErrnoException)?.code;
  const problems = new Map<string, [string, string?]>([
    ['ENOENT', ['cannot be written: a folder on its path does not exist.', 'Create the folder first or choose another path.']],
    ['ENOTDIR', ['cannot be written: a part of its path is a file, not a folder.', 'Choose a path inside a folder.']],
    ['EISDIR', ['cannot be written: it is a folder.', 'Name a file, not a folder.']],
    ['EEXIST', ['cannot be written: something already exists there.', 'Remove it or choose another path.']],
    ['ENOTEMPTY', ['cannot be replaced: it is a folder that is not empty.', 'Remove it or choose another path.']],
    ['EROFS', ['cannot be written: the file system is read-only.', 'Choose a path on a writable disk.']],
    ['EACCES', ['cannot be written: permission denied.', 'Choose a folder you can write to.']],
    ['EPERM', ['cannot be written: the operation is not permitted (the folder may be immutable or protected).', 'Choose a folder you can write to.']],
    ['ENOSPC', ['cannot be written: no space left on the device.', 'Free some disk space and try again.']],
    ['EDQUOT', ['cannot be written: the disk quota is exceeded.', 'Free some space in your quota and try again.']],
    ['ENAMETOOLONG', ['cannot be written: the name is too long.', 'Choose a shorter path.']],
    ['EMFILE', ['cannot be written: too many files are open.', 'Close other programs or raise the open-file limit.']],
    ['EIO', ['cannot be written: the device reported an input/output error.']],
  ]);
  const known = code ? problems.get(code) : undefined;
  return known ? new AudioSaeError(known[0], path, known[1]) : e;
}

/** Writes a fetch body to an open file descriptor chunk by chunk; `onChunk` gets the bytes written so far. */
export async function writeBody(fd: number, body: ReadableStream<Uint8Array> | null, onChunk?: (written: number) => void): Promise<number> {
  let written = 0;
  for await (const chunk of (body ?? []) as unknown as AsyncIterable<Uint8Array>) {
    let done = 0;
    while (done < chunk.byteLength) done += writeSync(fd, chunk, done, chunk.byteLength - done);
    written += chunk.byteLength;
    onChunk?.(written);
  }
  return written;
}
