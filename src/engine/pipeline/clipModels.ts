/**
 * The backbone layer and SAE a clip runs through: the options that choose them, opening both with the check
 * that they fit together, and the sanity note on mean L0 (reference doc §2). Shared by the whole-clip and the
 * streamed pipelines.
 */
import { AudioSaeError } from '../errors.ts';
import type { EncoderTap } from '../onnx/whisper.ts';
import { loadSae, type Sae, type SaeModeChoice } from '../sae/index.ts';
import { openBackbone, type OpenBackbone } from './backbone.ts';

export interface ClipModelOptions {
  weightsFolder: string;
  saePath: string;
  layer: number;
  tap?: EncoderTap;
  normalizeInput?: boolean;
  mode?: SaeModeChoice;
  maxHubertSeconds?: number;
  cacheDir?: string;
  signal?: AbortSignal;
}

/** Opens the backbone and the SAE (or takes the SAE already loaded) and checks their widths agree. */
export async function openClipModels(o: ClipModelOptions, loaded?: Sae): Promise<{ backbone: OpenBackbone; sae: Sae }> {
  const backbone = await openBackbone(o.weightsFolder);
  const sae = loaded ?? (await loadSae(o.saePath));
  if (sae.dModel !== backbone.dModel) {
    throw new AudioSaeError(
      `has d = ${sae.dModel}, but the backbone in ${o.weightsFolder} produces d = ${backbone.dModel} per frame.`,
      o.saePath,
      'Use the SAE trained on this backbone.',
    );
  }
  return { backbone, sae };
}

/** The note to show when mean L0 is far from k, a sign the preprocessing does not match the SAE's training. */
export function l0Note(meanL0: number, k: number): string | undefined {
  if (meanL0 >= k / 5 && meanL0 <= k * 5) return undefined;
  return `Mean L0 is ${meanL0.toFixed(1)} per frame, far from k = ${k}: the preprocessing probably does not match the SAE's training (reference doc §2).`;
}
