import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraphBuilder } from '../../../src/engine/onnx/graph.ts';
import { chooseProvider } from '../../../src/engine/runtime/providers.ts';
import { WorkerRunner } from '../../../src/engine/runtime/workerRunner.ts';

/** y = x · W repeated `depth` times with a [n, n] W: heavy enough to take a while. */
function heavyModel(n: number, depth: number): Uint8Array {
  const g = new GraphBuilder('heavy');
  let x = g.input('x', 'float', [n, n]);
  const w = g.init('w', { dims: [n, n], data: new Float32Array(n * n).fill(1 / n) });
  for (let i = 0; i < depth; i++) x = g.node('MatMul', [x, w]);
  g.node('Identity', [x], {}, 'y');
  g.output('y', 'float', [n, n]);
  return g.toBytes();
}

describe('engine worker', () => {
  it('runs models off the main thread: the event loop keeps ticking during a heavy run', async () => {
    const runner = await WorkerRunner.create({ executionProvider: 'cpu' });
    try {
      assert.equal(runner.provider.name, 'cpu');
      const n = 1024;
      await runner.load('heavy', () => ({ key: 'heavy', bytes: heavyModel(n, 60) }));
      let ticks = 0;
      const timer = setInterval(() => ticks++, 5);
      const started = performance.now();
      const out = await runner.run('heavy', { x: { type: 'float32', dims: [n, n], data: new Float32Array(n * n).fill(1) } });
      const elapsed = performance.now() - started;
      clearInterval(timer);
      assert.ok(Math.abs((out.y!.data as Float32Array)[0]! - 1) < 1e-3);
      // A blocked loop would tick at most once; a free one ticks about every 5 ms of the run.
      assert.ok(ticks >= Math.min(10, elapsed / 20), `only ${ticks} ticks in ${elapsed.toFixed(0)} ms`);
    } finally {
      await runner.dispose();
    }
  });

  it('turns failures into rejected requests and keeps working', async () => {
    const runner = await WorkerRunner.create({ executionProvider: 'cpu' });
    try {
      await assert.rejects(runner.run('never-loaded', {}), /not loaded/);
      await assert.rejects(runner.load('garbage', () => ({ key: 'garbage', bytes: new Uint8Array([1, 2, 3, 4]) })), /protobuf|parse|load/i);
      const g = new GraphBuilder();
      g.node('Neg', [g.input('x', 'float', ['n'])], {}, 'y');
      g.output('y', 'float', ['n']);
      await runner.load('neg', () => ({ key: 'neg', bytes: g.toBytes() }));
      await assert.rejects(runner.run('neg', { x: { type: 'float32', dims: [2, 2], data: new Float32Array(4) } }), /rank|dimension|shape/i);
      const r = await runner.run('neg', { x: { type: 'float32', dims: [3], data: Float32Array.of(1, -2, 3) } });
      assert.deepEqual([...(r.y!.data as Float32Array)], [-1, 2, -3]);
    } finally {
      await runner.dispose();
    }
  });

  it('rejects pending requests when disposed, and every request afterwards', async () => {
    const runner = await WorkerRunner.create({ executionProvider: 'cpu' });
    await runner.load('heavy', () => ({ key: 'heavy', bytes: heavyModel(1024, 40) }));
    const pending = runner.run('heavy', { x: { type: 'float32', dims: [1024, 1024], data: new Float32Array(1024 * 1024) } });
    const settled = assert.rejects(pending, /stopped/);
    await runner.dispose();
    await settled;
    await assert.rejects(runner.run('heavy', {}), /stopped/);
  });

  it('times out a request that takes too long', async () => {
    const runner = await WorkerRunner.create({ executionProvider: 'cpu', timeoutMs: 50 });
    try {
      await assert.rejects(runner.load('heavy', () => ({ key: 'heavy', bytes: heavyModel(1024, 200) }))
        .then(() => runner.run('heavy', { x: { type: 'float32', dims: [1024, 1024], data: new Float32Array(1024 * 1024) } })), /did not answer/);
    } finally {
      await runner.dispose();
    }
  });

  it('chooses the CPU here and says why the GPU provider was skipped', async () => {
    const choice = await chooseProvider('auto');
    assert.equal(choice.name, 'cpu');
    if (process.platform === 'linux' && process.arch === 'x64') assert.match(choice.notes.join('\n'), /cuda skipped/);
    await assert.rejects(chooseProvider('cuda'), /"cuda" execution provider is not usable here/);
  });
});
