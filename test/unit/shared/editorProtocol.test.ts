import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dictionaryKey, parseSavedView, parseWebviewMessage, type RunChoice } from '../../../src/shared/editorProtocol.ts';

const ctx = { backbones: [{ id: 'whisper-small', layers: 12 }, { id: 'hubert-large', layers: 24 }], dictSize: 6144 };
const choice = { backbone: 'whisper-small', layer: 4, sae: 'hub', mode: 'auto' };

describe('editor messages from the webview are validated on the host', () => {
  it('accepts well-formed requests', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'ready' }, ctx), { type: 'ready' });
    assert.deepEqual(parseWebviewMessage({ type: 'cancel' }, ctx), { type: 'cancel' });
    assert.deepEqual(parseWebviewMessage({ type: 'ready', choice }, ctx), { type: 'ready', choice });
    assert.deepEqual(parseWebviewMessage({ type: 'ready', choice: { ...choice, layer: 99 } }, ctx), { type: 'ready' }, 'a stale restored layer is dropped');
    const large = { backbone: 'hubert-large', layer: 24, sae: 'local', mode: 'batch-topk' };
    assert.deepEqual(parseWebviewMessage({ type: 'run', choice: large }, ctx), { type: 'run', choice: large });
    assert.deepEqual(parseWebviewMessage({ type: 'view', id: 3, t0S: 0, t1S: 12.5, columns: 900, features: [1, 6143] }, ctx),
      { type: 'view', id: 3, t0S: 0, t1S: 12.5, columns: 900, features: [1, 6143] });
    assert.deepEqual(parseWebviewMessage({ type: 'frame', id: 4, frame: 120 }, ctx), { type: 'frame', id: 4, frame: 120 });
    assert.deepEqual(parseWebviewMessage({ type: 'rank', id: 5, fromFrame: 10, toFrame: 20, by: 'total', n: 10 }, ctx), { type: 'rank', id: 5, fromFrame: 10, toFrame: 20, by: 'total', n: 10 });
    assert.deepEqual(parseWebviewMessage({ type: 'link', what: 'topClips', feature: 7 }, ctx), { type: 'link', what: 'topClips', feature: 7 });
    assert.deepEqual(parseWebviewMessage({ type: 'firing', id: 6, feature: 7, fromFrame: -1, direction: 1 }, ctx), { type: 'firing', id: 6, feature: 7, fromFrame: -1, direction: 1 });
    assert.deepEqual(parseWebviewMessage({ type: 'openSettings', query: 'anything' }, ctx), { type: 'openSettings' }, 'no query from the webview reaches the settings command');
  });
  for (const [label, message] of [
    ['an unknown type', { type: 'exec', command: 'rm -rf /' }],
    ['an unknown backbone', { type: 'run', choice: { ...choice, backbone: 'gpt' } }],
    ['layer 0', { type: 'run', choice: { ...choice, layer: 0 } }],
    ['a layer past the model', { type: 'run', choice: { ...choice, layer: 13 } }],
    ['a fractional layer', { type: 'run', choice: { ...choice, layer: 2.5 } }],
    ['a string layer', { type: 'run', choice: { ...choice, layer: '3' } }],
    ['an unknown SAE source', { type: 'run', choice: { ...choice, sae: '/etc/passwd' } }],
    ['an unknown mode', { type: 'run', choice: { ...choice, mode: 'relu' } }],
    ['a view ending before it starts', { type: 'view', id: 1, t0S: 5, t1S: 4, columns: 10, features: [] }],
    ['a view with NaN time', { type: 'view', id: 1, t0S: NaN, t1S: 4, columns: 10, features: [] }],
    ['a view with too many columns', { type: 'view', id: 1, t0S: 0, t1S: 4, columns: 100_000, features: [] }],
    ['a view with a feature past the dictionary', { type: 'view', id: 1, t0S: 0, t1S: 4, columns: 10, features: [6144] }],
    ['a view with too many lanes', { type: 'view', id: 1, t0S: 0, t1S: 4, columns: 10, features: Array.from({ length: 65 }, (_, i) => i) }],
    ['a view without an id', { type: 'view', t0S: 0, t1S: 4, columns: 10, features: [] }],
    ['a negative frame', { type: 'frame', id: 1, frame: -1 }],
    ['an empty rank range', { type: 'rank', id: 1, fromFrame: 5, toFrame: 5, by: 'max', n: 3 }],
    ['a rank by something else', { type: 'rank', id: 1, fromFrame: 0, toFrame: 5, by: 'mean', n: 3 }],
    ['a link to an unknown place', { type: 'link', what: 'shell', feature: 1 }],
    ['a firing search in another direction', { type: 'firing', id: 1, feature: 1, fromFrame: 0, direction: 2 }],
    ['a firing search for a feature past the dictionary', { type: 'firing', id: 1, feature: 6144, fromFrame: 0, direction: 1 }],
    ['null', null],
    ['a string', 'ready'],
  ] as const) {
    it(`rejects ${label}`, () => assert.equal(parseWebviewMessage(message, ctx), undefined));
  }
});

describe('a selected feature belongs to a dictionary', () => {
  it('is the same feature across modes, and another one across layers, backbones or SAE sources', () => {
    const c: RunChoice = { backbone: 'whisper-small', layer: 4, sae: 'hub', mode: 'auto' };
    assert.equal(dictionaryKey(c), dictionaryKey({ ...c, mode: 'batch-topk' }));
    assert.notEqual(dictionaryKey(c), dictionaryKey({ ...c, layer: 3 }));
    assert.notEqual(dictionaryKey(c), dictionaryKey({ ...c, backbone: 'hubert-large' }));
    assert.notEqual(dictionaryKey(c), dictionaryKey({ ...c, sae: 'local' }));
  });
});

describe('a saved view is validated before it is used', () => {
  it('keeps valid fields and drops the rest', () => {
    const saved = { choice, view: { t0S: 2, t1S: 5 }, selected: 12, colormap: 'magma', rangeDb: 60, ceilingDb: 5, rank: 'total', topN: 10 };
    assert.deepEqual(parseSavedView(saved, ctx), saved);
    assert.deepEqual(parseSavedView({ choice: { ...choice, layer: 40 }, view: { t0S: 5, t1S: 2 }, selected: -1, colormap: 'jet', rangeDb: 1e9, topN: 1000, extra: 'x' }, ctx), {});
    assert.deepEqual(parseSavedView(undefined, ctx), {});
    assert.equal(parseSavedView({ ceilingDb: 60 }, ctx).ceilingDb, 60, 'dB below full scale: quiet clips need a ceiling far down');
    assert.equal(parseSavedView({ ceilingDb: 101 }, ctx).ceilingDb, undefined);
    assert.deepEqual(parseWebviewMessage({ type: 'saveView', saved: { topN: 3, junk: true } }, ctx), { type: 'saveView', saved: { topN: 3 } });
  });
});
