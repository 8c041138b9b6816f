/**
 * Lock files next to cache entries (src/engine/io/lock.ts), with real processes racing: increments under the
 * lock lose nothing; a holder killed with SIGKILL, or a lock of another host untouched for longer than staleMs,
 * is taken over, while a fresh one is waited for; several processes downloading the same Hub file into one
 * cache make one GET and leave one complete blob; several building the same encoder graph build it once.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { acquireLock } from '../../../src/engine/io/lock.ts';
import { startFakeHub } from '../../helpers/fakeHub.ts';

const src = new URL('../../../src/engine/', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'audiosae-lock-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs a TypeScript snippet in a fresh Node process; resolves with its stdout when it exits 0. */
function child(name: string, code: string, env: NodeJS.ProcessEnv = {}): { proc: ChildProcess; done: Promise<string> } {
  const file = join(tmp, `${name}.mts`); // an ES module (top-level await) outside any package.json
  writeFileSync(file, code.replaceAll('@engine/', src));
  const proc = spawn(process.execPath, ['--import', 'tsx', file], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (err += d));
  const done = new Promise<string>((resolve, reject) => proc.on('exit', (c, s) => (c === 0 ? resolve(out) : reject(new Error(`${name} exited ${c ?? s}: ${err}`)))));
  return { proc, done };
}

/** Snippet prelude: wait for the start file so that every process begins together. */
const barrier = (go: string) => `
import { existsSync } from 'node:fs';
console.log('ready');
while (!existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 10));
`;

async function race(name: string, n: number, body: string, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  const go = join(tmp, `${name}.go`);
  const runs = Array.from({ length: n }, (_, i) => child(`${name}${i}`, `${barrier(go)}\n${body}`, env));
  await Promise.all(runs.map((r) => new Promise<void>((resolve) => r.proc.stdout!.on('data', (d) => String(d).includes('ready') && resolve()))));
  writeFileSync(go, '');
  return (await Promise.all(runs.map((r) => r.done))).map((out) => out.replace(/^ready\n/, ''));
}

describe('lock files', () => {
  it('4 processes × 25 read-modify-write increments under the lock: none lost', async () => {
    const counter = join(tmp, 'counter');
    writeFileSync(counter, '0');
    await race('count', 4, `
import { readFileSync, writeFileSync } from 'node:fs';
import { withLock } from '@engine/io/lock.ts';
for (let i = 0; i < 25; i++) {
  await withLock(${JSON.stringify(counter)}, async () => {
    const v = Number(readFileSync(${JSON.stringify(counter)}, 'utf8'));
    await new Promise((r) => setTimeout(r, 2));
    writeFileSync(${JSON.stringify(counter)}, String(v + 1));
  });
}`);
    assert.equal(readFileSync(counter, 'utf8'), '100');
    assert.ok(!existsSync(`${counter}.lock`), 'released');
  });

  it('a holder killed with SIGKILL: its lock is taken over; a live holder is waited for', async () => {
    const target = join(tmp, 'entry');
    const holder = child('holder', `
import { acquireLock } from '@engine/io/lock.ts';
await acquireLock(${JSON.stringify(target)});
console.log('held');
setInterval(() => {}, 1000);`);
    await new Promise<void>((resolve) => holder.proc.stdout!.on('data', (d) => String(d).includes('held') && resolve()));
    await assert.rejects(acquireLock(target, { timeoutMs: 300 }), /entry\.lock: is locked by process \d+ on .* gave up after 0\.3 s/);
    holder.proc.kill('SIGKILL');
    await holder.done.catch(() => undefined);
    const t0 = performance.now();
    const lock = await acquireLock(target, { timeoutMs: 5000 });
    assert.ok(performance.now() - t0 < 2000);
    lock.release();
    assert.ok(!existsSync(`${target}.lock`));
  });

  it('a lock of another host is waited for while fresh and taken over once older than staleMs', async () => {
    const target = join(tmp, 'remote');
    writeFileSync(`${target}.lock`, JSON.stringify({ pid: 1, host: 'node-elsewhere', token: 'x', at: new Date().toISOString() }));
    await assert.rejects(acquireLock(target, { timeoutMs: 200, staleMs: 60_000 }), /locked by process 1 on node-elsewhere/);
    const old = new Date(Date.now() - 120_000);
    utimesSync(`${target}.lock`, old, old);
    const lock = await acquireLock(target, { timeoutMs: 2000, staleMs: 60_000 });
    assert.match(readFileSync(`${target}.lock`, 'utf8'), new RegExp(`"pid":${process.pid}`));
    lock.release();
  });

  it('4 processes download the same Hub file into one cache: one GET, one complete blob', async () => {
    const file = join(tmp, 'weights.bin');
    const bytes = Buffer.alloc(3_000_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
    writeFileSync(file, bytes);
    const hub = await startFakeHub({ 'org/model': { 'model.bin': file } });
    try {
      const cache = join(tmp, 'hf');
      const outs = await race('hub', 4, `
import { hubDownload } from '@engine/hub/download.ts';
console.log(await hubDownload({ repo: 'org/model', path: 'model.bin' }));`, { HF_ENDPOINT: hub.url, HF_HUB_CACHE: cache, HF_TOKEN: '' });
      const paths = new Set(outs.map((o) => o.trim()));
      assert.equal(paths.size, 1);
      assert.ok(readFileSync([...paths][0]!).equals(bytes), 'the snapshot holds the whole file');
      assert.equal(hub.requests.filter((r) => r.startsWith('GET /blobs/')).length, 1, hub.requests.join('\n'));
      const blobs = readdirSync(join(cache, 'models--org--model', 'blobs'));
      assert.deepEqual(blobs.filter((b) => !/\.lock$/.test(b)).length, 1, blobs.join());
      assert.ok(blobs.every((b) => !b.endsWith('.incomplete') && !b.endsWith('.lock')), blobs.join());
    } finally {
      await hub.close();
    }
  });

  it('4 processes build the same graph into one cache: built once, reused by the others', async () => {
    const cache = join(tmp, 'graphs');
    const builds = join(tmp, 'builds.log');
    const outs = await race('graph', 4, `
import { appendFileSync } from 'node:fs';
import { cachedGraph } from '@engine/onnx/cache.ts';
import { GraphBuilder } from '@engine/onnx/graph.ts';
const r = cachedGraph(${JSON.stringify(cache)}, { test: 'lock-race' }, () => {
  appendFileSync(${JSON.stringify(builds)}, process.pid + '\\n');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500); // a slow build, so the others arrive meanwhile
  const g = new GraphBuilder('race');
  const x = g.input('x', 'float', [1, 512]);
  const w = g.init('w', { dims: [512, 4], data: new Float32Array(2048).fill(0.5) });
  g.output(g.node('MatMul', [x, w], {}, 'y'), 'float', [1, 4]);
  return g;
});
console.log(JSON.stringify(r));`);
    const results = outs.map((o) => JSON.parse(o) as { path: string; built: boolean });
    assert.equal(results.filter((r) => r.built).length, 1, JSON.stringify(results));
    assert.equal(new Set(results.map((r) => r.path)).size, 1);
    assert.equal(readFileSync(builds, 'utf8').trim().split('\n').length, 1, 'build() ran once');
    const group = readdirSync(cache);
    assert.equal(group.length, 1);
    assert.deepEqual(readdirSync(join(cache, group[0]!)).filter((n) => !n.endsWith('.onnx')), ['tensors']);
  });
});
