import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraphBuilder } from '../../../src/engine/onnx/graph.ts';
import { WorkerRunner } from '../../../src/engine/runtime/workerRunner.ts';
import { forTransfer } from '../../../src/shared/workerProtocol.ts';

describe('tensors crossing to the engine worker', () => {
  it('copies a view of part of a buffer and transfers only buffers the tensor owns whole', () => {
    const parent = Float32Array.from({ length: 10 }, (_, i) => i);
    const whole = new Float32Array(4).fill(7);
    const { tensors, transfer } = forTransfer({
      window: { type: 'float32', dims: [3], data: parent.subarray(2, 5) },
      whole: { type: 'float32', dims: [4], data: whole },
    });
    assert.deepEqual([...tensors.window!.data], [2, 3, 4]);
    assert.notEqual(tensors.window!.data.buffer, parent.buffer, 'the view was copied');
    assert.equal(tensors.whole!.data, whole, 'a whole buffer is not copied');
    assert.deepEqual(transfer, [tensors.window!.data.buffer, whole.buffer]);
  });

  it('a run whose feed is a window of a larger array leaves that array intact', async () => {
    const runner = await WorkerRunner.create({ executionProvider: 'cpu' });
    try {
      const g = new GraphBuilder();
      g.node('Neg', [g.input('x', 'float', ['n'])], {}, 'y');
      g.output('y', 'float', ['n']);
      await runner.load('neg', () => ({ key: 'neg', bytes: g.toBytes() }));
      const clip = Float32Array.from({ length: 1000 }, (_, i) => i);
      const r = await runner.run('neg', { x: { type: 'float32', dims: [3], data: clip.subarray(10, 13) } });
      assert.deepEqual([...(r.y!.data as Float32Array)], [-10, -11, -12]);
      assert.equal(clip.length, 1000, 'the clip was not detached');
      assert.equal(clip[999], 999);
      const next = await runner.run('neg', { x: { type: 'float32', dims: [2], data: clip.subarray(500, 502) } });
      assert.deepEqual([...(next.y!.data as Float32Array)], [-500, -501], 'the next window of the same clip still runs');
    } finally {
      await runner.dispose();
    }
  });
});
