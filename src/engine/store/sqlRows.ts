/**
 * Small helpers the store queries share: running a parameterised query into plain row objects, typed reads of
 * one column (a wrong type is a bug in the query, not a user error, so it throws a plain Error), the store's
 * name for messages, and the set of clips every statistic of a layer is computed over.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { MODEL_FRAMES_PER_SECOND } from '../audio/constants.ts';

export type Params = Record<string, string | number>;
export type Row = Record<string, unknown>;

/** Runs `sql` with the named parameters it uses ($name; DuckDB refuses parameters a statement does not use). */
export async function rows(conn: DuckDBConnection, sql: string, params: Params = {}): Promise<Row[]> {
  const reader = await conn.runAndReadAll(sql, usedParams(sql, params));
  return reader.getRowObjectsJS() as Row[];
}

export function usedParams(sql: string, params: Params): Params {
  return Object.fromEntries(Object.entries(params).filter(([k]) => new RegExp(`\\$${k}\\b`).test(sql)));
}

export function num(row: Row, key: string): number {
  const v = row[key];
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  throw new Error(`store query: column ${key} is ${v === null ? 'NULL' : typeof v}, expected a number`);
}

/** A number, or 0 where the aggregate had no rows (SQL NULL). */
export function numOr0(row: Row, key: string): number {
  return row[key] === null || row[key] === undefined ? 0 : num(row, key);
}

export function numOrNull(row: Row, key: string): number | null {
  return row[key] === null || row[key] === undefined ? null : num(row, key);
}

export function str(row: Row, key: string): string {
  const v = row[key];
  if (typeof v === 'string') return v;
  throw new Error(`store query: column ${key} is ${v === null ? 'NULL' : typeof v}, expected a string`);
}

export function strOrNull(row: Row, key: string): string | null {
  return row[key] === null || row[key] === undefined ? null : str(row, key);
}

/** The store's file for messages (`duckdb_databases()` knows it), or a description for in-memory stores. */
export async function storeName(conn: DuckDBConnection): Promise<string> {
  try {
    const r = await rows(conn, 'SELECT path FROM duckdb_databases() WHERE database_name = current_database()');
    const path = r[0]?.path;
    return typeof path === 'string' && path !== '' ? path : 'the corpus store (in memory)';
  } catch {
    return 'the corpus store';
  }
}

/**
 * The clips a layer's statistics are computed over: status 'done' and a reconstruction row for the layer (the
 * writer writes both in one transaction). Columns: clip_id, path, domain, dataset, frames (the layer's SAE
 * frames, from clip_recon). Parameters $run and $layer.
 */
export const LAYER_CLIPS_CTE = `layer_clips AS (
  SELECT c.clip_id, c.path, c.domain, c.dataset, r.frames
  FROM clips c JOIN clip_recon r ON r.run_id = c.run_id AND r.clip_id = c.clip_id AND r.layer = $layer
  WHERE c.run_id = $run AND c.status = 'done'
)`;

/** SAE frames per second (20 ms frames, reference doc §3): time_s = frame / 50. */
export const SAE_FRAMES_PER_SECOND = MODEL_FRAMES_PER_SECOND;
