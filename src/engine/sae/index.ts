export { loadSae, parseSaeConfig, saeFromStateDict, type Sae } from './sae.ts';
export { buildSaeGraph, type SaeMode } from './graph.ts';
export { resolveMode, runSae, sparsify, checkActivations, type SaeModeChoice, type SaeResult, type SparseCodes } from './encode.ts';
export { METRIC_FORMULAS, MetricsAccumulator, metricsFromSums, metricsWithFormulas, reconstructionMetrics, type MetricName, type Metrics, type MetricSums } from './metrics.ts';
export { FeatureStatsAccumulator, type FeatureSummary } from './featureStats.ts';
