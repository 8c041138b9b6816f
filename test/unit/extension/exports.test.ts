import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseNpy } from '../../../src/engine/io/npy.ts';
import { firingIntervals as engineIntervals, type SparseCodes } from '../../../src/engine/sae/sparseCodes.ts';
import { audacityLabels, codesCsv, codesNpy, intervalsCsv } from '../../../src/extension/editor/exports.ts';
import { parseWebviewMessage } from '../../../src/shared/editorProtocol.ts';

// 6 frames at 50/s, F = 4; feature 2 fires in frames 1–2 and 4.
const rowPtr = Int32Array.of(0, 1, 3, 4, 4, 6, 6);
const indices = Int32Array.of(0, 2, 1, 2, 2, 3);
const values = Float32Array.of(0.5, 1.5, 0.25, 2, 3, 1);
const features = { frames: 6, framesPerSecond: 50, dictSize: 4, rowPtr, indices, values };
/** The engine's intervals at the clip's frame rate. */
const firingIntervals = (codes: SparseCodes & { framesPerSecond: number; dictSize: number }, feature: number) => engineIntervals(codes, feature, codes.framesPerSecond);

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

  it('finds no interval for a feature that never fires (the editor refuses that export as empty)', () => {
    assert.deepEqual(firingIntervals(features, 1).length, 1);
    assert.deepEqual(firingIntervals(features, 3).length, 1);
    assert.deepEqual(firingIntervals({ ...features, dictSize: 5 }, 4), []);
  });

  it('finds firing intervals and writes Audacity labels and CSV', () => {
    const intervals = firingIntervals(features, 2);
    assert.deepEqual(intervals, [{ startS: 0.02, endS: 0.06, max: 2 }, { startS: 0.08, endS: 0.1, max: 3 }]);
    assert.equal(new TextDecoder().decode(audacityLabels(intervals, 2)), '0.020\t0.060\tfeature 2 (max 2.000)\n0.080\t0.100\tfeature 2 (max 3.000)\n');
    assert.equal(new TextDecoder().decode(intervalsCsv(intervals)), 'start_s,end_s,max_activation\n0.020,0.060,2\n0.080,0.100,3\n');
  });

  it('validates export requests from the webview', () => {
    const ctx = { backbones: [{ id: 'whisper-small', layers: 12 }], dictSize: 4 };
    const choice = { backbone: 'whisper-small', layer: 3, sae: 'hub', mode: 'auto' };
    assert.deepEqual(parseWebviewMessage({ type: 'export', what: 'codes-npy' }, ctx), { type: 'export', what: 'codes-npy' });
    assert.deepEqual(parseWebviewMessage({ type: 'export', what: 'intervals-csv', feature: 3, choice }, ctx), { type: 'export', what: 'intervals-csv', feature: 3, choice });
    assert.equal(parseWebviewMessage({ type: 'export', what: 'intervals-csv', feature: 4, choice }, ctx), undefined);
    assert.equal(parseWebviewMessage({ type: 'export', what: 'intervals-csv', choice }, ctx), undefined);
    assert.equal(parseWebviewMessage({ type: 'export', what: 'intervals-csv', feature: 3 }, ctx), undefined, 'a feature without the run it was selected in');
    assert.equal(parseWebviewMessage({ type: 'export', what: 'intervals-audacity', feature: 3, choice: { ...choice, layer: 13 } }, ctx), undefined);
    assert.equal(parseWebviewMessage({ type: 'export', what: 'png', png: 'not bytes' }, ctx), undefined);
    assert.equal(parseWebviewMessage({ type: 'export', what: '../../etc/passwd' }, ctx), undefined);
    assert.deepEqual(parseWebviewMessage({ type: 'export', what: 'codes-parquet' }, ctx), { type: 'export', what: 'codes-parquet' });
  });
});
