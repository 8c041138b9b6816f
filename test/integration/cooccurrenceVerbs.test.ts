/**
 * `corpus duplicates`, `corpus coverage` and `corpus label-search` end to end on the design corpus
 * (fixtures/design-corpus: 18 clips, whisper-tiny-random), whose per-clip answers are known (expected.json):
 * - a planted duplicate: run A uses the layer-1 SAE with feature 8 a copy of feature 0
 *   (fixtures/cooccurrence/sae, make_cooccurrence.py), so duplicates must find (0, 8) at IoU 1 over exactly
 *   feature 0's active frames; run B uses the original SAE, so coverage between them is 100% both ways;
 * - a planted labelled feature: feature 2 fires in every sounds clip and nowhere else; a manifest column
 *   `noise=1` on the sounds clips must find it first at F1 1 (clip level), and Audacity label files marking the
 *   sounds clips whole must find it first with TP = its active frames there, FP = 0 (frame level).
 * The numbers of the verbs against numpy are in test/unit/interp/cooccurrence.test.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fixture } from '../helpers/compare.ts';

interface Expected {
  clips: { path: string; domain: string; frames: number }[];
  per_layer: Record<string, { features: { feature: number; clips: Record<string, { active_frames: number }> }[] }>;
}

const cli = new URL('../../dist/cli.cjs', import.meta.url).pathname;
const designDir = fixture('design-corpus');
const expected = JSON.parse(readFileSync(join(designDir, 'expected.json'), 'utf8')) as Expected;
const tmp = mkdtempSync(join(tmpdir(), 'audiosae-cooc-verbs-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const env = { ...process.env, AUDIOSAE_EXECUTION_PROVIDER: 'cpu', AUDIOSAE_CACHE: join(tmp, 'cache') };
const store = join(tmp, 's.duckdb');
const corpus = join(tmp, 'corpus');
const runIds: Record<'planted' | 'original', string> = { planted: '', original: '' };

function audiosae(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function json(...args: string[]): { rows: Record<string, number | string>[]; summary: Record<string, unknown> | Record<string, unknown>[] } {
  const r = audiosae(...args, '--store', store, '--format', 'json');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const activeFrames = (feature: number, domain?: string) => Object.entries(expected.per_layer['1']!.features[feature]!.clips)
  .filter(([path]) => domain === undefined || path.startsWith(`${domain}/`)).reduce((n, [, c]) => n + c.active_frames, 0);

before(() => {
  for (const domain of ['speech', 'sounds', 'music']) cpSync(join(designDir, domain), join(corpus, domain), { recursive: true });
  const manifest = ['path,domain,noise', ...expected.clips.map((c) => `${c.path},${c.domain},${c.domain === 'sounds' ? 1 : 0}`)];
  writeFileSync(join(corpus, 'manifest.csv'), manifest.join('\n') + '\n');
  for (const c of expected.clips) {
    const labels = c.domain === 'sounds' ? `0\t${c.frames / 50}\tnoise\n` : '';
    writeFileSync(join(corpus, c.path.replace(/\.wav$/, '.txt')), labels);
  }
  for (const [name, sae] of [['planted', fixture('cooccurrence', 'sae')], ['original', join(designDir, 'sae')]] as const) {
    const r = audiosae('corpus', 'run', join(corpus, 'manifest.csv'), '--backbone', 'whisper-tiny-random', '--layers', '1', '--sae', sae, '--store', store, '--keep-frame-codes');
    assert.equal(r.code, 0, r.stderr);
    runIds[name] = /run ([0-9a-f]{16})/.exec(r.stdout)![1]!;
  }
});

describe('duplicates, coverage and label search on the design corpus', () => {
  it('duplicates: the planted copy of feature 0 at IoU 1', () => {
    const out = json('corpus', 'duplicates', '--run', runIds.planted);
    const pair = out.rows.find((p) => p.feature_a === 0 && p.feature_b === 8);
    const n = activeFrames(0);
    assert.deepEqual(pair, { layer: 1, feature_a: 0, feature_b: 8, iou: 1, intersect: n, union: n });
    const [summary] = out.summary as { layer: number; alive: number; duplicated: number; pairs: number }[];
    assert.equal(summary!.alive, 8, 'features 0-6 and the copy fire; 7 is dead');
    assert.equal(summary!.pairs, out.rows.length);
    assert.ok(summary!.duplicated >= 2);
  });

  it('coverage: the planted SAE against the original, 100% both ways, the copy matched to feature 0', () => {
    const out = json('corpus', 'coverage', '--run', runIds.planted, '--to-run', runIds.original);
    const [summary] = out.summary as Record<string, number>[];
    assert.deepEqual([summary!.clips, summary!.aliveA, summary!.coveredA, summary!.coverageAbPct, summary!.aliveB, summary!.coveredB, summary!.coverageBaPct],
      [18, 8, 8, 100, 7, 7, 100]);
    const identical = out.rows.filter((p) => p.iou === 1).map((p) => [p.feature_a, p.feature_b]);
    assert.deepEqual(identical, [[0, 0], [1, 1], [2, 2], [3, 3], [4, 4], [5, 5], [6, 6], [8, 0]]);
  });

  it('label search: a manifest column finds the sounds feature at F1 1', () => {
    const out = json('corpus', 'label-search', '--run', runIds.planted, '--label', 'noise=1');
    assert.deepEqual(out.rows[0], { feature: 2, f1: 1, threshold: out.rows[0]!.threshold, precision: 1, recall: 1, tp: 6, fp: 0, fn: 0 });
    assert.ok(out.rows.every((r) => (r.f1 as number) > 0.5));
    assert.deepEqual(out.summary, { ...(out.summary as object), source: 'metadata', level: 'clip', clips: 18, positives: 6 });
  });

  it('label search: Audacity intervals find it frame by frame (TP = its active frames, no FP)', () => {
    const out = json('corpus', 'label-search', '--run', runIds.planted, '--label', 'noise');
    const positives = expected.clips.filter((c) => c.domain === 'sounds').reduce((n, c) => n + c.frames, 0);
    const tp = activeFrames(2, 'sounds');
    assert.deepEqual(out.summary, { ...(out.summary as object), source: 'intervals', level: 'frame', positives });
    const top = out.rows[0]!;
    assert.deepEqual([top.feature, top.tp, top.fp, top.fn], [2, tp, 0, positives - tp]);
    assert.ok(Math.abs((top.f1 as number) - (2 * tp) / (2 * tp + positives - tp)) < 1e-12);
  });

  it('a clear error for a label nobody has, and for a run without frame codes', () => {
    const missing = audiosae('corpus', 'label-search', '--store', store, '--run', runIds.planted, '--label', 'laughter=1');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no clip has a manifest column "laughter"; the columns are noise/);
    const one = join(tmp, 'one');
    cpSync(join(corpus, 'speech', 's1_en-us.wav'), join(one, 'speech', 'a.wav'));
    const r = audiosae('corpus', 'run', one, '--backbone', 'whisper-tiny-random', '--layers', '1', '--sae', join(designDir, 'sae'), '--store', store);
    assert.equal(r.code, 0, r.stderr);
    const plain = /run ([0-9a-f]{16})/.exec(r.stdout)![1]!;
    const dup = audiosae('corpus', 'duplicates', '--store', store, '--run', plain);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /did not keep per-frame codes.*--keep-frame-codes/);
  });
});
