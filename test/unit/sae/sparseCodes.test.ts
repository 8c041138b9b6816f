import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { featureStatsOver, topFeatures } from '../../../src/engine/sae/featureStats.ts';
import {
  denseRows, featureColumn, featureColumns, firingIntervals, nextFiring, sliceFrames, SparseCodesBuilder, type SparseCodes,
} from '../../../src/engine/sae/sparseCodes.ts';

/** Random codes: [frames, F] dense (0 where inactive) and the same as CSR, features by descending value per frame. */
function randomCodes(frames: number, dictSize: number, seed: number): { dense: Float32Array; codes: SparseCodes } {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const dense = new Float32Array(frames * dictSize);
  const rowPtr = new Int32Array(frames + 1);
  const indices: number[] = [];
  const values: number[] = [];
  for (let t = 0; t < frames; t++) {
    const row: Array<[number, number]> = [];
    for (let j = 0; j < dictSize; j++) if (rand() < 0.3) row.push([j, Math.fround(0.1 + rand())]);
    row.sort((a, b) => b[1] - a[1]);
    for (const [j, v] of row) {
      dense[t * dictSize + j] = v;
      indices.push(j);
      values.push(v);
    }
    rowPtr[t + 1] = indices.length;
  }
  return { dense, codes: { frames, rowPtr, indices: Int32Array.from(indices), values: Float32Array.from(values) } };
}

describe('sparse codes', () => {
  const F = 7;
  const { dense, codes } = randomCodes(300, F, 3);

  it('grows chunk by chunk into the same CSR as the whole, and stops at the clip length', () => {
    const built = new SparseCodesBuilder(300);
    for (let t = 0; t < 300; t += 37) assert.equal(built.append(sliceFrames(codes, t, t + 37)), Math.min(37, 300 - t));
    assert.equal(built.frames, 300);
    assert.deepEqual([...built.rowPtr], [...codes.rowPtr]);
    assert.deepEqual([...built.indices], [...codes.indices]);
    assert.deepEqual([...built.values], [...codes.values]);
    assert.equal(built.append(codes), 0, 'nothing past totalFrames');
    const partial = new SparseCodesBuilder(10);
    assert.equal(partial.append(codes, 4), 4);
    assert.equal(partial.append(sliceFrames(codes, 4, 300)), 6);
    assert.deepEqual([...partial.rowPtr], [...codes.rowPtr.subarray(0, 11)]);
  });

  it('slices, densifies and reads feature columns as the dense matrix says', () => {
    const s = sliceFrames(codes, 50, 60);
    assert.equal(s.frames, 10);
    assert.equal(s.rowPtr[0], 0);
    assert.deepEqual([...denseRows(s, F)], [...dense.subarray(50 * F, 60 * F)]);
    assert.deepEqual([...denseRows(codes, F, 50, 60)], [...dense.subarray(50 * F, 60 * F)]);
    for (let j = 0; j < F; j++) {
      const column = featureColumn(codes, j, 10, 20);
      assert.deepEqual([...column], Array.from({ length: 10 }, (_, i) => dense[(10 + i) * F + j]));
    }
    const both = featureColumns(codes, [1, 4]);
    assert.deepEqual([...both.get(4)!], Array.from({ length: 300 }, (_, t) => dense[t * F + 4]));
    assert.equal(sliceFrames(codes, 290, 400).frames, 10, 'clamped to the codes');
  });

  it('finds firings and their intervals', () => {
    // Feature 2 fires in frames 1–2 and 4 of six.
    const c: SparseCodes = { frames: 6, rowPtr: Int32Array.of(0, 1, 3, 4, 4, 6, 6), indices: Int32Array.of(0, 2, 1, 2, 2, 3), values: Float32Array.of(0.5, 1.5, 0.25, 2, 3, 1) };
    assert.equal(nextFiring(c, 2, -1, 1), 1);
    assert.equal(nextFiring(c, 2, 1, 1), 4);
    assert.equal(nextFiring(c, 2, 4, 1), undefined);
    assert.equal(nextFiring(c, 2, 4, -1), 1);
    assert.deepEqual(firingIntervals(c, 2, 50), [{ startS: 0.02, endS: 0.06, max: 2 }, { startS: 0.08, endS: 0.1, max: 3 }]);
  });

  it('gives per-feature statistics over a frame range, and the top features with their tracks', () => {
    const stats = featureStatsOver(codes, F, 100, 200, 50);
    for (const s of stats) {
      let max = 0;
      let at = -1;
      let active = 0;
      let total = 0;
      for (let t = 100; t < 200; t++) {
        const v = dense[t * F + s.id]!;
        if (v === 0) continue;
        active++;
        total += v;
        if (v > max) [max, at] = [v, t];
      }
      assert.deepEqual([s.maxValue, s.maxFrame, s.activeFrames], [max, at, active]);
      assert.ok(Math.abs(s.total - total) < 1e-9);
    }
    assert.equal(stats.length, F);
    const top = topFeatures(codes, F, 3, 50);
    assert.equal(top.length, 3);
    assert.ok(top[0]!.maxValue >= top[1]!.maxValue && top[1]!.maxValue >= top[2]!.maxValue);
    assert.deepEqual([...top[0]!.track], [...featureColumn(codes, top[0]!.id)]);
  });
});
