/**
 * Hostile torch.save archives, one family per class of attack: prototype names in every lookup the pickle
 * controls, object graphs that would hang or overflow the stack, tensor views and zip fields that would
 * allocate without bound, control characters in names, and paths that are not files. Each case must end in
 * an AudioSaeError naming the file and the problem, quickly, without a large allocation.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadTorchCheckpoint } from '../../../src/engine/checkpoints/index.ts';
import { MAX_DICT_DEPTH, MAX_DICT_ENTRIES, MAX_KEY_CHARS } from '../../../src/engine/checkpoints/flatten.ts';
import { AudioSaeError } from '../../../src/engine/errors.ts';
import {
  f32Bytes, hasControlCharacter, PickleBuilder, pushTensor, stateDictPickle, storedZip, torchZip, type ViewSpec,
} from '../../helpers/hostileFiles.ts';

const dir = mkdtempSync(join(tmpdir(), 'audiosae-hostile-pt-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

function write(bytes: Uint8Array, name = `case${counter++}.pt`): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** Rejects with an AudioSaeError that names the file and matches `pattern`, without a raw control character
 * and without growing ArrayBuffer memory by more than 64 MiB. */
async function refuses(path: string, pattern: RegExp, load: (p: string) => Promise<unknown> = loadTorchCheckpoint): Promise<AudioSaeError> {
  const before = process.memoryUsage().arrayBuffers;
  const err = await load(path).then(() => assert.fail(`${path} loaded`), (e: unknown) => e);
  assert.ok(err instanceof AudioSaeError, `not an AudioSaeError: ${(err as Error)?.stack ?? String(err)}`);
  assert.ok(err.message.includes(path), `names no file: ${err.message}`);
  assert.match(err.message, pattern);
  assert.equal(hasControlCharacter(err.message), false, `raw control character in: ${JSON.stringify(err.message)}`);
  assert.ok(process.memoryUsage().arrayBuffers - before < 64 * 1024 * 1024, 'allocated more than 64 MiB');
  return err;
}

const view = (over: Partial<ViewSpec> = {}): ViewSpec => ({ key: 'w', storageKey: '0', numel: 4, size: [4], stride: [1], ...over });
const four = f32Bytes([1, 2, 3, 4]);

describe('hostile checkpoints: prototype names in every lookup the pickle controls', () => {
  const protoNames = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'isPrototypeOf'];
  for (const name of protoNames) {
    it(`refuses the global torch.${name} (not a storage type or dtype)`, async () => {
      const pkl = new PickleBuilder().proto(2).global('torch', name).stop().bytes();
      await refuses(write(torchZip(pkl)), new RegExp(`refused for safety.*"torch\\.${name.replace(/\$/g, '\\$')}"`));
    });
    it(`refuses torch.${name} as the storage type of a persistent id`, async () => {
      const pkl = stateDictPickle([view({ storageType: name })]);
      await refuses(write(torchZip(pkl, { 0: four })), /refused for safety/);
    });
    it(`refuses collections.${name} and torch._utils.${name} as call targets`, async () => {
      for (const module of ['collections', 'torch._utils', 'builtins']) {
        const pkl = new PickleBuilder().proto(2).global(module, name).emptyTuple().reduce().stop().bytes();
        await refuses(write(torchZip(pkl)), /refused for safety/);
      }
    });
    it(`reads a state-dict key and a storage key named "${name}" as plain names`, async () => {
      const pkl = stateDictPickle([view({ key: name, storageKey: name }), view({ key: 'other', storageKey: 'x' })]);
      const dict = await loadTorchCheckpoint(write(torchZip(pkl, { [name]: four, x: f32Bytes([5, 6, 7, 8]) })));
      assert.deepEqual([...dict.keys()], [name, 'other']);
      assert.deepEqual([...(dict.get(name)!.data as Float32Array)], [1, 2, 3, 4]);
      assert.deepEqual([...(dict.get('other')!.data as Float32Array)], [5, 6, 7, 8]);
    });
  }
});

describe('hostile checkpoints: object graphs that would hang or overflow the stack', () => {
  it('walks a dict shared from every level 60 deep once (2^60 paths), keeping the first path', async () => {
    // d0 = {'w': tensor}; d(i) = {'a': d(i-1), 'b': d(i-1)}: 2^60 paths lead to the tensor.
    const p = new PickleBuilder().proto(2).emptyDict().str('w');
    pushTensor(p, view()).setitem().put(0);
    for (let i = 1; i <= 60; i++) p.pop().emptyDict().mark().str('a').get(i - 1).str('b').get(i - 1).setitems().put(i);
    const dict = await loadTorchCheckpoint(write(torchZip(p.stop().bytes(), { 0: four })));
    assert.deepEqual([...dict.keys()], [`${'a.'.repeat(60)}w`]);
  });

  it('ends at once on the same graph with no tensor at the bottom (it used to walk 2^60 paths)', async () => {
    const p = new PickleBuilder().proto(2).emptyDict().put(0);
    for (let i = 1; i <= 60; i++) p.pop().emptyDict().mark().str('a').get(i - 1).str('b').get(i - 1).setitems().put(i);
    await refuses(write(torchZip(p.stop().bytes())), /holds no tensors/);
  });

  it('refuses a dict that contains itself', async () => {
    const pkl = new PickleBuilder().proto(2).emptyDict().put(0).str('self').get(0).setitem().stop().bytes();
    await refuses(write(torchZip(pkl)), /the dict at "self" contains itself/);
  });

  it('refuses a cycle through several dicts', async () => {
    // a = {'b': b}, b = {'c': c}, c = {'a': a}
    const pkl = new PickleBuilder().proto(2).emptyDict().put(0).str('b').emptyDict().put(1).str('c').emptyDict().put(2)
      .str('a').get(0).setitem().setitem().setitem().stop().bytes();
    await refuses(write(torchZip(pkl)), /"b\.c\.a" contains itself/);
  });

  for (const depth of [MAX_DICT_DEPTH + 1, 100_000]) {
    it(`refuses ${depth} nested dicts with a depth error`, async () => {
      const p = new PickleBuilder().proto(2).emptyDict();
      for (let i = 0; i < depth; i++) p.str('x').emptyDict();
      for (let i = 0; i < depth; i++) p.setitem();
      await refuses(write(torchZip(p.stop().bytes())), new RegExp(`nests dicts more than ${MAX_DICT_DEPTH} levels deep`));
    });
  }

  it(`refuses more than ${MAX_DICT_ENTRIES} dict entries`, async () => {
    const p = new PickleBuilder().proto(2).emptyDict();
    for (let chunk = 0; chunk <= MAX_DICT_ENTRIES / 1000; chunk++) {
      p.mark();
      for (let i = 0; i < 1000; i++) p.int(chunk * 1000 + i).none();
      p.setitems();
    }
    await refuses(write(torchZip(p.stop().bytes())), /more than 1000000 dict entries/);
  });

  it(`refuses a flattened key longer than ${MAX_KEY_CHARS} characters (a long key reused at every level)`, async () => {
    const p = new PickleBuilder().proto(2).emptyDict().str('k'.repeat(1000)).put(0);
    for (let i = 0; i < 10; i++) p.emptyDict().get(0);
    pushTensor(p.emptyDict().str('w'), view()).setitem();
    for (let i = 0; i < 11; i++) p.setitem();
    await refuses(write(torchZip(p.stop().bytes(), { 0: four })), /has a key longer than 4096 characters/);
  });

  it('refuses _rebuild_from_type_v2 wrapping itself 100 000 times', async () => {
    const p = new PickleBuilder().proto(2).global('torch._tensor', '_rebuild_from_type_v2').put(0).pop();
    const n = 100_000;
    // f(f, Tensor, (f, Tensor, (… ), {}), {}) built inside out with MARK … TUPLE, then one REDUCE.
    p.get(0);
    for (let i = 0; i < n; i++) p.mark().get(0).global('torch', 'Tensor');
    p.emptyTuple();
    for (let i = 0; i < n; i++) p.emptyDict().tuple();
    const pkl = p.reduce().stop().bytes();
    await refuses(write(torchZip(pkl)), /_rebuild_from_type_v2 wraps itself/);
  });

  it('describes a 100 000-deep nested list used as a tensor size or a dict key without recursing', async () => {
    const nested = (p: PickleBuilder) => {
      for (let i = 0; i < 100_000; i++) p.mark();
      for (let i = 0; i < 100_000; i++) p.list();
      return p;
    };
    const asKey = nested(new PickleBuilder().proto(2).emptyDict()).none().setitem().stop().bytes();
    await refuses(write(torchZip(asKey)), /has a dict key that is a list of 1, not a string or number/);
    const p = new PickleBuilder().proto(2).emptyDict().str('w').global('torch._utils', '_rebuild_tensor_v2').mark();
    p.mark().str('storage').global('torch', 'FloatStorage').str('0').str('cpu').int(4).tuple().binpersid().int(0);
    nested(p).ints([1]).bool(false).emptyDict().tuple().reduce().setitem();
    await refuses(write(torchZip(p.stop().bytes(), { 0: four })), /tensor size holds a list of 1/);
  });

  it('appends 300 000 items in one APPENDS (push(...items) would throw a RangeError)', async () => {
    const p = new PickleBuilder().proto(2).emptyDict().str('list').emptyList().mark();
    for (let i = 0; i < 300_000; i++) p.none();
    p.appends().setitem().str('w');
    pushTensor(p, view()).setitem();
    const dict = await loadTorchCheckpoint(write(torchZip(p.stop().bytes(), { 0: four })));
    assert.deepEqual([...dict.keys()], ['w']);
  });
});

describe('hostile checkpoints: views and zip fields that would allocate without bound', () => {
  for (const [label, spec, pattern] of [
    ['stride 0 over 2^30 elements', view({ numel: 1, size: [2 ** 30], stride: [0] }), /would materialise 1073741824 elements from storage "0" of 1/],
    ['stride 0 over 2^40 elements', view({ numel: 1, size: [2 ** 20, 2 ** 20], stride: [0, 0] }), /would materialise 1099511627776 elements/],
    ['sizes whose product overflows 2^53', view({ size: [2 ** 40, 2 ** 40, 2 ** 40], stride: [0, 0, 0] }), /more than 2\^53 elements/],
    ['a view longer than its storage', view({ size: [10], stride: [1] }), /"w" \(sizes \[10\], strides \[1\], offset 0\) reaches past the end of storage "0", which holds 4/],
    ['a stride of 2^50', view({ size: [2, 2], stride: [2 ** 50, 1] }), /reaches past the end of storage/],
    ['an offset past the storage', view({ offset: 2 ** 40, size: [1], stride: [1] }), /reaches past the end of storage/],
    ['a storage declaring 4 TB in a 16-byte entry', view({ numel: 2 ** 40, size: [4], stride: [1] }), /"w" needs 4398046511104 bytes of storage "0" \(1099511627776 float32 elements\), which holds 16/],
    ['a storage numel beyond 2^53', view({ numel: 2n ** 60n }), /storage reference in its pickle is malformed/],
    ['a negative storage numel', view({ numel: -1 }), /storage reference in its pickle is malformed/],
    ['a negative stride', view({ stride: [-1] }), /tensor stride holds -1/],
    ['65 dimensions', view({ size: new Array(65).fill(1), stride: new Array(65).fill(1) }), /65 dimensions; torch allows 64/],
  ] as const) {
    it(`refuses ${label} before allocating`, async () => {
      await refuses(write(torchZip(stateDictPickle([spec]), { 0: four })), pattern);
    });
  }

  it('allows a small stride-0 view (expand) and materialises it', async () => {
    const dict = await loadTorchCheckpoint(write(torchZip(stateDictPickle([view({ numel: 1, size: [3, 1000], stride: [0, 0] })]), { 0: f32Bytes([7]) })));
    const t = dict.get('w')!;
    assert.deepEqual(t.shape, [3, 1000]);
    assert.ok((t.data as Float32Array).every((x) => x === 7));
  });

  it('refuses many large stride-0 views of one storage whose total the file does not justify', async () => {
    const views = [0, 1, 2, 3].map((i) => view({ key: `w${i}`, storageType: 'DoubleStorage', numel: 1, size: [2 ** 24], stride: [0] }));
    await refuses(write(torchZip(stateDictPickle(views), { 0: new Uint8Array(8) })), /its tensors would take 536870912 bytes once read, more than the \d+ a \d+-byte file justifies/);
  });

  it('refuses one storage referenced with two dtypes', async () => {
    const pkl = stateDictPickle([view(), view({ key: 'v', storageType: 'IntStorage' })]);
    await refuses(write(torchZip(pkl, { 0: four })), /storage "0" is referenced as 4 float32 elements and as 4 int32 elements/);
  });

  const pkl = stateDictPickle([view()]);
  const entries = (lie: object) => [
    { name: 'archive/data.pkl', data: pkl },
    { name: 'archive/data/0', data: four, ...lie },
  ];
  for (const [label, lie, pattern] of [
    ['a storage entry declaring 4 TB (ZIP64 size)', { size: 4n * 2n ** 40n }, /the stored entry "archive\/data\/0" declares 4398046511104 bytes but holds 16/],
    ['a compressed size of 4 TB (ZIP64)', { size: 4n * 2n ** 40n, compressedSize: 4n * 2n ** 40n }, /compressed size of "archive\/data\/0" is 4398046511104, beyond the file's \d+ bytes/],
    ['a compressed size past the end of the file', { size: 5000, compressedSize: 5000 }, /"archive\/data\/0" claims 5000 bytes at offset \d+, past the \d+ bytes of entry data/],
    ['a local header offset of 2^60 (ZIP64)', { offset: 2n ** 60n }, /offset of "archive\/data\/0" is 1152921504606846976, beyond the file/],
    ['a local header offset past the file', { offset: 100_000 }, /claims 16 bytes at offset 100000/],
    ['a DEFLATE entry claiming 1 GB from 16 bytes', { method: 8, size: 2 ** 30 }, /declares 1073741824 bytes, more than its 16 compressed bytes can inflate to/],
    ['a ZIP64 field shorter than the saturated sizes', { size: 2n ** 33n, truncatedZip64: true }, /the ZIP64 field of "archive\/data\/0" lacks its size/],
  ] as const) {
    it(`refuses ${label}`, async () => {
      await refuses(write(storedZip(entries(lie))), pattern);
    });
  }

  it('refuses an entry count the central directory cannot hold (65 535 and 2^62 via ZIP64)', async () => {
    await refuses(write(storedZip(entries({}), { count: 0xfffe })), /declares 65534 entries, more than its \d+-byte central directory can hold/);
    await refuses(write(storedZip(entries({}), { count: 2n ** 62n })), /declares 4611686018427387904 entries, more than its \d+-byte central directory can hold/);
  });

  it('refuses two entries with the same name', async () => {
    await refuses(write(storedZip([...entries({}), { name: 'archive/data/0', data: four }])), /two entries named "archive\/data\/0"/);
  });
});

describe('hostile checkpoints: names with control characters', () => {
  it('escapes \\r and \\x1b[2K in a refused global', async () => {
    const pkl = new PickleBuilder().proto(2).global('os\r\x1b[2K', 'system\x1b[2K\rtorch.FloatStorage').stop().bytes();
    const err = await refuses(write(torchZip(pkl)), /refused for safety/);
    assert.match(err.message, /os\\r\\x1b\[2K\.system\\x1b\[2K\\rtorch\.FloatStorage/);
  });

  it('escapes control characters in a tensor key and a storage key', async () => {
    const pkl = stateDictPickle([view({ key: 'w\r\x1b[2K', storageKey: 'gone\x1b]0;title\x07', size: [10] })]);
    await refuses(write(torchZip(pkl, {})), /storage "gone\\x1b\]0;title\\x07" of "w\\r\\x1b\[2K" is missing/);
  });

  it('cuts a 1 MB global name short in the message', async () => {
    const err = await refuses(write(torchZip(new PickleBuilder().proto(2).global('os', 'x'.repeat(1 << 20)).stop().bytes())), /\(1048576 characters\)/);
    assert.ok(err.message.length < 1000, `message of ${err.message.length} characters`);
  });
});

describe('hostile checkpoints: paths that are not regular files', () => {
  it('says a folder is a folder', async () => {
    const folder = join(dir, 'folder.pt');
    mkdirSync(folder);
    await refuses(folder, /is a folder, not a file/);
  });

  it('refuses a path through a file', async () => {
    const file = write(torchZip(stateDictPickle([view()]), { 0: four }));
    await refuses(join(file, 'inner.pt'), /a part of its path is a file, not a folder/);
  });

  it('refuses a device without reading it', async () => {
    await refuses('/dev/zero', /is not a regular file/);
  });

  it('refuses a FIFO at once instead of waiting for a writer', { skip: process.platform === 'win32' }, async () => {
    const fifo = join(dir, 'fifo.pt');
    execFileSync('mkfifo', [fifo]);
    await refuses(fifo, /is not a regular file/);
  });

  it('says permission denied', { skip: process.platform === 'win32' || process.getuid?.() === 0 }, async () => {
    const file = write(torchZip(stateDictPickle([view()]), { 0: four }));
    chmodSync(file, 0);
    await refuses(file, /permission denied/);
  });
});
