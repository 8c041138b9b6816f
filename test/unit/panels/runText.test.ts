// The words of a corpus run in the window: the progress line (clips done/total, what was skipped or failed,
// audio-hours per hour, ETA from the clips processed so far), the bar's percent, and the closing message.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { audioRate, duration, etaSeconds, percentDone, progressMessage, summaryMessage } from '../../../src/extension/corpus/runText.ts';

const progress = { clipsDone: 30, clipsTotal: 100, processed: 20, skipped: 10, failed: 1, audioSecondsDone: 7200, elapsedS: 400 };

test('progress: clips, skipped and failed, audio-h/h, ETA at the processed clips\' pace', () => {
  assert.equal(audioRate(progress), 18);
  assert.equal(etaSeconds(progress), 1400); // 20 s per processed clip × 70 left
  assert.equal(etaSeconds({ ...progress, processed: 0 }), undefined);
  assert.equal(progressMessage({ kind: 'corpus', progress }), 'clips 30/100 · 10 already stored · 1 failed · 18.0 audio-h/h · ETA 23 min 20 s');
  assert.equal(progressMessage({ kind: 'corpus', progress: { ...progress, processed: 0, skipped: 0, failed: 0, audioSecondsDone: 0 } }), 'clips 30/100 · 0.0 audio-h/h');
  assert.equal(progressMessage({ kind: 'download', file: 'ae.pt', bytes: 50, total: 200, bytesPerSecond: 1 }), 'downloading ae.pt (25 %)');
  assert.equal(percentDone(progress), 30);
  assert.deepEqual([duration(59.4), duration(61), duration(7260), duration(Number.NaN)], ['59 s', '1 min 1 s', '2 h 1 min', '?']);
});

test('summary: done and stopped runs say what ran, what was stored already, and how to resume', () => {
  const s = { runId: 'r', mode: 'threshold' as const, layers: [1], clips: 10, processed: 4, skipped: 6, removed: 1, failed: [{ path: 'x', error: 'bad' }], audioSeconds: 120, elapsedS: 60, cancelled: false, notes: [] };
  assert.equal(summaryMessage(s), 'Corpus run done: 10 clips (4 run, 6 already stored, 1 removed, 1 failed), 2 min 0 s of audio at 2.0 audio-h/h.');
  assert.equal(summaryMessage({ ...s, cancelled: true, removed: 0, failed: [] }), 'Corpus run stopped: 4 run, 6 already stored of 10 clips. Run it again to resume where it stopped.');
});
