/** The bundled `audiosae` CLI (dist/cli.cjs, built by `npm test` first) on real files. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readNpy } from '../../src/engine/io/npy.ts';
import { startFakeHub } from '../helpers/fakeHub.ts';
import { assertClose, fixture } from '../helpers/compare.ts';
import { readCsrNpz, scipyCsrSummary } from '../helpers/npz.ts';

const cli = new URL('../../dist/cli.cjs', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'audiosae-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const caches = mkdtempSync(join(tmpdir(), 'audiosae-cli-caches-'));
after(() => rmSync(caches, { recursive: true, force: true }));
const hubCache = join(caches, 'hf');
function audiosae(...args: string[]) {
  return audiosaeWith({}, ...args);
}
/** Asynchronous, for tests whose fake Hub lives in this process (spawnSync would block its event loop). */
function audiosaeAsync(env: Record<string, string>, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], {
      env: { ...process.env, AUDIOSAE_EXECUTION_PROVIDER: 'cpu', AUDIOSAE_CACHE: join(caches, 'audiosae'), HF_HUB_CACHE: hubCache, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
function audiosaeWith(env: Record<string, string>, ...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    // No network here: the Hub endpoint points at a closed local port; graphs are cached in the temp folder.
    env: { ...process.env, AUDIOSAE_EXECUTION_PROVIDER: 'cpu', AUDIOSAE_CACHE: join(caches, 'audiosae'), HF_HUB_CACHE: hubCache, HF_ENDPOINT: 'http://127.0.0.1:47999', ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('audiosae CLI', () => {
  it('prints help for every verb', () => {
    for (const verb of ['demo', 'activations', 'features', 'mel', 'sae']) {
      const r = audiosae(verb, '--help');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`audiosae ${verb}`));
    }
  });

  it('mel: writes the Whisper log-mel that matches torch.stft within 1e-4', async () => {
    const out = join(tmp, 'speech.npy');
    const r = audiosae('mel', fixture('audio', 'speech.wav'), '--n-mels', '80', '--out', out);
    assert.equal(r.code, 0, r.stderr);
    const mel = await readNpy(out);
    assert.deepEqual(mel.shape, [80, 3000]);
    const ref = readFileSync(fixture('audio', 'mel', 'speech.80.f32'));
    const refData = new Float32Array(ref.buffer.slice(ref.byteOffset, ref.byteOffset + ref.byteLength));
    const kept = refData.length / 80;
    const ours = new Float32Array(80 * kept);
    for (let m = 0; m < 80; m++) ours.set((mel.data as Float32Array).subarray(m * 3000, m * 3000 + kept), m * kept);
    assertClose(ours, refData, { atol: 1e-4, what: 'speech log-mel' });
  });

  it('sae: codes, reconstruction and metrics.json match PyTorch', async () => {
    const dir = fixture('sae', 'threshold_k4');
    const out = join(tmp, 'sae-out');
    const r = audiosae('sae', '--sae', join(dir, 'ae.pt'), '--acts', join(dir, 'acts.npy'), '--out', out);
    assert.equal(r.code, 0, r.stderr);
    const reference = (await readNpy(join(dir, 'codes_threshold.npy'))).data as Float32Array;
    const sparse = await readCsrNpz(join(out, 'codes.npz'));
    assertClose(sparse.dense, reference, { rtol: 1e-5, atol: 1e-6, what: 'codes.npz' });
    const scipy = scipyCsrSummary(join(out, 'codes.npz'));
    if (scipy) assert.deepEqual(scipy.slice(0, 3), [sparse.rows, sparse.cols, sparse.arrays.get('data')!.data.length], 'scipy.sparse.load_npz reads the same matrix');
    const denseOut = join(tmp, 'sae-out-dense');
    assert.equal(audiosae('sae', '--sae', join(dir, 'ae.pt'), '--acts', join(dir, 'acts.npy'), '--out', denseOut, '--dense-codes').code, 0);
    assertClose((await readNpy(join(denseOut, 'codes.npy'))).data as Float32Array, reference, { rtol: 1e-5, atol: 1e-6, what: 'codes.npy' });
    assertClose((await readNpy(join(out, 'recon.npy'))).data as Float32Array, (await readNpy(join(dir, 'recon_threshold.npy'))).data as Float32Array, { rtol: 1e-5, atol: 1e-5 });
    const report = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    const ref = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')).threshold;
    assert.equal(report.mode, 'threshold');
    assert.match(report.metrics.fve.formula, /1 − Σ_d Var/);
    assertClose([report.metrics.fve.value, report.metrics.l0.value], [ref.fve, ref.l0], { rtol: 1e-5 });
  });

  it('sae: says when it falls back to batch top-k', () => {
    const dir = fixture('sae', 'no_threshold_k8');
    const r = audiosae('sae', '--sae', join(dir, 'ae.pt'), '--acts', join(dir, 'acts.npy'), '--out', join(tmp, 'fallback'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /no usable threshold/);
    assert.equal(JSON.parse(readFileSync(join(tmp, 'fallback', 'metrics.json'), 'utf8')).mode, 'batch-topk');
  });

  // A Whisper config next to HuBERT weights.
  const mixedFolder = join(tmp, 'mixed');
  mkdirSync(mixedFolder);
  copyFileSync(fixture('whisper', 'small-like', 'config.json'), join(mixedFolder, 'config.json'));
  copyFileSync(fixture('hubert', 'base-like', 'model.safetensors'), join(mixedFolder, 'model.safetensors'));
  const corrupt = join(tmp, 'corrupt.wav');
  writeFileSync(corrupt, Buffer.concat([Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt '), Buffer.alloc(6)]));
  for (const [label, args, pattern] of [
    ['a missing file', ['mel', join(tmp, 'nope.wav'), '--out', join(tmp, 'x.npy')], /nope\.wav: file not found/],
    ['a corrupt WAV', ['mel', corrupt, '--out', join(tmp, 'x.npy')], /corrupt\.wav: has a truncated "fmt " chunk/],
    ['an unknown option', ['mel', corrupt, '--frobnicate', '1'], /unknown option --frobnicate/],
    ['a bad choice', ['mel', corrupt, '--n-mels', '64', '--out', join(tmp, 'x.npy')], /--n-mels must be one of 80, 128/],
    ['a malicious checkpoint', ['sae', '--sae', fixture('checkpoints', 'evil_os_system.pt'), '--acts', fixture('sae', 'threshold_k4', 'acts.npy'), '--out', join(tmp, 'evil')], /refused for safety/],
    ['an unknown backbone', ['features', corrupt, '--backbone', 'wav2vec9', '--layer', '1', '--out', join(tmp, 'f')], /unknown backbone "wav2vec9".*Known backbones: hubert-base/],
    ['layer 0', ['activations', corrupt, '--backbone', 'hubert-base', '--layer', '0', '--out', join(tmp, 'x.npy')], /--layer must be a whole number from 1 to 64; got "0"/],
    ['a layer above the model\'s count', ['activations', corrupt, '--backbone', 'whisper-small', '--layer', '13', '--out', join(tmp, 'x.npy')], /layer 13 does not exist in Whisper-small.*1 to 12/],
    ['an SAE of another width', ['features', fixture('audio', 'speech.wav'), '--backbone', 'whisper-tiny-random', '--layer', '1', '--sae', fixture('sae', 'threshold_k4', 'ae.pt'), '--out', join(tmp, 'f')], /ae\.pt: has d = 16, but the backbone .* produces d = 64/],
    ['a weights folder without config.json', ['activations', fixture('audio', 'speech.wav'), '--backbone', 'whisper-small', '--layer', '1', '--weights', fixture('sae', 'threshold_k4'), '--out', join(tmp, 'x.npy')], /config\.json: has no model_type; AudioSAE runs "whisper" and "hubert" encoders/],
    ['a weights folder that lacks tensors', ['activations', fixture('audio', 'speech.wav'), '--backbone', 'whisper-small', '--layer', '1', '--weights', mixedFolder, '--out', join(tmp, 'x.npy')], /mixed: lacks the tensor "model\.encoder\.conv1\.weight"/],
    ['an unreachable Hub', ['activations', fixture('audio', 'speech.wav'), '--backbone', 'whisper-small', '--layer', '6', '--out', join(tmp, 'x.npy')], /openai\/whisper-small\/config\.json: the download failed after 4 attempts: cannot reach http:\/\/127\.0\.0\.1:47999 \(connect ECONNREFUSED/],
    ['activations of the wrong width', ['sae', '--sae', fixture('sae', 'no_threshold_k8', 'ae.pt'), '--acts', fixture('sae', 'threshold_k4', 'acts.npy'), '--out', join(tmp, 'wrong')], /acts\.npy: has d = 16 per frame, but the SAE .* expects d = 32/],
  ] as const) {
    it(`fails with one clear line and no output for ${label}`, () => {
      const before = readdirSync(tmp).sort();
      const r = audiosae(...args);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.deepEqual(readdirSync(tmp).sort(), before, 'something was written');
      assert.equal(existsSync(join(tmp, 'x.npy')), false);
    });
  }

  it('activations: the bundled HuBERT-like backbone gives [frames, 64] at 50 frames/s', async () => {
    const out = join(tmp, 'acts.npy');
    const r = audiosae('activations', fixture('audio', 'speech.wav'), '--backbone', 'hubert-tiny-random', '--layer', '2', '--out', out);
    assert.equal(r.code, 0, r.stderr);
    const acts = await readNpy(out);
    assert.deepEqual(acts.shape, [Math.floor((51278 - 400) / 320) + 1, 64]);
  });

  it('features: activations, codes, reconstruction and features.json from one call', async () => {
    const out = join(tmp, 'features');
    const r = audiosae('features', fixture('audio', 'speech.wav'), '--backbone', 'whisper-tiny-random', '--layer', '3', '--out', out, '--top', '5');
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(readFileSync(join(out, 'features.json'), 'utf8'));
    assert.equal(report.frames, Math.ceil(51278 / 320));
    assert.equal(report.topFeatures.length, 5);
    assert.equal(report.mode, 'batch-topk');
    assert.match(report.notes.join(' '), /no usable threshold/);
    const codes = await readCsrNpz(join(out, 'codes.npz'));
    assert.deepEqual([codes.rows, codes.cols], [report.frames, 512]);
    assert.equal((await readNpy(join(out, 'acts.npy'))).shape[0], report.frames);
    // The top features in features.json are the strongest columns of the codes written.
    const max = new Float32Array(512);
    for (let i = 0; i < codes.dense.length; i++) max[i % 512] = Math.max(max[i % 512]!, codes.dense[i]!);
    const strongest = [...max.keys()].sort((a, b) => max[b]! - max[a]! || a - b).slice(0, 5);
    assert.deepEqual(report.topFeatures.map((t: { id: number }) => t.id), strongest);
  });

  it('features --backbone hubert-base: downloads weights (falling back to pytorch_model.bin) and the SAE from the Hub, then works offline', async () => {
    const hubert = fixture('hubert', 'large-like');
    const sae = new URL('../../media/demo/models/hubert-tiny-random/sae/layer_2/', import.meta.url).pathname;
    const hub = await startFakeHub({
      'facebook/hubert-base-ls960': { 'config.json': join(hubert, 'config.json'), 'pytorch_model.bin': join(hubert, 'pytorch_model.bin') },
      'Egorgij21/Audio-SAE-HuBERT-base': { 'layer_2/ae.pt': join(sae, 'ae.pt'), 'layer_2/config.json': join(sae, 'config.json') },
    });
    const cache = join(caches, 'hf-fake');
    try {
      const out = join(tmp, 'from-hub');
      const r = await audiosaeAsync({ HF_ENDPOINT: hub.url, HF_HUB_CACHE: cache }, 'features', fixture('audio', 'speech.wav'), '--backbone', 'hubert-base', '--layer', '2', '--out', out);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(hub.requests.some((q) => q.includes('model.safetensors')), 'tried safetensors first');
      assert.ok(existsSync(join(cache, 'models--facebook--hubert-base-ls960', 'refs', 'main')));
      const report = JSON.parse(readFileSync(join(out, 'features.json'), 'utf8'));
      assert.equal(report.backbone, 'hubert-base');
      assert.equal(report.dModel, 64);
      // Offline, from the cache alone.
      const again = await audiosaeAsync({ HF_ENDPOINT: hub.url, HF_HUB_CACHE: cache, HF_HUB_OFFLINE: '1' }, 'features', fixture('audio', 'speech.wav'), '--backbone', 'hubert-base', '--layer', '2', '--out', join(tmp, 'from-cache'));
      assert.equal(again.code, 0, again.stderr);
    } finally {
      await hub.close();
    }
  });

  it('demo: runs offline and writes the HTML report and summary', () => {
    const out = join(tmp, 'demo');
    const r = audiosae('demo', '--out', out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /strongest features/);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.match(html, /data:image\/png;base64,/);
    assert.match(html, /RANDOM/);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    assert.equal(summary.topFeatures.length, 8);
    assert.equal(summary.metrics.l0.value, 8); // batch top-k keeps exactly k per frame on average
  });
});
