/**
 * One clip through the whole engine: audio → 16 kHz mono → backbone layer activations → SAE codes,
 * reconstruction and metrics, plus the notes a user should see (SAE mode, chunking, an L0 far from k).
 */
import { loadAudio16kMono, type Audio16k } from '../audio/index.ts';
import type { ModelRunner } from '../runtime/types.ts';
import { reconstructionMetrics, runSae, type Metrics, type Sae, type SaeResult } from '../sae/index.ts';
import { layerActivations, type Activations } from './activations.ts';
import { l0Note, openClipModels, type ClipModelOptions } from './clipModels.ts';

export interface ClipFeaturesOptions extends ClipModelOptions {
  /** A file to load, or audio already at 16 kHz mono (e.g. decoded from bytes a VS Code document gave). */
  audioPath?: string;
  audio?: Audio16k;
  /** Also return the dense [frames, F] codes (large; the sparse ones always come back). */
  denseCodes?: boolean;
  onProgress?: (stage: string, done: number, total: number) => void;
}

export interface ClipFeatures {
  audio: Audio16k;
  acts: Activations;
  sae: Sae;
  result: SaeResult;
  metrics: Metrics;
  notes: string[];
}

export async function clipFeatures(runner: ModelRunner, o: ClipFeaturesOptions): Promise<ClipFeatures> {
  const { backbone, sae } = await openClipModels(o);
  const audio = o.audio ?? (await loadAudio16kMono(o.audioPath!, runner));
  const acts = await layerActivations(runner, backbone, audio.samples, {
    layer: o.layer, tap: o.tap, normalizeInput: o.normalizeInput, maxHubertSeconds: o.maxHubertSeconds, cacheDir: o.cacheDir,
    onProgress: (done, total) => o.onProgress?.('activations', done, total),
    signal: o.signal,
  });
  const result = await runSae(runner, sae, acts.data, { mode: o.mode, source: audio.name, dense: o.denseCodes });
  const metrics = reconstructionMetrics(acts.data, result.recon, result.sparse, sae.dModel, sae.dictSize);
  const notes = [...acts.notes];
  if (result.notice) notes.push(result.notice);
  const far = l0Note(metrics.l0, sae.k);
  if (far) notes.push(far);
  return { audio, acts, sae, result, metrics, notes };
}
