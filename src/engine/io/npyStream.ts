/**
 * .npy files written piece by piece, for arrays too large to hold: the header (shape known up front) and then
 * rows appended in order, or elements written at any offset. Memory stays at one piece, whatever the array's
 * size. Inside an output folder the file is written where it is asked to be (the folder appears whole); with
 * `atomic`, it is written beside its name and renamed into place by `close`, so readers never see it partial.
 */
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { removeStaleSiblings, siblingName } from './atomicWrite.ts';
import { writeFailure } from './files.ts';
import { npyHeader, type NpyDType } from './npy.ts';

type Elements = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

const BYTES: Record<NpyDType, number> = { float32: 4, float64: 8, int32: 4, int64: 8, uint8: 1, bool: 1 };

export class NpyFileWriter {
  private appended = 0;

  private constructor(
    private readonly handle: FileHandle,
    readonly path: string,
    /** Where the bytes go until `close` renames them to `path` (the same as `path` when not atomic). */
    private readonly writing: string,
    readonly dtype: NpyDType,
    readonly shape: number[],
    private readonly dataStart: number,
    readonly elements: number,
  ) {}

  static async create(path: string, dtype: NpyDType, shape: number[], options: { atomic?: boolean } = {}): Promise<NpyFileWriter> {
    const header = npyHeader(dtype, shape);
    if (options.atomic) await removeStaleSiblings(path, '.tmp');
    const writing = options.atomic ? siblingName(path, '.tmp') : path;
    let handle: FileHandle | undefined;
    try {
      handle = await open(writing, 'wx');
      await writeAll(handle, header, 0);
      return new NpyFileWriter(handle, path, writing, dtype, shape, header.length, shape.reduce((a, b) => a * b, 1));
    } catch (e) {
      await handle?.close().catch(() => undefined);
      if (writing !== path) await rm(writing, { force: true }).catch(() => undefined);
      throw writeFailure(e, path);
    }
  }

  /** Appends elements after those appended so far. */
  async append(data: Elements): Promise<void> {
    await this.writeAt(this.appended, data);
    this.appended += data.length;
  }

  /** Writes elements starting at element `offset` of the array (row-major). */
  async writeAt(offset: number, data: Elements): Promise<void> {
    if (offset + data.length > this.elements) throw new Error(`NpyFileWriter: ${offset + data.length} elements exceed the ${this.elements} of ${this.path}`);
    try {
      await writeAll(this.handle, new Uint8Array(data.buffer, data.byteOffset, data.byteLength), this.dataStart + offset * BYTES[this.dtype]);
    } catch (e) {
      throw writeFailure(e, this.path);
    }
  }

  /** Flushes and closes (and puts an atomic file in place); checks every element was appended, unless written by offset. */
  async close(): Promise<void> {
    try {
      if (this.appended !== this.elements && this.appended !== 0) {
        throw new Error(`NpyFileWriter: ${this.appended} of ${this.elements} elements written to ${this.path}`);
      }
      await this.handle.sync();
      await this.handle.close();
      if (this.writing !== this.path) await rename(this.writing, this.path);
    } catch (e) {
      await this.abort();
      throw writeFailure(e, this.path);
    }
  }

  /** Closes without finishing: an atomic file's temporary is removed. Never throws. */
  async abort(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    if (this.writing !== this.path) await rm(this.writing, { force: true }).catch(() => undefined);
  }
}

async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.byteLength - done, position + done);
    done += bytesWritten;
  }
}
