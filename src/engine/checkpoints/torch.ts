/**
 * Reads checkpoints written by `torch.save` (zip format, PyTorch 1.6 onwards): `<root>/data.pkl` (the object,
 * read by the restricted unpickler), `<root>/data/<key>` (one entry per storage), `<root>/byteorder`. The root
 * folder's name varies between writers and is found, not assumed. Tensors come back contiguous and row-major,
 * whatever their strides and storage offsets on disk; tensors sharing a storage are each read correctly.
 *
 * Nested dicts are flattened with dotted keys; plain Python numbers in them become scalar tensors (int64 or
 * float64), because some checkpoints store `k` as an int rather than a tensor.
 */
import { open } from 'node:fs/promises';
import { AudioSaeError } from '../errors.ts';
import { dtypeByteSize, typedArrayFor } from './dtypes.ts';
import type { DType, StateDict, Tensor } from './tensor.ts';
import { dtypeOfStorageType, isTensorRef, PyDict, PyTuple, unpickle, type StorageRef, type TensorRef } from './unpickle.ts';
import { ZipReader, type ZipEntry } from './zip.ts';

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

async function sniff(path: string): Promise<Uint8Array> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new AudioSaeError(code === 'ENOENT' ? 'file not found.' : `cannot open the file (${code}).`, path);
  }
  try {
    const head = new Uint8Array(8);
    const { bytesRead } = await handle.read(head, 0, 8, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

export async function loadTorchCheckpoint(path: string): Promise<StateDict> {
  const head = await sniff(path);
  if (head.length === 0) throw new AudioSaeError('is empty (0 bytes).', path);
  if (!ZIP_MAGIC.every((b, i) => head[i] === b)) {
    if (head[0] === 0x80) {
      throw new AudioSaeError(
        'uses the legacy (pre-1.6) torch.save format, which is not supported.',
        path,
        'Re-save it with torch >= 1.6: torch.save(torch.load(path), path).',
      );
    }
    throw new AudioSaeError('is not a PyTorch checkpoint (not a zip archive written by torch.save).', path);
  }
  const zip = await ZipReader.open(path);
  try {
    const pklEntries = [...zip.entries.values()].filter((e) => /^[^/]+\/data\.pkl$/.test(e.name));
    if (pklEntries.length !== 1) {
      throw new AudioSaeError(`is not a torch.save archive: expected one "<root>/data.pkl", found ${pklEntries.length}.`, path);
    }
    const root = pklEntries[0]!.name.slice(0, -'data.pkl'.length);
    const byteorderEntry = zip.entries.get(`${root}byteorder`);
    const byteorder = byteorderEntry ? new TextDecoder().decode(await zip.read(byteorderEntry, 16)).trim() : 'little';
    if (byteorder !== 'little' && byteorder !== 'big') throw new AudioSaeError(`has an unknown byteorder "${byteorder}".`, path);

    const storages = new Map<string, StorageRef>();
    const obj = unpickle(await zip.read(pklEntries[0]!, 256 * 1024 * 1024), {
      file: path,
      persistentLoad: (pid) => {
        const items = pid instanceof PyTuple ? pid.items : [];
        const [tag, type, key, , numel] = items;
        const dtype = dtypeOfStorageType(type);
        if (tag !== 'storage' || typeof key !== 'string' || !dtype || typeof numel !== 'number') {
          throw new AudioSaeError('cannot be read: a storage reference in its pickle is malformed.', path);
        }
        const ref = storages.get(key) ?? { kind: 'storage' as const, dtype, key, numel };
        storages.set(key, ref);
        return ref;
      },
    });

    const refs = new Map<string, TensorRef | number>();
    flatten(obj, '', refs, path);
    if (refs.size === 0) throw new AudioSaeError('holds no tensors.', path);
    const out: StateDict = new Map();
    for (const [key, ref] of refs) {
      out.set(key, typeof ref === 'number' ? scalarTensor(ref) : await materialise(zip, root, ref, byteorder === 'big', key));
    }
    return out;
  } finally {
    await zip.close();
  }
}

function flatten(obj: unknown, prefix: string, out: Map<string, TensorRef | number>, file: string): void {
  if (isTensorRef(obj)) {
    out.set(prefix, obj);
  } else if (obj instanceof PyDict) {
    for (const [k, v] of obj.map) flatten(v, prefix ? `${prefix}.${String(k)}` : String(k), out, file);
  } else if (typeof obj === 'number' && prefix) {
    out.set(prefix, obj);
  } else if (prefix === '' ) {
    throw new AudioSaeError('does not hold a dict of tensors (a state dict) at its top level.', file);
  }
  // Other leaves (strings, lists, None) carry no weights and are skipped.
}

function scalarTensor(v: number): Tensor {
  return Number.isInteger(v)
    ? { dtype: 'int64', shape: [], data: BigInt64Array.of(BigInt(v)) }
    : { dtype: 'float64', shape: [], data: Float64Array.of(v) };
}

async function materialise(zip: ZipReader, root: string, ref: TensorRef, bigEndian: boolean, key: string): Promise<Tensor> {
  const { storage, size, stride, storageOffset } = ref;
  const item = dtypeByteSize(storage.dtype);
  const numel = size.reduce((a, b) => a * b, 1);
  // The span of storage elements the view touches.
  let maxIndex = storageOffset;
  for (let i = 0; i < size.length; i++) if (size[i]! > 0) maxIndex += (size[i]! - 1) * stride[i]!;
  const entry: ZipEntry | undefined = zip.entries.get(`${root}data/${storage.key}`);
  if (!entry) throw new AudioSaeError(`is damaged: the storage "${storage.key}" of "${key}" is missing from the archive.`, zip.file);
  if (entry.method !== 0) throw new AudioSaeError(`stores "${key}" compressed, which torch.save never does.`, zip.file);
  if (numel > 0 && (maxIndex + 1) * item > entry.size) {
    throw new AudioSaeError(
      `is damaged: "${key}" needs ${(maxIndex + 1) * item} bytes of storage "${storage.key}", which holds ${entry.size}.`,
      zip.file,
    );
  }
  const start = await zip.dataOffset(entry);
  const span = numel > 0 ? maxIndex + 1 - storageOffset : 0;
  const raw = await zip.readAt(start + storageOffset * item, span * item);
  if (bigEndian) byteSwap(raw, item);
  const src = typedArrayFor(storage.dtype, raw.buffer, raw.byteOffset, span);
  if (isContiguous(size, stride) || numel <= 1) {
    return { dtype: storage.dtype, shape: size, data: typedArrayFor(storage.dtype, raw.slice(0, numel * item).buffer, 0, numel) };
  }
  const dst = typedArrayFor(storage.dtype, new ArrayBuffer(numel * item), 0, numel);
  gather(src, dst, size, stride);
  return { dtype: storage.dtype, shape: size, data: dst };
}

function isContiguous(size: number[], stride: number[]): boolean {
  let expected = 1;
  for (let i = size.length - 1; i >= 0; i--) {
    if (size[i] !== 1 && stride[i] !== expected) return false;
    expected *= size[i]!;
  }
  return true;
}

/** Copies a strided view into row-major order. */
function gather(src: Tensor['data'], dst: Tensor['data'], size: number[], stride: number[]): void {
  const rank = size.length;
  const idx = new Array<number>(rank).fill(0);
  let off = 0;
  const s = src as unknown as number[];
  const d = dst as unknown as number[];
  for (let i = 0; i < dst.length; i++) {
    d[i] = s[off]!;
    for (let k = rank - 1; k >= 0; k--) {
      idx[k]!++;
      off += stride[k]!;
      if (idx[k]! < size[k]!) break;
      off -= stride[k]! * size[k]!;
      idx[k] = 0;
    }
  }
}

function byteSwap(bytes: Uint8Array, item: number): void {
  if (item === 1) return;
  for (let i = 0; i + item <= bytes.length; i += item) bytes.subarray(i, i + item).reverse();
}

export type { DType };
