/**
 * Hostile safetensors files: headers that are not an object of tensor descriptions, prototype names as tensor
 * names, dtypes and metadata keys, offsets that do not tile the data section exactly (as the reference
 * library requires), and paths that are not files. Each case ends in an AudioSaeError naming the file.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadSafetensors, readSafetensorsHeader } from '../../../src/engine/checkpoints/index.ts';
import { AudioSaeError } from '../../../src/engine/errors.ts';
import { fixture } from '../../helpers/compare.ts';
import { f32Bytes, hasControlCharacter, safetensorsFile } from '../../helpers/hostileFiles.ts';

const dir = mkdtempSync(join(tmpdir(), 'audiosae-hostile-st-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

function write(bytes: Uint8Array): string {
  const path = join(dir, `case${counter++}.safetensors`);
  writeFileSync(path, bytes);
  return path;
}

async function refuses(path: string, pattern: RegExp): Promise<void> {
  for (const load of [loadSafetensors, readSafetensorsHeader]) {
    const err = await load(path).then(() => assert.fail(`${path} loaded`), (e: unknown) => e);
    assert.ok(err instanceof AudioSaeError, `not an AudioSaeError: ${(err as Error)?.stack ?? String(err)}`);
    assert.ok(err.message.includes(path), `names no file: ${err.message}`);
    assert.match(err.message, pattern);
    assert.equal(hasControlCharacter(err.message), false, `raw control character in: ${JSON.stringify(err.message)}`);
  }
}

const t = (dtype: string, shape: number[], begin: number, end: number) => ({ dtype, shape, data_offsets: [begin, end] });
const file = (header: unknown, data: Uint8Array = new Uint8Array(0)) => write(safetensorsFile(JSON.stringify(header), data));

describe('hostile safetensors: headers that are not an object of tensor descriptions', () => {
  for (const [label, json, pattern] of [
    ['null', 'null', /its header is null, not a JSON object/],
    ['a number', '5', /its header is 5, not a JSON object/],
    ['an array', '[{"dtype":"F32"}]', /its header is a list of 1, not a JSON object/],
    ['a string', '"x"', /its header is "x", not a JSON object/],
    ['a null tensor entry', '{"w": null}', /tensor "w" is described by null, not an object/],
    ['a tensor entry that is a list', '{"w": [1, 2]}', /tensor "w" is described by a list of 2/],
    ['a null shape', '{"w": {"dtype": "F32", "shape": null, "data_offsets": [0, 0]}}', /tensor "w" has an invalid shape \(null/],
    ['a nested shape', '{"w": {"dtype": "F32", "shape": [[4]], "data_offsets": [0, 16]}}', /tensor "w" has an invalid shape \(a list of 1/],
    ['a fractional size', '{"w": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 6]}}', /invalid shape/],
    ['a null dtype', '{"w": {"dtype": null, "shape": [0], "data_offsets": [0, 0]}}', /tensor "w" has an unsupported dtype null/],
    ['null data_offsets', '{"w": {"dtype": "F32", "shape": [0], "data_offsets": null}}', /tensor "w" has invalid data_offsets \(null/],
    ['one offset', '{"w": {"dtype": "F32", "shape": [0], "data_offsets": [0]}}', /invalid data_offsets \(a list of 1/],
    ['a string offset', '{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, "4"]}}', /invalid data_offsets/],
    ['a metadata list', '{"__metadata__": [1]}', /"__metadata__" that is a list of 1, not an object of strings/],
    ['a metadata number value', '{"__metadata__": {"format": 5}}', /"__metadata__" entry "format" that is 5, not a string/],
    ['a 100 000-deep nested dtype', `{"w": {"dtype": ${'['.repeat(100000)}${']'.repeat(100000)}, "shape": [0], "data_offsets": [0, 0]}}`, /unsupported dtype a list of 1/],
    ['a tensor name with control characters', '{"w\\r\\u001b[2K": null}', /tensor "w\\r\\x1b\[2K" is described by null/],
  ] as const) {
    it(`refuses a header that is ${label}`, async () => {
      await refuses(write(safetensorsFile(json)), pattern);
    });
  }

  it('refuses a header length of 2^63', async () => {
    const bytes = safetensorsFile('{}');
    new DataView(bytes.buffer, bytes.byteOffset).setBigUint64(0, 2n ** 63n, true);
    await refuses(write(bytes), /its header claims 9223372036854775808 bytes/);
  });
});

describe('hostile safetensors: prototype names', () => {
  const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];
  it('reads tensors named like Object.prototype members as plain tensors', async () => {
    const header: Record<string, unknown> = {};
    names.forEach((n, i) => Object.defineProperty(header, n, { value: t('F32', [1], 4 * i, 4 * i + 4), enumerable: true }));
    const path = file(header, f32Bytes([0, 1, 2, 3, 4]));
    assert.match(JSON.stringify(header), /^\{"__proto__":/);
    const dict = await loadSafetensors(path);
    assert.deepEqual([...dict.keys()], names);
    names.forEach((n, i) => assert.deepEqual([...(dict.get(n)!.data as Float32Array)], [i], n));
    assert.equal(Object.getPrototypeOf({}).constructor, Object, 'Object.prototype untouched');
  });

  for (const name of names) {
    it(`refuses the dtype "${name}"`, async () => {
      await refuses(file({ w: t(name, [1], 0, 4) }, f32Bytes([1])), new RegExp(`unsupported dtype "${name}"`));
    });
  }

  it('keeps __metadata__ keys such as __proto__ as plain keys', async () => {
    const path = write(safetensorsFile('{"__metadata__": {"__proto__": "x", "constructor": "y"}, "w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}', f32Bytes([1])));
    const header = await readSafetensorsHeader(path);
    assert.deepEqual([...header.metadata], [['__proto__', 'x'], ['constructor', 'y']]);
  });
});

describe('hostile safetensors: offsets must tile the data section exactly', () => {
  const data = f32Bytes([1, 2, 3, 4]); // 16 bytes
  for (const [label, header, bytes, pattern] of [
    ['overlapping tensors', { a: t('F32', [2], 0, 8), b: t('F32', [2], 4, 12), c: t('F32', [1], 12, 16) }, data, /tensor "b" \(bytes 4–12\) overlaps tensor "a", which ends at 8/],
    ['two tensors on the same bytes', { a: t('F32', [4], 0, 16), b: t('F32', [4], 0, 16) }, data, /overlaps tensor "a"/],
    ['a gap between tensors', { a: t('F32', [1], 0, 4), b: t('F32', [2], 8, 16) }, data, /tensor "b" starts at byte 8, leaving 4 unused bytes after tensor "a"/],
    ['a first tensor not at 0', { a: t('F32', [3], 4, 16) }, data, /tensor "a" starts at byte 4, leaving 4 unused bytes after the header/],
    ['bytes after the last tensor', { a: t('F32', [3], 0, 12) }, data, /has 4 bytes after its last tensor/],
    ['data but no tensors', {}, data, /has 16 bytes after its last tensor/],
    ['end before begin', { a: t('F32', [0], 8, 4) }, data, /tensor "a" has data_offsets \[8, 4\] that do not fit/],
    ['an end past the file', { a: t('F32', [8], 0, 32) }, data, /is truncated: tensor "a" ends at byte/],
    ['a shape whose size overflows 2^53', { a: t('F32', [2 ** 40, 2 ** 40], 0, 16) }, data, /do not fit its shape \[1099511627776, 1099511627776\] and dtype F32 \(more than 2\^53 bytes\)/],
  ] as const) {
    it(`refuses ${label}`, async () => {
      await refuses(file(header, bytes), pattern);
    });
  }

  it('accepts tensors out of key order, zero-size tensors and __metadata__', async () => {
    const dict = await loadSafetensors(file({ __metadata__: { format: 'pt' }, b: t('F32', [2], 8, 16), e: t('F32', [0], 8, 8), a: t('F32', [2], 0, 8) }, data));
    assert.deepEqual([...dict.keys()], ['b', 'e', 'a']);
    assert.deepEqual([...(dict.get('b')!.data as Float32Array)], [3, 4]);
  });

  it('accepts every safetensors fixture (written in the layout of the reference library)', async () => {
    const found: string[] = [];
    const walk = (folder: string) => {
      for (const entry of readdirSync(folder, { withFileTypes: true })) {
        if (entry.isDirectory()) walk(join(folder, entry.name));
        else if (entry.name.endsWith('.safetensors')) found.push(join(folder, entry.name));
      }
    };
    walk(fixture(''));
    assert.ok(found.length >= 4, `found ${found.length}`);
    for (const path of found) assert.ok((await readSafetensorsHeader(path)).entries.size > 0, path);
  });
});

describe('hostile safetensors: paths that are not regular files', () => {
  it('says a folder is a folder', async () => {
    const folder = join(dir, 'model.safetensors');
    mkdirSync(folder);
    await refuses(folder, /is a folder, not a file/);
  });
  it('refuses a device and a missing file', async () => {
    await refuses('/dev/zero', /is not a regular file/);
    await refuses(join(dir, 'nope.safetensors'), /file not found/);
  });
});
