import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseNpy } from '../../../src/engine/io/npy.ts';
import { audacityLabels, codesCsv, codesNpy, firingIntervals, intervalsCsv } from '../../../src/extension/exports.ts';
import { parseWebviewMessage, type HostMessage } from '../../../src/shared/editorProtocol.ts';

// 6 frames at 50/s, F = 4; feature 2 fires in frames 1–2 and 4.
const rowPtr = Int32Array.of(0, 1, 3, 4, 4, 6, 6);
const indices = Int32Array.of(0, 2, 1, 2, 2, 3);
const values = Float32Array.of(0.5, 1.5, 0.25, 2, 3, 1);
const features = {
  type: 'features', backbone: 'whisper-small', layer: 6, frames: 6, framesPerSecond: 50, dictSize: 4, k: 2, mode: 'threshold', notes: [],
  rowPtr: rowPtr.buffer, indices: indices.buffer, values: values.buffer, l0: new ArrayBuffer(24), relError: new ArrayBuffer(24), meanL0: 1,
} as Extract<HostMessage, { type: 'features' }>;

describe('editor exports', () => {
  it('writes dense codes as .npy [frames, F]', () => {
    const a = parseNpy(codesNpy(features), 'codes.npy');
    assert.deepEqual(a.shape, [6, 4]);
    assert.deepEqual([...(a.data as Float32Array)], [0.5, 0, 0, 0, 0, 0.25, 1.5, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3, 1, 0, 0, 0, 0]);
  });

  it('writes sparse codes as CSV rows', () => {
    const lines = new TextDecoder().decode(codesCsv(features)).trim().split('\n');
    assert.equal(lines[0], 'frame,time_s,feature,value');
    assert.deepEqual(lines.slice(1, 3), ['0,0.000,0,0.5', '1,0.020,2,1.5']);
    assert.equal(lines.length, 1 + 6);
  });

  it('finds firing intervals and writes Audacity labels and CSV', () => {
    const intervals = firingIntervals(features, 2);
    assert.deepEqual(intervals, [{ startS: 0.02, endS: 0.06, max: 2 }, { startS: 0.08, endS: 0.1, max: 3 }]);
    assert.equal(new TextDecoder().decode(audacityLabels(intervals, 2)), '0.020\t0.060\tfeature 2 (max 2.000)\n0.080\t0.100\tfeature 2 (max 3.000)\n');
    assert.equal(new TextDecoder().decode(intervalsCsv(intervals)), 'start_s,end_s,max_activation\n0.020,0.060,2\n0.080,0.100,3\n');
  });

  it('validates export requests from the webview', () => {
    const backbones = [{ id: 'whisper-small', layers: 12 }];
    assert.deepEqual(parseWebviewMessage({ type: 'export', what: 'codes-npy' }, backbones, 4), { type: 'export', what: 'codes-npy' });
    assert.deepEqual(parseWebviewMessage({ type: 'export', what: 'intervals-csv', feature: 3 }, backbones, 4), { type: 'export', what: 'intervals-csv', feature: 3 });
    assert.equal(parseWebviewMessage({ type: 'export', what: 'intervals-csv', feature: 4 }, backbones, 4), undefined);
    assert.equal(parseWebviewMessage({ type: 'export', what: 'intervals-csv' }, backbones, 4), undefined);
    assert.equal(parseWebviewMessage({ type: 'export', what: 'png', png: 'not bytes' }, backbones, 4), undefined);
    assert.equal(parseWebviewMessage({ type: 'export', what: '../../etc/passwd' }, backbones, 4), undefined);
  });
});
