/**
 * numpy's .npy format (versions 1, 2 and 3): read little-endian float/int/bool arrays, write float32,
 * float64, int32, int64 and uint8 arrays. Fortran-ordered arrays are transposed to row-major on read.
 * Format: magic "\x93NUMPY", major, minor, header length (uint16 for v1, uint32 for v2/v3), a Python dict
 * literal {'descr': '<f4', 'fortran_order': False, 'shape': (n, d), }, padded so data starts 64-byte aligned.
 */
import { readUserFile } from './files.ts';
import { halfToFloat } from '../checkpoints/dtypes.ts';
import { AudioSaeError } from '../errors.ts';
import { writeFileAtomic } from './atomicWrite.ts';

export type NpyDType = 'float32' | 'float64' | 'int32' | 'int64' | 'uint8' | 'bool';

export interface NpyArray {
  dtype: NpyDType;
  shape: number[];
  /** Elements in row-major order. float16 files are read as float32. */
  data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const DESCR = new Map<string, { dtype: NpyDType | 'float16'; bytes: number }>(Object.entries({
  '<f4': { dtype: 'float32', bytes: 4 },
  '<f8': { dtype: 'float64', bytes: 8 },
  '<f2': { dtype: 'float16', bytes: 2 },
  '<i4': { dtype: 'int32', bytes: 4 },
  '<i8': { dtype: 'int64', bytes: 8 },
  '|u1': { dtype: 'uint8', bytes: 1 },
  '|b1': { dtype: 'bool', bytes: 1 },
}) as Array<[string, { dtype: NpyDType | 'float16'; bytes: number }]>);

const WRITE_DESCR: Record<NpyDType, string> = {
  float32: '<f4', float64: '<f8', int32: '<i4', int64: '<i8', uint8: '|u1', bool: '|b1',
};

/** Parses the header dict literal that numpy writes. */
function parseHeader(text: string, fileName: string): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new AudioSaeError(`not a valid .npy header: ${JSON.stringify(text.trim().slice(0, 120))}.`, fileName);
  }
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  if (shape.some((n) => !Number.isSafeInteger(n) || n < 0)) {
    throw new AudioSaeError(`the .npy header has an invalid shape (${shapeText}).`, fileName);
  }
  return { descr, fortran: fortran === 'True', shape };
}

/** Reorders a column-major (Fortran) buffer into row-major order. */
function fortranToC<T extends NpyArray['data']>(src: T, shape: number[]): T {
  const n = src.length;
  const out = new (src.constructor as new (n: number) => T)(n);
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  // Walk the output in row-major order; compute the column-major source offset.
  const fStrides = new Array<number>(rank);
  let s = 1;
  for (let k = 0; k < rank; k++) {
    fStrides[k] = s;
    s *= shape[k]!;
  }
  for (let i = 0; i < n; i++) {
    let off = 0;
    for (let k = 0; k < rank; k++) off += idx[k]! * fStrides[k]!;
    (out as unknown as number[])[i] = (src as unknown as number[])[off]!;
    for (let k = rank - 1; k >= 0; k--) {
      if (++idx[k]! < shape[k]!) break;
      idx[k] = 0;
    }
  }
  return out;
}

export function parseNpy(bytes: Uint8Array, fileName: string): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new AudioSaeError('not a .npy file (the "\\x93NUMPY" magic is missing).', fileName, 'Save arrays with numpy.save.');
  }
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new AudioSaeError('the .npy file is truncated inside its header.', fileName);
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new AudioSaeError(`unsupported .npy format version ${major}.`, fileName);
  }
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.length) throw new AudioSaeError('the .npy file is truncated inside its header.', fileName);
  const headerText = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, dataStart));
  const { descr, fortran, shape } = parseHeader(headerText, fileName);
  const kind = DESCR.get(descr);
  if (!kind) {
    const hint = descr.startsWith('>') ? 'It is big-endian; save it little-endian (arr.astype(arr.dtype.newbyteorder("<"))).' : 'Use float32, float64, int32, int64, uint8 or bool.';
    throw new AudioSaeError(`unsupported .npy dtype "${descr}".`, fileName, hint);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const need = count * kind.bytes;
  if (bytes.length - dataStart < need) {
    throw new AudioSaeError(
      `the .npy file is truncated: shape (${shape.join(', ')}) needs ${need} data bytes, the file has ${bytes.length - dataStart}.`,
      fileName,
    );
  }
  // Copy into a fresh, aligned buffer (Uint8Array.prototype.slice: Buffer#slice would share the file's buffer).
  const raw = Uint8Array.prototype.slice.call(bytes, dataStart, dataStart + need);
  let data: NpyArray['data'];
  let dtype: NpyDType;
  switch (kind.dtype) {
    case 'float32': data = new Float32Array(raw.buffer); dtype = 'float32'; break;
    case 'float64': data = new Float64Array(raw.buffer); dtype = 'float64'; break;
    case 'int32': data = new Int32Array(raw.buffer); dtype = 'int32'; break;
    case 'int64': data = new BigInt64Array(raw.buffer); dtype = 'int64'; break;
    case 'uint8': data = raw; dtype = 'uint8'; break;
    case 'bool': data = raw; dtype = 'bool'; break;
    case 'float16': {
      const h = new Uint16Array(raw.buffer);
      const f = new Float32Array(h.length);
      for (let i = 0; i < h.length; i++) f[i] = halfToFloat(h[i]!);
      data = f;
      dtype = 'float32';
      break;
    }
  }
  if (fortran && shape.length > 1) data = fortranToC(data, shape);
  return { dtype, shape, data };
}

export async function readNpy(path: string): Promise<NpyArray> {
  return parseNpy(await readUserFile(path), path);
}

/** A float32 [rows, cols] view of an array, converting float64; anything else is an error naming the file. */
export function asFloat32Matrix(arr: NpyArray, fileName: string, what: string): { rows: number; cols: number; data: Float32Array } {
  if (arr.shape.length !== 2) {
    throw new AudioSaeError(`${what} must be a 2-D array [frames, d]; this one has shape (${arr.shape.join(', ')}).`, fileName);
  }
  let data: Float32Array;
  if (arr.data instanceof Float32Array) data = arr.data;
  else if (arr.data instanceof Float64Array) data = Float32Array.from(arr.data);
  else throw new AudioSaeError(`${what} must be float32 or float64; this one is ${arr.dtype}.`, fileName);
  return { rows: arr.shape[0]!, cols: arr.shape[1]!, data };
}

/**
 * The .npy header for an array of this dtype and shape: version 1 (2 when the header needs it), 64-byte
 * aligned. `descr` overrides numpy's type string (e.g. '|S3' for fixed-width bytes).
 */
export function npyHeader(dtype: NpyDType, shapeOf: number[], descr = WRITE_DESCR[dtype]): Uint8Array {
  const shape = shapeOf.length === 1 ? `(${shapeOf[0]},)` : `(${shapeOf.join(', ')})`;
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  let version = 1;
  let prefix = 10;
  if (dict.length + 1 + prefix > 65535) {
    version = 2;
    prefix = 12;
  }
  const total = prefix + dict.length + 1;
  dict += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const header = new Uint8Array(prefix + dict.length);
  header.set(MAGIC, 0);
  header[6] = version;
  header[7] = 0;
  const view = new DataView(header.buffer);
  if (version === 1) view.setUint16(8, dict.length, true);
  else view.setUint32(8, dict.length, true);
  for (let i = 0; i < dict.length; i++) header[prefix + i] = dict.charCodeAt(i);
  return header;
}

/** Serialises an array in .npy format: the header, then the elements' bytes. */
export function encodeNpy(arr: NpyArray): Uint8Array[] {
  const count = arr.shape.reduce((a, b) => a * b, 1);
  if (arr.data.length !== count) throw new Error(`encodeNpy: shape (${arr.shape.join(', ')}) needs ${count} values, got ${arr.data.length}`);
  return [npyHeader(arr.dtype, arr.shape), new Uint8Array(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength)];
}

export async function writeNpy(path: string, arr: NpyArray): Promise<void> {
  await writeFileAtomic(path, encodeNpy(arr));
}
