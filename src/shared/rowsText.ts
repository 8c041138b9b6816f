/**
 * Rows of an analysis as CSV or JSON text, one definition for the CLI's outputs and the panels' exports (no Node
 * or DOM imports, so the webviews bundle it too): camelCase keys become snake_case columns, lists become
 * space-separated cells, non-finite numbers are written as text in CSV and as null in JSON.
 */

export const snakeCase = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

type Cell = string | number | boolean | null | undefined | readonly unknown[];

/** One CSV field (RFC 4180 quoting where needed). */
export function csvCell(v: Cell): string {
  if (v === null || v === undefined) return '';
  const s = Array.isArray(v) ? v.join(' ') : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** The rows as CSV with a header of the first row's keys (snake_case); empty text for no rows. */
export function rowsToCsv(rows: readonly Record<string, unknown>[]): string {
  if (rows.length === 0) return '';
  const keys = Object.keys(rows[0]!);
  return [keys.map(snakeCase).join(','), ...rows.map((r) => keys.map((k) => csvCell(r[k] as Cell)).join(','))].join('\n') + '\n';
}

/** `{ ...extra, rows }` as indented JSON, keys snake_case, non-finite numbers null. */
export function rowsToJson(rows: readonly Record<string, unknown>[], extra: Record<string, unknown> = {}): string {
  const convert = (r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [snakeCase(k), typeof v === 'number' && !Number.isFinite(v) ? null : v]));
  return `${JSON.stringify({ ...extra, rows: rows.map(convert) }, null, 1)}\n`;
}
