import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClipStore, columnsOf, RunCodes } from '../../../src/extension/editor/clipStore.ts';

/** A chunk of `frames` frames where frame t has features (t % 5) with value t+1 and 7 with value 0.5. */
function chunk(startFrame: number, frames: number) {
  const rowPtr = new Int32Array(frames + 1);
  const indices: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < frames; i++) {
    const t = startFrame + i;
    indices.push(t % 5, 7);
    values.push(t + 1, 0.5);
    rowPtr[i + 1] = indices.length;
  }
  return { startFrame, frames, sparse: { frames, rowPtr, indices: Int32Array.from(indices), values: Float32Array.from(values) }, relError: new Float32Array(frames).fill(0.25), acts: new Float32Array(0), recon: new Float32Array(0) };
}

describe('the editor clip store', () => {
  it('splits ranges into columns that cover every item once', () => {
    const { cols, start } = columnsOf(10, 110, 30);
    assert.equal(cols, 30);
    assert.equal(start(0), 10);
    assert.equal(start(cols), 110);
    for (let c = 0; c < cols; c++) assert.ok(start(c + 1) > start(c));
    assert.equal(columnsOf(0, 5, 100).cols, 5, 'never more columns than items');
  });

  it('accumulates streamed chunks and answers frame, track and rank queries', () => {
    const run = new RunCodes(12, 16);
    run.add(chunk(0, 5));
    assert.equal(run.framesDone, 5);
    assert.throws(() => run.add(chunk(6, 2)), /expected 5/);
    run.add(chunk(5, 7));
    assert.ok(run.complete);
    assert.deepEqual(run.frame(6, 10), { ids: [1, 7], values: [7, 0.5], l0: 2, relError: 0.25 });
    assert.equal(run.frame(12, 10), undefined);
    assert.deepEqual([...run.track(1)], [0, 2, 0, 0, 0, 0, 7, 0, 0, 0, 0, 12]);
    // Clip-wide: feature 7 is active in all 12 frames (total 6), feature 1 reaches 12 at frame 11.
    const byTotal = run.rank(0, 12, 'total', 3);
    assert.deepEqual(byTotal.map((s) => s.id), [1, 0, 4]);
    assert.deepEqual(run.rank(0, 12, 'max', 2).map((s) => [s.id, s.max, s.timeOfMaxS, s.activeFrames]), [[1, 12, 11 / 50, 3], [0, 11, 10 / 50, 3]]);
    // Feature 1 is active in frames 1, 6, 11 (t % 5 = 1): each a firing of its own.
    assert.equal(run.nextFiring(1, -1, 1), 1);
    assert.equal(run.nextFiring(1, 1, 1), 6);
    assert.equal(run.nextFiring(1, 11, 1), undefined);
    assert.equal(run.nextFiring(1, 11, -1), 6);
    assert.equal(run.nextFiring(1, 1, -1), undefined);
    // Feature 7 fires in every frame: one firing, starting at frame 0.
    assert.equal(run.nextFiring(7, -1, 1), 0);
    assert.equal(run.nextFiring(7, 0, 1), undefined);
    // A region ranks only its own frames.
    assert.deepEqual(run.rank(2, 4, 'max', 5).map((s) => s.id), [3, 2, 7]);
    assert.equal(run.rank(2, 4, 'total', 5).find((s) => s.id === 7)!.total, 1);
  });

  it('answers a view with columns bounded by the request, NaN where nothing is computed yet', () => {
    const seconds = 65;
    const samples = new Float32Array(seconds * 16000);
    for (let i = 0; i < samples.length; i++) samples[i] = i % 16000 === 0 ? 0.9 : 0.01;
    const store = new ClipStore(samples);
    assert.equal(store.melFrames, 6500);
    const window = (v: number) => new Float32Array(80 * 3000).fill(v);
    store.addMelWindow(window(-1));
    store.addMelWindow(window(0.5));
    assert.equal(store.melDone, 6000);
    const run = new RunCodes(3250, 16);
    run.add(chunk(0, 1500));
    const v = store.view(0, seconds, 650, run, [1, 7]);
    assert.equal(v.melCols, 650);
    const mel = new Float32Array(v.mel);
    assert.equal(mel[0], -1, 'first window');
    assert.equal(mel[80 * 0 + 400], 0.5, 'second window (bin 0, column 400 = 40 s)');
    assert.ok(Number.isNaN(mel[649]!), 'third window not computed yet');
    assert.equal(store.peak, Math.fround(0.9), 'the clip peak');
    const peaks = new Float32Array(v.peaks);
    assert.equal(peaks[1], Math.fround(0.9), 'the max of the first column includes the 0.9 spike');
    assert.equal(v.featureCols, 650);
    const lanes = new Float32Array(v.lanes);
    assert.equal(lanes[650 + 0], 0.5, 'feature 7 in column 0');
    assert.equal(lanes[0], 2, 'feature 1 peaks at 2 within frames 0..4');
    assert.ok(Number.isNaN(lanes[649]!), 'frames not run yet');
    assert.equal(new Float32Array(v.l0)[0], 2);
    // A column across the window boundary takes the max of both windows; asking again gives the same answer.
    assert.equal(new Float32Array(store.view(29.9, 30.1, 1, undefined, []).mel)[0], 0.5);
    assert.equal(new Float32Array(store.view(29.9, 29.95, 1, undefined, []).mel)[0], -1);
    assert.deepEqual(new Float32Array(store.view(0, seconds, 650, run, [1, 7]).mel), mel);
    // Zoomed in: one column per frame, never more.
    const z = store.view(10, 10.2, 4000, run, [7]);
    assert.equal(z.melCols, 20);
    assert.equal(z.featureCols, 10);
    assert.equal(z.featureFromS, 10);
  });
});
