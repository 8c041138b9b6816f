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
