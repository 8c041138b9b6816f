/**
 * `audiosae corpus tsne` end to end (the bundled CLI and its map worker) on the corpus of known answer
 * (test/reference/make_design_corpus.py; its hand-built SAE's labels were checked with numpy): the map holds
 * exactly the features labelled in some combination, each with the label of the first combination that assigns
 * it one, plus the alive unlabelled one with --all-features; the same seed gives the same map; UMAP, JSON and
 * the figure work; an SAE other than the run's is refused by its sha256.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fixture } from '../helpers/compare.ts';

const cli = new URL('../../dist/cli.cjs', import.meta.url).pathname;
const saeDir = fixture('design-corpus', 'sae');
const tmp = mkdtempSync(join(tmpdir(), 'audiosae-tsne-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const env = { ...process.env, AUDIOSAE_EXECUTION_PROVIDER: 'cpu', AUDIOSAE_CACHE: join(tmp, 'cache') };
const store = join(tmp, 'design.duckdb');

function tsne(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, 'corpus', 'tsne', '--store', store, ...args], { encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const parse = (csv: string) => csv.trim().split('\n').slice(1).map((l) => l.split(',')).map(([feature, x, y, label, grade]) => ({ feature: Number(feature), x: Number(x), y: Number(y), label, grade }));

before(() => {
  const r = spawnSync(process.execPath, [cli, 'corpus', 'run', fixture('design-corpus'), '--backbone', 'whisper-tiny-random', '--layers', '1', '--sae', saeDir, '--store', store], { encoding: 'utf8', env });
  assert.equal(r.status, 0, r.stderr);
});

describe('corpus tsne', () => {
  it('maps the labelled features with their labels; --all-features adds the alive unlabelled one', () => {
    const r = tsne('--perplexity', '2', '--plot', join(tmp, 'map.png'));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([...readFileSync(join(tmp, 'map.png')).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'a PNG signature');
    assert.equal(r.stdout.split('\n')[0], 'feature,x,y,label,grade');
    const rows = parse(r.stdout);
    // expected.json (frame level): 0 speech, 1 music, 2 sounds in [speech, sounds, music]; 3 speech in
    // [speech, sounds]; 4 speech in [speech, music]; 5 sounds in [speech, sounds]; 6 fires everywhere
    // (never assigned); 7 never fires.
    assert.deepEqual(rows.map((p) => [p.feature, p.label, p.grade]), [[0, 'speech', '0'], [1, 'music', '0'], [2, 'sounds', '0'], [3, 'speech', '0'], [4, 'speech', '0'], [5, 'sounds', '0']]);
    assert.ok(rows.every((p) => Number.isFinite(p.x) && Number.isFinite(p.y)));
    assert.match(r.stderr, /t-SNE of 6 features \(d = \d+\)/);
    const all = tsne('--perplexity', '2', '--all-features');
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(parse(all.stdout).map((p) => [p.feature, p.label]), [[0, 'speech'], [1, 'music'], [2, 'sounds'], [3, 'speech'], [4, 'speech'], [5, 'sounds'], [6, 'unassigned']]);
  });

  it('the same seed gives the same map, another seed another', () => {
    const a = tsne('--perplexity', '2', '--seed', '7');
    const b = tsne('--perplexity', '2', '--seed', '7');
    const c = tsne('--perplexity', '2', '--seed', '8');
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stdout, b.stdout);
    assert.notEqual(a.stdout, c.stdout);
  });

  it('UMAP as JSON, with the figure as SVG', () => {
    const r = tsne('--method', 'umap', '--format', 'json', '--plot', join(tmp, 'map.svg'));
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { method: string; rows: { feature: number; x: number }[] };
    assert.equal(out.method, 'umap');
    assert.equal(out.rows.length, 6);
    const svg = readFileSync(join(tmp, 'map.svg'), 'utf8');
    assert.equal((svg.match(/<circle [^>]*><title>feature/g) ?? []).length, 6);
    assert.match(svg, /fill="#d62728"[^>]*><title>feature 0: speech/, 'speech red at grade 0');
  });

  it('refuses an SAE whose sha256 is not the run\'s, and a figure that is neither .png nor .svg', () => {
    const r = tsne('--sae', join(saeDir, 'layer_2', 'ae.pt'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /layer_2.*is not the SAE run \w+ used for layer 1: its sha256/s);
    const fig = tsne('--plot', join(tmp, 'map.jpg'));
    assert.equal(fig.code, 1);
    assert.match(fig.stderr, /map\.jpg.*\.svg or \.png/s);
  });
});
