/**
 * A read-only ZIP reader over a file handle with positional reads, for archives written by `torch.save`
 * (which can exceed 2 GiB, so the file is never read whole). Entries are located through the central
 * directory; each entry's data offset comes from its LOCAL header, whose extra field differs from the central
 * one when the writer pads for alignment. ZIP64 sizes and offsets are honoured. STORED and DEFLATE entries.
 *
 * Every number the archive declares is checked against the file's size before it is used: the central
 * directory and each entry's local header and data must lie inside the file, a STORED entry's size equals its
 * compressed size, a DEFLATE entry cannot claim more than deflate's maximum ratio, the entry count must fit the
 * central directory, and names are unique. So no size field can make a reader allocate more than the file
 * justifies.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { writeFile, type FileHandle } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInflateRaw, inflateRawSync } from 'node:zlib';
import { AudioSaeError } from '../errors.ts';
import { clip } from './describe.ts';
import { openRegularFile, readExactly } from './files.ts';

export interface ZipEntry {
  name: string;
  method: number; // 0 stored, 8 deflate
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const CENTRAL_HEADER_BYTES = 46;
const LOCAL_HEADER_BYTES = 30;
/** DEFLATE cannot expand data by more than about 1032:1 (258-byte matches coded in 2 bits). */
const MAX_DEFLATE_RATIO = 1032;
const MAX_CENTRAL_DIRECTORY_BYTES = 256 * 1024 * 1024;

export class ZipReader {
  private constructor(
    private readonly handle: FileHandle,
    readonly file: string,
    readonly fileSize: number,
    readonly entries: Map<string, ZipEntry>,
  ) {}

  static async open(file: string): Promise<ZipReader> {
    const { handle, size } = await openRegularFile(file);
    try {
      const entries = await readCentralDirectory(handle, file, size);
      return new ZipReader(handle, file, size, entries);
    } catch (e) {
      await handle.close().catch(() => undefined);
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  /** Reads `length` bytes at `position`, failing clearly (before allocating) if the file ends first. */
  async readAt(position: number, length: number): Promise<Uint8Array> {
    return readExactly(this.handle, this.file, position, length, this.fileSize);
  }

  /** Where an entry's data starts, from its local header; the data is checked to lie inside the file. */
  async dataOffset(entry: ZipEntry): Promise<number> {
    const h = await this.readAt(entry.localHeaderOffset, LOCAL_HEADER_BYTES);
    const v = new DataView(h.buffer, h.byteOffset, LOCAL_HEADER_BYTES);
    if (v.getUint32(0, true) !== LOCAL_SIG) {
      throw new AudioSaeError(`is corrupt: the local header of "${clip(entry.name)}" is missing.`, this.file);
    }
    const start = entry.localHeaderOffset + LOCAL_HEADER_BYTES + v.getUint16(26, true) + v.getUint16(28, true);
    if (start + entry.compressedSize > this.fileSize) {
      throw new AudioSaeError(`is truncated: "${clip(entry.name)}" needs ${entry.compressedSize} bytes at offset ${start}, the file has ${this.fileSize}.`, this.file);
    }
    return start;
  }

  /** The whole (decompressed) contents of an entry; for small entries such as data.pkl. */
  async read(entry: ZipEntry, maxBytes = 1 << 30): Promise<Uint8Array> {
    if (entry.size > maxBytes) throw new AudioSaeError(`"${clip(entry.name)}" is ${entry.size} bytes, more than the ${maxBytes} allowed.`, this.file);
    const start = await this.dataOffset(entry);
    const raw = await this.readAt(start, entry.compressedSize);
    if (entry.method === 0) return raw;
    if (entry.method === 8) {
      try {
        return inflateRawSync(raw, { maxOutputLength: Math.max(entry.size, 1) });
      } catch (e) {
        throw new AudioSaeError(`is corrupt: "${clip(entry.name)}" does not inflate to its declared ${entry.size} bytes (${(e as Error).message}).`, this.file);
      }
    }
    throw new AudioSaeError(`uses ZIP compression method ${entry.method} for "${clip(entry.name)}", which is not supported.`, this.file);
  }

  /**
   * Streams an entry's (decompressed) contents into a file, for entries too large to hold in memory. The
   * output stops with an error as soon as it exceeds the entry's declared size (a zip bomb fills no disk).
   */
  async extractTo(entry: ZipEntry, destination: string, signal?: AbortSignal): Promise<void> {
    if (entry.method !== 0 && entry.method !== 8) {
      throw new AudioSaeError(`uses ZIP compression method ${entry.method} for "${clip(entry.name)}", which is not supported.`, this.file);
    }
    const start = await this.dataOffset(entry);
    if (entry.compressedSize === 0) {
      await writeFile(destination, new Uint8Array(0), { signal });
      return;
    }
    const source = createReadStream(this.file, { start, end: start + entry.compressedSize - 1 });
    let written = 0;
    const file = this.file;
    const limit = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        written += chunk.length;
        if (written > entry.size) done(new AudioSaeError(`is corrupt: "${clip(entry.name)}" inflates to more than its declared ${entry.size} bytes.`, file));
        else done(null, chunk);
      },
    });
    const sink = createWriteStream(destination);
    if (entry.method === 8) await pipeline(source, createInflateRaw(), limit, sink, { signal });
    else await pipeline(source, limit, sink, { signal });
  }
}

/** A 64-bit field as a number, refused when it exceeds `max` (so no unsafe integer is ever used). */
function bounded(v: bigint, max: number, what: string, file: string): number {
  if (v > BigInt(max)) throw new AudioSaeError(`is corrupt: its ${what} is ${v}, beyond the file's ${max} bytes.`, file);
  return Number(v);
}

async function readCentralDirectory(handle: FileHandle, file: string, size: number): Promise<Map<string, ZipEntry>> {
  if (size < 22) throw new AudioSaeError(`is not a ZIP archive (only ${size} bytes).`, file);
  const tailLen = Math.min(size, 22 + 65535 + 20);
  const tail = await readExactly(handle, file, size - tailLen, tailLen, size);
  const tv = new DataView(tail.buffer);
  let eocd = -1;
  for (let i = tailLen - 22; i >= 0; i--) {
    if (tv.getUint32(i, true) === EOCD_SIG) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new AudioSaeError('is not a ZIP archive or is truncated (no end-of-central-directory record).', file);
  let count: bigint = BigInt(tv.getUint16(eocd + 10, true));
  let cdSize = tv.getUint32(eocd + 12, true);
  let cdOffset = tv.getUint32(eocd + 16, true);
  if ((count === 0xffffn || cdSize === 0xffffffff || cdOffset === 0xffffffff) && eocd >= 20 && tv.getUint32(eocd - 20, true) === ZIP64_LOCATOR_SIG) {
    const z64At = bounded(tv.getBigUint64(eocd - 20 + 8, true), size, 'ZIP64 end-of-central-directory offset', file);
    const z = await readExactly(handle, file, z64At, 56, size);
    const zv = new DataView(z.buffer);
    if (zv.getUint32(0, true) !== ZIP64_EOCD_SIG) throw new AudioSaeError('is corrupt: bad ZIP64 end-of-central-directory record.', file);
    count = zv.getBigUint64(32, true);
    cdSize = bounded(zv.getBigUint64(40, true), size, 'ZIP64 central directory size', file);
    cdOffset = bounded(zv.getBigUint64(48, true), size, 'ZIP64 central directory offset', file);
  }
  if (cdOffset + cdSize > size || cdSize > MAX_CENTRAL_DIRECTORY_BYTES) {
    throw new AudioSaeError('is corrupt or truncated: its central directory lies outside the file.', file);
  }
  if (count * BigInt(CENTRAL_HEADER_BYTES) > BigInt(cdSize)) {
    throw new AudioSaeError(`is corrupt: it declares ${count} entries, more than its ${cdSize}-byte central directory can hold.`, file);
  }
  const cd = await readExactly(handle, file, cdOffset, cdSize, size);
  const v = new DataView(cd.buffer);
  const entries = new Map<string, ZipEntry>();
  const decoder = new TextDecoder();
  let p = 0;
  for (let n = 0; n < count; n++) {
    if (p + CENTRAL_HEADER_BYTES > cd.length || v.getUint32(p, true) !== CENTRAL_SIG) {
      throw new AudioSaeError(`is corrupt: central directory entry ${n} is damaged.`, file);
    }
    const method = v.getUint16(p + 10, true);
    let compressedSize = v.getUint32(p + 20, true);
    let uncompressed = v.getUint32(p + 24, true);
    const nameLen = v.getUint16(p + 28, true);
    const extraLen = v.getUint16(p + 30, true);
    const commentLen = v.getUint16(p + 32, true);
    let localHeaderOffset = v.getUint32(p + 42, true);
    const entryEnd = p + CENTRAL_HEADER_BYTES + nameLen + extraLen + commentLen;
    if (entryEnd > cd.length) throw new AudioSaeError(`is corrupt: central directory entry ${n} overruns.`, file);
    const name = decoder.decode(cd.subarray(p + CENTRAL_HEADER_BYTES, p + CENTRAL_HEADER_BYTES + nameLen));
    // ZIP64 extended information: the 64-bit values appear in order, only for fields saturated above.
    let e = p + CENTRAL_HEADER_BYTES + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = v.getUint16(e, true);
      const len = v.getUint16(e + 2, true);
      const fieldEnd = e + 4 + len;
      if (fieldEnd > extraEnd) throw new AudioSaeError(`is corrupt: an extra field of "${clip(name)}" overruns its entry.`, file);
      if (id === 0x0001) {
        let q = e + 4;
        const next = (what: string): bigint => {
          if (q + 8 > fieldEnd) throw new AudioSaeError(`is corrupt: the ZIP64 field of "${clip(name)}" lacks its ${what}.`, file);
          q += 8;
          return v.getBigUint64(q - 8, true);
        };
        // The uncompressed size may exceed the file (DEFLATE); its bound is checked against the ratio below.
        if (uncompressed === 0xffffffff) uncompressed = bounded(next('size'), Number.MAX_SAFE_INTEGER, `size of "${clip(name)}"`, file);
        if (compressedSize === 0xffffffff) compressedSize = bounded(next('compressed size'), size, `compressed size of "${clip(name)}"`, file);
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = bounded(next('offset'), size, `offset of "${clip(name)}"`, file);
      }
      e = fieldEnd;
    }
    checkEntry({ name, method, compressedSize, size: uncompressed, localHeaderOffset }, cdOffset, file);
    if (entries.has(name)) throw new AudioSaeError(`is corrupt: it holds two entries named "${clip(name)}".`, file);
    entries.set(name, { name, method, compressedSize, size: uncompressed, localHeaderOffset });
    p = entryEnd;
  }
  return entries;
}

/** An entry's local header and data must lie before the central directory; its sizes must agree. */
function checkEntry(entry: ZipEntry, cdOffset: number, file: string): void {
  const { name, method, compressedSize, size, localHeaderOffset } = entry;
  if (localHeaderOffset + LOCAL_HEADER_BYTES + compressedSize > cdOffset) {
    throw new AudioSaeError(
      `is corrupt: "${clip(name)}" claims ${compressedSize} bytes at offset ${localHeaderOffset}, past the ${cdOffset} bytes of entry data the file has.`,
      file,
    );
  }
  if (method === 0 && size !== compressedSize) {
    throw new AudioSaeError(`is corrupt: the stored entry "${clip(name)}" declares ${size} bytes but holds ${compressedSize}.`, file);
  }
  if (method === 8 && size > Math.max(compressedSize, 1) * MAX_DEFLATE_RATIO) {
    throw new AudioSaeError(`is corrupt: "${clip(name)}" declares ${size} bytes, more than its ${compressedSize} compressed bytes can inflate to.`, file);
  }
}
