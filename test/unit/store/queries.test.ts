/**
 * The corpus analyses against the numpy reference (test/reference/make_corpus_stats.py: computed from the
 * per-frame data, exact fractions for the classification): counts and frequencies exactly, means within 1e-6
 * (the worst deviation is reported), plus a failed clip, two layers, two runs and missing domains.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { classifyFeatures, COMBINATIONS } from '../../../src/engine/interp/classify.ts';
import { MetricsAccumulator, type Metrics } from '../../../src/engine/sae/metrics.ts';
import {
  classifyLayer, clusterClipFeatures, corpusMetrics, deadFeatures, featureStats, layerSummary, listRuns, maxActs, metricsFromSums, resolveRun, streamMaxActs,
  topClips, type FeatureStatsRow, type StatsGrouping,
} from '../../../src/engine/store/queries.ts';
import { asRun, corpusFixture, fixtureStore, insertTables, loadTables, type OpenStore } from './fixtureStore.ts';

type Json = Record<string, unknown>;
const RUN = 'fx01';
const LAYERS = [3, 6];
const TOL = 1e-6;
const tables = loadTables();
const ref = {
  metrics: corpusFixture('metrics.json') as Record<string, { corpus: Json; byDomain: Record<string, Json> }>,
  dead: corpusFixture('dead.json') as Record<string, { corpus: number[]; byDomain: Record<string, number[]> }>,
  maxActs: corpusFixture('max_acts.json') as Record<string, Json[]>,
  topClips: corpusFixture('top_clips.json') as Record<string, Record<string, Json[]>>,
  stats: corpusFixture('stats.json') as Record<string, Record<StatsGrouping, Json[]>>,
  classify: corpusFixture('classify.json') as Record<string, Record<string, Record<string, { by: StatsGrouping; mapping: Record<string, string[]>; rows: Json[]; summary: Json }>>>,
  layers: corpusFixture('layers.json') as Record<string, Json[]>,
};

/** Worst |ours − reference| of every mean compared, for the report. */
const worst = { diff: 0, what: 'none' };
function close(actual: number | null, expected: unknown, what: string): void {
  if (expected === null) {
    assert.equal(actual, null, `${what}: ${actual} vs expected null`);
    return;
  }
  assert.equal(typeof actual, 'number', `${what}: ${actual} vs expected ${expected}`);
  const diff = Math.abs((actual as number) - (expected as number));
  assert.ok(diff <= TOL, `${what}: ${actual} vs expected ${expected} (|diff| ${diff.toExponential(2)} > ${TOL})`);
  if (diff > worst.diff) Object.assign(worst, { diff, what });
}

const METRIC_MEANS = ['l0', 'mse', 'l2', 'normalizedL2', 'nmse', 'fve', 'cosine', 'normRatio'] as const;
const METRIC_COUNTS = ['clips', 'frames', 'zeroNormFrames', 'aliveFeatures', 'dictSize', 'aliveFraction'] as const;

function compareMetrics(actual: Metrics & { clips?: number }, expected: Json, what: string): void {
  for (const k of METRIC_COUNTS) if (k in actual) assert.equal(actual[k as keyof typeof actual], expected[k], `${what}.${k}`);
  for (const k of METRIC_MEANS) close(actual[k], expected[k], `${what}.${k}`);
}

/** Every query against the reference; `some` checks the per-feature queries for a few features only. */
async function checkAgainstReference(s: OpenStore, label: string, some = false): Promise<void> {
  for (const layer of LAYERS) {
    const L = String(layer);
    const m = await corpusMetrics(s.conn, RUN, layer, { byDomain: true });
    const domains = Object.keys(ref.metrics[L]!.byDomain).sort();
    assert.deepEqual(m.map((r) => r.domain), [null, ...domains], `${label} metrics groups`);
    compareMetrics(m[0]!, ref.metrics[L]!.corpus, `${label} L${L} corpus`);
    for (const r of m.slice(1)) compareMetrics(r, ref.metrics[L]!.byDomain[r.domain!]!, `${label} L${L} ${r.domain}`);

    const dead = await deadFeatures(s.conn, RUN, layer, { byDomain: true });
    assert.deepEqual(dead[0]!.features, ref.dead[L]!.corpus, `${label} dead L${L}`);
    assert.equal(dead[0]!.fraction, ref.dead[L]!.corpus.length / 40);
    assert.deepEqual(Object.fromEntries(dead.slice(1).map((d) => [d.domain, d.features])), ref.dead[L]!.byDomain, `${label} dead per domain L${L}`);

    assert.deepEqual(await maxActs(s.conn, RUN, layer), ref.maxActs[L], `${label} max acts L${L}`);

    for (const j of some ? [2, 10, 20, 37] : Array.from({ length: 40 }, (_, j) => j)) {
      const expected = ref.topClips[L]![String(j)]!;
      assert.deepEqual(await topClips(s.conn, RUN, layer, j, 5), expected.slice(0, 5), `${label} top clips L${L} feature ${j}`);
      if (j % 7 === 2) assert.deepEqual(await topClips(s.conn, RUN, layer, j, 1000), expected, `${label} full ranking L${L} feature ${j}`);
    }

    for (const by of ['domain', 'dataset'] as const) {
      const stats = await featureStats(s.conn, RUN, layer, { by });
      compareStats(stats, ref.stats[L]![by]!, `${label} stats L${L} by ${by}`);
      const one = await featureStats(s.conn, RUN, layer, { by, feature: 10 });
      compareStats(one, ref.stats[L]![by]!.filter((r) => r.feature === 10), `${label} stats L${L} by ${by} feature 10`);
    }
  }
}

function compareStats(actual: FeatureStatsRow[], expected: Json[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: ${actual.length} rows vs ${expected.length}`);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    const w = `${what} [feature ${e.feature}, ${e.group}]`;
    for (const k of ['feature', 'group', 'frames', 'activeFrames', 'frameFreq', 'clips', 'activeClips', 'audioFreq'] as const) assert.equal(a[k], e[k], `${w}.${k}`);
    close(a.meanActFrame, e.meanActFrame, `${w}.meanActFrame`);
    close(a.meanActAudio, e.meanActAudio, `${w}.meanActAudio`);
  });
}

describe('corpus queries against the numpy reference', () => {
  let s: OpenStore;
  before(async () => { s = await fixtureStore(); });
  after(() => s.close());

  it('metrics, dead features, max acts, top clips and statistics match', async () => {
    await checkAgainstReference(s, 'as written');
  });

  it('classification (frame and audio, three domain mappings) matches the exact-fraction reference', async () => {
    let cases = 0;
    for (const layer of LAYERS) {
      for (const level of ['frame', 'audio'] as const) {
        for (const [name, c] of Object.entries(ref.classify[String(layer)]![level]!)) {
          const stats = await featureStats(s.conn, RUN, layer, { by: c.by });
          const got = classifyFeatures(stats, { level, domains: new Map(Object.entries(c.mapping)) });
          assert.deepEqual(got.rows, c.rows, `L${layer} ${level} ${name} rows`);
          const { mapping: _m, ...summary } = got.summary;
          assert.deepEqual(summary, c.summary, `L${layer} ${level} ${name} summary`);
          assert.deepEqual(got.summary.mapping, c.mapping);
          cases++;
        }
      }
    }
    assert.equal(cases, 12);
  });

  it('classifies the designed features as appendix C says (ties at the argmax, differences exactly at τ)', async () => {
    const byFeature = async (level: 'frame' | 'audio') => {
      const c = await classifyLayer(s.conn, RUN, 3, { level });
      return (j: number, combo = 'speech+sounds+music') => {
        const r = c.rows.find((x) => x.feature === j && x.combination === combo)!;
        return `${r.label}${r.grade ?? ''}`;
      };
    };
    const f = await byFeature('frame');
    assert.equal(f(3), 'speech0', '0.3 − 0.1 = 0.2 holds (float says 0.19999999999999998)');
    assert.equal(f(4), 'sounds1', '0.25 − 0.15 = 0.1');
    assert.equal(f(5), 'music2', '0.12 − 0.08 = 0.04');
    assert.equal(f(6), 'unassigned', '0.115 − 0.08 < 0.04');
    assert.equal(f(7), 'unassigned', 'tie at the argmax');
    assert.equal(f(7, 'speech+music'), 'speech0');
    assert.equal(f(2, 'sounds+music'), 'dead', 'speech only: dead where speech is not looked at');
    assert.equal(f(0), 'dead');
    const a = await byFeature('audio');
    assert.equal(a(13), 'sounds1', '0.7 − 0.4 = 0.3 holds (float says 0.29999999999999993)');
    assert.equal(a(16), 'speech0', '0.6 − 0.1 = 0.5 holds (float says 0.49999999999999994)');
    assert.equal(a(14), 'unassigned', '0.5 − 0.3 < 0.3');
    assert.equal(a(4), 'unassigned', 'tie at the argmax');
  });

  it('layer summary (Figure 2) for both layers matches', async () => {
    for (const level of ['frame', 'audio'] as const) {
      assert.deepEqual(await layerSummary(s.conn, RUN, { level }), ref.layers[level], level);
    }
  });

  it('a failed clip is excluded everywhere, its rows left in the tables on purpose', async () => {
    const failed = tables.clips.find((c) => c.status === 'failed')!.clip_id as number;
    const rowsOfFailed = tables.clip_features.filter((r) => r.clip_id === failed).length;
    assert.ok(rowsOfFailed > 0, 'the fixture keeps rows of the failed clip');
    for (const layer of LAYERS) {
      assert.ok(!(await maxActs(s.conn, RUN, layer)).some((r) => r.clipId === failed));
      assert.deepEqual(await topClips(s.conn, RUN, layer, 20, 10), [], 'feature 20 fires only in the failed clip');
      assert.ok((await deadFeatures(s.conn, RUN, layer))[0]!.features.includes(20));
      assert.equal((await corpusMetrics(s.conn, RUN, layer))[0]!.clips, tables.clips.length - 1);
    }
    const runs = await listRuns(s.conn);
    assert.equal(runs.length, 1);
    assert.equal(runs[0]!.clipsDone, tables.clips.length - 1);
    assert.equal(runs[0]!.clipsFailed, 1);
  });

  it('corpus metrics equal MetricsAccumulator over the same frames (consistency with src/engine/sae/metrics.ts)', async () => {
    const frames = corpusFixture('frames.json') as Record<string, { status: string; domain: string; x: number[]; x_hat: number[]; row_ptr: number[]; indices: number[]; values: number[] }[]>;
    for (const layer of LAYERS) {
      const acc = new MetricsAccumulator(4, 40);
      for (const c of frames[String(layer)]!.filter((c) => c.status === 'done')) {
        acc.add(new Float32Array(c.x), new Float32Array(c.x_hat), { rowPtr: new Int32Array(c.row_ptr), indices: new Int32Array(c.indices), values: new Float32Array(c.values) });
      }
      const fromFrames = acc.finish();
      assert.deepEqual(metricsFromSums({ ...acc.sums(), aliveFeatures: fromFrames.aliveFeatures }, 40), fromFrames, 'metricsFromSums(sums()) = finish()');
      const [fromStore] = await corpusMetrics(s.conn, RUN, layer);
      for (const k of [...METRIC_MEANS, 'frames', 'zeroNormFrames', 'aliveFeatures', 'aliveFraction'] as const) {
        assert.ok(Math.abs(fromStore![k] - fromFrames[k]) <= 1e-9, `L${layer} ${k}: store ${fromStore![k]} vs accumulator ${fromFrames[k]}`);
      }
    }
  });

  it('streamMaxActs gives maxActs in batches; one feature / one clip filters', async () => {
    const all = await maxActs(s.conn, RUN, 3);
    const streamed = [];
    for await (const batch of streamMaxActs(s.conn, RUN, 3)) streamed.push(...batch);
    assert.deepEqual(streamed, all);
    assert.deepEqual(await maxActs(s.conn, RUN, 3, { feature: 10 }), all.filter((r) => r.feature === 10));
    assert.deepEqual(await maxActs(s.conn, RUN, 3, { clipId: 4 }), all.filter((r) => r.clipId === 4));
  });

  it('bad arguments are errors that say what exists', async () => {
    await assert.rejects(topClips(s.conn, RUN, 3, 40), /features 0\.\.39; 40 is not one of them/);
    await assert.rejects(topClips(s.conn, RUN, 3, -1), /features 0\.\.39/);
    await assert.rejects(topClips(s.conn, RUN, 3, 2, 0), /positive integer/);
    await assert.rejects(corpusMetrics(s.conn, RUN, 7), /run fx01 has no layer 7; its layers: 3, 6/);
    await assert.rejects(featureStats(s.conn, 'nope', 3), /has no run "nope"; its runs: fx01 \(whisper-tiny-random, layers 3,6/);
    await assert.rejects(featureStats(s.conn, RUN, 3, { by: 'speaker' as StatsGrouping }), /domain or dataset/);
    await assert.rejects(resolveRun(s.conn), /run fx01 has layers 3, 6\. Name one with --layer/);
    assert.equal((await resolveRun(s.conn, undefined, 6)).layer, 6);
    assert.equal((await resolveRun(s.conn, 'fx', 3)).run.runId, RUN, 'a unique prefix names the run');
    const stats = await featureStats(s.conn, RUN, 3);
    assert.throws(() => classifyFeatures(stats, { level: 'frame', taus: [0.1, 0.2] }), /strictest \(largest\) first/);
    assert.throws(() => classifyFeatures(stats, { level: 'frame', taus: [0.2, 0] }), /\(0, 1\]/);
  });

  it('missing speech / sounds / music: a clear error naming the domains present', async () => {
    const byDataset = await featureStats(s.conn, RUN, 3, { by: 'dataset' });
    assert.throws(() => classifyFeatures(byDataset, { level: 'frame' }),
      /classification needs the domains speech, sounds and music; speech, sounds, music are missing\. The corpus has: esd, fsd50k, jamendo, ls\. .*--domains/);
    assert.throws(() => classifyFeatures(byDataset, { level: 'frame', domains: new Map([['speech', ['ls', 'esd']], ['sounds', ['fsd50k']]]) }),
      /music is missing\. The corpus has: esd, fsd50k, jamendo, ls/);
    assert.throws(() => classifyFeatures(byDataset, { level: 'frame', domains: new Map([['speech', ['ls', 'librispeech']]]) }),
      /mapping for speech names "librispeech", which the corpus does not have; it has: esd, fsd50k, jamendo, ls/);
    assert.throws(() => classifyFeatures(byDataset, { level: 'frame', domains: new Map([['speech', ['ls']], ['sounds', ['ls']], ['music', ['jamendo']]]) }),
      /"ls" is mapped to both speech and sounds/);
    assert.throws(() => classifyFeatures(byDataset, { level: 'frame', domains: new Map([['noise', ['ls']]]) }), /names "noise"; only speech, sounds and music/);
    const byDomain = await featureStats(s.conn, RUN, 3);
    const noMusic = byDomain.filter((r) => r.group !== 'music');
    assert.throws(() => classifyFeatures(noMusic, { level: 'audio' }), /music is missing\. The corpus has: podcast, sounds, speech/);
  });

  it('the combinations are the paper\'s four', () => {
    assert.deepEqual(COMBINATIONS.map((c) => c.join('+')), ['speech+sounds+music', 'speech+sounds', 'speech+music', 'sounds+music']);
  });

  it(`reports the worst deviation of a mean from the reference (≤ ${TOL})`, (t) => {
    t.diagnostic(`worst |ours − numpy| over every mean compared: ${worst.diff.toExponential(2)} (${worst.what})`);
    assert.ok(worst.diff <= TOL);
  });
});

describe('stores with several runs, and after clustering', () => {
  const dir = mkdtempSync(join(tmpdir(), 'audiosae-queries-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a store with two runs: the run must be named; the error lists the runs; each run answers for itself', async () => {
    const path = join(dir, 'two-runs.duckdb');
    const s = await fixtureStore({ path });
    try {
      // The second run: layer 3 only, even clip ids only, created later.
      await insertTables(s.conn, asRun(tables, 'fx02', { layers: [3], createdAt: '2025-06-10 09:00:00', keepClip: (id) => id % 2 === 0 }));
      const runs = await listRuns(s.conn);
      assert.deepEqual(runs.map((r) => r.runId), ['fx01', 'fx02']);
      await assert.rejects(resolveRun(s.conn), (e: Error) => {
        assert.match(e.message, /two-runs\.duckdb: holds 2 runs: fx01 \(whisper-tiny-random, layers 3,6, threshold, 34 clips, 2025-06-09 12:00:00\); fx02 \(whisper-tiny-random, layers 3, threshold, \d+ clips, 2025-06-10 09:00:00\)\. Name one with --run\./);
        return true;
      });
      await assert.rejects(resolveRun(s.conn, 'fx0'), /has 2 runs starting with "fx0"; its runs: fx01 .*; fx02 /);
      const r2 = await resolveRun(s.conn, 'fx02');
      assert.equal(r2.layer, 3, 'one layer: defaulted');
      // fx01's answers are untouched by fx02's rows.
      await checkAgainstReference(s, 'two runs', true);
      // fx02 sees only its own clips.
      const m2 = await corpusMetrics(s.conn, 'fx02', 3);
      assert.equal(m2[0]!.clips, tables.clips.filter((c) => (c.clip_id as number) % 2 === 0 && c.status === 'done').length);
      assert.ok((await maxActs(s.conn, 'fx02', 3)).every((r) => r.clipId % 2 === 0));
      await assert.rejects(corpusMetrics(s.conn, 'fx02', 6), /run fx02 has no layer 6; its layers: 3/);
    } finally {
      s.close();
    }
  });

  it('an empty store says it holds no runs', async () => {
    const s = await fixtureStore({ empty: true });
    try {
      await assert.rejects(resolveRun(s.conn), /holds no corpus runs\. Fill it with `audiosae corpus run` first/);
    } finally {
      s.close();
    }
  });

  it('clusterClipFeatures keeps every answer (and every row)', async () => {
    const s = await fixtureStore({ path: join(dir, 'clustered.duckdb') });
    try {
      await clusterClipFeatures(s.conn);
      const n = await s.conn.runAndReadAll('SELECT count(*)::INTEGER AS n FROM clip_features');
      assert.equal(n.getRowObjectsJS()[0]!.n, tables.clip_features.length);
      await checkAgainstReference(s, 'clustered', true);
    } finally {
      s.close();
    }
  });
});
