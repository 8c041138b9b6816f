/** Element sizes, typed-array views and float32 conversion for checkpoint dtypes. */
import type { DType, Tensor } from './tensor.ts';

export function dtypeByteSize(dtype: DType): number {
  switch (dtype) {
    case 'float64': case 'int64': return 8;
    case 'float32': case 'int32': return 4;
    case 'float16': case 'bfloat16': case 'int16': return 2;
    case 'int8': case 'uint8': case 'bool': return 1;
  }
}

/** A typed array of `length` elements over `buffer` at `byteOffset` (copied first when misaligned). */
export function typedArrayFor(dtype: DType, buffer: ArrayBufferLike, byteOffset: number, length: number): Tensor['data'] {
  const size = dtypeByteSize(dtype);
  if (byteOffset % size !== 0) {
    buffer = new Uint8Array(buffer, byteOffset, length * size).slice().buffer;
    byteOffset = 0;
  }
  switch (dtype) {
    case 'float32': return new Float32Array(buffer, byteOffset, length);
    case 'float64': return new Float64Array(buffer, byteOffset, length);
    case 'float16': case 'bfloat16': return new Uint16Array(buffer, byteOffset, length);
    case 'int64': return new BigInt64Array(buffer, byteOffset, length);
    case 'int32': return new Int32Array(buffer, byteOffset, length);
    case 'int16': return new Int16Array(buffer, byteOffset, length);
    case 'int8': return new Int8Array(buffer, byteOffset, length);
    case 'uint8': case 'bool': return new Uint8Array(buffer, byteOffset, length);
  }
}

/** IEEE half → float, exact for normals, subnormals, infinities and NaN. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** A tensor's elements as float32 (float16/bfloat16 bits decoded, float64 and integers converted). */
export function toFloat32(t: Tensor): Float32Array {
  const { data } = t;
  if (t.dtype === 'float32') return data as Float32Array;
  const out = new Float32Array(data.length);
  if (t.dtype === 'float16') {
    const h = data as Uint16Array;
    for (let i = 0; i < h.length; i++) out[i] = halfToFloat(h[i]!);
  } else if (t.dtype === 'bfloat16') {
    const b = data as Uint16Array;
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < b.length; i++) u[i] = b[i]! << 16;
  } else if (data instanceof BigInt64Array) {
    for (let i = 0; i < data.length; i++) out[i] = Number(data[i]!);
  } else {
    const n = data as Float64Array | Int32Array | Int16Array | Int8Array | Uint8Array;
    for (let i = 0; i < n.length; i++) out[i] = n[i]!;
  }
  return out;
}
