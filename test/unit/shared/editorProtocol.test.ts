import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseWebviewMessage } from '../../../src/shared/editorProtocol.ts';

const backbones = [{ id: 'whisper-small', layers: 12 }, { id: 'hubert-large', layers: 24 }];

describe('editor messages from the webview are validated on the host', () => {
  it('accepts well-formed requests', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'ready' }, backbones), { type: 'ready' });
    assert.deepEqual(parseWebviewMessage({ type: 'cancel' }, backbones), { type: 'cancel' });
    assert.deepEqual(parseWebviewMessage({ type: 'ready', backbone: 'whisper-small', layer: 4 }, backbones), { type: 'ready', backbone: 'whisper-small', layer: 4 });
    assert.deepEqual(parseWebviewMessage({ type: 'ready', backbone: 'whisper-small', layer: 99 }, backbones), { type: 'ready' }, 'a stale restored layer is dropped');
    assert.deepEqual(parseWebviewMessage({ type: 'run', backbone: 'hubert-large', layer: 24 }, backbones), { type: 'run', backbone: 'hubert-large', layer: 24 });
  });
  for (const [label, message] of [
    ['an unknown type', { type: 'exec', command: 'rm -rf /' }],
    ['an unknown backbone', { type: 'run', backbone: 'gpt', layer: 1 }],
    ['layer 0', { type: 'run', backbone: 'whisper-small', layer: 0 }],
    ['a layer past the model', { type: 'run', backbone: 'whisper-small', layer: 13 }],
    ['a fractional layer', { type: 'run', backbone: 'whisper-small', layer: 2.5 }],
    ['a string layer', { type: 'run', backbone: 'whisper-small', layer: '3' }],
    ['null', null],
    ['a string', 'ready'],
  ] as const) {
    it(`rejects ${label}`, () => assert.equal(parseWebviewMessage(message, backbones), undefined));
  }
});
