/**
 * safetensors files: an 8-byte little-endian header length, a JSON header (possibly space-padded, possibly with
 * a `__metadata__` entry) mapping names to {dtype, shape, data_offsets}, then the data. Offsets are relative to
 * the end of the header and need not follow the header's key order. Tensors are read positionally, so files
 * over 2 GiB work and only the requested tensors are read.
 */
import { open } from 'node:fs/promises';
import { AudioSaeError } from '../errors.ts';
import { dtypeByteSize, typedArrayFor } from './dtypes.ts';
import type { DType, StateDict } from './tensor.ts';
import { readExactly } from './zip.ts';

const DTYPES: Record<string, DType> = {
  F32: 'float32', F16: 'float16', BF16: 'bfloat16', F64: 'float64', I64: 'int64', I32: 'int32', I16: 'int16', I8: 'int8', U8: 'uint8', BOOL: 'bool',
};
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface SafetensorsEntry {
  dtype: DType;
  shape: number[];
  /** Absolute byte range in the file. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  entries: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
  fileSize: number;
}

async function openFile(path: string) {
  try {
    return await open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new AudioSaeError(code === 'ENOENT' ? 'file not found.' : `cannot open the file (${code}).`, path);
  }
}

export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  const handle = await openFile(path);
  try {
    return await readHeader(handle, path);
  } finally {
    await handle.close();
  }
}

async function readHeader(handle: Awaited<ReturnType<typeof open>>, path: string): Promise<SafetensorsHeader> {
  const fileSize = (await handle.stat()).size;
  if (fileSize < 8) throw new AudioSaeError(`is not a safetensors file (only ${fileSize} bytes).`, path);
  const lenBytes = await readExactly(handle, path, 0, 8);
  const headerLen = Number(new DataView(lenBytes.buffer).getBigUint64(0, true));
  if (headerLen > MAX_HEADER_BYTES || 8 + headerLen > fileSize) {
    throw new AudioSaeError(`is not a valid safetensors file: its header claims ${headerLen} bytes (file: ${fileSize}).`, path);
  }
  const text = new TextDecoder().decode(await readExactly(handle, path, 8, headerLen));
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new AudioSaeError('is not a valid safetensors file: its header is not JSON.', path);
  }
  const dataStart = 8 + headerLen;
  const entries = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(json)) {
    if (name === '__metadata__') {
      metadata = (value ?? {}) as Record<string, string>;
      continue;
    }
    const v = value as { dtype?: string; shape?: number[]; data_offsets?: number[] };
    const dtype = DTYPES[v.dtype ?? ''];
    if (!dtype) throw new AudioSaeError(`tensor "${name}" has an unsupported dtype "${v.dtype}".`, path);
    if (!Array.isArray(v.shape) || !v.shape.every((s) => Number.isSafeInteger(s) && s >= 0)) {
      throw new AudioSaeError(`tensor "${name}" has an invalid shape.`, path);
    }
    const [b, e] = v.data_offsets ?? [];
    const numel = v.shape.reduce((a, s) => a * s, 1);
    if (!Number.isSafeInteger(b) || !Number.isSafeInteger(e) || b! < 0 || e! < b! || e! - b! !== numel * dtypeByteSize(dtype)) {
      throw new AudioSaeError(`tensor "${name}" has data_offsets [${b}, ${e}] that do not fit its shape [${v.shape.join(', ')}] and dtype ${v.dtype}.`, path);
    }
    if (dataStart + e! > fileSize) {
      throw new AudioSaeError(`is truncated: tensor "${name}" ends at byte ${dataStart + e!}, the file has ${fileSize}.`, path);
    }
    entries.set(name, { dtype, shape: v.shape, begin: dataStart + b!, end: dataStart + e! });
  }
  return { entries, metadata, fileSize };
}

export async function loadSafetensors(path: string, filter: (key: string) => boolean = () => true): Promise<StateDict> {
  const handle = await openFile(path);
  try {
    const header = await readHeader(handle, path);
    const out: StateDict = new Map();
    for (const [name, e] of header.entries) {
      if (!filter(name)) continue;
      const bytes = await readExactly(handle, path, e.begin, e.end - e.begin);
      const numel = e.shape.reduce((a, s) => a * s, 1);
      out.set(name, { dtype: e.dtype, shape: e.shape, data: typedArrayFor(e.dtype, bytes.buffer, bytes.byteOffset, numel) });
    }
    return out;
  } finally {
    await handle.close();
  }
}
