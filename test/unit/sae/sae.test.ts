import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readNpy } from '../../../src/engine/io/npy.ts';
import { WorkerRunner } from '../../../src/engine/runtime/workerRunner.ts';
import { loadSae, METRIC_FORMULAS, parseSaeConfig, reconstructionMetrics, runSae, saeFromStateDict, type Sae } from '../../../src/engine/sae/index.ts';
import { hasControlCharacter } from '../../helpers/hostileFiles.ts';
import { AudioSaeError } from '../../../src/engine/errors.ts';
import type { Tensor } from '../../../src/engine/checkpoints/tensor.ts';
import { assertClose, fixture } from '../../helpers/compare.ts';

const dir = fixture('sae');
let runner: WorkerRunner;
before(async () => { runner = await WorkerRunner.create({ executionProvider: 'cpu' }); });
after(() => runner.dispose());

async function matrix(path: string): Promise<Float32Array> {
  return (await readNpy(path)).data as Float32Array;
}

function assertSameSupport(ours: Float32Array, ref: Float32Array, what: string): void {
  assert.equal(ours.length, ref.length);
  for (let i = 0; i < ref.length; i++) {
    if ((ours[i] !== 0) !== (ref[i] !== 0)) assert.fail(`${what}: support differs at flat index ${i}: ours ${ours[i]}, reference ${ref[i]}`);
  }
}

describe('SAE against the PyTorch reference', () => {
  for (const [name, modes] of [['threshold_k4', ['threshold', 'batchtopk']], ['no_threshold_k8', ['batchtopk']]] as const) {
    for (const mode of modes) {
      it(`${name}, ${mode}: same support, values and reconstruction within 1e-5, metrics within 1e-5`, async () => {
        const sae = await loadSae(`${dir}/${name}/ae.pt`);
        const acts = await matrix(`${dir}/${name}/acts.npy`);
        const result = await runSae(runner, sae, acts, { mode: mode === 'threshold' ? 'threshold' : 'batch-topk', dense: true });
        const codesRef = await matrix(`${dir}/${name}/codes_${mode}.npy`);
        assertSameSupport(result.codes!, codesRef, `${name} ${mode}`);
        assertClose(result.codes!, codesRef, { rtol: 1e-5, atol: 1e-6, what: `${name} ${mode} codes` });
        assertClose(result.recon, await matrix(`${dir}/${name}/recon_${mode}.npy`), { rtol: 1e-5, atol: 1e-5, what: `${name} ${mode} recon` });
        // The sparse codes are the dense ones, frame by frame, sorted by value.
        for (let t = 0; t < result.frames; t++) {
          const ids: number[] = [];
          for (let j = 0; j < sae.dictSize; j++) if (codesRef[t * sae.dictSize + j] !== 0) ids.push(j);
          const sparseIds = Array.from(result.sparse.indices.subarray(result.sparse.rowPtr[t], result.sparse.rowPtr[t + 1]));
          assert.deepEqual([...sparseIds].sort((a, b) => a - b), ids, `frame ${t} support`);
          const vals = result.sparse.values.subarray(result.sparse.rowPtr[t], result.sparse.rowPtr[t + 1]);
          for (let i = 1; i < vals.length; i++) assert.ok(vals[i - 1]! >= vals[i]!, `frame ${t} not sorted`);
        }
        const refMetrics = JSON.parse(readFileSync(`${dir}/${name}/metrics.json`, 'utf8'))[mode] as Record<string, number>;
        const m = reconstructionMetrics(acts, result.recon, result.sparse, sae.dModel, sae.dictSize);
        for (const key of Object.keys(METRIC_FORMULAS)) {
          assertClose([m[key as keyof typeof m] as number], [refMetrics[key]!], { rtol: 1e-5, atol: 1e-9, what: key });
        }
        if (mode === 'threshold') assert.ok(refMetrics.max_active_per_frame! > sae.k, 'fixture has frames with more than k active');
      });
    }
  }

  it('auto mode uses the stored threshold, and falls back to batch top-k with a notice when it is −1', async () => {
    const a = await loadSae(`${dir}/threshold_k4/ae.pt`);
    const b = await loadSae(`${dir}/no_threshold_k8/ae.pt`);
    assert.equal((await runSae(runner, a, await matrix(`${dir}/threshold_k4/acts.npy`))).modeUsed, 'threshold');
    const rb = await runSae(runner, b, await matrix(`${dir}/no_threshold_k8/acts.npy`));
    assert.equal(rb.modeUsed, 'batch-topk');
    assert.match(rb.notice ?? '', /no usable threshold.*batch top-k/);
    await assert.rejects(runSae(runner, b, new Float32Array(32), { mode: 'threshold' }), /no threshold/);
  });

  it('reads k stored as int32 and config values under "trainer"', async () => {
    const b = await loadSae(`${dir}/no_threshold_k8/ae.pt`);
    assert.equal(b.k, 8);
    assert.deepEqual({ d: b.config?.activationDim, F: b.config?.dictSize, k: b.config?.k }, { d: 32, F: 256, k: 8 });
  });

  it('reports a config that does not match the weights, naming both files and values', async () => {
    await assert.rejects(loadSae(`${dir}/config_mismatch/ae.pt`), (e: Error) => {
      assert.ok(e instanceof AudioSaeError);
      assert.match(e.message, /config\.json: does not match its weights .*ae\.pt: dict_size 64 vs F = 128/);
      return true;
    });
  });

  it('rejects activations of the wrong width and non-finite activations, naming the source', async () => {
    const sae = await loadSae(`${dir}/threshold_k4/ae.pt`);
    await assert.rejects(runSae(runner, sae, new Float32Array(20), { dModel: 10, source: 'acts.npy' }), /acts\.npy: has d = 10 per frame, but the SAE .* expects d = 16/);
    const bad = new Float32Array(32);
    bad[17] = NaN;
    await assert.rejects(runSae(runner, sae, bad, { source: 'acts.npy' }), /acts\.npy: holds a non-finite value \(NaN\) at frame 1, dim 1/);
  });

  it('rejects state dicts with missing tensors or wrong shapes', () => {
    const t = (shape: number[]): Tensor => ({ dtype: 'float32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
    const good = new Map<string, Tensor>([
      ['encoder.weight', t([8, 4])], ['encoder.bias', t([8])], ['decoder.weight', t([4, 8])], ['b_dec', t([4])],
      ['k', { dtype: 'int64', shape: [], data: BigInt64Array.of(2n) }],
    ]);
    assert.equal(saeFromStateDict(good, 'ok.pt').dictSize, 8);
    const missing = new Map(good);
    missing.delete('b_dec');
    assert.throws(() => saeFromStateDict(missing, 'x.pt'), /x\.pt: is not an SAE checkpoint: the tensor "b_dec" is missing/);
    const wrong = new Map(good);
    wrong.set('decoder.weight', t([8, 4]));
    assert.throws(() => saeFromStateDict(wrong, 'x.pt'), /"decoder\.weight" has shape \[8, 4\], expected \[4, 8\]/);
  });

  it('keeps exactly k·n codes in batch top-k mode at real size (d 768, F 6144, 1500 frames)', async () => {
    const d = 768, F = 6144, n = 1500, k = 50;
    let seed = 1;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
    const sae: Sae = {
      file: 'random-768x6144', dModel: d, dictSize: F, k, threshold: null, config: null,
      encoderWeight: Float32Array.from({ length: F * d }, rand), encoderBias: new Float32Array(F),
      decoderWeight: Float32Array.from({ length: d * F }, () => rand() / 40), bDec: new Float32Array(d),
    };
    const r = await runSae(runner, sae, Float32Array.from({ length: n * d }, rand), { mode: 'batch-topk' });
    assert.equal(r.sparse.indices.length, k * n);
    assert.equal(r.sparse.rowPtr[n], k * n);
  });
});

describe('hostile SAE config.json and paths', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'audiosae-sae-hostile-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  const rejects = (f: () => unknown, file: string, pattern: RegExp) => {
    assert.throws(f, (e: unknown) => {
      assert.ok(e instanceof AudioSaeError, `not an AudioSaeError: ${(e as Error)?.stack ?? String(e)}`);
      assert.ok(e.message.includes(file), e.message);
      assert.match(e.message, pattern);
      assert.equal(hasControlCharacter(e.message), false);
      return true;
    });
  };

  for (const [label, text, pattern] of [
    ['null', 'null', /holds null, not a JSON object/],
    ['a number', '4', /holds 4, not a JSON object/],
    ['an array', '[{"k": 4}]', /holds a list of 1, not a JSON object/],
    ['a null k', '{"k": null}', /has an invalid "k": expected a positive integer, got null/],
    ['a string k', '{"k": "4"}', /has an invalid "k": expected a positive integer, got "4"/],
    ['a fractional dict_size', '{"dict_size": 64.5}', /"dict_size": expected a positive integer, got 64\.5/],
    ['a null activation_dim under trainer', '{"trainer": {"activation_dim": null}}', /"activation_dim": expected a positive integer, got null/],
    ['a null trainer', '{"trainer": null}', /has an invalid "trainer": expected an object, got null/],
    ['a list trainer', '{"trainer": [1]}', /"trainer": expected an object, got a list of 1/],
    ['a zero norm_factor', '{"norm_factor": 0}', /"norm_factor": expected a positive number, got 0/],
    ['a 100 000-deep k', `{"k": ${'['.repeat(100000)}${']'.repeat(100000)}}`, /"k": expected a positive integer, got a list of 1/],
    ['a key with control characters', '{"k": "\\u001b[2K\\r"}', /got "\\x1b\[2K\\r"/],
  ] as const) {
    it(`refuses a config that is ${label}, naming the file and key`, () => {
      rejects(() => parseSaeConfig(text, 'layer_3/config.json'), 'layer_3/config.json', pattern);
    });
  }

  it('reads only own keys: prototype names find nothing, "__proto__" is a plain key', () => {
    const c = parseSaeConfig('{"__proto__": {"k": 4}, "trainer": {"__proto__": {"dict_size": 64}}, "activation_dim": 16}', 'config.json');
    assert.deepEqual(c, { activationDim: 16, dictSize: undefined, k: undefined, normFactor: undefined });
    assert.deepEqual(parseSaeConfig('{"constructor": 1, "toString": 2}', 'config.json'), { activationDim: undefined, dictSize: undefined, k: undefined, normFactor: undefined });
  });

  it('says a folder passed as the SAE or as --config is a folder', async () => {
    const folder = join(tmp, 'ae.pt');
    mkdirSync(folder);
    await assert.rejects(loadSae(folder), (e: unknown) => e instanceof AudioSaeError && e.message === `${folder}: is a folder, not a file.`);
    await assert.rejects(loadSae(`${dir}/threshold_k4/ae.pt`, tmp), (e: unknown) => e instanceof AudioSaeError && e.message === `${tmp}: is a folder, not a file.`);
    await assert.rejects(loadSae(`${dir}/threshold_k4/ae.pt`, join(tmp, 'missing.json')), /missing\.json: file not found/);
  });

  it('says a config.json beside ae.pt that is a folder or null is wrong, naming it', async () => {
    const layer = join(tmp, 'layer_1');
    mkdirSync(join(layer, 'config.json'), { recursive: true });
    symlinkSync(`${dir}/threshold_k4/ae.pt`, join(layer, 'ae.pt'));
    await assert.rejects(loadSae(join(layer, 'ae.pt')), (e: unknown) => e instanceof AudioSaeError && /layer_1\/config\.json: is a folder, not a file/.test(e.message));
    const other = join(tmp, 'layer_2');
    mkdirSync(other);
    symlinkSync(`${dir}/threshold_k4/ae.pt`, join(other, 'ae.pt'));
    writeFileSync(join(other, 'config.json'), 'null');
    await assert.rejects(loadSae(join(other, 'ae.pt')), /layer_2\/config\.json: holds null, not a JSON object/);
  });
});
