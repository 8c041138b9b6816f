export { loadSae, parseSaeConfig, saeFromStateDict, type Sae } from './sae.ts';
export { buildSaeGraph, type SaeMode } from './graph.ts';
export { resolveMode, runSae, sparsify, checkActivations, type SaeModeChoice, type SaeResult } from './encode.ts';
export { METRIC_FORMULAS, MetricsAccumulator, metricsFromSums, metricsWithFormulas, reconstructionMetrics, type MetricName, type Metrics, type MetricSums } from './metrics.ts';
export { FeatureStatsAccumulator, featureStatsOver, topFeatures, type FeatureSummary, type RankedFeature } from './featureStats.ts';
export {
  denseRows, featureColumn, featureColumns, firesAt, firingIntervals, nextFiring, sliceFrames, SparseCodesBuilder, type Interval, type SparseCodes,
} from './sparseCodes.ts';
