/** The top clips of a feature: ranked rows; clicking one opens the audio editor at the maximum with the feature selected. */
import type { TopClipsView } from '../../../src/shared/panelProtocol.ts';
import { exportRows, type Column } from '../common/tableModel.ts';
import { Table } from '../common/table.ts';
import type { PanelContext } from './context.ts';

type Row = TopClipsView['rows'][number];
const columns: Column<Row>[] = [
  { key: 'rank', title: '#', value: (r) => r.rank, numeric: true },
  { key: 'max', title: 'max', value: (r) => r.max, numeric: true, hint: 'the feature\'s largest code in the clip' },
  { key: 'timeS', title: 'at (s)', value: (r) => r.fileTimeS, numeric: true, format: (r) => r.fileTimeS.toFixed(2), hint: 'time of the maximum in the file' },
  { key: 'domain', title: 'domain', value: (r) => r.domain },
  { key: 'dataset', title: 'dataset', value: (r) => r.dataset },
  { key: 'clip', title: 'clip', value: (r) => r.clip },
];

export function drawTopClips(view: TopClipsView, ctx: PanelContext): void {
  const h = view.heading;
  const table = new Table({
    columns, rows: view.rows, placeholder: 'Filter clips',
    onRowClick: (r) => ctx.command('audioSae.openClipAt', { path: r.clip, time_s: r.fileTimeS, feature: view.feature, layer: h.layer }),
  });
  ctx.render({
    title: `Top clips of feature ${view.feature} · layer ${h.layer}`,
    body: [table.element],
    exports: { name: () => `top-clips-feature-${view.feature}-layer-${h.layer}`, rows: () => exportRows(table.visible(), columns), extra: () => ({ run: h, feature: view.feature }) },
  });
}
