/**
 * Messages between the feature-map caller and the map worker (tsneWorker.ts). One job per worker: the caller
 * posts one `embed` request, the worker posts `progress` messages and then exactly one `done` or `error`.
 * Cancel is a flag in a SharedArrayBuffer (Int32 0 → 1) that the worker polls each iteration, because its
 * optimisation loop never yields to its event loop. The rows cross as a transferred ArrayBuffer.
 */
export type MapMethod = 'tsne' | 'umap';

export interface EmbedRequest {
  type: 'embed';
  method: MapMethod;
  rows: Float32Array; // [n, dim] row-major
  n: number;
  dim: number;
  /** Dimensions PCA keeps before the embedding (50). */
  pcaDims: number;
  seed: number;
  perplexity: number;
  /** Int32Array over a SharedArrayBuffer of one element: set to 1 to cancel. */
  cancel: Int32Array;
}

export type MapStage = 'pca' | 'neighbours' | 'tsne' | 'umap';

export type MapWorkerMessage =
  | { type: 'progress'; stage: MapStage; iteration: number; total: number; kl: number | null }
  | { type: 'done'; embedding: Float64Array; kl: number | null; cancelled: boolean; pcaSeconds: number; embedSeconds: number }
  | { type: 'error'; message: string };
