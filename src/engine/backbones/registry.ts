/**
 * The backbones the product knows: where their weights and SAEs live on the Hub, their sizes and front ends
 * (reference doc §1). Sizes here are for display and early validation only; graphs are always built from the
 * weights' own config.json.
 */
import { AudioSaeError } from '../errors.ts';

export type BackboneFamily = 'whisper' | 'hubert';

export interface BackboneSpec {
  id: string;
  label: string;
  family: BackboneFamily;
  /** Hub repo of the backbone weights (Hugging Face layout). */
  weightsRepo: string;
  /** Hub repo of the per-layer SAEs (`layer_<n>/ae.pt`, `layer_<n>/config.json`). */
  saeRepo: string;
  dModel: number;
  dictSize: number;
  layers: number;
  /** Whisper mel bins; null for HuBERT (raw waveform). */
  melBins: 80 | 128 | null;
  /** HuBERT architecture variant; null for Whisper. */
  hubertVariant: 'base' | 'large' | null;
}

export const BACKBONES: readonly BackboneSpec[] = [
  {
    id: 'hubert-base', label: 'HuBERT-base', family: 'hubert',
    weightsRepo: 'facebook/hubert-base-ls960', saeRepo: 'Egorgij21/Audio-SAE-HuBERT-base',
    dModel: 768, dictSize: 6144, layers: 12, melBins: null, hubertVariant: 'base',
  },
  {
    id: 'hubert-large', label: 'HuBERT-large', family: 'hubert',
    weightsRepo: 'facebook/hubert-large-ll60k', saeRepo: 'Egorgij21/Audio-SAE-HuBERT-large',
    dModel: 1024, dictSize: 8192, layers: 24, melBins: null, hubertVariant: 'large',
  },
  {
    id: 'whisper-small', label: 'Whisper-small', family: 'whisper',
    weightsRepo: 'openai/whisper-small', saeRepo: 'Egorgij21/Audio-SAE-Whisper-small',
    dModel: 768, dictSize: 6144, layers: 12, melBins: 80, hubertVariant: null,
  },
  {
    id: 'whisper-large-v3', label: 'Whisper-large-v3', family: 'whisper',
    weightsRepo: 'openai/whisper-large-v3', saeRepo: 'Egorgij21/Audio-SAE-Whisper-large-v3',
    dModel: 1280, dictSize: 10240, layers: 32, melBins: 128, hubertVariant: null,
  },
  {
    id: 'whisper-large-v3-turbo', label: 'Whisper-large-v3-turbo', family: 'whisper',
    weightsRepo: 'openai/whisper-large-v3-turbo', saeRepo: 'Egorgij21/Audio-SAE-Whisper-large-v3-turbo',
    dModel: 1280, dictSize: 10240, layers: 32, melBins: 128, hubertVariant: null,
  },
];

/** Looks a backbone up by id (case-insensitive); unknown ids get an error listing the known ones. */
export function backboneById(id: string, extra: readonly BackboneSpec[] = []): BackboneSpec {
  const all = [...BACKBONES, ...extra];
  const found = all.find((b) => b.id.toLowerCase() === id.toLowerCase());
  if (!found) {
    throw new AudioSaeError(`unknown backbone "${id}".`, undefined, `Known backbones: ${all.map((b) => b.id).join(', ')}.`);
  }
  return found;
}

/** Checks a 1-based layer number against a backbone. */
export function checkLayer(spec: BackboneSpec, layer: number): void {
  if (!Number.isInteger(layer) || layer < 1 || layer > spec.layers) {
    throw new AudioSaeError(
      `layer ${layer} does not exist in ${spec.label}.`,
      undefined,
      `Layers are numbered 1 to ${spec.layers} (the output of the n-th transformer block).`,
    );
  }
}

/** The SAE repo names as users may spell them (the model cards write the HuBERT ones in lower case). */
export function saeRepoMatches(spec: BackboneSpec, repo: string): boolean {
  return spec.saeRepo.toLowerCase() === repo.toLowerCase();
}
