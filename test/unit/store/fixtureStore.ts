/**
 * Builds corpus stores for the tests from test/reference/fixtures/corpus/tables.json (made by
 * make_corpus_stats.py): the tables created with SCHEMA_SQL, the rows inserted with INSERT … BY NAME SELECT FROM
 * read_json over newline-delimited files with the schema's column types.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCHEMA_SQL } from '../../../src/engine/store/schema.ts';
import { fixture } from '../../helpers/compare.ts';

export type JsonRow = Record<string, unknown>;
export interface FixtureTables {
  run: JsonRow;
  clips: JsonRow[];
  clip_features: JsonRow[];
  clip_recon: JsonRow[];
}

export const corpusFixture = (name: string): unknown => JSON.parse(readFileSync(fixture('corpus', name), 'utf8'));
export const loadTables = (): FixtureTables => corpusFixture('tables.json') as FixtureTables;

const COLUMNS: Record<string, Record<string, string>> = {
  runs: {
    run_id: 'VARCHAR', backbone: 'VARCHAR', weights: 'VARCHAR', layers: 'INTEGER[]', sae: 'VARCHAR', sae_sha256: 'JSON', mode: 'VARCHAR',
    options: 'JSON', engine_version: 'VARCHAR', d_model: 'INTEGER', dict_size: 'INTEGER', k: 'INTEGER', notes: 'JSON', created_at: 'TIMESTAMP',
  },
  clips: {
    run_id: 'VARCHAR', clip_id: 'INTEGER', path: 'VARCHAR', domain: 'VARCHAR', dataset: 'VARCHAR', start_s: 'DOUBLE', end_s: 'DOUBLE',
    duration_s: 'DOUBLE', frames: 'INTEGER', content_hash: 'VARCHAR', status: 'VARCHAR', error: 'VARCHAR', metadata: 'JSON',
  },
  clip_features: {
    run_id: 'VARCHAR', layer: 'SMALLINT', clip_id: 'INTEGER', feature: 'INTEGER', max_act: 'FLOAT', argmax_frame: 'INTEGER',
    active_frames: 'INTEGER', sum_act: 'DOUBLE',
  },
  clip_recon: {
    run_id: 'VARCHAR', layer: 'SMALLINT', clip_id: 'INTEGER', frames: 'INTEGER', zero_norm_frames: 'INTEGER', sum_l0: 'DOUBLE',
    sum_sq_err: 'DOUBLE', sum_err: 'DOUBLE', sum_rel_err: 'DOUBLE', sum_sq_norm: 'DOUBLE', sum_cosine: 'DOUBLE', sum_norm_ratio: 'DOUBLE',
    sum_x: 'DOUBLE[]', sum_res: 'DOUBLE[]',
  },
};

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** Inserts rows into one of the store's tables. */
export async function insertRows(conn: DuckDBConnection, table: keyof typeof COLUMNS, rowsToInsert: readonly JsonRow[]): Promise<void> {
  if (rowsToInsert.length === 0) return;
  const dir = mkdtempSync(join(tmpdir(), 'audiosae-store-'));
  try {
    const file = join(dir, `${table}.ndjson`);
    writeFileSync(file, rowsToInsert.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const columns = Object.entries(COLUMNS[table]!).map(([k, v]) => `${k}: ${sqlString(v)}`).join(', ');
    await conn.run(`INSERT INTO ${table} BY NAME SELECT * FROM read_json(${sqlString(file)}, format = 'newline_delimited', columns = {${columns}})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface OpenStore {
  instance: DuckDBInstance;
  conn: DuckDBConnection;
  close(): void;
}

/** A fresh store (in memory, or at `path`) with the schema and, unless `empty`, the fixture run. */
export async function fixtureStore(opts: { path?: string; tables?: FixtureTables; empty?: boolean } = {}): Promise<OpenStore> {
  const instance = await DuckDBInstance.create(opts.path ?? ':memory:');
  const conn = await instance.connect();
  await conn.run(SCHEMA_SQL);
  if (!opts.empty) await insertTables(conn, opts.tables ?? loadTables());
  return { instance, conn, close: () => { conn.closeSync(); instance.closeSync(); } };
}

export async function insertTables(conn: DuckDBConnection, t: FixtureTables): Promise<void> {
  await insertRows(conn, 'runs', [t.run]);
  await insertRows(conn, 'clips', t.clips);
  await insertRows(conn, 'clip_features', t.clip_features);
  await insertRows(conn, 'clip_recon', t.clip_recon);
}

/** The fixture's tables under another run id (and optionally fewer layers / clips), for multi-run stores. */
export function asRun(t: FixtureTables, runId: string, opts: { layers?: number[]; createdAt?: string; keepClip?: (clipId: number) => boolean } = {}): FixtureTables {
  const layers = opts.layers ?? (t.run.layers as number[]);
  const keep = opts.keepClip ?? (() => true);
  const withRun = (r: JsonRow) => ({ ...r, run_id: runId });
  return {
    run: { ...t.run, run_id: runId, layers, created_at: opts.createdAt ?? t.run.created_at },
    clips: t.clips.filter((c) => keep(c.clip_id as number)).map(withRun),
    clip_features: t.clip_features.filter((r) => layers.includes(r.layer as number) && keep(r.clip_id as number)).map(withRun),
    clip_recon: t.clip_recon.filter((r) => layers.includes(r.layer as number) && keep(r.clip_id as number)).map(withRun),
  };
}
