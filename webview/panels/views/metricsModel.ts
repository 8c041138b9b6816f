/**
 * The metrics panel's view logic (no DOM): the table rows of the active layer (corpus first, then domains), the
 * metric columns with their formulas as hints, and for multi-layer runs one curve per metric over the layers
 * (the corpus row, and one line per domain).
 */
import type { MetricsView } from '../../../src/shared/panelProtocol.ts';
import type { CorpusMetricsRow } from '../../../src/engine/store/corpusMetrics.ts';
import type { Column } from '../common/tableModel.ts';

/** The metrics in display order (keys of METRIC_FORMULAS). */
export const METRIC_ORDER = ['l0', 'mse', 'l2', 'normalizedL2', 'nmse', 'fve', 'cosine', 'normRatio', 'aliveFraction'] as const;
export type MetricKey = (typeof METRIC_ORDER)[number];

export const METRIC_LABELS: Record<MetricKey, string> = {
  l0: 'L0', mse: 'MSE', l2: 'L2', normalizedL2: 'norm. L2', nmse: 'NMSE', fve: 'FVE', cosine: 'cosine', normRatio: 'norm ratio', aliveFraction: 'alive',
};

export const domainName = (d: string | null) => d ?? 'corpus';

export function metricColumns(view: MetricsView): Column<CorpusMetricsRow>[] {
  return [
    { key: 'domain', title: 'domain', value: (r) => domainName(r.domain) },
    { key: 'clips', title: 'clips', value: (r) => r.clips, numeric: true },
    { key: 'frames', title: 'frames', value: (r) => r.frames, numeric: true },
    ...METRIC_ORDER.map((k) => ({ key: k, title: METRIC_LABELS[k], value: (r: CorpusMetricsRow) => r[k], hint: view.formulas[k], numeric: true })),
  ];
}

export interface Curve {
  metric: MetricKey;
  /** One series per group (corpus, then domains in the order of the first layer). */
  series: { group: string; points: { layer: number; value: number }[] }[];
}

/** A curve per metric over the run's layers; empty for a one-layer run. */
export function metricCurves(view: MetricsView): Curve[] {
  if (view.perLayer.length < 2) return [];
  const groups = [...new Set(view.perLayer.flatMap((p) => p.rows.map((r) => domainName(r.domain))))];
  return METRIC_ORDER.map((metric) => ({
    metric,
    series: groups.map((group) => ({
      group,
      points: view.perLayer.flatMap((p) => {
        const row = p.rows.find((r) => domainName(r.domain) === group);
        return row && Number.isFinite(row[metric]) ? [{ layer: p.layer, value: row[metric] }] : [];
      }),
    })),
  }));
}
