/**
 * The view logic of a panel's table (no DOM): which rows a filter text keeps, their order, and the page shown.
 * A filter is words; a row is kept when every word occurs in one of its cells (case-insensitive), or, for a word
 * `col:value` / `col>n` / `col<n`, when that column matches (`label:music`, `max>2.5`).
 */

export type CellValue = string | number | null | undefined;
export interface Column<R> {
  key: string;
  title: string;
  value: (r: R) => CellValue;
  /** Shown text (default: the value, numbers to 4 significant digits). */
  format?: (r: R) => string;
  /** A tooltip for the header (a formula, a definition). */
  hint?: string;
  numeric?: boolean;
}

export interface TableState {
  filter: string;
  sortKey?: string;
  descending?: boolean;
}

export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(3) : v.toPrecision(4).replace(/\.?0+$/, '');
}

export function cellText<R>(c: Column<R>, r: R): string {
  if (c.format) return c.format(r);
  const v = c.value(r);
  return v === null || v === undefined ? '' : typeof v === 'number' ? formatNumber(v) : v;
}

type Test<R> = (r: R) => boolean;

function wordTest<R>(word: string, columns: readonly Column<R>[]): Test<R> {
  const m = /^(\w+)([:<>=])(.+)$/.exec(word);
  const column = m && columns.find((c) => c.key.toLowerCase() === m[1]!.toLowerCase() || c.title.toLowerCase() === m[1]!.toLowerCase());
  if (m && column) {
    const [, , op, want] = m;
    const n = Number(want);
    if (op === '<' || op === '>') {
      return (r) => {
        const raw = column.value(r);
        const v = raw === null || raw === undefined || raw === '' ? Number.NaN : Number(raw);
        return Number.isFinite(v) && Number.isFinite(n) && (op === '<' ? v < n : v > n);
      };
    }
    return (r) => String(column.value(r) ?? '').toLowerCase() === want!.toLowerCase() || (Number.isFinite(n) && Number(column.value(r)) === n);
  }
  return (r) => columns.some((c) => cellText(c, r).toLowerCase().includes(word));
}

/** The rows a filter keeps, sorted (stable: ties keep their order). */
export function visibleRows<R>(rows: readonly R[], columns: readonly Column<R>[], state: TableState): R[] {
  const words = state.filter.toLowerCase().split(/\s+/).filter(Boolean);
  const tests = words.map((w) => wordTest(w, columns));
  const kept = tests.length ? rows.filter((r) => tests.every((t) => t(r))) : [...rows];
  const column = columns.find((c) => c.key === state.sortKey);
  if (!column) return kept;
  const sign = state.descending ? -1 : 1;
  const indexed = kept.map((r, i) => ({ r, i, v: column.value(r) }));
  indexed.sort((a, b) => {
    const x = a.v;
    const y = b.v;
    if (x === y) return a.i - b.i;
    if (x === null || x === undefined) return 1;
    if (y === null || y === undefined) return -1;
    const d = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return d === 0 ? a.i - b.i : sign * d;
  });
  return indexed.map((e) => e.r);
}

/** The rows as plain objects (column key → value), for CSV/JSON export of exactly what is shown. */
export function exportRows<R>(rows: readonly R[], columns: readonly Column<R>[]): Record<string, CellValue>[] {
  return rows.map((r) => Object.fromEntries(columns.map((c) => [c.key, c.value(r)])));
}
