/**
 * `audiosae corpus tsne`: the map of a layer's features (paper App. C.3): t-SNE (or UMAP) of the SAE's encoder
 * rows of the features the classification labels in at least one domain combination (or every alive feature),
 * as CSV/JSON/Parquet rows (feature, x, y, label, grade) and optionally a scatter figure (.png or .svg).
 */
import { AudioSaeError } from '../../../engine/errors.ts';
import { encoderRows, featureMap, mapFeatures, type FeatureMapProgress, type MapMethod } from '../../../engine/interp/featureMap.ts';
import { loadRunSae } from '../../../engine/interp/runSae.ts';
import { TSNE_DEFAULTS } from '../../../engine/interp/tsne.ts';
import { figureFormat, writeFigure } from '../../../engine/plot/figure.ts';
import { scatterSvg } from '../../../engine/plot/scatter.ts';
import { classifyLayer, type ClassifyLevel } from '../../../engine/store/queries.ts';
import { numberOption, type ParsedArgs, type VerbSpec } from '../../args.ts';
import { assetPath } from '../../assets.ts';
import { onInterrupt } from '../../interrupt.ts';
import { progressLine } from '../../progress.ts';
import { parseDomainMapping } from './analyses.ts';
import { OUTPUT_OPTIONS, STORE_OPTIONS, withRun, writeRows } from './output.ts';

export const spec: VerbSpec = {
  name: 'corpus tsne',
  summary: 'Map a layer\'s features: t-SNE (or UMAP) of the SAE encoder rows of the labelled features, coloured by label.',
  positionals: [],
  options: [
    ...STORE_OPTIONS,
    { name: 'level', value: '<level>', description: 'classification level: frame or audio', choices: ['frame', 'audio'], default: 'frame' },
    { name: 'all-features', description: 'map every alive feature, not only the labelled ones' },
    { name: 'method', value: '<method>', description: 'tsne or umap', choices: ['tsne', 'umap'], default: 'tsne' },
    { name: 'seed', value: '<n>', description: 'random seed (same seed, same map)', numeric: { kind: 'int', min: 0, max: 2 ** 31 - 1 }, default: '0' },
    { name: 'perplexity', value: '<p>', description: 't-SNE perplexity', numeric: { kind: 'number', min: 1, max: 1000 }, default: String(TSNE_DEFAULTS.perplexity) },
    { name: 'domains', value: '<map>', description: 'which of your domains are speech, sounds and music, e.g. "speech=ls,esd;sounds=fsd50k;music=jamendo"' },
    { name: 'sae', value: '<path>', description: 'the SAE the run used (ae.pt or a folder of layer_<n>/; default: the one the run recorded)' },
    { name: 'plot', value: '<map.png|map.svg>', description: 'also draw the map' },
    ...OUTPUT_OPTIONS,
  ],
  details: `
Features: those assigned speech, sounds or music in at least one of the paper's four domain combinations at
the level asked for (see corpus classify); with --all-features every feature that fires under some label. A
feature's label is its [speech, sounds, music] label when that is a domain, else the first other combination's
domain label; grade is that label's confidence grade. Rows: encoder.weight row j of the run's SAE for the layer
(its sha256 must match the one the run recorded).

The map: PCA to 50 dimensions, then Barnes–Hut t-SNE with openTSNE's defaults (perplexity 30 on 90 exact
neighbours, PCA initialisation, 250 iterations at exaggeration 12, 500 more; θ 0.5) or UMAP (umap-js, 15
neighbours), in a worker thread. Deterministic for a seed. The figure colours speech red, sounds blue, music
green, unassigned gray, darker with lower confidence (brightness × (1 − 0.2·grade)).`,
};

function progressText(p: FeatureMapProgress): string {
  if (p.stage === 'pca') return 'PCA to 50 dimensions…';
  if (p.stage === 'neighbours') return 't-SNE: nearest neighbours and affinities…';
  const kl = p.kl === null ? '' : ` · KL ${p.kl.toFixed(4)}`;
  return `${p.stage === 'tsne' ? 't-SNE' : 'UMAP'}: iteration ${p.iteration}/${p.total}${kl}`;
}

export async function run(args: ParsedArgs): Promise<number> {
  const level = args.options.get('level') as ClassifyLevel;
  const method = args.options.get('method') as MapMethod;
  const plot = args.options.get('plot');
  if (plot) figureFormat(plot); // a wrong extension fails before the work
  return withRun(args, async (store, resolved) => {
    const { run: info, layer } = resolved;
    const classification = await classifyLayer(store.connection, info.runId, layer, { level, domains: parseDomainMapping(args.options.get('domains')) });
    const features = mapFeatures(classification, { allFeatures: args.flags.has('all-features') });
    if (features.length < 3) {
      throw new AudioSaeError(`run ${info.runId}, layer ${layer}: only ${features.length} features are labelled at the ${level} level; a map needs at least 3.`,
        store.path, 'Use --all-features to map every alive feature.');
    }
    const sae = await loadRunSae(store.connection, info, layer, { sae: args.options.get('sae'), demoModelsDir: assetPath('demo', 'models') });
    const rows = encoderRows(sae, features.map((f) => f.feature));
    const stop = new AbortController();
    const unregister = onInterrupt(() => stop.abort());
    const progress = progressLine();
    let result;
    try {
      result = await featureMap(features, rows, sae.dModel, {
        method, seed: numberOption(args, 'seed'), perplexity: numberOption(args, 'perplexity'), signal: stop.signal,
        onProgress: (p) => progress.update(progressText(p)),
      });
    } catch (e) {
      if ((e as Error).name === 'AbortError') {
        process.stderr.write('\nstopped: no map written.\n');
        return 130;
      }
      throw e;
    } finally {
      progress.done();
      unregister();
    }
    const kl = result.kl === null ? '' : ` · KL ${result.kl.toFixed(4)}`;
    process.stderr.write(`${method === 'tsne' ? 't-SNE' : 'UMAP'} of ${features.length} features (d = ${sae.dModel}): PCA ${result.pcaSeconds.toFixed(1)} s, map ${result.embedSeconds.toFixed(1)} s${kl}\n`);
    await writeRows(args, result.points.map((p) => ({ feature: p.feature, x: p.x, y: p.y, label: p.label, grade: p.grade })), {
      method, level, layer, run: info.runId, features: features.length, kl: result.kl,
    });
    if (plot) {
      const title = `${info.backbone} layer ${layer}: ${method === 'tsne' ? 't-SNE' : 'UMAP'} of ${features.length} SAE encoder rows (${level} level)`;
      await writeFigure(plot, scatterSvg(result.points.map((p) => ({ ...p, title: `feature ${p.feature}: ${p.label}${p.grade === null ? '' : ` (grade ${p.grade})`}` })), title));
      process.stderr.write(`plot → ${plot}\n`);
    }
    return 0;
  });
}
