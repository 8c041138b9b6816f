/**
 * A filterable, sortable table of a panel (a <vscode-textfield> filter above a <vscode-table>), drawn from
 * tableModel.ts. Long results show their first `pageSize` rows and say how many matched; the export buttons
 * take exactly the rows that match.
 */
import { cellText, visibleRows, type Column, type TableState } from './tableModel.ts';
import { el } from './dom.ts';

export interface TableOptions<R> {
  columns: Column<R>[];
  rows: readonly R[];
  state?: TableState;
  pageSize?: number;
  placeholder?: string;
  onRowClick?: (r: R) => void;
  onState?: (s: TableState) => void;
}

export class Table<R> {
  readonly element: HTMLElement;
  private state: TableState;
  private readonly body: HTMLElement;
  private readonly count: HTMLElement;

  constructor(private readonly o: TableOptions<R>) {
    this.state = o.state ?? { filter: '' };
    const filter = el('vscode-textfield', { placeholder: o.placeholder ?? 'Filter (words, or column:value, column>n)', class: 'filter', 'aria-label': 'Filter' }) as HTMLElement & { value: string };
    filter.value = this.state.filter;
    filter.addEventListener('input', () => this.update({ ...this.state, filter: filter.value }));
    this.count = el('span', { class: 'count' });
    this.body = el('div', { class: 'table-body' });
    this.element = el('div', { class: 'table' }, el('div', { class: 'table-tools' }, filter, this.count), this.body);
    this.render();
  }

  /** The rows the filter keeps, in the shown order. */
  visible(): R[] {
    return visibleRows(this.o.rows, this.o.columns, this.state);
  }

  private update(s: TableState): void {
    this.state = s;
    this.o.onState?.(s);
    this.render();
  }

  private render(): void {
    const rows = this.visible();
    const page = rows.slice(0, this.o.pageSize ?? 500);
    this.count.textContent = rows.length > page.length ? `${page.length} of ${rows.length} rows shown (filter to narrow)` : `${rows.length} rows`;
    const header = el('vscode-table-header', { slot: 'header' }, ...this.o.columns.map((c) => {
      const arrow = this.state.sortKey === c.key ? (this.state.descending ? ' ▼' : ' ▲') : '';
      const cell = el('vscode-table-header-cell', { title: c.hint ?? `sort by ${c.title}`, 'data-key': c.key }, c.title + arrow);
      cell.addEventListener('click', () => this.update({ ...this.state, sortKey: c.key, descending: this.state.sortKey === c.key ? !this.state.descending : !!c.numeric }));
      return cell;
    }));
    const body = el('vscode-table-body', { slot: 'body' }, ...page.map((r) => {
      const row = el('vscode-table-row', this.o.onRowClick ? { class: 'clickable', tabindex: '0' } : {}, ...this.o.columns.map((c) => el('vscode-table-cell', c.numeric ? { class: 'num' } : {}, cellText(c, r))));
      if (this.o.onRowClick) {
        row.addEventListener('click', () => this.o.onRowClick!(r));
        row.addEventListener('keydown', (e) => (e as KeyboardEvent).key === 'Enter' && this.o.onRowClick!(r));
      }
      return row;
    }));
    const table = el('vscode-table', { 'zebra': '', 'bordered-rows': '', resizable: '' }, header, body);
    this.body.replaceChildren(table);
  }
}
