/**
 * The corpus analysis verbs on a real store (a small corpus run through the toy backbone): every verb answers in
 * CSV, JSON and Parquet, defaults its run and layer where the store allows and asks where it does not, and its
 * numbers hang together (top clips in descending order, one label per feature and combination, the CLI's
 * metrics equal the engine's over the same store). The numbers themselves are checked against numpy in
 * test/unit/store/ and end to end on a corpus of known answer in designCorpus.test.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fixture } from '../helpers/compare.ts';

const cli = new URL('../../dist/cli.cjs', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'audiosae-verbs-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const env = { ...process.env, AUDIOSAE_EXECUTION_PROVIDER: 'cpu', AUDIOSAE_CACHE: join(tmp, 'cache') };
const store = join(tmp, 'c.duckdb');

function audiosae(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(() => {
  const corpus = join(tmp, 'corpus');
  for (const [domain, src] of [['speech', fixture('audio', 'speech.wav')], ['music', fixture('audio', 'codecs', 'tone.flac')], ['sounds', fixture('audio', 'codecs', 'tone.ogg')], ['music', fixture('audio', 'codecs', 'tone.mp3')]] as const) {
    mkdirSync(join(corpus, domain), { recursive: true });
    copyFileSync(src, join(corpus, domain, src.split('/').pop()!));
  }
  const r = audiosae('corpus', 'run', corpus, '--backbone', 'whisper-tiny-random', '--layers', '1,3', '--store', store);
  assert.equal(r.code, 0, r.stderr);
});

const csv = (text: string) => text.trim().split('\n').map((l) => l.split(','));

describe('corpus analysis verbs', () => {
  it('a run of two layers needs --layer, and says which exist', () => {
    const r = audiosae('corpus', 'metrics', '--store', store);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /has layers 1, 3\. Name one with --layer/);
  });

  it('metrics: the corpus row and one per domain, formulas alongside', () => {
    const r = audiosae('corpus', 'metrics', '--store', store, '--layer', '3', '--format', 'json');
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.rows.map((x: { group: string }) => x.group), ['all', 'music', 'sounds', 'speech']);
    assert.match(out.formulas.fve, /FVE = 1 − Σ_d Var/);
    const all = out.rows[0];
    assert.equal(all.frames, out.rows.slice(1).reduce((a: number, x: { frames: number }) => a + x.frames, 0), 'domains partition the frames');
    assert.ok(Math.abs(all.l0 - 8) < 1e-9, 'batch top-k: exactly k per frame on average');
  });

  it('top-clips: descending by max, with the time of the max', () => {
    const stats = csv(audiosae('corpus', 'max-acts', '--store', store, '--layer', '1').stdout);
    const feature = stats[1]![1]!;
    const r = audiosae('corpus', 'top-clips', '--store', store, '--layer', '1', '--feature', feature, '--n', '4');
    assert.equal(r.code, 0, r.stderr);
    const rows = csv(r.stdout);
    assert.deepEqual(rows[0], ['rank', 'clip', 'domain', 'dataset', 'max', 'time_s']);
    const maxes = rows.slice(1).map((x) => Number(x[4]));
    assert.ok(maxes.length >= 1);
    assert.deepEqual(maxes, [...maxes].sort((a, b) => b - a));
  });

  it('classify: one label per feature and combination, at both levels', () => {
    for (const level of ['frame', 'audio']) {
      const r = audiosae('corpus', 'classify', '--store', store, '--layer', '3', '--level', level, '--format', 'json');
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.equal(out.rows.length, 512 * 4, 'F features × 4 combinations');
      for (const c of out.summary.combinations) assert.equal(Object.values(c.counts as Record<string, number>).reduce((a, b) => a + b, 0), 512);
    }
  });

  it('classify: missing domains are named, and --domains maps them', () => {
    const r = audiosae('corpus', 'classify', '--store', store, '--layer', '3', '--domains', 'speech=podcasts');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /podcasts/);
  });

  it('stats, dead, layers (with its chart) and Parquet output', () => {
    assert.equal(audiosae('corpus', 'stats', '--store', store, '--layer', '1', '--by', 'dataset', '--format', 'parquet', '--out', join(tmp, 's.parquet')).code, 0);
    assert.equal(readFileSync(join(tmp, 's.parquet')).subarray(0, 4).toString(), 'PAR1');
    const dead = audiosae('corpus', 'dead', '--store', store, '--layer', '1');
    assert.equal(dead.code, 0, dead.stderr);
    assert.match(dead.stderr, /dead: \[\{"group":"all","count":\d+/);
    const layers = audiosae('corpus', 'layers', '--store', store, '--plot', join(tmp, 'fig.svg'));
    assert.equal(layers.code, 0, layers.stderr);
    assert.equal(csv(layers.stdout).length, 3, 'header + layers 1 and 3');
    assert.match(readFileSync(join(tmp, 'fig.svg'), 'utf8'), /<svg[^>]*>.*layer 3: /s);
    const png = audiosae('corpus', 'layers', '--store', store, '--plot', join(tmp, 'fig.png'));
    assert.equal(png.code, 0, png.stderr);
    const bytes = readFileSync(join(tmp, 'fig.png'));
    assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG signature');
    assert.equal(bytes.readUInt32BE(16), 1440, 'width: 720 px at 2× scale');
    const bad = audiosae('corpus', 'layers', '--store', store, '--plot', join(tmp, 'fig.jpg'));
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /fig\.jpg.*\.svg or \.png/s);
  });

  it('a store with two runs needs --run, and lists them', () => {
    const corpus = join(tmp, 'corpus');
    assert.equal(audiosae('corpus', 'run', corpus, '--backbone', 'whisper-tiny-random', '--layers', '2', '--store', store).code, 0);
    const r = audiosae('corpus', 'metrics', '--store', store);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /holds 2 runs: .*layers 1,3.*; .*layers 2.* Name one with --run/);
  });
});
