/**
 * `corpus run --keep-frame-codes` on the design corpus (test/reference/fixtures/design-corpus, toy backbone):
 * the per-frame codes it keeps agree with the per-clip rows of the same run (count, max and sum per clip and
 * feature), the option is part of the run's identity, `corpus export` writes the table as Parquet, and a run
 * killed with SIGKILL and resumed holds every (layer, clip, frame, feature) exactly once, as a clean run does;
 * a clip removed from the corpus takes its frame codes with it.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { fixture } from '../helpers/compare.ts';

const cli = new URL('../../dist/cli.cjs', import.meta.url).pathname;
const corpusDir = fixture('design-corpus');
const tmp = mkdtempSync(join(tmpdir(), 'audiosae-frame-codes-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const env = { ...process.env, AUDIOSAE_EXECUTION_PROVIDER: 'cpu', AUDIOSAE_CACHE: join(tmp, 'cache') };
const clean = join(tmp, 'clean.duckdb');

const runArgs = (corpus: string, store: string, ...extra: string[]) =>
  [cli, 'corpus', 'run', corpus, '--backbone', 'whisper-tiny-random', '--layers', 'all', '--sae', join(corpusDir, 'sae'), '--store', store, ...extra];

function audiosae(args: string[]) {
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function query<T>(sql: string, attach: Record<string, string>): Promise<T[]> {
  const db = await DuckDBInstance.create(':memory:');
  const conn: DuckDBConnection = await db.connect();
  try {
    for (const [name, path] of Object.entries(attach)) await conn.run(`ATTACH '${path}' AS ${name} (READ_ONLY)`);
    return (await conn.runAndReadAll(sql)).getRowObjectsJS() as T[];
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

/** Rows of frame_codes keyed by clip path relative to its corpus folder, with how often each occurs. */
const keyedCodes = (db: string, folder: string) => `
  SELECT f.layer, replace(c.path, '${folder}/', '') AS clip, f.frame, f.feature, f.value, count(*) AS n
  FROM ${db}.frame_codes f JOIN ${db}.clips c USING (run_id, clip_id) GROUP BY ALL`;

before(() => {
  const r = audiosae(runArgs(corpusDir, clean, '--keep-frame-codes'));
  assert.equal(r.code, 0, r.stderr);
});

describe('corpus run --keep-frame-codes', () => {
  it('keeps codes that agree with the per-clip rows of the same run', async () => {
    const [counts] = await query<{ rows: number; clips: number; layers: number }>(
      'SELECT count(*)::INT AS rows, count(DISTINCT clip_id)::INT AS clips, count(DISTINCT layer)::INT AS layers FROM s.frame_codes', { s: clean });
    assert.ok(counts!.rows > 1000, `frame_codes holds ${counts!.rows} rows`);
    assert.deepEqual([counts!.clips, counts!.layers], [18, 3]);
    const [bad] = await query<{ n: number; worstSum: number | null }>(`
      SELECT count(*) FILTER (WHERE a.n IS DISTINCT FROM b.active_frames OR a.m IS DISTINCT FROM b.max_act)::INT AS n,
             max(abs(a.s - b.sum_act) / b.sum_act) AS worstSum
      FROM (SELECT layer, clip_id, feature, count(*) AS n, max(value) AS m, sum(value::DOUBLE) AS s FROM s.frame_codes GROUP BY ALL) a
      FULL JOIN s.clip_features b USING (layer, clip_id, feature)`, { s: clean });
    assert.equal(bad!.n, 0, 'every (layer, clip, feature) of clip_features has its active frames and max in frame_codes, and nothing else');
    assert.ok(bad!.worstSum! < 1e-6, `sums agree to ${bad!.worstSum}`);
  });

  it('is part of the run identity, and visible in the run options', async () => {
    // One clip is enough: were it the same run, the other 17 clips would be removed from it.
    const one = join(tmp, 'one');
    cpSync(join(corpusDir, 'speech', 's1_en-us.wav'), join(one, 'speech', 's1_en-us.wav'));
    const r = audiosae(runArgs(one, clean));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /1 clips: 1 run, 0 already stored, 0 removed/, 'without the option it is another run');
    const runs = await query<{ keep: boolean | null; codes: number }>(`
      SELECT (r.options->>'keepFrameCodes')::BOOLEAN AS keep, (SELECT count(*) FROM s.frame_codes f WHERE f.run_id = r.run_id)::INT AS codes
      FROM s.runs r ORDER BY keep NULLS LAST`, { s: clean });
    assert.equal(runs.length, 2);
    assert.equal(runs[0]!.keep, true);
    assert.ok(runs[0]!.codes > 0);
    assert.deepEqual([runs[1]!.keep, runs[1]!.codes], [null, 0]);
  });

  it('corpus export writes the table as Parquet', async () => {
    const out = join(tmp, 'frame_codes.parquet');
    const r = audiosae([cli, 'corpus', 'export', '--store', clean, '--table', 'frame_codes', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const [n] = await query<{ file: number; store: number }>(
      `SELECT (SELECT count(*) FROM read_parquet('${out}'))::INT AS file, (SELECT count(*) FROM s.frame_codes)::INT AS store`, { s: clean });
    assert.equal(n!.file, n!.store);
    assert.match(r.stdout, new RegExp(`frame_codes: ${n!.store} rows`));
  });

  it('kill -9 in the middle, then again: every code exactly once, as in a clean run; removed clips take theirs', async () => {
    const corpus = join(tmp, 'copy');
    for (const domain of ['speech', 'sounds', 'music']) cpSync(join(corpusDir, domain), join(corpus, domain), { recursive: true });
    const store = join(tmp, 'killed.duckdb');
    const child = spawn(process.execPath, runArgs(corpus, store, '--keep-frame-codes'), { env });
    // Each committed clip adds its rows to DuckDB's write-ahead log; past ~60 kB several clips are in.
    const timer = setInterval(() => {
      try {
        if (statSync(`${store}.wal`).size > 60_000) child.kill('SIGKILL');
      } catch {
        // no log yet
      }
    }, 2);
    const signal = await new Promise((resolve) => child.on('close', (_code, s) => resolve(s)));
    clearInterval(timer);
    assert.equal(signal, 'SIGKILL', 'the run ended before it could be killed');
    const resumed = audiosae(runArgs(corpus, store, '--keep-frame-codes'));
    assert.equal(resumed.code, 0, resumed.stderr);
    const m = /18 clips: (\d+) run, (\d+) already stored/.exec(resumed.stdout);
    assert.ok(m && Number(m[2]) >= 1 && Number(m[2]) < 18, `some clips were stored before the kill: ${resumed.stdout}`);

    const [diff] = await query<{ extra: number; missing: number; twice: number }>(`
      WITH x AS (${keyedCodes('b', corpus)}), y AS (${keyedCodes('a', corpusDir)})
      SELECT (SELECT count(*) FROM (SELECT * FROM x EXCEPT ALL SELECT * FROM y))::INT AS extra,
             (SELECT count(*) FROM (SELECT * FROM y EXCEPT ALL SELECT * FROM x))::INT AS missing,
             (SELECT count(*) FROM x WHERE n > 1)::INT AS twice`, { a: clean, b: store });
    assert.deepEqual(diff, { extra: 0, missing: 0, twice: 0 });

    rmSync(join(corpus, 'sounds', 'n6_thumps.wav'));
    const removed = audiosae(runArgs(corpus, store, '--keep-frame-codes'));
    assert.match(removed.stdout, /17 clips: 0 run, 17 already stored, 1 removed/);
    const [left] = await query<{ orphans: number; clips: number }>(`
      SELECT (SELECT count(*) FROM b.frame_codes f ANTI JOIN b.clips c USING (run_id, clip_id))::INT AS orphans,
             (SELECT count(DISTINCT clip_id) FROM b.frame_codes)::INT AS clips`, { b: store });
    assert.deepEqual(left, { orphans: 0, clips: 17 });
  });
});
