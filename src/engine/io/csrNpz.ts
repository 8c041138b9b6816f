/**
 * Sparse codes as the `.npz` that `scipy.sparse.save_npz` writes for a CSR matrix, so Python reads them with
 * `scipy.sparse.load_npz(path)` (or `numpy.load(path)`): a STORED zip of `indices.npy` (int32 feature ids),
 * `indptr.npy` (int64 row offsets, rows = frames), `format.npy` (b'csr'), `shape.npy` (int64 [frames, F]) and
 * `data.npy` (float32 values). Within a row, entries are in the codes' own order (descending value); scipy
 * accepts unsorted indices.
 *
 * Rows are appended as they are computed; each array streams to a scratch file beside the target, and the zip
 * is assembled from them at the end, so memory stays at one chunk of rows whatever the clip's length.
 */
import { open, rm, type FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { AudioSaeError } from '../errors.ts';
import { writeFailure } from './files.ts';
import type { SparseCodes } from '../sae/sparseCodes.ts';
import { npyHeader } from './npy.ts';

const COPY_BLOCK = 1 << 22;
const ZIP_LIMIT = 0xffffffff;

class Scratch {
  bytes = 0;
  private constructor(readonly path: string, readonly handle: FileHandle) {}
  static async open(path: string): Promise<Scratch> {
    try {
      return new Scratch(path, await open(path, 'wx+'));
    } catch (e) {
      throw writeFailure(e, path);
    }
  }
  async append(data: ArrayBufferView): Promise<void> {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    let done = 0;
    while (done < bytes.length) done += (await this.handle.write(bytes, done, bytes.length - done, this.bytes + done)).bytesWritten;
    this.bytes += bytes.length;
  }
}

export class CsrNpzWriter {
  private rows = 0;
  private nnz = 0;

  private constructor(
    readonly path: string,
    readonly cols: number,
    private readonly indptr: Scratch,
    private readonly indices: Scratch,
    private readonly data: Scratch,
  ) {}

  /** Starts `path` for a matrix of `cols` columns (the SAE's dictionary size). */
  static async create(path: string, cols: number): Promise<CsrNpzWriter> {
    const scratch: Scratch[] = [];
    try {
      for (const part of ['indptr', 'indices', 'data']) scratch.push(await Scratch.open(`${path}.${part}.scratch`));
      const w = new CsrNpzWriter(path, cols, scratch[0]!, scratch[1]!, scratch[2]!);
      await w.indptr.append(BigInt64Array.of(0n));
      return w;
    } catch (e) {
      for (const s of scratch) await s.handle.close().catch(() => undefined);
      for (const s of scratch) await rm(s.path, { force: true });
      throw writeFailure(e, path);
    }
  }

  /** Appends the rows of a chunk (the next frames in order). */
  async append(rows: SparseCodes): Promise<void> {
    const offsets = new BigInt64Array(rows.frames);
    for (let t = 0; t < rows.frames; t++) offsets[t] = BigInt(this.nnz + rows.rowPtr[t + 1]! - rows.rowPtr[0]!);
    const from = rows.rowPtr[0]!;
    const to = rows.rowPtr[rows.frames]!;
    try {
      await this.indptr.append(offsets);
      await this.indices.append(rows.indices.subarray(from, to));
      await this.data.append(rows.values.subarray(from, to));
    } catch (e) {
      throw writeFailure(e, this.path);
    }
    this.rows += rows.frames;
    this.nnz += to - from;
  }

  /** Writes the .npz from the rows appended and removes the scratch files. */
  async close(): Promise<{ rows: number; nonZeros: number }> {
    const shape = BigInt64Array.of(BigInt(this.rows), BigInt(this.cols));
    const format = new TextEncoder().encode('csr');
    const entries: Array<{ name: string; header: Uint8Array; body: Scratch | Uint8Array }> = [
      { name: 'indices.npy', header: npyHeader('int32', [this.nnz]), body: this.indices },
      { name: 'indptr.npy', header: npyHeader('int64', [this.rows + 1]), body: this.indptr },
      { name: 'format.npy', header: npyHeader('uint8', [], '|S3'), body: format },
      { name: 'shape.npy', header: npyHeader('int64', [2]), body: new Uint8Array(shape.buffer) },
      { name: 'data.npy', header: npyHeader('float32', [this.nnz]), body: this.data },
    ];
    let out: FileHandle | undefined;
    try {
      out = await open(this.path, 'wx');
      const zip = new ZipOut(out);
      for (const e of entries) await zip.add(e.name, e.header, e.body);
      await zip.finish();
      await out.sync();
    } catch (e) {
      throw e instanceof AudioSaeError ? e : writeFailure(e, this.path);
    } finally {
      await out?.close().catch(() => undefined);
      await this.discardScratch();
    }
    return { rows: this.rows, nonZeros: this.nnz };
  }

  /** Removes the scratch files (after a failure); never throws. */
  async discardScratch(): Promise<void> {
    for (const s of [this.indptr, this.indices, this.data]) {
      await s.handle.close().catch(() => undefined);
      await rm(s.path, { force: true }).catch(() => undefined);
    }
  }
}

/** A STORED zip written in order: local header, data, then the central directory. */
class ZipOut {
  private at = 0;
  private readonly central: Uint8Array[] = [];
  private count = 0;

  constructor(private readonly handle: FileHandle) {}

  private async write(bytes: Uint8Array): Promise<void> {
    let done = 0;
    while (done < bytes.length) done += (await this.handle.write(bytes, done, bytes.length - done, this.at + done)).bytesWritten;
    this.at += bytes.length;
  }

  async add(name: string, header: Uint8Array, body: Scratch | Uint8Array): Promise<void> {
    const size = header.length + (body instanceof Uint8Array ? body.length : body.bytes);
    if (size > ZIP_LIMIT || this.at + size > ZIP_LIMIT) {
      throw new AudioSaeError('cannot hold codes this large: the .npz would exceed 4 GiB.', name, 'Write them as Parquet instead.');
    }
    // First pass: the CRC (the local header needs it before the data).
    let crc = crc32(header);
    await forEachBlock(body, (b) => { crc = crc32(b, crc); });
    const nameBytes = new TextEncoder().encode(name);
    const offset = this.at;
    const local = new Uint8Array(30 + nameBytes.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true); // version needed
    lv.setUint32(14, crc >>> 0, true);
    lv.setUint32(18, size, true);
    lv.setUint32(22, size, true);
    lv.setUint16(26, nameBytes.length, true);
    local.set(nameBytes, 30);
    await this.write(local);
    await this.write(header);
    if (body instanceof Uint8Array) await this.write(body);
    else await forEachBlock(body, (b) => this.write(b));
    const cd = new Uint8Array(46 + nameBytes.length);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true); // version made by
    cv.setUint16(6, 20, true); // version needed
    cv.setUint32(16, crc >>> 0, true);
    cv.setUint32(20, size, true);
    cv.setUint32(24, size, true);
    cv.setUint16(28, nameBytes.length, true);
    cv.setUint32(42, offset, true);
    cd.set(nameBytes, 46);
    this.central.push(cd);
    this.count++;
  }

  async finish(): Promise<void> {
    const start = this.at;
    for (const cd of this.central) await this.write(cd);
    const end = new Uint8Array(22);
    const ev = new DataView(end.buffer);
    ev.setUint32(0, 0x06054b50, true);
    ev.setUint16(8, this.count, true);
    ev.setUint16(10, this.count, true);
    ev.setUint32(12, this.at - start, true);
    ev.setUint32(16, start, true);
    await this.write(end);
  }
}

async function forEachBlock(body: Scratch | Uint8Array, use: (block: Uint8Array) => void | Promise<void>): Promise<void> {
  if (body instanceof Uint8Array) return void (await use(body));
  const buf = new Uint8Array(Math.min(COPY_BLOCK, Math.max(1, body.bytes)));
  for (let p = 0; p < body.bytes; ) {
    const { bytesRead } = await body.handle.read(buf, 0, Math.min(buf.length, body.bytes - p), p);
    if (bytesRead === 0) throw new Error(`scratch file ${body.path} ended early`);
    await use(buf.subarray(0, bytesRead));
    p += bytesRead;
  }
}
