/**
 * The corpus analysis verbs: each reads a store (read-only), names or defaults its run and layer, and writes its
 * rows as CSV (default), JSON or Parquet, to --out or stdout. The definitions are the engine's
 * (src/engine/store/queries.ts); the formulas are printed with the numbers.
 */
import { AudioSaeError } from '../../../engine/errors.ts';
import { METRIC_FORMULAS } from '../../../engine/sae/index.ts';
import { corpusMetrics, deadFeatures, DEFAULT_TAUS, featureStats, classifyLayer, layerSummary, maxActs, topClips, type ClassifyLevel, type StatsGrouping } from '../../../engine/store/queries.ts';
import { numberOption, type ParsedArgs, type VerbSpec } from '../../args.ts';
import { OUTPUT_OPTIONS, STORE_OPTIONS, withRun, writeRows } from './output.ts';
import { writeLayerFigure } from './figure.ts';

type Verb = { spec: VerbSpec; run: (args: ParsedArgs) => Promise<void> };

const verb = (name: string, summary: string, options: VerbSpec['options'], run: Verb['run'], details?: string): Verb => ({
  spec: { name: `corpus ${name}`, summary, positionals: [], options: [...STORE_OPTIONS.filter((o) => name !== 'layers' || o.name !== 'layer'), ...options, ...OUTPUT_OPTIONS], details },
  run,
});

const DOMAINS_OPTION = { name: 'domains', value: '<map>', description: 'which of your domains are speech, sounds and music, e.g. "speech=ls,esd;sounds=fsd50k;music=jamendo"' };
const LEVEL_OPTION = { name: 'level', value: '<level>', description: 'frame (frame frequencies) or audio (clip frequencies)', choices: ['frame', 'audio'], default: 'frame' };

/** "speech=ls,esd;sounds=fsd50k;music=jamendo" → label → domain names. */
export function parseDomainMapping(text: string | undefined): Map<string, string[]> | undefined {
  if (text === undefined) return undefined;
  const map = new Map<string, string[]>();
  for (const part of text.split(';').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z]+)\s*=\s*(.+)$/i.exec(part);
    if (!m) throw new AudioSaeError(`--domains: "${part}" is not label=domain,domain.`, undefined, 'Example: --domains "speech=ls,esd;sounds=fsd50k;music=jamendo"');
    map.set(m[1]!.toLowerCase(), m[2]!.split(',').map((s) => s.trim()).filter(Boolean));
  }
  return map;
}

function parseTaus(text: string | undefined, level: ClassifyLevel): number[] | undefined {
  if (text === undefined) return undefined;
  const taus = text.split(',').map((s) => Number(s.trim()));
  if (taus.some((t) => !Number.isFinite(t))) throw new AudioSaeError(`--tau must be numbers, strictest first (default ${DEFAULT_TAUS[level].join(',')}); got "${text}".`);
  return taus;
}

export const verbs: Verb[] = [
  verb('metrics', 'Reconstruction metrics over the corpus and per domain, with their formulas.', [], (args) => withRun(args, async (s, r) => {
    const rows = await corpusMetrics(s.connection, r.run.runId, r.layer, { byDomain: true });
    await writeRows(args, rows.map((m) => ({
      group: m.domain ?? 'all', clips: m.clips, frames: m.frames, l0: m.l0, mse: m.mse, l2: m.l2, normalizedL2: m.normalizedL2, nmse: m.nmse,
      fve: m.fve, cosine: m.cosine, normRatio: m.normRatio, aliveFraction: m.aliveFraction,
    })), { formulas: METRIC_FORMULAS });
  })),
  verb('dead', 'Features never active in the run (the whole corpus, and per domain).', [], (args) => withRun(args, async (s, r) => {
    const rows = await deadFeatures(s.connection, r.run.runId, r.layer, { byDomain: true });
    const corpus = rows.find((d) => d.domain === null)!;
    await writeRows(args, corpus.features.map((feature) => ({ feature })), {
      dead: rows.map((d) => ({ group: d.domain ?? 'all', count: d.count, fraction: d.fraction })),
    });
  })),
  verb('max-acts', 'Each clip\'s max activation of each feature that fires in it (long format).', [
    { name: 'feature', value: '<j>', description: 'only this feature', numeric: { kind: 'int', min: 0, max: 1_000_000 } },
  ], (args) => withRun(args, async (s, r) => {
    const rows = await maxActs(s.connection, r.run.runId, r.layer, { feature: numberOption(args, 'feature') });
    await writeRows(args, rows.map((m) => ({ clip: m.clip, feature: m.feature, max: m.max, frame: m.frame, timeS: m.timeS })));
  })),
  verb('top-clips', 'The clips where a feature reaches its highest max.', [
    { name: 'feature', value: '<j>', description: 'the feature', numeric: { kind: 'int', min: 0, max: 1_000_000 }, required: true },
    { name: 'n', value: '<n>', description: 'how many clips', numeric: { kind: 'int', min: 1, max: 100_000 }, default: '10' },
  ], (args) => withRun(args, async (s, r) => {
    const rows = await topClips(s.connection, r.run.runId, r.layer, numberOption(args, 'feature')!, numberOption(args, 'n')!);
    await writeRows(args, rows.map((t) => ({ rank: t.rank, clip: t.clip, domain: t.domain, dataset: t.dataset, max: t.max, timeS: t.timeS })));
  })),
  verb('stats', 'Per feature and domain (or dataset): frame and clip frequencies and mean activations.', [
    { name: 'by', value: '<group>', description: 'domain or dataset', choices: ['domain', 'dataset'], default: 'domain' },
    { name: 'feature', value: '<j>', description: 'only this feature', numeric: { kind: 'int', min: 0, max: 1_000_000 } },
  ], (args) => withRun(args, async (s, r) => {
    const rows = await featureStats(s.connection, r.run.runId, r.layer, { by: args.options.get('by') as StatsGrouping, feature: numberOption(args, 'feature') });
    await writeRows(args, rows as unknown as Record<string, unknown>[], {
      definitions: 'frame_freq = active_frames / frames; audio_freq = active_clips / clips; mean_act_frame = Σ codes / active frames; mean_act_audio = mean over the clips where it fires of its max there',
    });
  })),
  verb('classify', 'Speech / sounds / music classification of every feature (paper appendix C).', [LEVEL_OPTION,
    { name: 'tau', value: '<τ,…>', description: 'thresholds, strictest first (default frame 0.2,0.1,0.04; audio 0.5,0.3)' }, DOMAINS_OPTION,
  ], (args) => withRun(args, async (s, r) => {
    const level = args.options.get('level') as ClassifyLevel;
    const c = await classifyLayer(s.connection, r.run.runId, r.layer, { level, taus: parseTaus(args.options.get('tau'), level), domains: parseDomainMapping(args.options.get('domains')) });
    await writeRows(args, c.rows as unknown as Record<string, unknown>[], { summary: c.summary });
  }), `
For each combination of domains ([speech, sounds, music], [speech, sounds], [speech, music], [sounds, music])
and feature j: i* = the domain where j is most frequent; j is assigned to i* if its frequency there exceeds
every other domain's by at least τ, trying τ strictest first; grade = the index of the first τ that holds;
none holds → unassigned; zero frequency in every domain of the combination → dead.`),
  verb('layers', 'For a multi-layer run, the classification summary of every layer (the paper\'s Figure 2), as a table and a plot.', [LEVEL_OPTION, DOMAINS_OPTION,
    { name: 'plot', value: '<file.svg|png>', description: 'also draw the per-layer chart' },
  ], (args) => withRun(args, async (s, r) => {
    const level = args.options.get('level') as ClassifyLevel;
    const rows = await layerSummary(s.connection, r.run.runId, { level, domains: parseDomainMapping(args.options.get('domains')) });
    await writeRows(args, rows as unknown as Record<string, unknown>[]);
    const plot = args.options.get('plot');
    if (plot) await writeLayerFigure(plot, rows, `${r.run.backbone}, ${level} level`);
  }, true)),
];
