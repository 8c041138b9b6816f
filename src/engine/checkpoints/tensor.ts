/**
 * A tensor read from a checkpoint: dtype, shape and its elements in row-major (C) order.
 * Readers always return contiguous data, whatever the strides were on disk.
 */
export type DType = 'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

export interface Tensor {
  dtype: DType;
  /** Sizes, outermost first; [] for a scalar. */
  shape: number[];
  /**
   * Elements in row-major order. float32 → Float32Array, float64 → Float64Array, float16/bfloat16 → Uint16Array
   * (raw bits), int64 → BigInt64Array, int32 → Int32Array, int16 → Int16Array, int8 → Int8Array,
   * uint8/bool → Uint8Array.
   */
  data: Float32Array | Float64Array | Uint16Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;
}

/** A checkpoint's tensors by key, in file order. */
export type StateDict = Map<string, Tensor>;
