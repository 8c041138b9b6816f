import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseNpy, readNpy, writeNpy } from '../../../src/engine/io/npy.ts';
import { fixture } from '../../helpers/compare.ts';

const dir = fixture('npy');
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Record<string, { shape: number[]; values: number[] }>;
const tmp = mkdtempSync(join(tmpdir(), 'audiosae-npy-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('.npy', () => {
  for (const name of ['f4', 'f8', 'i4', 'i8', 'u1', 'b1', 'f2', 'scalar', 'empty', 'fortran']) {
    it(`reads numpy's ${name}.npy`, async () => {
      const a = await readNpy(join(dir, `${name}.npy`));
      assert.deepEqual(a.shape, expected[name]!.shape);
      const values = Array.from(a.data as ArrayLike<number | bigint>, Number);
      expected[name]!.values.forEach((v, i) => assert.ok(Math.abs(values[i]! - v) <= Math.abs(v) * 1e-6, `${name}[${i}]: ${values[i]} vs ${v}`));
    });
  }

  for (const v of ['v2', 'v3']) {
    it(`reads format ${v}`, async () => {
      const a = await readNpy(join(dir, `${v}.npy`));
      assert.deepEqual(a.shape, [3, 4]);
      assert.ok(Math.abs((a.data as Float32Array)[1]! - expected.f4!.values[1]!) < 1e-6);
    });
  }

  it('refuses big-endian data with a hint', async () => {
    await assert.rejects(readNpy(join(dir, 'bigendian.npy')), /bigendian\.npy: unsupported \.npy dtype ">f4".*little-endian/);
  });

  it('refuses truncated files and non-npy files, naming them', async () => {
    const bytes = readFileSync(join(dir, 'f8.npy'));
    writeFileSync(join(tmp, 'cut.npy'), bytes.subarray(0, bytes.length - 5));
    await assert.rejects(readNpy(join(tmp, 'cut.npy')), /cut\.npy: the \.npy file is truncated/);
    writeFileSync(join(tmp, 'text.npy'), 'hello');
    await assert.rejects(readNpy(join(tmp, 'text.npy')), /text\.npy: not a \.npy file/);
  });

  for (const name of ['f4', 'f8', 'i4', 'i8', 'u1', 'empty']) {
    it(`writes ${name} byte for byte as numpy.save does`, async () => {
      const a = await readNpy(join(dir, `${name}.npy`));
      await writeNpy(join(tmp, `${name}.npy`), a);
      assert.deepEqual(readFileSync(join(tmp, `${name}.npy`)), readFileSync(join(dir, `${name}.npy`)));
      assert.deepEqual(readdirSync(tmp).filter((f) => f.endsWith('.tmp')), [], 'no temp files left');
    });
  }

  it('leaves nothing behind when the target folder does not exist', async () => {
    await assert.rejects(writeNpy(join(tmp, 'no-such-dir', 'x.npy'), { dtype: 'float32', shape: [1], data: Float32Array.of(1) }), /does not exist/);
    assert.equal(existsSync(join(tmp, 'no-such-dir')), false);
  });

  for (const descr of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
    it(`refuses a header whose dtype is the prototype name "${descr}"`, () => {
      const header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (1,), }`.padEnd(117, ' ') + '\n';
      const bytes = Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length, 0]), Buffer.from(header, 'latin1'), Buffer.alloc(8)]);
      assert.throws(() => parseNpy(bytes, 'proto.npy'), new RegExp(`proto\\.npy: unsupported \\.npy dtype "${descr}"`));
    });
  }
});
