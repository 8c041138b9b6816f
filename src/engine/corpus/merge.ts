/**
 * Merging the shards of a scaled-out corpus run: into a store (the same tables one process over the same
 * manifest writes), or into a shard-format folder covering several shards (a partial merge, which merges again:
 * merging is associative).
 *
 * Before anything is written the shards are checked: every folder complete (done.json), one run (run identity,
 * manifest, clip order, shard count), each shard index present exactly once, each Parquet file as the marker
 * recorded it (size, SHA-256), and the clips exactly the manifest's 0..n-1, each once. Every problem found is
 * reported at once, naming the folders.
 *
 * The store write is one transaction of bulk `INSERT … BY NAME SELECT … FROM read_parquet(…)` per table of the
 * store schema (new tables follow without changes here): tables with a clip_id column take every shard's rows,
 * the others (runs) the first shard's. Then the store's usual end of a run (clustering, checkpoint).
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AudioSaeError } from '../errors.ts';
import {
  copyToParquet, fileSha256, MARKER_FILE, readMarker, readStart, storeTables, tableColumns, writeJson, type ShardMarker, type TableFile,
} from '../cluster/markers.ts';
import { CorpusStore } from '../store/store.ts';
import { ENGINE_VERSION } from '../version.ts';
import { SHARD_FOLDER_RE } from './shard.ts';

export interface FoundShard {
  folder: string;
  marker: ShardMarker;
}

export interface MergePlan {
  shards: FoundShard[];
  /** Shard indexes covered, ascending. */
  covered: number[];
  count: number;
}

export interface MergeResult {
  runId: string;
  clips: number;
  failed: number;
  rows: Record<string, number>;
  elapsedS: number;
  /** Store merges: the bulk insert, and the clustering + checkpoint after it. */
  insertS?: number;
  finishS?: number;
}

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;
const list = (files: string[]) => `[${files.map(sqlString).join(', ')}]`;

/**
 * The shard folders named: a folder with done.json (a shard, or a partial merge), or an output folder holding
 * shard-000I-of-000N/ folders. Unfinished shard folders are errors, listed together.
 */
export function findShards(paths: readonly string[]): FoundShard[] {
  const found: FoundShard[] = [];
  const unfinished: string[] = [];
  for (const p of [...new Set(paths.map((x) => resolve(x)))]) {
    if (!existsSync(p) || !statSync(p).isDirectory()) throw new AudioSaeError('is not a folder of shards.', p, 'Name the --out folder of a sharded run, or shard folders in it.');
    const marker = readMarker(p);
    if (marker) {
      found.push({ folder: p, marker });
      continue;
    }
    const subs = readdirSync(p).filter((n) => SHARD_FOLDER_RE.test(n)).sort();
    if (subs.length === 0) {
      if (readStart(p)) unfinished.push(`${p} (started, not complete)`);
      else throw new AudioSaeError(`holds neither a completion marker (${MARKER_FILE}) nor shard folders (shard-0000-of-0004/ …).`, p);
      continue;
    }
    for (const name of subs) {
      const folder = join(p, name);
      const m = readMarker(folder);
      if (m) found.push({ folder, marker: m });
      else unfinished.push(`${folder} (${readStart(folder) ? 'started, not complete' : 'empty'})`);
    }
  }
  if (unfinished.length) throw new AudioSaeError(`${unfinished.length} shard(s) are not complete: ${unfinished.join('; ')}.`, undefined, 'See which with `audiosae corpus status DIR`; run them again (or --resubmit) before merging.');
  if (found.length === 0) throw new AudioSaeError('no complete shards were found.', paths.join(', '));
  return found;
}

/** What makes shards one run: everything but the share and the bookkeeping. */
function runKey(m: ShardMarker): Record<string, string> {
  return {
    run: JSON.stringify(m.run),
    corpus: m.manifest.checksum,
    'clip order': m.manifest.order,
    'clip count': String(m.manifest.clips),
    'shard count': String(m.count),
  };
}

/** Checks that the shards form one run with no index twice (and, with `complete`, every index); throws otherwise. */
export async function planMerge(shards: FoundShard[], options: { complete: boolean; verify?: boolean }): Promise<MergePlan> {
  const problems: string[] = [];
  const first = shards[0]!;
  const ref = runKey(first.marker);
  for (const s of shards.slice(1)) {
    const key = runKey(s.marker);
    const diff = Object.keys(ref).filter((k) => key[k] !== ref[k]);
    if (diff.length) problems.push(`${s.folder} belongs to another run than ${first.folder} (it differs in ${diff.join(', ')}${diff.includes('run') ? `: run ${s.marker.run.runId} vs ${first.marker.run.runId}` : ''})`);
  }
  const count = first.marker.count;
  const owner = new Map<number, string>();
  for (const s of shards) {
    for (const i of s.marker.shards) {
      if (owner.has(i)) problems.push(`shard ${i} of ${count} is in both ${owner.get(i)} and ${s.folder}`);
      else owner.set(i, s.folder);
    }
  }
  if (options.complete && problems.length === 0) {
    const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !owner.has(i));
    if (missing.length) problems.push(`shard(s) ${missing.join(', ')} of ${count} are missing (0 to ${count - 1} are needed)`);
  }
  if (options.verify ?? true) {
    for (const s of shards) {
      for (const [table, t] of Object.entries(s.marker.tables)) {
        const path = join(s.folder, t.file);
        if (!existsSync(path)) problems.push(`${path} is missing (table ${table})`);
        else if (statSync(path).size !== t.bytes || (await fileSha256(path)) !== t.sha256) problems.push(`${path} is not the file the shard wrote (size or SHA-256 differs)`);
      }
    }
  }
  if (problems.length) throw new AudioSaeError(`the shards cannot be merged: ${problems.join('; ')}.`);
  const tableSets = new Set(shards.map((s) => Object.keys(s.marker.tables).sort().join(',')));
  if (tableSets.size > 1) throw new AudioSaeError(`the shards carry different tables (${[...tableSets].join(' vs ')}).`, first.folder);
  return { shards: [...shards].sort((a, b) => Math.min(...a.marker.shards) - Math.min(...b.marker.shards)), covered: [...owner.keys()].sort((a, b) => a - b), count };
}

function filesOf(plan: MergePlan, table: string): string[] {
  return plan.shards.map((s) => join(s.folder, s.marker.tables[table]!.file));
}

/** Every clip of the shards once, and (for a complete merge) exactly the manifest's 0..n-1. */
async function checkClips(conn: DuckDBConnection, plan: MergePlan, complete: boolean): Promise<{ clips: number; failed: number }> {
  const r = await conn.runAndReadAll(
    `SELECT count(*)::DOUBLE, count(DISTINCT clip_id)::DOUBLE, min(clip_id)::DOUBLE, max(clip_id)::DOUBLE, count(*) FILTER (WHERE status <> 'done')::DOUBLE
     FROM read_parquet(${list(filesOf(plan, 'clips'))})`,
  );
  const [n, distinct, lo, hi, failed] = r.getRows()[0]!.map(Number) as [number, number, number, number, number];
  const total = plan.shards[0]!.marker.manifest.clips;
  if (n !== distinct) {
    const dup = await conn.runAndReadAll(`SELECT clip_id FROM read_parquet(${list(filesOf(plan, 'clips'))}) GROUP BY clip_id HAVING count(*) > 1 ORDER BY clip_id LIMIT 10`);
    throw new AudioSaeError(`the shards hold ${n - distinct} clip(s) more than once (clip ids ${dup.getRows().map((x) => String(x[0])).join(', ')} …); they were not made from one manifest.`);
  }
  if (complete && (n !== total || lo !== 0 || hi !== total - 1)) {
    throw new AudioSaeError(`the shards hold ${n} clips (ids ${lo} to ${hi}), but the manifest has ${total} (ids 0 to ${total - 1}).`);
  }
  return { clips: n, failed };
}

/**
 * Writes the merged shards into a store: the same tables as one process over the same manifest. The store may
 * hold other runs, not this one.
 */
export async function mergeIntoStore(plan: MergePlan, storePath: string, options: { memoryLimit?: string } = {}): Promise<MergeResult> {
  const started = performance.now();
  const runId = plan.shards[0]!.marker.run.runId;
  const store = await CorpusStore.open(storePath);
  try {
    const conn = store.connection;
    // DuckDB spills what does not fit (to <store>.tmp/); by default it may use 80 % of the machine's memory.
    if (options.memoryLimit) await conn.run(`SET memory_limit = ${sqlString(options.memoryLimit)}`);
    const present = Number((await conn.runAndReadAll(`SELECT count(*) FROM runs WHERE run_id = ${sqlString(runId)}`)).getRows()[0]![0]);
    if (present) throw new AudioSaeError(`already holds run ${runId}; a merge writes a run once.`, storePath, 'Merge into a new store, or delete that one first.');
    const { clips, failed } = await checkClips(conn, plan, true);
    const tables = await storeTables(conn);
    const carried = Object.keys(plan.shards[0]!.marker.tables);
    const lacking = tables.filter((t) => !carried.includes(t));
    if (lacking.length) throw new AudioSaeError(`the shards carry no table ${lacking.join(', ')}, which this store has; they come from another AudioSAE version.`, plan.shards[0]!.folder);
    const rows: Record<string, number> = {};
    const insertStarted = performance.now();
    await conn.run('BEGIN TRANSACTION');
    try {
      for (const table of tables) {
        const perClip = (await tableColumns(conn, table)).includes('clip_id');
        const files = perClip ? filesOf(plan, table) : filesOf(plan, table).slice(0, 1);
        await conn.run(`INSERT INTO ${table} BY NAME SELECT * FROM read_parquet(${list(files)})`);
        rows[table] = plan.shards.reduce((a, s) => a + (perClip || s === plan.shards[0] ? s.marker.tables[table]!.rows : 0), 0);
      }
      await conn.run('COMMIT');
    } catch (e) {
      await conn.run('ROLLBACK').catch(() => undefined);
      throw e;
    }
    const finishStarted = performance.now();
    await store.finishRun(true);
    const now = performance.now();
    return { runId, clips, failed, rows, elapsedS: (now - started) / 1000, insertS: (finishStarted - insertStarted) / 1000, finishS: (now - finishStarted) / 1000 };
  } finally {
    store.close();
  }
}

/** Writes the merged shards as one shard-format folder (a partial merge; merge it again with the rest). */
export async function mergeIntoFolder(plan: MergePlan, outFolder: string): Promise<MergeResult> {
  const started = performance.now();
  const out = resolve(outFolder);
  if (readMarker(out)) throw new AudioSaeError('already holds merged shards.', out, 'Merge into a new folder.');
  mkdirSync(out, { recursive: true });
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const { clips, failed } = await checkClips(conn, plan, false);
    const first = plan.shards[0]!.marker;
    const tables: Record<string, TableFile> = {};
    const rows: Record<string, number> = {};
    for (const table of Object.keys(first.tables).sort()) {
      const files = filesOf(plan, table);
      const perClip = (await conn.runAndReadAll(`SELECT count(*) FROM (DESCRIBE SELECT * FROM read_parquet(${sqlString(files[0]!)})) WHERE column_name = 'clip_id'`)).getRows()[0]![0];
      const query = Number(perClip) ? `SELECT * FROM read_parquet(${list(files)})` : `SELECT * FROM read_parquet(${sqlString(files[0]!)})`;
      tables[table] = await copyToParquet(conn, query, out, table);
      rows[table] = tables[table].rows;
    }
    const sum = (f: (m: ShardMarker) => number) => plan.shards.reduce((a, s) => a + f(s.marker), 0);
    const marker: ShardMarker = {
      ...first, shards: plan.covered, tables,
      summary: { clips, failed, audioSeconds: sum((m) => m.summary.audioSeconds), elapsedS: sum((m) => m.summary.elapsedS) },
      engineVersion: ENGINE_VERSION, finishedAt: new Date().toISOString(),
    };
    await writeJson(join(out, MARKER_FILE), marker);
    return { runId: first.run.runId, clips, failed, rows, elapsedS: (performance.now() - started) / 1000 };
  } catch (e) {
    if (!readMarker(out)) for (const name of readdirSync(out)) if (name.endsWith('.parquet')) rmSync(join(out, name), { force: true });
    throw e;
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}
