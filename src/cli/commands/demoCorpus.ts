/**
 * The demo's small corpus analysis: the example clip cut into labelled segments (speech, music, sounds) by a
 * manifest, run through every layer of the backbone in one pass into a corpus store, then the analyses a
 * researcher starts with: reconstruction per domain, the per-layer speech/sounds/music chart (the paper's
 * Figure 2) and, for a feature of each label, the segments where it fires most.
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../../engine/io/atomicWrite.ts';
import { loadCorpus } from '../../engine/corpus/manifest.ts';
import { runCorpus } from '../../engine/corpus/run.ts';
import type { Resolved } from '../../engine/pipeline/resolve.ts';
import type { ModelRunner } from '../../engine/runtime/types.ts';
import { classifyLayer, corpusMetrics, layerSummary, topClips } from '../../engine/store/queries.ts';
import { CorpusStore } from '../../engine/store/store.ts';
import type { ReportCorpus } from '../report/html.ts';
import { layerFigureSvg } from './corpus/figure.ts';

/** Where the example clip's parts are (seconds): two segments of each kind. */
const SEGMENTS: Array<[domain: string, startS: number, endS: number]> = [
  ['speech', 0.2, 2.6], ['speech', 2.6, 5.0], ['music', 5.9, 7.5], ['music', 7.5, 9.1], ['sounds', 9.2, 10.0], ['sounds', 10.0, 10.9],
];

export async function demoCorpus(runner: ModelRunner, o: { audioPath: string; outDir: string; resolved: Resolved; layer: number; saePathOf: (layer: number) => Promise<string> }): Promise<ReportCorpus> {
  const manifest = join(o.outDir, 'corpus-manifest.csv');
  const rows = SEGMENTS.map(([d, a, b], i) => `"${o.audioPath.replaceAll('"', '""')}",${d},example,${a},${b},segment ${i + 1}`);
  await writeFileAtomic(manifest, new TextEncoder().encode(`path,domain,dataset,start_s,end_s,note\n${rows.join('\n')}\n`));
  const corpus = await loadCorpus(manifest);
  const layers = Array.from({ length: o.resolved.spec.layers }, (_, i) => i + 1);
  const saePaths = new Map<number, string>();
  for (const l of layers) saePaths.set(l, await o.saePathOf(l));
  const storePath = join(o.outDir, 'corpus.duckdb');
  const store = await CorpusStore.open(storePath);
  try {
    const summary = await runCorpus(runner, { corpus, store, backboneId: o.resolved.spec.id, weightsFolder: o.resolved.weightsFolder, saePaths, saeSource: 'demo' });
    const conn = store.connection;
    const metrics = await corpusMetrics(conn, summary.runId, o.layer, { byDomain: true });
    const perLayer = await layerSummary(conn, summary.runId, { level: 'frame' });
    const classes = await classifyLayer(conn, summary.runId, o.layer, { level: 'frame' });
    const picked: ReportCorpus['topClips'] = [];
    for (const label of ['speech', 'music', 'sounds'] as const) {
      const f = classes.threeWay.filter((t) => t.label === label).sort((a, b) => (a.grade ?? 9) - (b.grade ?? 9))[0];
      if (!f) continue;
      const top = await topClips(conn, summary.runId, o.layer, f.feature, 3);
      picked.push({ feature: f.feature, label, grade: f.grade, rows: top.map((t) => ({ rank: t.rank, clip: `${t.domain} ${segmentOf(t.clipId)}`, max: t.max, timeS: t.timeS })) });
    }
    return {
      clips: summary.clips, layers, layer: o.layer, mode: summary.mode, store: storePath, manifest,
      metrics: metrics.map((m) => ({ group: m.domain ?? 'all', clips: m.clips, frames: m.frames, l0: m.l0, fve: m.fve, normalizedL2: m.normalizedL2 })),
      figureSvg: layerFigureSvg(perLayer, `${o.resolved.spec.id}, frame level`),
      counts: Object.fromEntries(perLayer.filter((r) => r.layer === o.layer).flatMap((r) => [['speech', r.speech], ['sounds', r.sounds], ['music', r.music], ['shared', r.shared], ['unassigned', r.unassigned], ['dead', r.dead]])),
      topClips: picked,
    };
  } finally {
    store.close();
  }
}

/** The clip ids follow the manifest's order: id i is segment i + 1. */
function segmentOf(clipId: number): string {
  const s = SEGMENTS[clipId];
  return s ? `${s[1].toFixed(1)}–${s[2].toFixed(1)} s` : `clip ${clipId}`;
}
