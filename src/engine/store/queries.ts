/**
 * The corpus analyses of issue 9 over an open corpus store, one entry point for the CLI verbs and the panels.
 * Each takes an open DuckDBConnection, a run id (resolve a missing one with `resolveRun`) and a layer, and returns
 * typed rows; the definitions are in the files re-exported here:
 *   corpusMetrics   corpusMetrics.ts    reconstruction metrics, corpus and per domain
 *   deadFeatures, maxActs, streamMaxActs, topClips, featureStats    featureQueries.ts
 *   classifyFeatures, layerSummaryRow   ../interp/classify.ts (pure, over featureStats rows)
 *   listRuns, resolveRun                runs.ts
 *   clusterClipFeatures                 cluster.ts (makes the per-click queries fast after a run)
 * This file adds the two that combine them: a layer's classification and the per-layer summary.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { classifyFeatures, layerSummaryRow, type Classification, type ClassifyLevel, type LayerSummaryRow } from '../interp/classify.ts';
import { featureStats, type StatsGrouping } from './featureQueries.ts';
import { requireRun } from './runs.ts';

export { corpusMetrics, type CorpusMetricsRow, type ReconSums } from './corpusMetrics.ts';
export { metricsFromSums } from '../sae/metrics.ts';
export {
  deadFeatures, FEATURE_STATS_COLUMNS, featureStats, maxActs, streamMaxActs, topClips,
  type DeadFeaturesRow, type FeatureStatsRow, type MaxActRow, type StatsGrouping, type TopClipRow,
} from './featureQueries.ts';
export { describeRun, listRuns, requireRun, resolveRun, type ResolvedRun, type RunInfo, type RunSummary } from './runs.ts';
export { clusterClipFeatures } from './cluster.ts';
export {
  classifyFeatures, COMBINATIONS, DEFAULT_TAUS, layerSummaryRow,
  type Classification, type ClassificationRow, type ClassificationSummary, type ClassifyLevel, type FeatureLabel, type LayerSummaryRow,
} from '../interp/classify.ts';

export interface ClassifyLayerOptions {
  level: ClassifyLevel;
  taus?: readonly number[];
  /** Label → groups (see ClassifyOptions.domains); the groups are domains, or datasets with by: 'dataset'. */
  domains?: ReadonlyMap<string, readonly string[]>;
  by?: StatsGrouping;
}

/** featureStats of the layer (all features) classified as appendix C says. */
export async function classifyLayer(conn: DuckDBConnection, runId: string, layer: number, opts: ClassifyLayerOptions): Promise<Classification> {
  const stats = await featureStats(conn, runId, layer, { by: opts.by ?? 'domain' });
  return classifyFeatures(stats, { level: opts.level, taus: opts.taus, domains: opts.domains });
}

/**
 * The paper's Figure 2 data: for every layer of the run (ascending), the three-way classification summary
 * (speech, sounds, music, shared, unassigned, dead as counts and % of dict_size; see LayerSummaryRow).
 */
export async function layerSummary(
  conn: DuckDBConnection,
  runId: string,
  opts: Omit<ClassifyLayerOptions, 'level'> & { level?: ClassifyLevel } = {},
): Promise<LayerSummaryRow[]> {
  const run = await requireRun(conn, runId);
  const out: LayerSummaryRow[] = [];
  for (const layer of run.layers) {
    out.push(layerSummaryRow(layer, await classifyLayer(conn, run.runId, layer, { ...opts, level: opts.level ?? 'frame' })));
  }
  return out;
}
