/**
 * What a corpus run needs before it starts, resolved the same way for the CLI (`audiosae corpus run`) and the
 * extension's job worker: the layer list ("3,6,12" or "all"), the corpus from one or several folders/manifests,
 * and the backbone weights (once) and each layer's SAE (a local file or folder of layer_<n>/ae.pt, the bundled
 * demo SAEs, or the authors' SAEs from the Hub, downloaded if needed).
 */
import { backboneById } from '../backbones/registry.ts';
import type { BackboneSpec } from '../backbones/registry.ts';
import { AudioSaeError } from '../errors.ts';
import type { HubProgress } from '../hub/index.ts';
import { DEMO_BACKBONES, resolveModels } from '../pipeline/resolve.ts';
import { clipKey, loadCorpus, type Corpus } from './manifest.ts';

/** "all" or comma-separated 1-based layers, checked against the backbone's depth; ascending, no repeats. */
export function parseLayerList(text: string, available: number, what = '--layers'): number[] {
  if (text.trim() === 'all') return Array.from({ length: available }, (_, i) => i + 1);
  const layers = text.split(',').map((s) => s.trim());
  const bad = layers.filter((s) => !/^\d+$/.test(s) || Number(s) < 1 || Number(s) > available);
  if (bad.length || layers.length === 0) throw new AudioSaeError(`${what} must be layers from 1 to ${available}, comma-separated, or "all"; got "${text}".`);
  return [...new Set(layers.map(Number))].sort((a, b) => a - b);
}

/**
 * One corpus from several sources (folders of domain sub-folders, or manifests): their clips in the order given,
 * a clip listed by two sources kept once. One source is exactly `loadCorpus`.
 */
export async function loadCorpora(sources: readonly string[]): Promise<Corpus> {
  if (sources.length === 0) throw new AudioSaeError('no corpus folder or manifest was given.');
  const corpora = [];
  for (const s of sources) corpora.push(await loadCorpus(s));
  if (corpora.length === 1) return corpora[0]!;
  const seen = new Set<string>();
  const clips = corpora.flatMap((c) => c.clips).filter((c) => !seen.has(clipKey(c)) && (seen.add(clipKey(c)), true));
  return { source: corpora.map((c) => c.source).join(', '), clips, checksum: corpora.map((c) => c.checksum).join('+') };
}

export interface CorpusModelsOptions {
  backbone: string;
  layers: readonly number[];
  /** A local backbone folder (Hugging Face layout); default: the Hub (none for the bundled demo backbones). */
  weights?: string;
  /** An SAE file (one layer only) or a folder of layer_<n>/ae.pt; default: the backbone's SAEs. */
  sae?: string;
  demoModelsDir: string;
  signal?: AbortSignal;
  onProgress?: (file: string, p: HubProgress) => void;
}

export interface CorpusModels {
  spec: BackboneSpec;
  weightsFolder: string;
  /** layer → its SAE file */
  saePaths: Map<number, string>;
  /** Where the SAEs came from, as the run records it. */
  saeSource: string;
}

export async function resolveCorpusModels(o: CorpusModelsOptions): Promise<CorpusModels> {
  const spec = backboneById(o.backbone, DEMO_BACKBONES);
  if (o.sae && o.layers.length > 1 && /\.pt$/i.test(o.sae)) {
    throw new AudioSaeError('names one SAE file, but several layers were asked for.', o.sae, 'Point it at a folder of layer_<n>/ae.pt.');
  }
  const saePaths = new Map<number, string>();
  let weightsFolder = '';
  for (const layer of o.layers) {
    const r = await resolveModels({ backbone: spec.id, layer, weights: o.weights, sae: o.sae, demoModelsDir: o.demoModelsDir, signal: o.signal, onProgress: o.onProgress });
    weightsFolder = r.weightsFolder;
    saePaths.set(layer, r.saePath);
  }
  return { spec, weightsFolder, saePaths, saeSource: o.sae ?? (spec.saeRepo || 'bundled demo SAEs') };
}
