/** The metrics panel: per-domain table of the active layer (formulas on the headers) and, for multi-layer runs, a curve per metric over layers. */
import type { MetricsView } from '../../../src/shared/panelProtocol.ts';
import { legend, lineChart, SERIES_COLOURS } from '../common/charts.ts';
import { el } from '../common/dom.ts';
import { exportRows } from '../common/tableModel.ts';
import { Table } from '../common/table.ts';
import { METRIC_LABELS, metricColumns, metricCurves } from './metricsModel.ts';
import type { PanelContext } from './context.ts';

export function drawMetrics(view: MetricsView, ctx: PanelContext): void {
  const columns = metricColumns(view);
  const table = new Table({ columns, rows: view.rows, placeholder: 'Filter domains' });
  const curves = metricCurves(view);
  const charts = el('div', { class: 'charts', id: 'metric-curves' });
  if (curves.length) {
    const groups = curves[0]!.series.map((s) => s.group);
    charts.append(legend(groups, (g) => SERIES_COLOURS[groups.indexOf(g) % SERIES_COLOURS.length]!));
    const grid = el('div', { class: 'small-multiples' });
    for (const c of curves) {
      grid.append(lineChart({
        title: METRIC_LABELS[c.metric], hint: view.formulas[c.metric], width: 260, height: 150, xLabel: 'layer', activeX: view.heading.layer,
        series: c.series.map((s) => ({ name: s.group, points: s.points.map((p) => ({ x: p.layer, y: p.value })) })),
        onClickX: (layer) => ctx.setLayer(layer),
      }));
    }
    charts.append(grid);
  }
  ctx.render({
    title: `Reconstruction metrics · layer ${view.heading.layer}`,
    body: [table.element, charts],
    exports: {
      name: () => `metrics-layer-${view.heading.layer}`,
      rows: () => (curves.length ? view.perLayer.flatMap((p) => exportRows(p.rows, columns).map((r) => ({ layer: p.layer, ...r }))) : exportRows(table.visible(), columns)),
      extra: () => ({ run: view.heading, formulas: view.formulas }),
      svg: () => charts.querySelector('svg'),
    },
  });
}
