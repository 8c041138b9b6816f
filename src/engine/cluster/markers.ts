/**
 * The files a shard of a scaled-out corpus run leaves in its folder (DIR/shard-0002-of-0004/):
 *
 *   shard.json        written when the shard starts: which run and share it is (refuses a folder of another run)
 *   work.duckdb       the shard's own store while it runs (resumes after a crash, a requeue or kill -9)
 *   <table>.parquet   when complete: every table of the store schema, this run's rows only
 *   done.json         written last: the completion marker (run identity, manifest, row counts, SHA-256s)
 *
 * Parquet files are written under a temporary name and renamed; the marker is written (atomically) only after
 * every table is in place, so a folder with done.json is a complete shard and one without it is not. A merge of
 * several shards into a folder (`corpus merge --out`) writes the same layout with every index it covers.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { AudioSaeError } from '../errors.ts';
import { siblingName, writeFileAtomic } from '../io/atomicWrite.ts';
import { writeFailure } from '../io/files.ts';
import type { RunInfo } from '../store/runs.ts';

export const MARKER_FILE = 'done.json';
export const START_FILE = 'shard.json';
export const WORK_STORE = 'work.duckdb';
export const MARKER_FORMAT = 'audiosae-shard';
export const MARKER_VERSION = 1;

/** What the corpus was, as every shard of one run must see it. */
export interface ManifestIdentity {
  source: string;
  /** Corpus checksum (the set of clips, order-free). */
  checksum: string;
  /** Checksum of the clip order (clip ids are positions in the manifest). */
  order: string;
  clips: number;
}

/** The run as the runs table records it (everything but the creation time and notes). */
export type RunRecord = Omit<RunInfo, 'notes' | 'createdAt'> & { saeSha256: unknown };

export interface TableFile {
  file: string;
  rows: number;
  bytes: number;
  sha256: string;
}

/** shard.json: written when a shard starts. */
export interface ShardStart {
  format: typeof MARKER_FORMAT;
  version: number;
  shards: number[];
  count: number;
  manifest: ManifestIdentity;
  /** The command's options that decide the run (backbone, layers, SAE, mode …), for "the same shard again". */
  request: Record<string, string | boolean>;
}

/** done.json: a complete shard (or a merge of shards). */
export interface ShardMarker extends ShardStart {
  run: RunRecord;
  tables: Record<string, TableFile>;
  summary: { clips: number; failed: number; audioSeconds: number; elapsedS: number };
  engineVersion: string;
  finishedAt: string;
}

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new AudioSaeError(`cannot be read as JSON (${(e as Error).message.split('\n')[0]}).`, path, 'A shard left a damaged file: remove the shard folder and run that shard again.');
  }
}

function checkFormat(v: unknown, path: string): void {
  const m = v as Partial<ShardStart> | null;
  if (!m || m.format !== MARKER_FORMAT) throw new AudioSaeError('is not an AudioSAE shard file.', path);
  if (m.version !== MARKER_VERSION) throw new AudioSaeError(`has shard format version ${String(m.version)}; this AudioSAE reads version ${MARKER_VERSION}.`, path, 'Merge with the AudioSAE version that wrote the shards.');
}

function readShardFile<T extends ShardStart>(folder: string, name: string): T | undefined {
  const path = join(folder, name);
  if (!existsSync(path)) return undefined;
  const v = readJson(path);
  checkFormat(v, path);
  return v as T;
}

/** The completion marker of a shard folder, or undefined when the shard is not complete. */
export function readMarker(folder: string): ShardMarker | undefined {
  return readShardFile<ShardMarker>(folder, MARKER_FILE);
}

/** What a shard folder was started for, or undefined when nothing started there. */
export function readStart(folder: string): ShardStart | undefined {
  return readShardFile<ShardStart>(folder, START_FILE);
}

export async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`));
}

/** The tables of the store schema that a shard carries (every base table but store_info), in a stable order. */
export async function storeTables(conn: DuckDBConnection): Promise<string[]> {
  const r = await conn.runAndReadAll(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND table_type = 'BASE TABLE' AND table_name <> 'store_info' ORDER BY table_name`,
  );
  return r.getRows().map((row) => String(row[0]));
}

/** The columns of a table, in order. */
export async function tableColumns(conn: DuckDBConnection, table: string): Promise<string[]> {
  const r = await conn.runAndReadAll(`SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' AND table_name = ${sqlString(table)} ORDER BY ordinal_position`);
  return r.getRows().map((row) => String(row[0]));
}

/**
 * Writes `query`'s rows to `<folder>/<name>.parquet` through a temporary name and a rename; returns the file's
 * row count, size and SHA-256 for the marker.
 */
export async function copyToParquet(conn: DuckDBConnection, query: string, folder: string, name: string): Promise<TableFile> {
  const file = `${name}.parquet`;
  const path = join(folder, file);
  const tmp = siblingName(path, '.tmp');
  try {
    await conn.run(`COPY (${query}) TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd)`);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    const mapped = writeFailure(e, path);
    throw mapped !== e ? mapped : new AudioSaeError(`cannot be written: ${(e as Error).message.split('\n')[0]}`, path);
  }
  const rows = Number((await conn.runAndReadAll(`SELECT count(*) FROM read_parquet(${sqlString(path)})`)).getRows()[0]![0]);
  return { file, rows, bytes: statSync(path).size, sha256: await fileSha256(path) };
}

/** Reads the run's row of the runs table as the marker records it. */
export async function runRecord(conn: DuckDBConnection, from: string, runId?: string): Promise<RunRecord> {
  const where = runId === undefined ? '' : ` WHERE run_id = ${sqlString(runId)}`;
  const r = await conn.runAndReadAll(
    `SELECT run_id, backbone, weights, layers, sae, sae_sha256::VARCHAR AS sae_sha256, mode, options::VARCHAR AS options, engine_version, d_model, dict_size, k FROM ${from}${where}`,
  );
  const rows = r.getRowObjectsJS();
  if (rows.length !== 1) throw new AudioSaeError(`holds ${rows.length} runs where one was expected.`, from);
  const x = rows[0]!;
  return {
    runId: String(x.run_id), backbone: String(x.backbone), weights: String(x.weights), layers: (x.layers as unknown[]).map(Number),
    sae: String(x.sae), saeSha256: JSON.parse(String(x.sae_sha256)), mode: String(x.mode), options: JSON.parse(String(x.options)),
    engineVersion: String(x.engine_version), dModel: Number(x.d_model), dictSize: Number(x.dict_size), k: Number(x.k),
  };
}
