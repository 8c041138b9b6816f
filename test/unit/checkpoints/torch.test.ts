import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadTorchCheckpoint, toFloat32 } from '../../../src/engine/checkpoints/index.ts';
import { AudioSaeError } from '../../../src/engine/errors.ts';
import { assertSameBytes, fixture } from '../../helpers/compare.ts';

const dir = fixture('checkpoints');
const versions = JSON.parse(readFileSync(join(dir, 'VERSIONS.json'), 'utf8')) as { marker: string };

async function checkAgainstExpected(name: string): Promise<void> {
  const expectedDir = join(dir, `${name}.expected`);
  const manifest = JSON.parse(readFileSync(join(expectedDir, 'manifest.json'), 'utf8')) as Record<string, { dtype: string; shape: number[]; file: string }>;
  const dict = await loadTorchCheckpoint(join(dir, name));
  assert.deepEqual([...dict.keys()].sort(), Object.keys(manifest).sort(), `${name}: keys`);
  for (const [key, m] of Object.entries(manifest)) {
    const t = dict.get(key)!;
    assert.equal(t.dtype, m.dtype, `${name} ${key}: dtype`);
    assert.deepEqual(t.shape, m.shape, `${name} ${key}: shape`);
    assertSameBytes(t.data, readFileSync(join(expectedDir, m.file)), `${name} ${key}`);
  }
}

describe('torch.save checkpoints', () => {
  for (const name of ['dtypes.pt', 'views.pt', 'module_state.pt', 'weights.pt', 'archive_root.pt', 'nested.pt']) {
    it(`reads ${name} bit-exactly`, () => checkAgainstExpected(name));
  }

  it('converts float16 (subnormals, inf, signed zero) and bfloat16 to float32 exactly', async () => {
    const d = await loadTorchCheckpoint(join(dir, 'dtypes.pt'));
    const special = toFloat32(d.get('f16_special')!);
    assert.equal(special[0], 2 ** -24); // 6e-8 rounds to the smallest subnormal
    assert.equal(special[2], 65504);
    assert.equal(special[3], Infinity);
    assert.equal(special[4], -Infinity);
    assert.ok(Object.is(special[6], -0));
    const bf = toFloat32(d.get('bf16')!);
    const bits = d.get('bf16')!.data as Uint16Array;
    assert.equal(new Uint32Array(bf.buffer)[0], bits[0]! << 16);
  });

  it('reads scalar tensors (k as int64 and int32, a float threshold)', async () => {
    const d = await loadTorchCheckpoint(join(dir, 'dtypes.pt'));
    assert.deepEqual(d.get('k64')!.shape, []);
    assert.equal(d.get('k64')!.data[0], 50n);
    assert.equal(d.get('k32')!.data[0], 50);
    assert.equal(d.get('threshold')!.data[0], 0.125);
  });

  it('refuses the legacy format with a re-save hint', async () => {
    await assert.rejects(loadTorchCheckpoint(join(dir, 'legacy.pt')), /legacy.*re-save it with torch >= 1\.6/is);
  });

  for (const [name, global] of [
    ['evil_os_system.pt', 'os.system'],
    ['evil_posix_system.pt', 'posix.system'],
    ['evil_eval.pt', 'builtins.eval'],
    ['evil_getattr.pt', 'builtins.getattr'],
    ['evil_popen.pt', 'subprocess.Popen'],
    ['evil_lookalike.pt', 'torch._utils._rebuild_tensor_v3'],
    ['evil_stack_global.pt', 'builtins.exec'],
  ] as const) {
    it(`refuses ${name}, naming ${global} and the file, executing nothing`, async () => {
      rmSync(versions.marker, { force: true });
      const err = await loadTorchCheckpoint(join(dir, name)).then(
        () => assert.fail('loaded a hostile pickle'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof AudioSaeError);
      assert.match(err.message, new RegExp(`"${global.replace(/\./g, '\\.')}"`));
      assert.match(err.message, new RegExp(name.replace('.', '\\.')));
      assert.match(err.message, /refused for safety/);
      assert.equal(existsSync(versions.marker), false);
    });
  }

  for (const [name, pattern] of [
    ['truncated.pt', /truncated|not a ZIP/],
    ['corrupt_cd.pt', /corrupt/],
    ['empty.pt', /empty/],
    ['short_storage.pt', /needs \d+ bytes of storage/],
    ['missing_storage.pt', /storage "0".*missing/],
    ['nonexistent.pt', /file not found/],
  ] as const) {
    it(`explains what is wrong with ${name}`, async () => {
      await assert.rejects(loadTorchCheckpoint(join(dir, name)), (e: unknown) => {
        assert.ok(e instanceof AudioSaeError, String(e));
        assert.match(e.message, pattern);
        assert.ok(e.message.includes(name), e.message);
        return true;
      });
    });
  }
});
