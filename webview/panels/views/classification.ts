/** The classification panel: Figure 2 (per-layer stacked labels, click a layer), Venn counts, and the filterable feature table. */
import type { ClassificationView } from '../../../src/shared/panelProtocol.ts';
import { legend, stackedBarChart } from '../common/charts.ts';
import { el } from '../common/dom.ts';
import { exportRows } from '../common/tableModel.ts';
import { Table } from '../common/table.ts';
import { featureColumns, LABEL_COLOURS, SEGMENTS, stackedBars, vennRegions } from './classificationModel.ts';
import type { PanelContext } from './context.ts';

export function drawClassification(view: ClassificationView, ctx: PanelContext): void {
  const h = view.heading;
  const chart = el('div', { class: 'chart', id: 'figure2' });
  chart.append(
    legend([...SEGMENTS], (s) => LABEL_COLOURS[s as keyof typeof LABEL_COLOURS]),
    stackedBarChart({ bars: stackedBars(view.layers), colours: LABEL_COLOURS, width: Math.max(320, Math.min(900, 60 * view.layers.length + 80)), height: 260, activeLayer: h.layer, onClick: (l) => ctx.setLayer(l) }),
  );
  const venn = el('div', { class: 'venn', id: 'venn' }, el('h3', {}, `Assigned sets at layer ${h.layer} (τ ${view.summary.taus.join(', ')}, ${view.summary.level} level)`),
    ...vennRegions(view).map((r) => el('span', { class: 'venn-region', 'data-region': r.region }, el('b', {}, String(r.count)), ` ${r.region}`)));
  const table = new Table({
    columns: featureColumns, rows: view.features, placeholder: 'Filter features: label:music, grade:0, firesUnder>1, or an id',
    onRowClick: (r) => ctx.command('audioSae.showFeaturePage', { feature: r.feature, layer: h.layer, backbone: h.backbone }),
  });
  ctx.render({
    title: `Feature classification · layer ${h.layer}`,
    body: [chart, venn, table.element],
    exports: {
      name: () => `classification-layer-${h.layer}`,
      rows: () => exportRows(table.visible(), featureColumns),
      extra: () => ({ run: h, layers: view.layers, summary: view.summary }),
      svg: () => chart.querySelector('svg'),
    },
  });
}
