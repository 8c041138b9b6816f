/**
 * The map of features (paper App. C.3, `plot_feature_tsne`): which features go on it, their encoder rows, and
 * their 2-D embedding (PCA to 50 dimensions, then t-SNE or UMAP) computed in a worker thread with progress and
 * cancel. The CLI (`audiosae corpus tsne`) and the extension's map panel both call `featureMap`.
 *
 * - Features: those assigned a domain label in at least one of the paper's four combinations (the
 *   classification at the level asked for), or with `allFeatures` every alive feature (firing under some
 *   label). A feature's label is its label in [speech, sounds, music] when that is a domain, otherwise its
 *   label in the first other combination (in the paper's order) that assigns it one, otherwise unassigned;
 *   the grade goes with the label (null for unassigned).
 * - Rows: `encoder.weight` row j (W_enc's column j in the x·W_enc convention), one per feature.
 */
import { Worker } from 'node:worker_threads';
import { AudioSaeError } from '../errors.ts';
import type { Sae } from '../sae/sae.ts';
import { COMBINATIONS, combinationName, type Classification, type FeatureLabel } from './classify.ts';
import type { EmbedRequest, MapMethod, MapStage, MapWorkerMessage } from './mapProtocol.ts';
import { embed } from './mapEmbed.ts';
import { TSNE_DEFAULTS } from './tsne.ts';

export type { MapMethod, MapStage } from './mapProtocol.ts';

export interface MapFeature {
  feature: number;
  label: FeatureLabel;
  grade: number | null;
}

export interface FeatureMapPoint extends MapFeature {
  x: number;
  y: number;
}

export interface FeatureMapProgress {
  stage: MapStage;
  iteration: number;
  total: number;
  /** t-SNE's Barnes–Hut estimate of KL(P ‖ Q); null for other stages. */
  kl: number | null;
}

export interface FeatureMapOptions {
  method?: MapMethod;
  seed?: number;
  perplexity?: number;
  /** PCA dimensions before the embedding (default 50). */
  pcaDims?: number;
  onProgress?: (p: FeatureMapProgress) => void;
  /** Aborting stops the worker at its next iteration; featureMap then rejects with an AbortError. */
  signal?: AbortSignal;
  /** Run on the calling thread instead of a worker (blocks it; for tools that own their thread). */
  inProcess?: boolean;
}

export interface FeatureMapResult {
  points: FeatureMapPoint[];
  method: MapMethod;
  /** t-SNE: KL(P ‖ Q) of the final embedding (Barnes–Hut estimate); UMAP: null. */
  kl: number | null;
  pcaSeconds: number;
  embedSeconds: number;
}

const DOMAIN = new Set<FeatureLabel>(['speech', 'sounds', 'music']);

/** The features of the map and their labels (see the module comment). */
export function mapFeatures(classification: Classification, opts: { allFeatures?: boolean } = {}): MapFeature[] {
  const byCombination = new Map<string, Map<number, { label: FeatureLabel; grade: number | null }>>();
  for (const r of classification.rows) {
    let m = byCombination.get(r.combination);
    if (!m) byCombination.set(r.combination, (m = new Map()));
    m.set(r.feature, { label: r.label, grade: r.grade });
  }
  const order = COMBINATIONS.map(combinationName);
  const out: MapFeature[] = [];
  for (const t of classification.threeWay) {
    const assigned = order.map((c) => byCombination.get(c)?.get(t.feature)).find((x) => x !== undefined && DOMAIN.has(x.label));
    if (assigned) out.push({ feature: t.feature, label: assigned.label, grade: assigned.grade });
    else if (opts.allFeatures && t.label !== 'dead') out.push({ feature: t.feature, label: 'unassigned', grade: null });
  }
  return out;
}

/** The encoder rows [features.length, d] of the given features. */
export function encoderRows(sae: Sae, features: readonly number[]): Float32Array {
  const d = sae.dModel;
  const rows = new Float32Array(features.length * d);
  features.forEach((j, i) => {
    if (!Number.isInteger(j) || j < 0 || j >= sae.dictSize) throw new AudioSaeError(`has no feature ${j} (F = ${sae.dictSize}).`, sae.file);
    rows.set(sae.encoderWeight.subarray(j * d, (j + 1) * d), i * d);
  });
  return rows;
}

/** Starts the map worker from the bundle (dist/tsne-worker.cjs) or, when running from source, through tsx. */
function startWorker(): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    const url = new URL('./tsneWorker.ts', here).href;
    return new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url)}); });`, { eval: true });
  }
  return new Worker(new URL('./tsne-worker.cjs', here));
}

const abortError = () => Object.assign(new Error('The feature map was cancelled.'), { name: 'AbortError' });

function runInWorker(req: EmbedRequest, onMessage: (m: MapWorkerMessage) => void, signal?: AbortSignal): Promise<Extract<MapWorkerMessage, { type: 'done' }>> {
  return new Promise((resolve, reject) => {
    const worker = startWorker();
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      fn();
    };
    const onAbort = () => Atomics.store(req.cancel, 0, 1);
    signal?.addEventListener('abort', onAbort);
    worker.on('message', (m: MapWorkerMessage) => {
      if (m.type === 'progress') onMessage(m);
      else if (m.type === 'done') finish(() => resolve(m));
      else finish(() => reject(new Error(`feature map worker: ${m.message}`)));
    });
    worker.on('error', (e) => finish(() => reject(e)));
    worker.on('exit', (code) => finish(() => reject(new Error(`feature map worker exited (code ${code}) before answering`))));
    worker.postMessage(req, [req.rows.buffer as ArrayBuffer]);
  });
}

/**
 * The 2-D map of `features` from their `rows` [features.length, dim] (PCA to 50, then t-SNE or UMAP). The rows'
 * buffer is transferred to the worker (pass a copy to keep it). Deterministic for a seed.
 */
export async function featureMap(features: readonly MapFeature[], rows: Float32Array, dim: number, opts: FeatureMapOptions = {}): Promise<FeatureMapResult> {
  const n = features.length;
  if (rows.length !== n * dim) throw new Error(`featureMap: ${rows.length} values are not ${n} rows × ${dim}`);
  if (opts.signal?.aborted) throw abortError();
  const method = opts.method ?? 'tsne';
  const perplexity = opts.perplexity ?? TSNE_DEFAULTS.perplexity;
  if (!(perplexity > 0) || !Number.isFinite(perplexity)) throw new AudioSaeError(`the perplexity must be a positive number; got ${perplexity}.`);
  if (n < 3) throw new AudioSaeError(`a map needs at least 3 features; ${n === 0 ? 'none' : `only ${n}`} qualified.`, undefined, 'Use --all-features to map every alive feature, or another layer or level.');
  const own = rows.byteOffset === 0 && rows.byteLength === rows.buffer.byteLength && rows.buffer instanceof ArrayBuffer ? rows : rows.slice();
  const req: EmbedRequest = {
    type: 'embed', method, rows: own, n, dim, pcaDims: opts.pcaDims ?? 50, seed: opts.seed ?? 0, perplexity,
    cancel: new Int32Array(new SharedArrayBuffer(4)),
  };
  const report = (m: MapWorkerMessage) => {
    if (m.type === 'progress') opts.onProgress?.({ stage: m.stage, iteration: m.iteration, total: m.total, kl: m.kl });
  };
  const done = opts.inProcess ? await embed(req, report) : await runInWorker(req, report, opts.signal);
  if (done.cancelled || opts.signal?.aborted) throw abortError();
  return {
    points: features.map((f, i) => ({ ...f, x: done.embedding[2 * i]!, y: done.embedding[2 * i + 1]! })),
    method, kl: done.kl, pcaSeconds: done.pcaSeconds, embedSeconds: done.embedSeconds,
  };
}
