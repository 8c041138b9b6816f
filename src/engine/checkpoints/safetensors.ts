/**
 * safetensors files: an 8-byte little-endian header length, a JSON header (possibly space-padded, possibly with
 * a `__metadata__` entry of string values) mapping names to {dtype, shape, data_offsets}, then the data.
 * Offsets are relative to the end of the header and need not follow the header's key order. Tensors are read
 * positionally, so files over 2 GiB work and only the requested tensors are read.
 *
 * The header is validated as the reference library (huggingface/safetensors, `Metadata::validate`) does: it
 * is a JSON object of objects; sorted by offset, the tensors tile the data section exactly — the first starts
 * at 0, each starts where the previous one ended, each holds exactly shape × itemsize bytes, and the last ends
 * at the end of the file. Overlapping, out-of-range or gapped offsets are refused naming the tensor. Tensor
 * names are kept in a Map, so names such as `__proto__` or `constructor` are plain names.
 */
import type { FileHandle } from 'node:fs/promises';
import { AudioSaeError } from '../errors.ts';
import { clip, describeValue } from './describe.ts';
import { dtypeByteSize, typedArrayFor } from './dtypes.ts';
import { openRegularFile, readExactly } from './files.ts';
import type { DType, StateDict } from './tensor.ts';

const DTYPES = new Map<string, DType>([
  ['F32', 'float32'], ['F16', 'float16'], ['BF16', 'bfloat16'], ['F64', 'float64'], ['I64', 'int64'], ['I32', 'int32'],
  ['I16', 'int16'], ['I8', 'int8'], ['U8', 'uint8'], ['BOOL', 'bool'],
]);
/** The reference library's limit. */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;
const MAX_RANK = 64;

export interface SafetensorsEntry {
  dtype: DType;
  shape: number[];
  /** Absolute byte range in the file. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  entries: Map<string, SafetensorsEntry>;
  /** The `__metadata__` strings (e.g. format → pt). */
  metadata: Map<string, string>;
  fileSize: number;
}

export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  const { handle, size } = await openRegularFile(path);
  try {
    return await readHeader(handle, size, path);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const own = (o: Record<string, unknown>, key: string): unknown => (Object.hasOwn(o, key) ? o[key] : undefined);

async function readHeader(handle: FileHandle, fileSize: number, path: string): Promise<SafetensorsHeader> {
  if (fileSize < 8) throw new AudioSaeError(`is not a safetensors file (only ${fileSize} bytes).`, path);
  const lenBytes = await readExactly(handle, path, 0, 8, fileSize);
  const headerLenBig = new DataView(lenBytes.buffer).getBigUint64(0, true);
  if (headerLenBig > BigInt(MAX_HEADER_BYTES) || 8n + headerLenBig > BigInt(fileSize)) {
    throw new AudioSaeError(`is not a valid safetensors file: its header claims ${headerLenBig} bytes (file: ${fileSize}).`, path);
  }
  const headerLen = Number(headerLenBig);
  const text = new TextDecoder().decode(await readExactly(handle, path, 8, headerLen, fileSize));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AudioSaeError('is not a valid safetensors file: its header is not JSON.', path);
  }
  if (!isObject(json)) throw new AudioSaeError(`is not a valid safetensors file: its header is ${describeValue(json)}, not a JSON object.`, path);
  const dataStart = 8 + headerLen;
  const dataSize = fileSize - dataStart;
  const found: Array<{ name: string; dtype: DType; shape: number[]; begin: number; end: number }> = [];
  const metadata = new Map<string, string>();
  // Object.entries lists own properties only; JSON.parse makes "__proto__" an own property, never a prototype.
  for (const [name, value] of Object.entries(json)) {
    const what = `tensor "${clip(name)}"`;
    if (name === '__metadata__') {
      if (value === null) continue;
      if (!isObject(value)) throw new AudioSaeError(`has a "__metadata__" that is ${describeValue(value)}, not an object of strings.`, path);
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'string') throw new AudioSaeError(`has a "__metadata__" entry "${clip(k)}" that is ${describeValue(v)}, not a string.`, path);
        metadata.set(k, v);
      }
      continue;
    }
    if (!isObject(value)) throw new AudioSaeError(`${what} is described by ${describeValue(value)}, not an object with dtype, shape and data_offsets.`, path);
    const dtypeName = own(value, 'dtype');
    const dtype = typeof dtypeName === 'string' ? DTYPES.get(dtypeName) : undefined;
    if (!dtype) throw new AudioSaeError(`${what} has an unsupported dtype ${describeValue(dtypeName)}.`, path);
    const shape = own(value, 'shape');
    if (!Array.isArray(shape) || shape.length > MAX_RANK || !shape.every((s) => Number.isSafeInteger(s) && s >= 0)) {
      throw new AudioSaeError(`${what} has an invalid shape (${describeValue(shape)}; expected a list of up to ${MAX_RANK} non-negative integers).`, path);
    }
    const offsets = own(value, 'data_offsets');
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw new AudioSaeError(`${what} has invalid data_offsets (${describeValue(offsets)}; expected [begin, end]).`, path);
    }
    const [b, e] = offsets as [number, number];
    const sizes = shape as number[];
    // shape × itemsize, no longer exact once past 2^53 (then it cannot match the offsets anyway).
    let bytes = sizes.includes(0) ? 0 : dtypeByteSize(dtype);
    for (let i = 0; i < sizes.length && bytes <= Number.MAX_SAFE_INTEGER; i++) bytes *= sizes[i]!;
    if (e < b || e - b !== bytes) {
      throw new AudioSaeError(
        `${what} has data_offsets [${b}, ${e}] that do not fit its shape [${sizes.join(', ')}] and dtype ${dtypeName}` +
          `${bytes > Number.MAX_SAFE_INTEGER ? ' (more than 2^53 bytes)' : ` (${bytes} bytes)`}.`,
        path,
      );
    }
    if (e > dataSize) {
      throw new AudioSaeError(`is truncated: ${what} ends at byte ${dataStart + e}, the file has ${fileSize}.`, path);
    }
    found.push({ name, dtype, shape: sizes, begin: b, end: e });
  }
  checkTiling(found, dataSize, path);
  const entries = new Map<string, SafetensorsEntry>();
  for (const t of found) entries.set(t.name, { dtype: t.dtype, shape: t.shape, begin: dataStart + t.begin, end: dataStart + t.end });
  return { entries, metadata, fileSize };
}

/** Sorted by offset, the tensors cover [0, dataSize) exactly once, in order, with no gap. */
function checkTiling(found: Array<{ name: string; begin: number; end: number }>, dataSize: number, path: string): void {
  const sorted = [...found].sort((x, y) => x.begin - y.begin || x.end - y.end);
  let expected = 0;
  let previous: string | undefined;
  for (const t of sorted) {
    if (t.begin < expected) {
      throw new AudioSaeError(`tensor "${clip(t.name)}" (bytes ${t.begin}–${t.end}) overlaps tensor "${clip(previous!)}", which ends at ${expected}.`, path);
    }
    if (t.begin > expected) {
      throw new AudioSaeError(
        `tensor "${clip(t.name)}" starts at byte ${t.begin}, leaving ${t.begin - expected} unused bytes after ${previous === undefined ? 'the header' : `tensor "${clip(previous)}"`}; safetensors data must be contiguous.`,
        path,
      );
    }
    expected = t.end;
    previous = t.name;
  }
  if (expected !== dataSize) {
    throw new AudioSaeError(`has ${dataSize - expected} bytes after its last tensor that no tensor describes; safetensors data must end with the last tensor.`, path);
  }
}

export async function loadSafetensors(path: string, filter: (key: string) => boolean = () => true): Promise<StateDict> {
  const { handle, size } = await openRegularFile(path);
  try {
    const header = await readHeader(handle, size, path);
    const out: StateDict = new Map();
    for (const [name, e] of header.entries) {
      if (!filter(name)) continue;
      const bytes = await readExactly(handle, path, e.begin, e.end - e.begin, size);
      const numel = e.shape.reduce((a, s) => a * s, 1);
      out.set(name, { dtype: e.dtype, shape: e.shape, data: typedArrayFor(e.dtype, bytes.buffer, bytes.byteOffset, numel) });
    }
    return out;
  } finally {
    await handle.close().catch(() => undefined);
  }
}
