// The window's store registry over real corpus stores: listing runs read-only, the active run (defaults, follows
// an editor, keeps a user's choice), a store written by another process listed as busy and read again once free,
// a junk file listed with its error, and handles closed when idle so a writer can take the lock.
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CorpusStore, type RunIdentity } from '../../../src/engine/store/store.ts';
import { matchRun, StoreRegistry, type RegistryChange } from '../../../src/extension/corpus/storeRegistry.ts';

const dir = mkdtempSync(join(tmpdir(), 'audiosae-registry-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const identity = (backbone: string, layers: number[], sae = 'demo'): RunIdentity => ({
  backbone, weights: 'w', layers, sae, saeSha256: {}, mode: 'threshold', options: {}, engineVersion: 'test', dModel: 8, dictSize: 16, k: 2,
});

async function makeStore(name: string, runs: RunIdentity[]): Promise<{ path: string; ids: string[] }> {
  const path = join(dir, name);
  const store = await CorpusStore.open(path);
  const ids: string[] = [];
  for (const r of runs) ids.push(await store.ensureRun(r, []));
  await store.finishRun(false);
  store.close();
  return { path, ids };
}

test('lists runs read-only, defaults the active run, follows the editor and keeps a choice', async () => {
  const a = await makeStore('a.duckdb', [identity('whisper-tiny-random', [1, 2, 3])]);
  const b = await makeStore('b.duckdb', [identity('hubert-tiny-random', [2]), identity('whisper-tiny-random', [2], 'other')]);
  const remembered: string[][] = [];
  const r = new StoreRegistry({ idleCloseMs: 10, remember: (p) => void remembered.push(p) });
  const changes: RegistryChange[] = [];
  r.onDidChange((e) => void changes.push(e));
  await r.setWorkspaceStores([a.path]);
  assert.equal(r.store(a.path)?.state, 'ready');
  assert.deepEqual(r.store(a.path)?.runs.map((x) => x.layers), [[1, 2, 3]]);
  assert.deepEqual(r.active, { storePath: a.path, runId: a.ids[0], layer: 1 });
  assert.ok(changes.some((c) => c.type === 'active'));

  await r.add(b.path);
  assert.deepEqual(remembered.at(-1), [b.path]);
  assert.deepEqual([...r.store(b.path)!.sources], ['opened']);
  // The editor shows hubert layer 2: only b's first run matches.
  r.followEditor({ backbone: 'hubert-tiny-random', layer: 2 });
  assert.deepEqual(r.active, { storePath: b.path, runId: b.ids[0], layer: 2 });
  // whisper layer 2 is in both stores: the active store (b) is preferred.
  r.followEditor({ backbone: 'whisper-tiny-random', layer: 2 });
  assert.deepEqual(r.active, { storePath: b.path, runId: b.ids[1], layer: 2 });
  // No run has layer 9: the active run stays.
  r.followEditor({ backbone: 'whisper-tiny-random', layer: 9 });
  assert.equal(r.active?.runId, b.ids[1]);
  // A user's choice stays through a refresh.
  r.setActive({ storePath: a.path, runId: a.ids[0]!, layer: 3 });
  await r.refresh();
  assert.deepEqual(r.active, { storePath: a.path, runId: a.ids[0], layer: 3 });
  assert.throws(() => r.setActive({ storePath: a.path, runId: a.ids[0]!, layer: 7 }), /no layer 7; its layers: 1, 2, 3/);
  // Leaving the workspace and forgetting drop the stores; the active run moves to what is left.
  await r.setWorkspaceStores([]);
  assert.equal(r.store(a.path), undefined);
  assert.equal(r.active?.storePath, b.path);
  await r.forget(b.path);
  assert.equal(r.stores.length, 0);
  assert.equal(r.active, undefined);
  r.dispose();
});

test('runState changes when a clip is added, re-run on new content, or fails; not when nothing changed', async () => {
  const { path, ids } = await makeStore('state.duckdb', [identity('whisper-tiny-random', [1])]);
  const run = { storePath: path, runId: ids[0]! };
  const r = new StoreRegistry({ idleCloseMs: 10 });
  await r.setWorkspaceStores([path]);
  const write = async (contentHash: string, status: 'done' | 'failed') => {
    const store = await CorpusStore.open(path);
    await store.writeClip(run.runId, {
      clipId: 0, path: join(dir, 'a.wav'), domain: 'speech', dataset: null, startS: null, endS: null, durationS: 1, frames: 50,
      contentHash, status, error: status === 'failed' ? 'broken' : null, metadata: {},
    }, []);
    store.close();
    await r.refresh();
    return r.runState(run);
  };
  const states = [r.runState(run)];
  states.push(await write('a', 'done'));
  states.push(await write('b', 'done')); // the same counts, new content
  states.push(await write('b', 'failed'));
  states.push(await write('b', 'done'));
  assert.equal(new Set(states).size, 4, `states: ${states.join(' | ')}`);
  assert.equal(states[4], states[2], 'the same clips give the same state');
  assert.match(states[1]!, /^1:0:/);
  assert.match(states[3]!, /^0:1:/);
  assert.equal(r.runState({ storePath: path, runId: 'nope' }), '');
  r.dispose();
});

test('a junk file is listed with its error; matchRun picks the newest matching run', async () => {
  const junk = join(dir, 'junk.duckdb');
  writeFileSync(junk, 'not a database at all, just text'.repeat(200));
  const r = new StoreRegistry({ idleCloseMs: 10 });
  await r.add(junk);
  const e = r.store(junk)!;
  assert.equal(e.state, 'error');
  assert.match(e.message!, /junk\.duckdb/);
  assert.equal(r.active, undefined);
  await assert.rejects(r.withStore(join(dir, 'unknown.duckdb'), async () => 1), /not a corpus store known to this window/);
  r.dispose();
  const runs = [{ runId: 'old', backbone: 'x', layers: [1] }, { runId: 'new', backbone: 'x', layers: [1, 2] }] as never;
  assert.deepEqual(matchRun([{ path: 'p', runs, state: 'ready', sources: new Set(), writing: false }], { backbone: 'x', layer: 1 }), { storePath: 'p', runId: 'new', layer: 1 });
});

test('a store held by another writer is busy (PID named), read again once free; idle handles let a writer in', async () => {
  const s = await makeStore('held.duckdb', [identity('whisper-tiny-random', [1])]);
  const r = new StoreRegistry({ idleCloseMs: 20 });
  await r.add(s.path);
  assert.equal(r.store(s.path)?.state, 'ready');
  await new Promise((resolve) => setTimeout(resolve, 80)); // the idle handle closes
  // Another process opens the store for writing (as a CLI corpus run does) and holds it until told to go.
  const child = fork(join(import.meta.dirname, 'holdStore.ts'), [s.path], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`the writer exited with ${code}`)));
    });
    await r.refresh(s.path);
    const busy = r.store(s.path)!;
    assert.equal(busy.state, 'busy');
    assert.match(busy.message!, new RegExp(`PID ${child.pid}`));
    assert.equal(busy.runs.length, 1, 'the runs read before stay listed');
    await assert.rejects(r.withStore(s.path, async () => 1), /being written by another process/);
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.send('go');
    await exited;
  }
  await r.refresh(s.path);
  assert.equal(r.store(s.path)?.state, 'ready');
  // This window's own job: the registry closes its handle and reports writing until released.
  const release = await r.holdForWriting(s.path);
  assert.equal(r.store(s.path)?.writing, true);
  await assert.rejects(r.withStore(s.path, async () => 1), /being written by a corpus run in this window/);
  const w = await CorpusStore.open(s.path); // the lock is free
  await w.ensureRun(identity('whisper-tiny-random', [1, 2]), []);
  w.close();
  await release();
  assert.equal(r.store(s.path)?.runs.length, 2);
  r.dispose();
});
