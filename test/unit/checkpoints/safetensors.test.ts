import assert from 'node:assert/strict';
import { mkdtempSync, openSync, rmSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadSafetensors, readSafetensorsHeader, toFloat32 } from '../../../src/engine/checkpoints/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'audiosae-st-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function headerBytes(header: object, pad = 0): Buffer {
  const json = Buffer.from(JSON.stringify(header) + ' '.repeat(pad));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json]);
}

describe('safetensors', () => {
  it('reads tensors by data_offsets in any order, with padding and __metadata__', async () => {
    const a = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const b = BigInt64Array.from([7n, -8n]);
    const h = Uint16Array.from([0x3c00, 0xc000]); // float16 1, -2
    // Data order b, h, a — not the header's key order.
    const header = {
      __metadata__: { format: 'pt' },
      a: { dtype: 'F32', shape: [2, 3], data_offsets: [20, 44] },
      b: { dtype: 'I64', shape: [2], data_offsets: [0, 16] },
      h: { dtype: 'F16', shape: [2], data_offsets: [16, 20] },
    };
    const file = join(dir, 'small.safetensors');
    writeFileSync(file, Buffer.concat([headerBytes(header, 13), Buffer.from(b.buffer), Buffer.from(h.buffer), Buffer.from(a.buffer)]));
    const info = await readSafetensorsHeader(file);
    assert.deepEqual([...info.metadata], [['format', 'pt']]);
    const d = await loadSafetensors(file);
    assert.deepEqual([...(d.get('a')!.data as Float32Array)], [...a]);
    assert.deepEqual(d.get('a')!.shape, [2, 3]);
    assert.deepEqual([...(d.get('b')!.data as BigInt64Array)], [...b]);
    assert.deepEqual([...toFloat32(d.get('h')!)], [1, -2]);
    const only = await loadSafetensors(file, (k) => k === 'b');
    assert.deepEqual([...only.keys()], ['b']);
  });

  it('reads a tensor stored beyond 2 GiB (sparse file)', async () => {
    const offset = 2 ** 31 + 4096;
    // Offsets tile the data section, so a 2 GiB tensor (a hole in the file, never read) comes first.
    const header = { pad: { dtype: 'U8', shape: [offset], data_offsets: [0, offset] }, big: { dtype: 'F32', shape: [4], data_offsets: [offset, offset + 16] } };
    const file = join(dir, 'huge.safetensors');
    const hb = headerBytes(header);
    const fd = openSync(file, 'w');
    writeSync(fd, hb, 0, hb.length, 0);
    writeSync(fd, Buffer.from(Float32Array.from([0.5, -1, 2, 3]).buffer), 0, 16, hb.length + offset);
    closeSync(fd);
    const d = await loadSafetensors(file, (k) => k === 'big');
    assert.deepEqual([...(d.get('big')!.data as Float32Array)], [0.5, -1, 2, 3]);
  });

  for (const [name, bytes, pattern] of [
    ['tiny', Buffer.from([1, 2, 3]), /only 3 bytes/],
    ['huge header', Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]), Buffer.alloc(8)]), /header claims/],
    ['not json', Buffer.concat([headerBytes({}).subarray(0, 8), Buffer.from('{nope')]).subarray(0, 13), /not JSON|header claims/],
    ['offsets past the end', headerBytes({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }), /truncated/],
    ['offsets not matching the shape', Buffer.concat([headerBytes({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 12] } }), Buffer.alloc(16)]), /do not fit/],
    ['unknown dtype', Buffer.concat([headerBytes({ w: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }), Buffer.alloc(8)]), /unsupported dtype/],
  ] as const) {
    it(`rejects a file with ${name}, naming it`, async () => {
      const file = join(dir, `${name.replace(/ /g, '_')}.safetensors`);
      writeFileSync(file, bytes);
      await assert.rejects(loadSafetensors(file), (e: Error) => {
        assert.match(e.message, pattern);
        assert.ok(e.message.includes(file));
        return true;
      });
    });
  }
});
