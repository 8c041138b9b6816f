/**
 * One clip through the whole engine: audio → 16 kHz mono → backbone layer activations → SAE codes,
 * reconstruction and metrics, plus the notes a user should see (SAE mode, chunking, an L0 far from k).
 */
import { loadAudio16kMono, type Audio16k } from '../audio/index.ts';
import { AudioSaeError } from '../errors.ts';
import type { EncoderTap } from '../onnx/whisper.ts';
import type { ModelRunner } from '../runtime/types.ts';
import { loadSae, reconstructionMetrics, runSae, type Metrics, type Sae, type SaeModeChoice, type SaeResult } from '../sae/index.ts';
import { layerActivations, type Activations } from './activations.ts';
import { openBackbone } from './backbone.ts';

export interface ClipFeaturesOptions {
  /** A file to load, or audio already at 16 kHz mono (e.g. decoded from bytes a VS Code document gave). */
  audioPath?: string;
  audio?: Audio16k;
  weightsFolder: string;
  saePath: string;
  layer: number;
  tap?: EncoderTap;
  normalizeInput?: boolean;
  mode?: SaeModeChoice;
  maxHubertSeconds?: number;
  cacheDir?: string;
  /** Also return the dense [frames, F] codes (large; the sparse ones always come back). */
  denseCodes?: boolean;
  onProgress?: (stage: string, done: number, total: number) => void;
  signal?: AbortSignal;
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
  const backbone = await openBackbone(o.weightsFolder);
  const sae = await loadSae(o.saePath);
  if (sae.dModel !== backbone.dModel) {
    throw new AudioSaeError(
      `has d = ${sae.dModel}, but the backbone in ${o.weightsFolder} produces d = ${backbone.dModel} per frame.`,
      o.saePath,
      'Use the SAE trained on this backbone.',
    );
  }
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
  if (metrics.l0 < sae.k / 5 || metrics.l0 > sae.k * 5) {
    notes.push(`Mean L0 is ${metrics.l0.toFixed(1)} per frame, far from k = ${sae.k}: the preprocessing probably does not match the SAE's training (reference doc §2).`);
  }
  return { audio, acts, sae, result, metrics, notes };
}
