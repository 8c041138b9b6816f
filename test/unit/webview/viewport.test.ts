import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clamp, fit, follow, formatTime, pan, tickStep, timeAt, xAt, zoomAt, MIN_SPAN_S } from '../../../webview/editor/viewport.ts';

describe('editor viewport', () => {
  it('zooms around the pointer, keeping the time under it in place', () => {
    const v = zoomAt({ t0S: 0, t1S: 100 }, 0.5, 25, 3600);
    assert.deepEqual(v, { t0S: 12.5, t1S: 62.5 });
    assert.equal(timeAt(v, xAt(v, 25, 1000), 1000), 25);
  });
  it('never leaves the clip nor zooms past the limits', () => {
    assert.deepEqual(zoomAt({ t0S: 0, t1S: 10 }, 100, 5, 20), { t0S: 0, t1S: 20 });
    const tiny = zoomAt({ t0S: 5, t1S: 6 }, 0.001, 5.5, 20);
    assert.ok(Math.abs(tiny.t1S - tiny.t0S - MIN_SPAN_S) < 1e-12);
    assert.deepEqual(pan({ t0S: 0, t1S: 10 }, -5, 60), { t0S: 0, t1S: 10 });
    assert.deepEqual(pan({ t0S: 40, t1S: 50 }, 30, 60), { t0S: 50, t1S: 60 });
    assert.deepEqual(clamp({ t0S: 3, t1S: 2000 }, 60), fit(60));
  });
  it('pages forward when playback leaves the view', () => {
    const v = { t0S: 0, t1S: 10 };
    assert.equal(follow(v, 5, 60), v);
    assert.deepEqual(follow(v, 10.5, 60), { t0S: 10.5, t1S: 20.5 });
    assert.deepEqual(follow(v, 59, 60), { t0S: 50, t1S: 60 });
  });
  it('picks readable ticks and labels', () => {
    assert.equal(tickStep(3600), 500);
    assert.equal(tickStep(11), 2);
    assert.equal(tickStep(0.3), 0.05);
    assert.equal(formatTime(4, 1), '4s');
    assert.equal(formatTime(0.25, 0.05), '0.25s');
    assert.equal(formatTime(125, 5), '2:05');
    assert.equal(formatTime(3725, 100), '1:02:05');
  });
});
