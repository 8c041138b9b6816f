/**
 * A read-only ZIP reader over a file handle with positional reads, for archives written by `torch.save`
 * (which can exceed 2 GiB, so the file is never read whole). Entries are located through the central
 * directory; each entry's data offset comes from its LOCAL header, whose extra field differs from the central
 * one when the writer pads for alignment. ZIP64 sizes and offsets are honoured. STORED and DEFLATE entries.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createInflateRaw, inflateRawSync } from 'node:zlib';
import { AudioSaeError } from '../errors.ts';

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

export class ZipReader {
  private constructor(
    private readonly handle: FileHandle,
    readonly file: string,
    readonly fileSize: number,
    readonly entries: Map<string, ZipEntry>,
  ) {}

  static async open(file: string): Promise<ZipReader> {
    const handle = await open(file, 'r');
    try {
      const size = (await handle.stat()).size;
      const entries = await readCentralDirectory(handle, file, size);
      return new ZipReader(handle, file, size, entries);
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  /** Reads `length` bytes at `position`, failing clearly if the file ends first. */
  async readAt(position: number, length: number): Promise<Uint8Array> {
    return readExactly(this.handle, this.file, position, length);
  }

  /** Where an entry's data starts, from its local header. */
  async dataOffset(entry: ZipEntry): Promise<number> {
    const h = await this.readAt(entry.localHeaderOffset, 30);
    const v = new DataView(h.buffer, h.byteOffset, 30);
    if (v.getUint32(0, true) !== LOCAL_SIG) {
      throw new AudioSaeError(`is corrupt: the local header of "${entry.name}" is missing.`, this.file);
    }
    const start = entry.localHeaderOffset + 30 + v.getUint16(26, true) + v.getUint16(28, true);
    if (start + entry.compressedSize > this.fileSize) {
      throw new AudioSaeError(`is truncated: "${entry.name}" needs ${entry.compressedSize} bytes at offset ${start}, the file has ${this.fileSize}.`, this.file);
    }
    return start;
  }

  /** The whole (decompressed) contents of an entry; for small entries such as data.pkl. */
  async read(entry: ZipEntry, maxBytes = 1 << 30): Promise<Uint8Array> {
    if (entry.size > maxBytes) throw new AudioSaeError(`"${entry.name}" is ${entry.size} bytes, more than the ${maxBytes} allowed.`, this.file);
    const start = await this.dataOffset(entry);
    const raw = await this.readAt(start, entry.compressedSize);
    if (entry.method === 0) return raw;
    if (entry.method === 8) {
      try {
        return inflateRawSync(raw, { maxOutputLength: Math.max(entry.size, 1) });
      } catch (e) {
        throw new AudioSaeError(`is corrupt: "${entry.name}" does not inflate (${(e as Error).message}).`, this.file);
      }
    }
    throw new AudioSaeError(`uses ZIP compression method ${entry.method} for "${entry.name}", which is not supported.`, this.file);
  }

  /** Streams an entry's (decompressed) contents into a file, for entries too large to hold in memory. */
  async extractTo(entry: ZipEntry, destination: string, signal?: AbortSignal): Promise<void> {
    if (entry.method !== 0 && entry.method !== 8) {
      throw new AudioSaeError(`uses ZIP compression method ${entry.method} for "${entry.name}", which is not supported.`, this.file);
    }
    const start = await this.dataOffset(entry);
    const source = createReadStream(this.file, { start, end: start + entry.compressedSize - 1 });
    const sink = createWriteStream(destination);
    if (entry.method === 8) await pipeline(source, createInflateRaw(), sink, { signal });
    else await pipeline(source, sink, { signal });
  }
}

export async function readExactly(handle: FileHandle, file: string, position: number, length: number): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buf, done, Math.min(length - done, 1 << 30), position + done);
    if (bytesRead === 0) throw new AudioSaeError(`is truncated: expected ${length} bytes at offset ${position}, the file ends first.`, file);
    done += bytesRead;
  }
  return buf;
}

async function readCentralDirectory(handle: FileHandle, file: string, size: number): Promise<Map<string, ZipEntry>> {
  if (size < 22) throw new AudioSaeError(`is not a ZIP archive (only ${size} bytes).`, file);
  const tailLen = Math.min(size, 22 + 65535 + 20);
  const tail = await readExactly(handle, file, size - tailLen, tailLen);
  const tv = new DataView(tail.buffer);
  let eocd = -1;
  for (let i = tailLen - 22; i >= 0; i--) {
    if (tv.getUint32(i, true) === EOCD_SIG) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new AudioSaeError('is not a ZIP archive or is truncated (no end-of-central-directory record).', file);
  let count = tv.getUint16(eocd + 10, true);
  let cdSize = tv.getUint32(eocd + 12, true);
  let cdOffset = tv.getUint32(eocd + 16, true);
  if ((count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) && eocd >= 20 && tv.getUint32(eocd - 20, true) === ZIP64_LOCATOR_SIG) {
    const z64At = Number(tv.getBigUint64(eocd - 20 + 8, true));
    const z = await readExactly(handle, file, z64At, 56);
    const zv = new DataView(z.buffer);
    if (zv.getUint32(0, true) !== ZIP64_EOCD_SIG) throw new AudioSaeError('is corrupt: bad ZIP64 end-of-central-directory record.', file);
    count = Number(zv.getBigUint64(32, true));
    cdSize = Number(zv.getBigUint64(40, true));
    cdOffset = Number(zv.getBigUint64(48, true));
  }
  if (cdOffset + cdSize > size || cdSize > 256 * 1024 * 1024) {
    throw new AudioSaeError('is corrupt or truncated: its central directory lies outside the file.', file);
  }
  const cd = await readExactly(handle, file, cdOffset, cdSize);
  const v = new DataView(cd.buffer);
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let n = 0; n < count; n++) {
    if (p + 46 > cd.length || v.getUint32(p, true) !== CENTRAL_SIG) {
      throw new AudioSaeError(`is corrupt: central directory entry ${n} is damaged.`, file);
    }
    const method = v.getUint16(p + 10, true);
    let compressedSize = v.getUint32(p + 20, true);
    let uncompressed = v.getUint32(p + 24, true);
    const nameLen = v.getUint16(p + 28, true);
    const extraLen = v.getUint16(p + 30, true);
    const commentLen = v.getUint16(p + 32, true);
    let localHeaderOffset = v.getUint32(p + 42, true);
    if (p + 46 + nameLen + extraLen > cd.length) throw new AudioSaeError(`is corrupt: central directory entry ${n} overruns.`, file);
    const name = new TextDecoder().decode(cd.subarray(p + 46, p + 46 + nameLen));
    // ZIP64 extended information: the 64-bit values appear in order, only for fields saturated above.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = v.getUint16(e, true);
      const len = v.getUint16(e + 2, true);
      if (id === 0x0001) {
        let q = e + 4;
        if (uncompressed === 0xffffffff) { uncompressed = Number(v.getBigUint64(q, true)); q += 8; }
        if (compressedSize === 0xffffffff) { compressedSize = Number(v.getBigUint64(q, true)); q += 8; }
        if (localHeaderOffset === 0xffffffff) { localHeaderOffset = Number(v.getBigUint64(q, true)); q += 8; }
      }
      e += 4 + len;
    }
    entries.set(name, { name, method, compressedSize, size: uncompressed, localHeaderOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}
