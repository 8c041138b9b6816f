/**
 * The corpus store against the ways it can be mistreated: a second writer, a file that is not a store, a
 * read-only or full file system (real tmpfs mounts; root only, skipped with the reason elsewhere). Each gets one
 * clear line; the store is never left unreadable.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { CorpusStore } from '../../src/engine/store/store.ts';
import { fixture } from '../helpers/compare.ts';
import { Tmpfs } from '../helpers/tmpfs.ts';

const cli = new URL('../../dist/cli.cjs', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'audiosae-store-'));
const disks = new Tmpfs(tmp);
after(() => {
  disks.unmountAll();
  rmSync(tmp, { recursive: true, force: true });
});
const corpus = join(tmp, 'corpus');
mkdirSync(join(corpus, 'speech'), { recursive: true });
mkdirSync(join(corpus, 'music'), { recursive: true });
copyFileSync(fixture('audio', 'speech.wav'), join(corpus, 'speech', 'a.wav'));
copyFileSync(fixture('audio', 'codecs', 'tone.flac'), join(corpus, 'music', 'b.flac'));

function corpusRun(store: string) {
  const r = spawnSync(process.execPath, [cli, 'corpus', 'run', corpus, '--backbone', 'whisper-tiny-random', '--layers', '1,3', '--store', store], {
    encoding: 'utf8', env: { ...process.env, AUDIOSAE_EXECUTION_PROVIDER: 'cpu', AUDIOSAE_CACHE: join(tmp, 'cache') },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the corpus store', () => {
  it('runs into a new store, and a second run of the same corpus skips every clip', () => {
    const store = join(tmp, 'c.duckdb');
    const first = corpusRun(store);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /2 clips: 2 run, 0 already stored, 0 removed, 0 failed/);
    const again = corpusRun(store);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /2 clips: 0 run, 2 already stored/);
  });

  it('a second writer is told which process holds the store', async () => {
    const store = join(tmp, 'held.duckdb');
    const holder = await CorpusStore.open(store);
    try {
      const r = corpusRun(store);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`held\\.duckdb: is being written by another process \\(PID ${process.pid}, .*\\); DuckDB allows one writer per file`));
      assert.equal(r.stderr.trim().split('\n').length, 1);
    } finally {
      holder.close();
    }
  });

  it('a DuckDB file that is not a corpus store is left untouched', async () => {
    const other = join(tmp, 'other.duckdb');
    const db = await DuckDBInstance.create(other);
    const c = await db.connect();
    await c.run('CREATE TABLE mine (x INTEGER)');
    c.closeSync();
    db.closeSync();
    const r = corpusRun(other);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /other\.duckdb: is a DuckDB database but not a corpus store; nothing was changed/);
    writeFileSync(join(tmp, 'junk.duckdb'), 'not a database at all, just text that is long enough to look like something');
    const junk = corpusRun(join(tmp, 'junk.duckdb'));
    assert.equal(junk.code, 1);
    assert.match(junk.stderr, /junk\.duckdb: cannot be opened/);
  });

  it('a read-only file system', (t) => {
    const ro = disks.mount('ro', '8m');
    if (!ro) return t.skip(disks.skipReason);
    assert.ok(disks.readOnly(ro));
    const r = corpusRun(join(ro, 'c.duckdb'));
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /ro\/c\.duckdb: cannot be opened/);
  });

  it('a full disk stops the run with a clear line and leaves a store that opens', async (t) => {
    const full = disks.mount('full', '600k');
    if (!full) return t.skip(disks.skipReason);
    const store = join(full, 'c.duckdb');
    const r = corpusRun(store);
    assert.notEqual(r.code, 0);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack');
    // Progress lines (printed when a clip takes long, as on a busy machine) and notes aside, one line says why.
    const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('note:') && !/^clips \d+\/\d+/.test(l));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /c\.duckdb: cannot be written: no space left on the device/);
    // Whatever was committed reads back, whole: every stored clip has its rows for both layers.
    const reopened = await CorpusStore.open(store, { readOnly: true });
    try {
      const rows = (await reopened.connection.runAndReadAll(
        `SELECT c.clip_id, count(r.layer) FROM clips c LEFT JOIN clip_recon r USING (run_id, clip_id) WHERE c.status = 'done' GROUP BY ALL`)).getRows();
      for (const [clip, layers] of rows) assert.equal(Number(layers), 2, `clip ${clip} has both layers`);
    } finally {
      reopened.close();
    }
  });
});
