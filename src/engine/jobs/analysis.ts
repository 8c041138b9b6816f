/**
 * The analyses behind the corpus result panels, as job results: each opens the store read-only, reads one
 * panel's view through the engine's queries (src/engine/store/queries.ts) and closes it again, so that no
 * handle outlives the job (a CLI run may want the write lock next).
 */
import { AudioSaeError } from '../errors.ts';
import { encoderRows, featureMap, mapFeatures } from '../interp/featureMap.ts';
import { loadRunSae } from '../interp/runSae.ts';
import { METRIC_FORMULAS } from '../sae/metrics.ts';
import { classifyLayer, corpusMetrics, deadFeatures, layerSummary, listRuns, topClips, type RunSummary } from '../store/queries.ts';
import { CorpusStore } from '../store/store.ts';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { AnalysisJob } from '../../shared/jobProtocol.ts';
import { assertNever, type CorpusView, type RunHeading } from '../../shared/panelProtocol.ts';

export function runHeading(store: string, run: RunSummary, layer: number): RunHeading {
  return { store, runId: run.runId, backbone: run.backbone, sae: run.sae, mode: run.mode, layers: run.layers, layer, dictSize: run.dictSize, clips: run.clipsDone };
}

/** Segment starts of the run's clips (for the time of a maximum in the file, not the segment). */
async function segmentStarts(conn: DuckDBConnection, runId: string): Promise<Map<number, number>> {
  const r = await conn.runAndReadAll(`SELECT clip_id, coalesce(start_s, 0)::DOUBLE FROM clips WHERE run_id = $run AND start_s IS NOT NULL`, { run: runId });
  return new Map(r.getRows().map((row) => [Number(row[0]), Number(row[1])]));
}

export async function analysisView(job: AnalysisJob, signal?: AbortSignal): Promise<CorpusView> {
  const store = await CorpusStore.open(job.store, { readOnly: true });
  try {
    const conn = store.connection;
    const run = (await listRuns(conn)).find((r) => r.runId === job.runId);
    if (!run) throw new AudioSaeError(`has no run ${job.runId}.`, job.store, 'Pick one of its runs in the AudioSAE sidebar or with "Open Corpus Results…".');
    if (!run.layers.includes(job.layer)) throw new AudioSaeError(`run ${run.runId} has no layer ${job.layer}; its layers: ${run.layers.join(', ')}.`, job.store);
    const heading = runHeading(job.store, run, job.layer);
    switch (job.view) {
      case 'metrics': {
        const perLayer = [];
        for (const layer of run.layers) perLayer.push({ layer, rows: await corpusMetrics(conn, run.runId, layer, { byDomain: true }) });
        return { kind: 'metrics', heading, rows: perLayer.find((p) => p.layer === job.layer)!.rows, perLayer, formulas: { ...METRIC_FORMULAS } };
      }
      case 'classification': {
        const c = await classifyLayer(conn, run.runId, job.layer, { level: 'frame' });
        return { kind: 'classification', heading, layers: await layerSummary(conn, run.runId, { level: 'frame' }), summary: c.summary, features: c.threeWay };
      }
      case 'dead':
        return { kind: 'dead', heading, rows: (await deadFeatures(conn, run.runId, job.layer, { byDomain: true })).map(({ domain, count, fraction, features }) => ({ domain, count, fraction, features })) };
      case 'topClips': {
        if (job.feature === undefined) throw new AudioSaeError('top clips need a feature.');
        const rows = await topClips(conn, run.runId, job.layer, job.feature, job.limit ?? 50);
        const starts = await segmentStarts(conn, run.runId);
        return {
          kind: 'topClips', heading, feature: job.feature,
          rows: rows.map((r) => ({ rank: r.rank, clip: r.clip, domain: r.domain, dataset: r.dataset, max: r.max, timeS: r.timeS, fileTimeS: r.timeS + (starts.get(r.clipId) ?? 0) })),
        };
      }
      case 'featureMap': {
        // The paper's map: every alive feature's encoder row, PCA to 50 dimensions, then t-SNE (its own worker).
        const c = await classifyLayer(conn, run.runId, job.layer, { level: 'frame' });
        const features = mapFeatures(c, { allFeatures: true });
        const sae = await loadRunSae(conn, run, job.layer, { demoModelsDir: job.demoModelsDir ?? '' });
        const map = await featureMap(features, encoderRows(sae, features.map((f) => f.feature)), sae.dModel, { method: 'tsne', signal });
        const dead = c.threeWay.length - features.length;
        const method = `${map.method === 'tsne' ? 't-SNE' : 'UMAP'} of ${features.length} alive features' encoder rows (PCA 50${dead ? `; ${dead} dead not mapped` : ''}), ${map.embedSeconds.toFixed(1)} s`;
        return { kind: 'featureMap', heading, points: map.points.map((p) => ({ feature: p.feature, x: p.x, y: p.y, label: p.label, grade: p.grade })), method };
      }
      default:
        return assertNever(job.view);
    }
  } finally {
    store.close();
  }
}
