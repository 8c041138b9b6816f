import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Activity, RunChoice, RunState } from '../../../src/shared/editorProtocol.ts';
import { demoChoiceFor, describeActivity, ownSaeLabel } from '../../../webview/editor/status.ts';

const backbones = [
  { id: 'whisper-tiny-random', label: 'Whisper-like demo (random weights)', family: 'whisper' as const, layers: 3, demo: true },
  { id: 'hubert-tiny-random', label: 'HuBERT-like demo (random weights)', family: 'hubert' as const, layers: 3, demo: true },
  { id: 'whisper-small', label: 'Whisper-small', family: 'whisper' as const, layers: 12, demo: false },
  { id: 'hubert-base', label: 'HuBERT-base', family: 'hubert' as const, layers: 12, demo: false },
];
const small: RunChoice = { backbone: 'whisper-small', layer: 6, sae: 'hub', mode: 'auto' };
const run: RunState = {
  type: 'run', choice: small, saeLabel: 'Egorgij21/Audio-SAE-Whisper-small layer 6', modeUsed: 'threshold', k: 8, dictSize: 6144, totalFrames: 100, framesDone: 100,
  framesPerSecond: 50, complete: true, cached: true, meanL0: 7.96, notes: [], provider: 'cpu',
};

describe('the editor status comes from the typed activity alone', () => {
  it('says what is in progress, with the busy ring, and Cancel only where a model is prepared or run', () => {
    assert.deepEqual(describeActivity({ kind: 'decoding' }, undefined, backbones), { text: 'Decoding…', busy: true, cancellable: false });
    assert.deepEqual(describeActivity({ kind: 'preparing', choice: small }, undefined, backbones), { text: 'Preparing Whisper-small, layer 6…', busy: true, cancellable: true });
    assert.deepEqual(describeActivity({ kind: 'running', choice: small, framesDone: 750, totalFrames: 1500 }, undefined, backbones),
      { text: 'Running Whisper-small, layer 6: 50% of 30 s', busy: true, cancellable: true });
  });

  it('sums up the complete run when idle, and nothing when no run is shown', () => {
    assert.equal(describeActivity({ kind: 'idle' }, run, backbones).text, 'Whisper-small, layer 6 · Egorgij21/Audio-SAE-Whisper-small layer 6 · threshold (cached) · mean L0 8.0 (k 8)');
    assert.equal(describeActivity({ kind: 'idle' }, { ...run, complete: false }, backbones).text, '');
    assert.equal(describeActivity({ kind: 'idle' }, undefined, backbones).text, '');
  });

  it('replaces "Decoding…" or "Preparing…" with what failed, not busy, the message in the error box', () => {
    const open = describeActivity({ kind: 'failed', stage: 'open', message: 'clip.wav: is not in a supported audio format.' }, undefined, backbones);
    assert.deepEqual(open, { text: 'Could not open the clip.', busy: false, cancellable: false, error: 'clip.wav: is not in a supported audio format.', offerDemo: undefined });
    const failed: Activity = { kind: 'failed', stage: 'run', choice: small, message: 'boom' };
    assert.equal(describeActivity(failed, run, backbones).text, 'Could not run Whisper-small, layer 6.');
    assert.equal(describeActivity(failed, run, backbones).offerDemo, undefined, 'a failed run is not a missing model');
  });

  it('offers the bundled demo model of the same family when a Hub model cannot be had', () => {
    const hub = describeActivity({ kind: 'failed', stage: 'models', choice: small, message: 'the download failed after 4 attempts' }, undefined, backbones);
    assert.equal(hub.text, 'Could not get Whisper-small, layer 6.');
    assert.deepEqual(hub.offerDemo, { backbone: 'whisper-tiny-random', layer: 3, sae: 'hub', mode: 'auto' });
    assert.deepEqual(demoChoiceFor({ ...small, backbone: 'hubert-base', layer: 2 }, backbones), { backbone: 'hubert-tiny-random', layer: 2, sae: 'hub', mode: 'auto' });
    assert.equal(demoChoiceFor({ ...small, backbone: 'whisper-tiny-random', layer: 2 }, backbones), undefined, 'a demo backbone needs no Hub');
  });

  it('names the backbone\'s own SAE as bundled for the toy backbones', () => {
    assert.equal(ownSaeLabel('whisper-tiny-random', backbones), 'Bundled demo SAE');
    assert.equal(ownSaeLabel('hubert-base', backbones), "Authors' SAE (Hub)");
  });
});
