/**
 * Tensor views on the storages of a torch.save archive: each view is checked against its storage and the
 * file before anything is read or allocated, then copied out contiguous and row-major.
 *
 * The rule (so that no small file can cost unbounded memory):
 * 1. A storage of n elements needs n × itemsize bytes in its zip entry (torch reads exactly that many), and the
 *    entry lies inside the file (zip.ts checks every entry against the file's size).
 * 2. Every element a view addresses lies inside its storage: offset + Σ (size_i − 1) · stride_i < n.
 * 3. A view materialises at most max(n, MAX_OVERLAP_ELEMENTS) elements. A view that addresses each element
 *    at most once (slices, transposes, steps) can never exceed its storage; only overlapping views do —
 *    stride 0 from `expand()`, or `as_strided` — and those are allowed up to 2^24 elements (64 MiB of float32).
 * 4. All views together materialise at most 2 × the file's size + MAX_TOTAL_SLACK_BYTES (views sharing one
 *    storage, such as tied weights, are each copied out).
 */
import { AudioSaeError } from '../errors.ts';
import { clip } from './describe.ts';
import { dtypeByteSize, typedArrayFor } from './dtypes.ts';
import type { Tensor } from './tensor.ts';
import type { TensorRef } from './unpickle.ts';
import type { ZipEntry, ZipReader } from './zip.ts';

export const MAX_OVERLAP_ELEMENTS = 2 ** 24;
export const MAX_TOTAL_SLACK_BYTES = 256 * 1024 * 1024;

/** A view that passed the checks: what it materialises and which storage elements it reads. */
export interface CheckedView {
  key: string;
  ref: TensorRef;
  entry: ZipEntry;
  /** Elements of the materialised tensor. */
  numel: number;
  /** Storage elements read, from the view's offset on. */
  span: number;
  bytes: number;
}

const shapeText = (ref: TensorRef) => `sizes [${ref.size.join(', ')}], strides [${ref.stride.join(', ')}], offset ${ref.storageOffset}`;

/** Checks one view (rules 1–3) against its storage's zip entry; `key` is the tensor's flattened name. */
export function checkView(ref: TensorRef, key: string, entry: ZipEntry, file: string): CheckedView {
  const { storage, size, stride, storageOffset } = ref;
  const item = dtypeByteSize(storage.dtype);
  const name = `"${clip(key)}"`;
  const storageName = `"${clip(storage.key)}"`;
  if (storage.numel > Math.floor(entry.size / item)) {
    throw new AudioSaeError(
      `is damaged: ${name} needs ${BigInt(storage.numel) * BigInt(item)} bytes of storage ${storageName} (${storage.numel} ${storage.dtype} elements), which holds ${entry.size}.`,
      file,
    );
  }
  const n = storage.numel;
  const limit = Math.max(n, MAX_OVERLAP_ELEMENTS);
  // In floating point: past 2^53 it is inexact but still far above the limit, never wrapped.
  const numel = size.reduce((a, s) => a * s, 1);
  if (numel > limit) {
    throw new AudioSaeError(
      `is damaged: ${name} (${shapeText(ref)}) would materialise ${numel > Number.MAX_SAFE_INTEGER ? 'more than 2^53' : numel} elements from storage ${storageName} of ${n}; ` +
        `a view may repeat storage elements up to ${MAX_OVERLAP_ELEMENTS} elements only.`,
      file,
    );
  }
  let span = 0;
  if (numel > 0) {
    // The last element the view addresses; every term is non-negative, so stop as soon as it leaves the storage.
    let last = storageOffset;
    for (let i = 0; i < size.length && last < n; i++) last += (size[i]! - 1) * stride[i]!;
    if (last >= n) {
      throw new AudioSaeError(
        `is damaged: ${name} (${shapeText(ref)}) reaches past the end of storage ${storageName}, which holds ${n} ${storage.dtype} elements.`,
        file,
      );
    }
    span = last + 1 - storageOffset;
  }
  return { key, ref, entry, numel, span, bytes: numel * item };
}

/** Rule 4: the views together stay within what the file justifies. */
export function checkTotal(views: readonly CheckedView[], fileSize: number, file: string): void {
  const total = views.reduce((a, v) => a + v.bytes, 0);
  const allowed = 2 * fileSize + MAX_TOTAL_SLACK_BYTES;
  if (total > allowed) {
    throw new AudioSaeError(
      `is damaged: its tensors would take ${total} bytes once read, more than the ${allowed} a ${fileSize}-byte file justifies (its views repeat the same storage too often).`,
      file,
    );
  }
}

/** Reads a checked view and returns it contiguous, row-major and little-endian. */
export async function materialise(zip: ZipReader, view: CheckedView, bigEndian: boolean): Promise<Tensor> {
  const { ref, entry, numel, span } = view;
  const { storage, size, stride, storageOffset } = ref;
  const item = dtypeByteSize(storage.dtype);
  const start = await zip.dataOffset(entry);
  const raw = await zip.readAt(start + storageOffset * item, span * item);
  if (bigEndian) byteSwap(raw, item);
  if (isContiguous(size, stride) || numel <= 1) {
    return { dtype: storage.dtype, shape: size, data: typedArrayFor(storage.dtype, raw.slice(0, numel * item).buffer, 0, numel) };
  }
  const src = typedArrayFor(storage.dtype, raw.buffer, raw.byteOffset, span);
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
