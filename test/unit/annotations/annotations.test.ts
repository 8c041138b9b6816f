/**
 * Annotations: the journal keeps every acknowledged edit of a process killed with SIGKILL mid-writing, skips a
 * torn last line and writes on after it, merges edits of two processes, compacts atomically, round-trips
 * through export/import (newer edit wins), and mirrors into / merges from a real DuckDB store's table.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AnnotationJournal, annotationsPathFor, mergeStoreAnnotations, mirrorIntoStore, readStoreAnnotations } from '../../../src/engine/store/annotations.ts';

const dir = mkdtempSync(join(tmpdir(), 'audiosae-annotations-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(dir, `store${n++}.duckdb.annotations.jsonl`);
const key = (feature: number, layer = 6) => ({ backbone: 'whisper-small', sae: 'sha-a', layer, feature });

describe('annotation journal', () => {
  it('keeps every acknowledged edit of a process killed with SIGKILL while writing', async () => {
    const path = fresh();
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'writerChild.ts'), path], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acked: number[] = [];
    let buffered = '';
    await new Promise<void>((resolve, reject) => {
      child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited ${code} ${signal}`))));
      child.stdout!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
          acked.push(Number(/^ack (\d+)$/.exec(buffered.slice(0, i))![1]));
          buffered = buffered.slice(i + 1);
        }
        if (acked.length >= 60 && !child.killed) child.kill('SIGKILL'); // mid-stream: it is writing the next one
      });
    });
    const j = await AnnotationJournal.open(path);
    for (const f of acked) assert.equal(j.get(key(f))?.name, `feature ${f}`, `acknowledged edit of feature ${f} lost`);
    assert.ok(j.skippedLines <= 1, `only a torn last line may be unreadable, found ${j.skippedLines}`);
    // and the journal takes new edits after whatever the killed writer left
    await j.put(key(10_000), { name: 'after the crash', notes: '', tags: [] });
    const again = await AnnotationJournal.open(path);
    assert.equal(again.get(key(10_000))?.name, 'after the crash');
    for (const f of acked) assert.ok(again.get(key(f)));
  });

  it('skips a torn last line and starts the next edit on a fresh line', async () => {
    const path = fresh();
    const j = await AnnotationJournal.open(path);
    await j.put(key(1), { name: 'one', notes: 'n', tags: ['#Vowel', 'vowel', ' onset '] });
    assert.deepEqual(j.get(key(1))?.tags, ['Vowel', 'onset']);
    appendFileSync(path, '{"v":1,"backbone":"whisper-small","sae":"sha-a","lay'); // a writer killed mid-line
    const k = await AnnotationJournal.open(path);
    await k.put(key(2), { name: 'two', notes: '', tags: [] });
    const m = await AnnotationJournal.open(path);
    assert.equal(m.get(key(1))?.name, 'one');
    assert.equal(m.get(key(2))?.name, 'two');
    assert.equal(m.skippedLines, 1);
  });

  it('sees the edits of another journal on refresh, last edit wins, deletes leave a tombstone, compaction keeps the state', async () => {
    const path = fresh();
    const a = await AnnotationJournal.open(path);
    const b = await AnnotationJournal.open(path);
    await a.put(key(3), { name: 'from a', notes: '', tags: [] });
    await b.put(key(3), { name: 'from b', notes: '', tags: [] });
    await b.put(key(4), { name: 'four', notes: '', tags: [] });
    const seen: number[] = [];
    a.onChange((changed) => seen.push(...changed.map((c) => c.feature)));
    await a.refresh();
    assert.equal(a.get(key(3))?.name, 'from b');
    assert.deepEqual(seen.sort(), [3, 4]);
    for (let i = 0; i < 50; i++) await a.put(key(5), { name: `five ${i}`, notes: '', tags: [] });
    await a.put(key(4), { name: '', notes: '', tags: [] });
    assert.equal(a.get(key(4)), undefined);
    assert.deepEqual(a.list().map((x) => x.feature), [3, 5]);
    const dropped = await a.compact();
    assert.equal(dropped, 51);
    assert.equal(readFileSync(path, 'utf8').trim().split('\n').length, 3); // 3, 4 (tombstone), 5
    await b.refresh(); // the file was replaced: b reads it whole
    assert.equal(b.get(key(5))?.name, 'five 49');
    assert.equal(b.get(key(4)), undefined);
    await b.put(key(6), { name: 'six', notes: '', tags: [] });
    await a.refresh();
    assert.equal(a.get(key(6))?.name, 'six');
  });

  it('refuses bad keys and oversized text with an error naming the journal', async () => {
    const j = await AnnotationJournal.open(fresh());
    await assert.rejects(() => j.put({ backbone: '', sae: 's', layer: 1, feature: 0 }, { name: 'x', notes: '', tags: [] }), /annotation needs a backbone/);
    await assert.rejects(() => j.put(key(-1), { name: 'x', notes: '', tags: [] }), /feature id ≥ 0/);
    await assert.rejects(() => j.put(key(1), { name: 'x'.repeat(201), notes: '', tags: [] }), /at most 200 characters/);
  });
});

describe('export and import', () => {
  it('round-trips, the newer edit winning per feature', async () => {
    const a = await AnnotationJournal.open(fresh());
    await a.put(key(1), { name: 'vowel', notes: 'open vowels "a"\nmultiline', tags: ['speech', 'vowel'] });
    await a.put(key(2, 7), { name: 'drums', notes: '', tags: ['music'] });
    await a.put({ ...key(3), sae: 'sha-b' }, { name: 'other sae', notes: '', tags: [] });
    const text = a.exportJson();
    const b = await AnnotationJournal.open(fresh());
    assert.deepEqual(await b.importJson(text, 'shared.json'), { added: 3, updated: 0, unchanged: 0 });
    assert.deepEqual(b.list(), a.list());
    assert.deepEqual(await b.importJson(text, 'shared.json'), { added: 0, updated: 0, unchanged: 3 });
    await b.put(key(1), { name: 'vowel (newer)', notes: '', tags: [] });
    await a.put(key(2, 7), { name: 'drums (newer)', notes: '', tags: [] });
    assert.deepEqual(await a.importJson(b.exportJson(), 'b.json'), { added: 0, updated: 1, unchanged: 2 });
    assert.equal(a.get(key(1))?.name, 'vowel (newer)');
    assert.equal(a.get(key(2, 7))?.name, 'drums (newer)');
    assert.deepEqual(JSON.parse(a.exportJson({ sae: 'sha-b' })).annotations.map((x: { feature: number }) => x.feature), [3]);
  });

  it('refuses files that are not annotation exports, importing nothing', async () => {
    const j = await AnnotationJournal.open(fresh());
    await assert.rejects(() => j.importJson('{"format":', 'x.json'), /x\.json: is not JSON/);
    await assert.rejects(() => j.importJson('{"annotations": []}', 'x.json'), /not an AudioSAE annotations file/);
    await assert.rejects(() => j.importJson('{"format":"audiosae-annotations","version":9,"annotations":[]}', 'x.json'), /version 9/);
    const bad = JSON.stringify({ format: 'audiosae-annotations', version: 1, annotations: [{ ...key(1), name: 'ok', notes: '', tags: [], updatedAt: 1 }, { feature: 'x' }] });
    await assert.rejects(() => j.importJson(bad, 'x.json'), /annotation 1 is not/);
    assert.equal(j.list().length, 0);
  });
});

describe('the store table', () => {
  it('mirrors the journal into a store and merges a store table into another journal', async () => {
    const storePath = join(dir, 'mirror.duckdb');
    const j = await AnnotationJournal.open(annotationsPathFor(storePath));
    await j.put(key(1), { name: "it's a vowel", notes: 'n', tags: ['a', 'b'] });
    await j.put(key(2), { name: 'gone', notes: '', tags: [] });
    await j.put(key(2), { name: '', notes: '', tags: [] }); // deleted: a tombstone row
    await j.put(key(3), { name: 'three', notes: '', tags: [] });
    const db = await DuckDBInstance.create(storePath);
    const conn = await db.connect();
    assert.equal(await mirrorIntoStore(conn, j), 3);
    await j.put(key(3), { name: 'three, renamed', notes: '', tags: [] });
    assert.equal(await mirrorIntoStore(conn, j), 3); // replaced, not appended
    const rows = await readStoreAnnotations(conn);
    assert.deepEqual(rows.sort((a, b) => a.feature - b.feature).map((r) => [r.feature, r.name, r.tags]), [[1, "it's a vowel", ['a', 'b']], [2, '', []], [3, 'three, renamed', []]]);
    // A colleague's journal with an older edit of 1, a live 2 older than the deletion, and a newer 4.
    const other = await AnnotationJournal.open(fresh());
    await other.mergeRecords([{ ...key(1), name: 'older', notes: '', tags: [], updatedAt: 1 }, { ...key(2), name: 'old 2', notes: '', tags: [], updatedAt: 2 }]);
    await other.put(key(4), { name: 'four', notes: '', tags: [] });
    assert.deepEqual(await mergeStoreAnnotations(conn, other), { added: 1, updated: 2, unchanged: 0 }); // 3 added; 1 and 2 (deleted) updated
    assert.equal(other.get(key(1))?.name, "it's a vowel");
    assert.equal(other.get(key(2)), undefined); // the deletion is newer than 'old 2'
    assert.equal(other.get(key(3))?.name, 'three, renamed');
    assert.equal(other.get(key(4))?.name, 'four');
    conn.closeSync();
    db.closeSync();
  });
});
