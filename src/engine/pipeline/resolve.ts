/**
 * Where a backbone's weights and a layer's SAE come from: a local folder the user names, the tiny demo models
 * shipped with the package, or the Hugging Face Hub (downloaded into the standard cache).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { backboneById, checkLayer, type BackboneSpec } from '../backbones/registry.ts';
import { AudioSaeError } from '../errors.ts';
import { hubDownload, type HubProgress } from '../hub/index.ts';

/** The bundled toy backbones (random weights), by id, relative to the package's media/demo/models. */
export const DEMO_BACKBONES: readonly BackboneSpec[] = [
  { id: 'whisper-tiny-random', label: 'Whisper-like demo (random weights)', family: 'whisper', weightsRepo: '', saeRepo: '', dModel: 64, dictSize: 512, layers: 3, melBins: 80, hubertVariant: null },
  { id: 'hubert-tiny-random', label: 'HuBERT-like demo (random weights)', family: 'hubert', weightsRepo: '', saeRepo: '', dModel: 64, dictSize: 512, layers: 3, melBins: null, hubertVariant: 'base' },
];

export interface ResolveOptions {
  backbone: string;
  layer: number;
  /** A local model folder (Hugging Face layout) instead of the Hub. */
  weights?: string;
  /** An SAE `ae.pt`, or a folder holding `layer_<n>/ae.pt`. */
  sae?: string;
  /** Folder of the bundled demo models. */
  demoModelsDir: string;
  /** False when only the backbone is needed (no SAE is looked up or downloaded). */
  needSae?: boolean;
  signal?: AbortSignal;
  onProgress?: (file: string, p: HubProgress) => void;
}

export interface Resolved {
  spec: BackboneSpec;
  weightsFolder: string;
  /** Empty when `needSae` was false. */
  saePath: string;
  demo: boolean;
}

/** Downloads a backbone's config and weights: model.safetensors, else sharded safetensors, else pytorch_model.bin. */
async function downloadBackbone(o: ResolveOptions, repo: string): Promise<string> {
  const get = (file: string) => hubDownload({ repo, path: file, signal: o.signal, onProgress: (p) => o.onProgress?.(file, p) });
  // Not on the Hub, or (offline) not in the cache: try the next kind of weight file.
  const missing = (e: unknown) => e instanceof AudioSaeError && /does not exist in|is not in the Hugging Face cache/.test(e.message);
  const config = await get('config.json');
  for (const candidate of ['model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin']) {
    try {
      const local = await get(candidate);
      if (candidate.endsWith('.index.json')) {
        const index = JSON.parse(readFileSync(local, 'utf8')) as { weight_map?: Record<string, string> };
        for (const shard of new Set(Object.values(index.weight_map ?? {}))) await get(shard);
      }
      return dirname(config);
    } catch (e) {
      if (!missing(e)) throw e;
    }
  }
  throw new AudioSaeError(`holds no model.safetensors, model.safetensors.index.json or pytorch_model.bin.`, repo);
}

function saeIn(path: string, layer: number): string {
  if (existsSync(path) && statSync(path).isDirectory()) {
    const inside = join(path, `layer_${layer}`, 'ae.pt');
    if (!existsSync(inside)) throw new AudioSaeError(`has no layer_${layer}/ae.pt.`, path, 'Point --sae at an ae.pt file or at a folder of layer_<n>/ folders.');
    return inside;
  }
  if (!existsSync(path)) throw new AudioSaeError('file not found.', path);
  return path;
}

export async function resolveModels(o: ResolveOptions): Promise<Resolved> {
  const spec = backboneById(o.backbone, DEMO_BACKBONES);
  checkLayer(spec, o.layer);
  const demo = DEMO_BACKBONES.includes(spec);
  if (demo) {
    const folder = join(o.demoModelsDir, spec.id);
    return { spec, demo, weightsFolder: o.weights ?? folder, saePath: o.needSae === false ? '' : saeIn(o.sae ?? join(folder, 'sae'), o.layer) };
  }
  const weightsFolder = o.weights ?? (await downloadBackbone(o, spec.weightsRepo));
  let saePath = o.needSae === false ? '' : o.sae ? saeIn(o.sae, o.layer) : undefined;
  if (saePath === undefined) {
    const file = `layer_${o.layer}/ae.pt`;
    saePath = await hubDownload({ repo: spec.saeRepo, path: file, signal: o.signal, onProgress: (p) => o.onProgress?.(file, p) });
    await hubDownload({ repo: spec.saeRepo, path: `layer_${o.layer}/config.json`, signal: o.signal }).catch(() => undefined);
  }
  return { spec, demo, weightsFolder, saePath };
}
