/**
 * A feature page's jobs: this feature's duplicates row (iouRow) against a brute-force count over a small
 * hand-made frame set and against the whole layer's pairs (iouPairs); then both jobs through the job worker on a
 * real corpus run of the demo model, with and without kept frame codes: the duplicates against the
 * `corpus duplicates` engine function (duplicateFeatures) and a count over the store's frame_codes, the profile's
 * rows and description, progress, and a clear error for a feature that never fires. Last, the Feature page's
 * relay (src/extension/featurePage/jobs.ts) over the same worker: replies by request id, kept answers, cancel.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { JobClient } from '../../../src/engine/jobs/client.ts';
import { iouRow } from '../../../src/engine/jobs/featureDuplicates.ts';
import { profileRows } from '../../../src/engine/jobs/featureProfile.ts';
import { frameSetsFromCoo, iouPairs } from '../../../src/engine/interp/cooccurrence.ts';
import { duplicateFeatures } from '../../../src/engine/interp/runCooccurrence.ts';
import { CorpusStore } from '../../../src/engine/store/store.ts';
import { FeatureJobs } from '../../../src/extension/featurePage/jobs.ts';
import type { HostToPage } from '../../../src/extension/sidebar/protocol.ts';
import type { CorpusRunJob, JobProgress } from '../../../src/shared/jobProtocol.ts';
import { makeWav, pcm16 } from '../../helpers/wavFiles.ts';

/** Frame t's active features (hand-made: 0 and 1 nearly always together, 2 half of 0's frames, 3 elsewhere). */
const FRAMES: number[][] = [[0, 1], [0, 1, 2], [0, 1], [0, 2], [1, 3], [3], [0, 1, 2, 4], [4], [0, 1], []];
const DICT = 6;

/** Brute force: for feature j, every other feature's |A ∩ B| and |A ∪ B| by walking the frames. */
function bruteRow(j: number): Array<{ feature: number; intersect: number; union: number }> {
  const out = [];
  for (let k = 0; k < DICT; k++) {
    if (k === j) continue;
    let both = 0;
    let either = 0;
    for (const f of FRAMES) {
      const a = f.includes(j);
      const b = f.includes(k);
      if (a && b) both++;
      if (a || b) either++;
    }
    if (both > 0) out.push({ feature: k, intersect: both, union: either });
  }
  return out;
}

function setsOf(frames: number[][]) {
  const frame: number[] = [];
  const feature: number[] = [];
  frames.forEach((f, t) => f.forEach((x) => (frame.push(t), feature.push(x))));
  return frameSetsFromCoo({ frames: frames.length, frame: Int32Array.from(frame), feature: Int32Array.from(feature) }, DICT);
}

function countsOf(frames: number[][]): Map<number, number> {
  const m = new Map<number, number>();
  for (const f of frames) for (const x of f) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

describe('iouRow: one feature against the others', () => {
  for (const j of [0, 1, 2, 3, 4]) {
    it(`feature ${j}: every co-active feature against a brute-force count, and θ = 0.5 against iouPairs`, () => {
      const mine = FRAMES.filter((f) => f.includes(j));
      const all = iouRow(setsOf(mine), j, countsOf(FRAMES), -1);
      const brute = bruteRow(j).map((r) => ({ ...r, iou: r.intersect / r.union })).sort((a, b) => b.iou - a.iou || a.feature - b.feature);
      assert.deepEqual(all, brute);
      const pairs = iouPairs(setsOf(FRAMES), null, 0.5).pairs.filter((p) => p.featureA === j || p.featureB === j);
      const want = pairs.map((p) => ({ feature: p.featureA === j ? p.featureB : p.featureA, iou: p.iou, intersect: p.intersect, union: p.union })).sort((a, b) => b.iou - a.iou || a.feature - b.feature);
      assert.deepEqual(iouRow(setsOf(mine), j, countsOf(FRAMES), 0.5), want);
    });
  }
  it('the fixture has a duplicate pair and features without one', () => {
    assert.equal(iouRow(setsOf(FRAMES.filter((f) => f.includes(0))), 0, countsOf(FRAMES), 0.5).map((r) => r.feature).join(), '1');
    assert.equal(iouRow(setsOf(FRAMES.filter((f) => f.includes(3))), 3, countsOf(FRAMES), 0.5).length, 0);
  });
  it('sets that are not the feature\'s frames are refused', () => {
    assert.throws(() => iouRow(setsOf([[0, 1], [1]]), 0, countsOf(FRAMES), 0.5), /frame 1 of the sets does not list feature 0/);
  });
});

describe('profileRows', () => {
  it('the CLI\'s rows, NaN as null, one row per domain', () => {
    const stats = (x: number) => ({
      frames: x, loudnessDb: -20 - x, voicedRate: 0.5, f0MedianHz: Number.NaN, f0MeanHz: 200, centroidHz: 1000 * x, flatness: 0.1, onsetStrength: 2,
      position: { outside: 0.1, beginning: 0.2, middle: 0.3, end: 0.4 },
    });
    const rows = profileRows({ firing: stats(3), corpus: stats(10), domains: [{ domain: 'music', share: 0.75, activeFrames: 3 }, { domain: 'speech', share: 0.25, activeFrames: 1 }] });
    assert.deepEqual(rows.map((r) => r.quantity), ['frames', 'loudness', 'voiced_rate', 'f0_median', 'f0_mean', 'spectral_centroid', 'spectral_flatness', 'onset_strength',
      'event_outside', 'event_beginning', 'event_middle', 'event_end', 'domain_music', 'domain_speech']);
    assert.deepEqual(rows[0], { quantity: 'frames', unit: '', feature: 3, corpus: 10 });
    assert.deepEqual(rows[1], { quantity: 'loudness', unit: 'dBFS', feature: -23, corpus: -30 });
    assert.equal(rows[3]!.feature, null);
    assert.deepEqual(rows.at(-2), { quantity: 'domain_music', unit: 'share of active frames', feature: 0.75, corpus: null });
  });
});

describe('the feature page\'s jobs in the job worker, on a real run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'audiosae-feature-jobs-'));
  const client = new JobClient();
  const corpus = join(dir, 'corpus');
  const base: Omit<CorpusRunJob, 'store' | 'keepFrameCodes'> = {
    kind: 'corpusRun', sources: [corpus], backbone: 'whisper-tiny-random', layers: [2], mode: 'auto', tap: 'block',
    normalizeInput: false, maxHubertSeconds: 60, executionProvider: 'cpu', demoModelsDir: join(import.meta.dirname, '../../../media/demo/models'),
  };
  const kept = join(dir, 'kept.duckdb');
  const plain = join(dir, 'plain.duckdb');
  let keptRun = '';
  let plainRun = '';

  before(async () => {
    for (const [domain, hz, noise] of [['speech', 220, 0.05], ['sounds', 900, 0.6], ['music', 440, 0]] as const) {
      mkdirSync(join(corpus, domain), { recursive: true });
      for (let i = 0; i < 2; i++) {
        const x = new Float32Array(16000);
        let seed = 7 + i;
        for (let s = 0; s < x.length; s++) {
          seed = (seed * 1103515245 + 12345) % 2147483648;
          x[s] = 0.3 * Math.sin((2 * Math.PI * hz * (i + 1) * s) / 16000) * (s < 8000 ? 1 : 0.2) + noise * (seed / 2147483648 - 0.5);
        }
        writeFileSync(join(corpus, domain, `${domain}-${i}.wav`), makeWav({}, pcm16([x])));
      }
    }
    keptRun = (await client.start({ ...base, store: kept, keepFrameCodes: true }).result).summary.runId;
    plainRun = (await client.start({ ...base, store: plain, keepFrameCodes: false }).result).summary.runId;
  });
  after(async () => {
    await client.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('duplicates: the same pairs as the whole layer\'s (duplicateFeatures), counts from frame_codes', async () => {
    const store = await CorpusStore.open(kept, { readOnly: true });
    let whole: Awaited<ReturnType<typeof duplicateFeatures>>;
    let active: Map<number, number>;
    try {
      whole = await duplicateFeatures(store.connection, keptRun, [2]);
      const r = await store.connection.runAndReadAll('SELECT feature, count(*)::INTEGER FROM frame_codes WHERE run_id = $run AND layer = 2 GROUP BY feature', { run: keptRun });
      active = new Map(r.getRows().map((x) => [Number(x[0]), Number(x[1])]));
    } finally {
      store.close();
    }
    assert.ok(whole.pairs.length > 0, 'the run has duplicate pairs to find');
    const inPairs = [...new Set(whole.pairs.flatMap((p) => [p.featureA, p.featureB]))].slice(0, 3);
    const lonely = [...active.keys()].find((f) => !whole.pairs.some((p) => p.featureA === f || p.featureB === f));
    for (const feature of [...inPairs, ...(lonely === undefined ? [] : [lonely])]) {
      const d = (await client.start({ kind: 'featureDuplicates', store: kept, runId: keptRun, layer: 2, feature }).result).duplicates;
      assert.equal(d.frameCodes, true);
      if (!d.frameCodes) return;
      assert.equal(d.activeFrames, active.get(feature));
      const want = whole.pairs.filter((p) => p.featureA === feature || p.featureB === feature)
        .map((p) => ({ feature: p.featureA === feature ? p.featureB : p.featureA, iou: p.iou, intersect: p.intersect, union: p.union }))
        .sort((a, b) => b.iou - a.iou || a.feature - b.feature);
      assert.deepEqual(d.rows, want, `feature ${feature}`);
    }
  });

  it('duplicates of a run without frame codes: a note naming --keep-frame-codes', async () => {
    const d = (await client.start({ kind: 'featureDuplicates', store: plain, runId: plainRun, layer: 2, feature: 0 }).result).duplicates;
    assert.equal(d.frameCodes, false);
    if (d.frameCodes) return;
    assert.match(d.note, /kept no per-frame codes.*--keep-frame-codes/);
  });

  it('the acoustic profile: progress, the rows, the description; a feature that never fires is a clear error', async () => {
    const store = await CorpusStore.open(plain, { readOnly: true });
    let top: number;
    let dead: number | undefined;
    try {
      const r = await store.connection.runAndReadAll('SELECT feature, count(*)::INTEGER AS n FROM clip_features WHERE run_id = $run AND layer = 2 GROUP BY feature ORDER BY n DESC, feature', { run: plainRun });
      const fired = new Set(r.getRows().map((x) => Number(x[0])));
      top = Number(r.getRows()[0]![0]);
      dead = Array.from({ length: 100_000 }, (_, i) => i).find((i) => !fired.has(i));
    } finally {
      store.close();
    }
    const seen: JobProgress[] = [];
    const job = { kind: 'featureProfile', store: plain, runId: plainRun, layer: 2, feature: top, executionProvider: 'cpu', demoModelsDir: base.demoModelsDir } as const;
    const p = (await client.start(job, { onProgress: (x) => seen.push(x) }).result).profile;
    assert.match(p.description, new RegExp(`^feature ${top} fires on `));
    assert.equal(p.rows[0]!.quantity, 'frames');
    assert.ok((p.rows[0]!.feature ?? 0) > 0 && (p.rows[0]!.corpus ?? 0) >= (p.rows[0]!.feature ?? 0), JSON.stringify(p.rows[0]));
    assert.equal(p.baselineClips, 6);
    assert.ok(p.rows.some((r) => r.quantity.startsWith('domain_')));
    assert.ok(seen.some((x) => x.kind === 'stage' && /^feature clips: \d+\/\d+$/.test(x.message)), JSON.stringify(seen));
    assert.ok(seen.some((x) => x.kind === 'stage' && /^corpus clips: 6\/6$/.test(x.message)));
    if (dead !== undefined) await assert.rejects(client.start({ ...job, feature: dead }).result, /never fires/);
  });

  it('the Feature page\'s relay: progress and the answer under the request id, answers kept per run state, a cancel answered "Cancelled."', async () => {
    const posted: HostToPage[] = [];
    const relay = new FeatureJobs({ jobs: () => client, demoModelsDir: base.demoModelsDir, executionProvider: () => 'cpu', post: (m) => posted.push(m), log: () => undefined });
    const until = async (pred: (m: HostToPage) => boolean) => {
      for (let i = 0; i < 600 && !posted.some(pred); i++) await new Promise((r) => setTimeout(r, 50));
      const m = posted.find(pred);
      assert.ok(m, `no such message in ${JSON.stringify(posted.map((x) => x.type))}`);
      return m;
    };
    const target = { run: { storePath: kept, runId: keptRun, layer: 2 }, feature: 0, runState: '6:0' };
    relay.start('duplicates', 41, target);
    const reply = await until((m) => 'id' in m && m.id === 41 && m.type !== 'jobProgress');
    assert.equal(reply.type, 'duplicates');
    const direct = (await client.start({ kind: 'featureDuplicates', store: kept, runId: keptRun, layer: 2, feature: 0 }).result).duplicates;
    if (reply.type !== 'duplicates' || !reply.duplicates.frameCodes || !direct.frameCodes) throw new Error('expected frame codes');
    assert.deepEqual(reply.duplicates.rows, direct.rows);
    assert.deepEqual(relay.keptFor(target).duplicates, reply.duplicates);
    assert.equal(relay.keptFor({ ...target, runState: '7:0' }).duplicates, undefined, 'a run that gained clips is computed again');
    assert.equal(relay.keptFor({ ...target, feature: 1 }).duplicates, undefined);

    relay.start('profile', 42, { ...target, run: { storePath: plain, runId: plainRun, layer: 2 } });
    const progress = await until((m) => m.type === 'jobProgress' && m.id === 42);
    assert.equal(progress.type === 'jobProgress' && typeof progress.message, 'string');
    relay.cancelAll();
    const cancelled = await until((m) => 'id' in m && m.id === 42 && m.type !== 'jobProgress');
    assert.deepEqual(cancelled, { type: 'failed', id: 42, message: 'Cancelled.' });
    assert.equal(relay.keptFor({ ...target, run: { storePath: plain, runId: plainRun, layer: 2 } }).profile, undefined);
  });
});
