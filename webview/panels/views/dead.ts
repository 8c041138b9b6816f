/** The dead-features panel: per domain how many features never fire, and their ids. */
import type { DeadView } from '../../../src/shared/panelProtocol.ts';
import { el } from '../common/dom.ts';
import { exportRows, type Column } from '../common/tableModel.ts';
import { Table } from '../common/table.ts';
import type { PanelContext } from './context.ts';

type Row = DeadView['rows'][number];
const columns: Column<Row>[] = [
  { key: 'domain', title: 'domain', value: (r) => r.domain ?? 'corpus' },
  { key: 'count', title: 'dead', value: (r) => r.count, numeric: true, hint: 'features with no activation in any clip of the group' },
  { key: 'fraction', title: 'fraction', value: (r) => r.fraction, numeric: true, format: (r) => `${(100 * r.fraction).toFixed(2)} %`, hint: 'dead / dictionary size' },
  { key: 'features', title: 'features', value: (r) => r.features.join(' '), format: (r) => (r.features.length > 40 ? `${r.features.slice(0, 40).join(' ')} … (${r.features.length})` : r.features.join(' ')) },
];

export function drawDead(view: DeadView, ctx: PanelContext): void {
  const h = view.heading;
  const table = new Table({ columns, rows: view.rows, placeholder: 'Filter domains' });
  const corpus = view.rows.find((r) => r.domain === null);
  const summary = el('p', { class: 'summary', id: 'dead-summary' }, corpus ? `${corpus.count} of ${h.dictSize} features (${(100 * corpus.fraction).toFixed(2)} %) never fire in the ${h.clips} clips of layer ${h.layer}.` : '');
  ctx.render({
    title: `Dead features · layer ${h.layer}`,
    body: [summary, table.element],
    exports: { name: () => `dead-features-layer-${h.layer}`, rows: () => exportRows(table.visible(), columns), extra: () => ({ run: h }) },
  });
}
