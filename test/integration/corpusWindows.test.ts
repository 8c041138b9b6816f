/**
 * `audiosae corpus windows` on a real store: the design corpus (test/reference/make_design_corpus.py) run through
 * the toy backbone and its hand-built SAE at layer 2, where feature 2 fires in exactly the six sounds clips.
 * - `--above 0` takes a window at every frame where the codes, computed again with the run's models, are
 *   non-zero: exactly the store's active frames, per clip; the mean is the nanmean of the individual windows
 *   and the coverage their count of covered columns;
 * - the default takes one window per top clip at the stored arg-max, and `--audio` writes each window's 16 kHz
 *   audio (its covered columns × 160 samples); the figure as SVG, with the centre marked;
 * - HuBERT (Whisper's 80-bin log-mel for display) in batch top-k mode, where the codes of a clip are computed
 *   whole again exactly as the run did: `--above 0` again gives exactly the store's active frames;
 * - bad combinations of options, a feature outside the dictionary and an SAE that is not the run's are errors.
 * The onset/offset shape and the numpy reference of the averaging are in test/unit/interp/receptiveField.test.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { decodeWav } from '../../src/engine/audio/index.ts';
import { readNpy } from '../../src/engine/io/npy.ts';
import { assertClose, fixture } from '../helpers/compare.ts';

const cli = new URL('../../dist/cli.cjs', import.meta.url).pathname;
const corpus = fixture('design-corpus');
const tmp = mkdtempSync(join(tmpdir(), 'audiosae-windows-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const env = { ...process.env, AUDIOSAE_EXECUTION_PROVIDER: 'cpu', AUDIOSAE_CACHE: join(tmp, 'cache') };
const store = join(tmp, 'design.duckdb');
const LAYER = '2';
const SOUNDS = 2;

function audiosae(...args: string[]) {
  const started = performance.now();
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, seconds: (performance.now() - started) / 1000 };
}

async function storeRows(sql: string, path = store): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
  const conn = await instance.connect();
  try {
    return (await conn.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

const csvRows = (path: string) => {
  const [head, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  const keys = head!.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [keys[i]!, v])));
};

before(() => {
  const r = audiosae('corpus', 'run', corpus, '--backbone', 'whisper-tiny-random', '--layers', LAYER, '--sae', join(corpus, 'sae'), '--store', store);
  assert.equal(r.code, 0, r.stderr);
});

describe('corpus windows', () => {
  it('--above 0: a window at every active frame the store counted; mean and coverage of the individual windows', async () => {
    const out = join(tmp, 'above');
    const r = audiosae('corpus', 'windows', '--store', store, '--feature', String(SOUNDS), '--above', '0', '--individual', '--out', out);
    assert.equal(r.code, 0, r.stderr);
    console.log(`corpus windows --above 0 (codes of 6 clips computed again): ${r.seconds.toFixed(1)} s`);
    const active = await storeRows(`SELECT c.path, f.active_frames FROM clip_features f JOIN clips c USING (run_id, clip_id) WHERE f.feature = ${SOUNDS}`);
    const listed = csvRows(join(out, 'windows.csv'));
    const perClip = new Map<string, number>();
    for (const w of listed) perClip.set(w.clip!, (perClip.get(w.clip!) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries([...perClip].sort()), Object.fromEntries(active.map((a) => [a.path as string, Number(a.active_frames)]).sort()), 'windows per clip = the store\'s active frames');
    assert.ok(listed.every((w) => Number(w.activation) > 0), 'only frames where it fires');
    const windows = await readNpy(join(out, 'windows.npy'));
    const mean = await readNpy(join(out, 'mean.npy'));
    const coverage = await readNpy(join(out, 'coverage.npy'));
    assert.deepEqual(windows.shape, [listed.length, 80, 100]);
    assert.deepEqual(mean.shape, [80, 100]);
    assert.deepEqual(coverage.shape, [100]);
    assert.equal((await readNpy(join(out, 'curve.npy'))).shape[0], 100);
    // The mean and coverage again from the individual windows (NaN = column outside the clip).
    const w = windows.data as Float32Array;
    const n = listed.length;
    const sums = new Float64Array(80 * 100);
    const counts = new Int32Array(100);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < 100; k++) {
        if (Number.isNaN(w[i * 8000 + k]!)) continue;
        counts[k]!++;
        for (let m = 0; m < 80; m++) sums[m * 100 + k] += w[i * 8000 + m * 100 + k]!;
      }
    }
    assert.deepEqual(Array.from(coverage.data as Int32Array), Array.from(counts));
    assertClose(mean.data as Float32Array, Float64Array.from(sums, (s, i) => s / counts[i % 100]!), { atol: 1e-5, what: 'mean' });
    assert.ok(Math.min(...counts) > 0 && Math.max(...counts) === n);
  });

  it('default: one window per top clip at the stored arg-max, WAV snippets and an SVG figure', async () => {
    const out = join(tmp, 'argmax');
    const r = audiosae('corpus', 'windows', '--store', store, '--feature', String(SOUNDS), '--audio', '--figure', 'svg', '--out', out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /feature 2: 6 windows from 6 clips, 80 mel bins × 100 frames/);
    const top = await storeRows(`SELECT c.path, f.argmax_frame, f.max_act FROM clip_features f JOIN clips c USING (run_id, clip_id) WHERE f.feature = ${SOUNDS} ORDER BY f.max_act DESC, f.clip_id`);
    const listed = csvRows(join(out, 'windows.csv'));
    assert.deepEqual(listed.map((w) => [w.clip, Number(w.frame)]), top.map((t) => [t.path, Number(t.argmax_frame)]));
    const wavs = readdirSync(out).filter((f) => f.endsWith('.wav')).sort();
    assert.equal(wavs.length, 6);
    wavs.forEach((name, i) => {
      const wav = decodeWav(new Uint8Array(readFileSync(join(out, name))), name);
      assert.equal(wav.sampleRateHz, 16000);
      assert.equal(wav.channels[0]!.length, Number(listed[i]!.covered_columns) * 160, `${name}: covered columns × 160 samples`);
    });
    const svg = readFileSync(join(out, 'receptive_field.svg'), 'utf8');
    assert.match(svg, /stroke-dasharray/, 'the centre marked');
    assert.match(svg, /mean activation/, 'the activation curve');
    assert.ok(!existsSync(join(out, 'windows.npy')), 'no individual windows unless asked');
  });

  it('--no-curve runs no model and writes no curve', () => {
    const out = join(tmp, 'store-only');
    const r = audiosae('corpus', 'windows', '--store', store, '--feature', String(SOUNDS), '--no-curve', '--out', out);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(out, 'receptive_field.png')) && !existsSync(join(out, 'curve.npy')));
    assert.deepEqual([...readFileSync(join(out, 'receptive_field.png')).subarray(1, 4)].map((c) => String.fromCharCode(c)).join(''), 'PNG');
  });

  it('HuBERT in batch top-k mode (the bundled toy SAE stores no threshold): codes computed again give the store\'s active frames', async () => {
    const sounds = join(tmp, 'hubert-corpus', 'sounds');
    mkdirSync(sounds, { recursive: true });
    for (const f of readdirSync(join(corpus, 'sounds'))) copyFileSync(join(corpus, 'sounds', f), join(sounds, f));
    const hubertStore = join(tmp, 'hubert.duckdb');
    let r = audiosae('corpus', 'run', join(tmp, 'hubert-corpus'), '--backbone', 'hubert-tiny-random', '--layers', '2', '--store', hubertStore);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /batch-topk/);
    const [busiest] = await storeRows(`SELECT feature, sum(active_frames)::INTEGER AS active FROM clip_features GROUP BY feature ORDER BY count(*) DESC, active DESC, feature LIMIT 1`, hubertStore);
    r = audiosae('corpus', 'windows', '--store', hubertStore, '--feature', String(busiest!.feature), '--above', '0', '--out', join(tmp, 'hubert-windows'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`: ${busiest!.active} windows from \\d+ clips, 80 mel bins`), 'Whisper\'s 80-bin log-mel for HuBERT; every active frame');
    assert.doesNotMatch(r.stderr, /differ from the store/);
  });

  it('errors: options that do not go together, a feature outside the dictionary, an SAE that is not the run\'s', () => {
    const base = ['corpus', 'windows', '--store', store, '--out', join(tmp, 'bad')];
    let r = audiosae(...base, '--feature', '2', '--above', '0.1', '--no-curve');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--above needs the codes/);
    r = audiosae(...base, '--feature', '2', '--once-per-clip');
    assert.match(r.stderr, /--once-per-clip goes with --above/);
    r = audiosae(...base, '--feature', '99');
    assert.match(r.stderr, /has features 0\.\.7; 99 is not one of them/);
    r = audiosae(...base, '--feature', '2', '--sae', new URL('../../media/demo/models/whisper-tiny-random/sae', import.meta.url).pathname);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /is not the SAE run .* used for layer 2/);
    assert.ok(!existsSync(join(tmp, 'bad')), 'nothing written');
  });
});
