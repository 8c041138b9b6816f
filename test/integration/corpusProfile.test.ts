/**
 * `audiosae corpus profile` on a feature built to fire on high-pitched tones: the design corpus
 * (test/reference/make_design_corpus.py) run through the toy backbone with the SAE of
 * test/reference/make_profile_sae.py, whose feature 0 fires on the frames of the sox sine scale C5..B5
 * (523-988 Hz, seven notes of 0.3 s) and nowhere else. Its profile must say so: every frame voiced, the median
 * F0 the scale's middle note (F5, 698 Hz) and the mean F0 the notes' mean, far above the corpus's; tonal (flatness
 * far below the corpus's), louder than the corpus's average frame; all in music; the frames the ones numpy found.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fixture } from '../helpers/compare.ts';

const cli = new URL('../../dist/cli.cjs', import.meta.url).pathname;
const corpus = fixture('design-corpus');
const saeDir = fixture('profile-sae');
const expected = JSON.parse(readFileSync(join(saeDir, 'expected.json'), 'utf8')) as { layer: number; feature: number; notes_hz: number[]; active_frames: number[] };
const tmp = mkdtempSync(join(tmpdir(), 'audiosae-profile-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const env = { ...process.env, AUDIOSAE_EXECUTION_PROVIDER: 'cpu', AUDIOSAE_CACHE: join(tmp, 'cache') };
const store = join(tmp, 'profile.duckdb');

function audiosae(...args: string[]) {
  const started = performance.now();
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, seconds: (performance.now() - started) / 1000 };
}

before(() => {
  const r = audiosae('corpus', 'run', corpus, '--backbone', 'whisper-tiny-random', '--layers', String(expected.layer), '--sae', saeDir, '--store', store);
  assert.equal(r.code, 0, r.stderr);
});

describe('corpus profile', () => {
  it('a feature built to fire on high-pitched tones is profiled as high, voiced, tonal, in music', () => {
    const r = audiosae('corpus', 'profile', '--store', store, '--feature', String(expected.feature), '--format', 'json');
    assert.equal(r.code, 0, r.stderr);
    console.log(`corpus profile (1 clip's codes, 18 clips' descriptors): ${r.seconds.toFixed(1)} s`);
    const out = JSON.parse(r.stdout) as { description: string; rows: { quantity: string; feature: number; corpus: number | null }[] };
    const q = (name: string) => {
      const row = out.rows.find((x) => x.quantity === name);
      assert.ok(row, `row ${name}`);
      return row;
    };
    console.log(`profile: ${out.description}`);
    assert.equal(q('frames').feature, expected.active_frames.length, 'the frames numpy found');
    assert.equal(q('voiced_rate').feature, 1, 'every frame voiced');
    assert.ok(q('voiced_rate').corpus! < 0.6);
    const notes = expected.notes_hz;
    const middle = [...notes].sort((a, b) => a - b)[(notes.length - 1) / 2]!;
    const mean = notes.reduce((a, b) => a + b, 0) / notes.length;
    assert.ok(Math.abs(q('f0_median').feature - middle) / middle < 0.01, `median F0 ${q('f0_median').feature} vs the middle note ${middle}`);
    assert.ok(Math.abs(q('f0_mean').feature - mean) / mean < 0.02, `mean F0 ${q('f0_mean').feature} vs the notes' mean ${mean}`);
    assert.ok(q('f0_median').corpus! < 400, 'the corpus is lower');
    assert.ok(q('spectral_flatness').feature < 0.1 * q('spectral_flatness').corpus!, 'tonal');
    assert.ok(q('loudness').feature > q('loudness').corpus!, 'louder than the corpus frame');
    assert.equal(q('domain_music').feature, 1);
    assert.match(out.description, /^feature 0 fires on .*\btonal\b.*\bvoiced\b.* around 69\d Hz; 100% in music$/);
  });

  it('CSV by default, the description on stderr; a dead feature has no profile', () => {
    let r = audiosae('corpus', 'profile', '--store', store, '--feature', '0');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split('\n')[0], 'quantity,unit,feature,corpus');
    assert.match(r.stderr, /description: feature 0 fires on/);
    r = audiosae('corpus', 'profile', '--store', store, '--feature', '1');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /feature 1 never fires in run/);
  });
});
