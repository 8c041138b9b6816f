/**
 * featureMap through its worker thread: the same map as on the calling thread for a seed, progress with KL
 * estimates while it runs, and a cancel (AbortSignal → the shared flag) that stops the worker mid-run.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { featureMap, type FeatureMapProgress, type MapFeature } from '../../../src/engine/interp/featureMap.ts';
import { makeRng } from '../../../src/engine/interp/random.ts';

function rows(n: number, d: number, clusters: number): Float32Array {
  const rng = makeRng(21);
  const centres = Array.from({ length: clusters }, () => Float32Array.from({ length: d }, () => 3 * rng.normal()));
  return Float32Array.from({ length: n * d }, (_, t) => centres[Math.floor(t / d) % clusters]![t % d]! + rng.normal());
}

const features = (n: number): MapFeature[] => Array.from({ length: n }, (_, i) => ({ feature: 10 * i, label: i % 2 ? 'speech' : 'music', grade: i % 3 }));

describe('featureMap in its worker', () => {
  it('gives the same map as on the calling thread, and reports progress', async () => {
    const n = 200, d = 24;
    const x = rows(n, d, 3);
    const seen: FeatureMapProgress[] = [];
    const inWorker = await featureMap(features(n), x.slice(), d, { seed: 5, onProgress: (p) => seen.push(p) });
    const here = await featureMap(features(n), x.slice(), d, { seed: 5, inProcess: true });
    assert.deepEqual(inWorker.points, here.points);
    assert.deepEqual(inWorker.points.slice(0, 2).map((p) => [p.feature, p.label, p.grade]), [[0, 'music', 0], [10, 'speech', 1]]);
    assert.deepEqual([...new Set(seen.map((p) => p.stage))], ['pca', 'neighbours', 'tsne']);
    const last = seen.at(-1)!;
    assert.equal(last.iteration, 750);
    assert.ok(last.kl !== null && last.kl > 0);
    assert.ok(inWorker.kl !== null && Math.abs(inWorker.kl - last.kl!) < 0.05 * last.kl!);
  });

  it('stops when its signal aborts', async () => {
    const n = 1500, d = 16;
    const stop = new AbortController();
    let lastIteration = 0;
    const started = performance.now();
    await assert.rejects(
      featureMap(features(n), rows(n, d, 4), d, {
        signal: stop.signal,
        onProgress: (p) => {
          lastIteration = p.iteration;
          if (p.stage === 'tsne' && p.iteration >= 50) stop.abort();
        },
      }),
      { name: 'AbortError' },
    );
    assert.ok(lastIteration >= 50 && lastIteration < 750, `stopped at iteration ${lastIteration}`);
    assert.ok(performance.now() - started < 120_000);
  });
});
