/**
 * Runs an SAE on a clip's activations through a ModelRunner and returns dense codes, per-frame sparse codes
 * and the reconstruction. The caller passes only frames that cover real audio (never padding), because batch
 * top-k spreads its k·n budget over every frame it is given.
 */
import { AudioSaeError } from '../errors.ts';
import type { ModelRunner } from '../runtime/types.ts';
import { buildSaeGraph, type SaeMode } from './graph.ts';
import type { Sae } from './sae.ts';
import type { SparseCodes } from './sparseCodes.ts';

export type { SparseCodes };

export interface SaeResult {
  modeUsed: SaeMode;
  /** Set when `auto` could not use threshold mode, to be shown to the user. */
  notice?: string;
  frames: number;
  /** Dense codes, [frames, dictSize] row-major; only when asked for with `dense: true`. */
  codes?: Float32Array;
  sparse: SparseCodes;
  recon: Float32Array; // [frames, dModel] row-major
}

export type SaeModeChoice = 'auto' | SaeMode;

/** Which mode runs for a choice, and the notice to show when `auto` falls back. */
export function resolveMode(sae: Sae, choice: SaeModeChoice): { mode: SaeMode; notice?: string } {
  if (choice === 'batch-topk') return { mode: 'batch-topk' };
  if (sae.threshold !== null) return { mode: 'threshold' };
  const notice = `${sae.file} stores no usable threshold (absent or negative), so batch top-k over the clip's frames ran instead (k = ${sae.k} per frame on average).`;
  if (choice === 'threshold') throw new AudioSaeError('has no threshold ≥ 0, so threshold mode cannot run.', sae.file, 'Use --mode batch-topk or auto.');
  return { mode: 'batch-topk', notice };
}

/** A stable key for the SAE's graph in a runner: file, shapes and mode. */
function modelKey(sae: Sae, mode: SaeMode): string {
  return `sae:${sae.file}:${sae.dModel}x${sae.dictSize}:k${sae.k}:t${sae.threshold}:${mode}`;
}

export function checkActivations(sae: Sae, acts: Float32Array, dModel: number, source: string): number {
  if (dModel !== sae.dModel) {
    throw new AudioSaeError(
      `has d = ${dModel} per frame, but the SAE ${sae.file} expects d = ${sae.dModel}.`,
      source,
      'Use the SAE trained on this backbone and layer.',
    );
  }
  if (acts.length % dModel !== 0) throw new AudioSaeError(`holds ${acts.length} values, not a whole number of frames of ${dModel}.`, source);
  for (let i = 0; i < acts.length; i++) {
    if (!Number.isFinite(acts[i]!)) {
      throw new AudioSaeError(`holds a non-finite value (${acts[i]}) at frame ${Math.floor(i / dModel)}, dim ${i % dModel}.`, source);
    }
  }
  return acts.length / dModel;
}

/** Per-frame TopK rows ([frames, K], largest first, zeros at the end of short rows) → CSR. */
export function sparseFromTopK(values: Float32Array, indices: BigInt64Array, frames: number): SparseCodes {
  const width = frames > 0 ? values.length / frames : 0;
  let nnz = 0;
  for (let i = 0; i < values.length; i++) if (values[i] !== 0) nnz++;
  const rowPtr = new Int32Array(frames + 1);
  const outIdx = new Int32Array(nnz);
  const outVal = new Float32Array(nnz);
  let at = 0;
  for (let t = 0; t < frames; t++) {
    for (let p = t * width; p < (t + 1) * width; p++) {
      const v = values[p]!;
      if (v === 0) continue;
      outIdx[at] = Number(indices[p]!);
      outVal[at++] = v;
    }
    rowPtr[t + 1] = at;
  }
  return { frames, rowPtr, indices: outIdx, values: outVal };
}

/** Dense [frames, F] codes → CSR, features within each frame sorted by descending value. */
export function sparsify(codes: Float32Array, frames: number, dictSize: number): SparseCodes {
  let nnz = 0;
  for (let i = 0; i < codes.length; i++) if (codes[i] !== 0) nnz++;
  const rowPtr = new Int32Array(frames + 1);
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let at = 0;
  for (let t = 0; t < frames; t++) {
    const start = at;
    const base = t * dictSize;
    for (let j = 0; j < dictSize; j++) {
      const v = codes[base + j]!;
      if (v !== 0) {
        indices[at] = j;
        values[at++] = v;
      }
    }
    if (at - start > 1) {
      const order = Array.from({ length: at - start }, (_, i) => start + i).sort((a, b) => values[b]! - values[a]! || indices[a]! - indices[b]!);
      const idx = order.map((o) => indices[o]!);
      const val = order.map((o) => values[o]!);
      indices.set(idx, start);
      values.set(val, start);
    }
    rowPtr[t + 1] = at;
  }
  return { frames, rowPtr, indices, values };
}

export async function runSae(
  runner: ModelRunner,
  sae: Sae,
  acts: Float32Array, // [frames, dModel] row-major
  options: { mode?: SaeModeChoice; dModel?: number; source?: string; dense?: boolean } = {},
): Promise<SaeResult> {
  const source = options.source ?? 'activations';
  const frames = checkActivations(sae, acts, options.dModel ?? sae.dModel, source);
  const { mode, notice } = resolveMode(sae, options.mode ?? 'auto');
  if (frames === 0) {
    return { modeUsed: mode, notice, frames, codes: options.dense ? new Float32Array(0) : undefined, sparse: sparsify(new Float32Array(0), 0, sae.dictSize), recon: new Float32Array(0) };
  }
  const key = modelKey(sae, mode);
  await runner.load(key, () => ({ key, bytes: buildSaeGraph(sae, mode).toBytes() }));
  const feeds: Parameters<ModelRunner['run']>[1] = {
    x: { type: 'float32', dims: [frames, sae.dModel], data: acts.slice() },
  };
  if (mode === 'batch-topk') feeds.k_total = { type: 'int64', dims: [1], data: BigInt64Array.of(BigInt(Math.min(sae.k * frames, frames * sae.dictSize))) };
  // The dense [frames, F] block is large (37 MB for 1500 frames of a 6144-feature SAE): fetched only on request.
  const out = await runner.run(key, feeds, ['recon', 'top_values', 'top_indices', ...(options.dense ? ['codes'] : [])]);
  const sparse = sparseFromTopK(out.top_values!.data as Float32Array, out.top_indices!.data as BigInt64Array, frames);
  return { modeUsed: mode, notice, frames, codes: out.codes?.data as Float32Array | undefined, sparse, recon: out.recon!.data as Float32Array };
}
