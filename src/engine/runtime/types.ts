/**
 * What the engine needs from an ONNX runtime, independent of where sessions live (in this thread for tools
 * and tests, in a worker thread for the extension and the CLI).
 */

export type HostTensorType = 'float32' | 'int64' | 'int32' | 'bool' | 'uint8';

/** A tensor crossing into or out of a model: type, dims and row-major data. */
export interface HostTensor {
  type: HostTensorType;
  dims: number[];
  data: Float32Array | BigInt64Array | Int32Array | Uint8Array;
}

/**
 * A model to load: its ONNX bytes, or a path to a .onnx file (required when it uses external data).
 * `key` identifies the model; a runner loads each key once and reuses the session.
 */
export interface ModelSource {
  key: string;
  bytes?: Uint8Array;
  path?: string;
}

export interface ModelRunner {
  /** Which execution provider runs the models, e.g. "cpu" or "cuda", with why others were skipped. */
  readonly provider: { name: string; notes: string[] };
  /** True when a model with this key is loaded. */
  has(key: string): boolean;
  /** Loads a model (once per key). `source` is only called when the key is not loaded yet. */
  load(key: string, source: () => ModelSource | Promise<ModelSource>): Promise<void>;
  /** Runs a loaded model; returns the requested outputs (all outputs when none are named). */
  run(key: string, feeds: Record<string, HostTensor>, outputNames?: string[]): Promise<Record<string, HostTensor>>;
  /** Releases a model's session. */
  unload(key: string): Promise<void>;
  /** Releases everything. */
  dispose(): Promise<void>;
}
