/**
 * Duplicates, coverage (paper appendix B) and label search (appendix F) against numpy
 * (test/reference/make_cooccurrence.py → fixtures/cooccurrence/tables.json): two fixed sparse tables over the
 * same frames. First the engine's pure functions on the tables, then the whole path through a real store: the
 * tables written as two runs with frame codes by CorpusStore.writeClip, read back by the verbs' engine functions
 * (clips paired by content hash), the frame label as Audacity label files next to the clips and the clip label
 * as a manifest column. Counts must be exact, ratios within 1e-12.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { coverageSummary, DenseIou, duplicateSummary, frameSetsFromCoo, iouPairs, type IouPair } from '../../../src/engine/interp/cooccurrence.ts';
import { clipRanges, coverageBetween, duplicateFeatures, type IouOptions } from '../../../src/engine/interp/runCooccurrence.ts';
import { labelSearch, parseAudacityLabels, searchLabel, type LabelSearchRow } from '../../../src/engine/interp/labelSearch.ts';
import { FeatureStatsAccumulator, type SparseCodes } from '../../../src/engine/sae/index.ts';
import { CorpusStore } from '../../../src/engine/store/store.ts';
import { fixture } from '../../helpers/compare.ts';
import { readFileSync } from 'node:fs';

interface Coo { frame: number[]; feature: number[]; value: number[] }
interface PairJson { feature_a: number; feature_b: number; iou: number; intersect: number; union: number }
interface ScanJson { positive: number[]; positives: number; candidates: number; rows: Array<{ feature: number; f1: number; threshold: number; precision: number; recall: number; tp: number; fp: number; fn: number }> }
interface Reference {
  frames: number; clips: number; frames_per_clip: number; dict_size: number; theta: number; step: number;
  a: Coo; b: Coo;
  duplicates_a: { pairs: PairJson[]; summary: { alive: number; duplicated: number; duplicated_fraction: number; pairs: number } };
  coverage_ab: { pairs: PairJson[]; summary: { alive_a: number; covered_a: number; coverage_ab: number; alive_b: number; covered_b: number; coverage_ba: number; pairs: number } };
  frame_label: ScanJson;
  clip_label: ScanJson;
}

const ref = JSON.parse(readFileSync(fixture('cooccurrence', 'tables.json'), 'utf8')) as Reference;
const TOL = 1e-12;
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= TOL, `${what}: ${a} vs numpy ${b}`);

/** The frames [0, h) and [h, frames) of a COO table, each numbered from 0 (h: a third of the way, off a clip boundary). */
function splitFrames(c: ReturnType<typeof cooOf>): [ReturnType<typeof cooOf>, ReturnType<typeof cooOf>] {
  const h = Math.floor(c.frames / 3) + 1;
  const part = (keep: (t: number) => boolean, shift: number, frames: number) => {
    const idx = [...c.frame.keys()].filter((i) => keep(c.frame[i]!));
    return { frames, frame: Int32Array.from(idx, (i) => c.frame[i]! - shift), feature: Int32Array.from(idx, (i) => c.feature[i]!), value: Float32Array.from(idx, (i) => c.value[i]!) };
  };
  return [part((t) => t < h, 0, h), part((t) => t >= h, h, c.frames - h)];
}

const cooOf = (c: Coo) => ({ frames: ref.frames, frame: Int32Array.from(c.frame), feature: Int32Array.from(c.feature), value: Float32Array.from(c.value) });

function samePairs(got: IouPair[], want: PairJson[], what: string): void {
  assert.deepEqual(got.map((p) => [p.featureA, p.featureB, p.intersect, p.union]), want.map((p) => [p.feature_a, p.feature_b, p.intersect, p.union]), `${what}: pairs`);
  got.forEach((p, i) => close(p.iou, want[i]!.iou, `${what}: IoU of ${p.featureA}, ${p.featureB}`));
}

function sameScan(got: LabelSearchRow[], want: ScanJson, minF1: number, what: string): void {
  const rows = want.rows.filter((r) => r.f1 > minF1);
  assert.deepEqual(got.map((r) => [r.feature, r.tp, r.fp, r.fn]), rows.map((r) => [r.feature, r.tp, r.fp, r.fn]), `${what}: features and counts`);
  got.forEach((r, i) => {
    for (const k of ['f1', 'threshold', 'precision', 'recall'] as const) close(r[k], rows[i]![k], `${what}: feature ${r.feature} ${k}`);
  });
}

describe('duplicates, coverage and label search against numpy', () => {
  it('the fixture has something to find', () => {
    assert.ok(ref.duplicates_a.pairs.length >= 3 && ref.coverage_ab.pairs.length >= 5);
    assert.ok(ref.frame_label.rows.some((r) => r.f1 > 0.5) && ref.frame_label.rows.some((r) => r.f1 <= 0.5));
  });

  it('IoU pairs of one table with itself, and the duplicate counts', () => {
    const r = iouPairs(frameSetsFromCoo(cooOf(ref.a), ref.dict_size), null, ref.theta);
    samePairs(r.pairs, ref.duplicates_a.pairs, 'a × a');
    const s = duplicateSummary(r, ref.theta);
    const w = ref.duplicates_a.summary;
    assert.deepEqual([s.alive, s.duplicated, s.pairs], [w.alive, w.duplicated, w.pairs]);
    close(s.duplicatedFraction, w.duplicated_fraction, 'duplicated fraction');
    // The same frames with each frame's features reversed and not marked sorted: iouPairs sorts a copy first.
    const sets = frameSetsFromCoo(cooOf(ref.a), ref.dict_size);
    const reversed = sets.features.slice();
    for (let t = 0; t < sets.frames; t++) reversed.subarray(sets.rowPtr[t]!, sets.rowPtr[t + 1]!).reverse();
    const before = reversed.slice();
    const unsorted = { frames: sets.frames, dictSize: sets.dictSize, rowPtr: sets.rowPtr, features: reversed };
    samePairs(iouPairs(unsorted, null, ref.theta).pairs, ref.duplicates_a.pairs, 'a × a, rows not sorted');
    assert.deepEqual(reversed, before, 'the input is left as it was');
    // Summed over batches of frames into a dense matrix: the same pairs and counts.
    const dense = new DenseIou(ref.dict_size, null);
    for (const half of splitFrames(cooOf(ref.a))) dense.add(frameSetsFromCoo(half, ref.dict_size), null);
    const d = dense.result(ref.theta);
    samePairs(d.pairs, ref.duplicates_a.pairs, 'a × a, dense over two batches');
    assert.deepEqual(d.countsA, r.countsA);
  });

  it('IoU pairs of one table against the other, and coverage both ways', () => {
    const r = iouPairs(frameSetsFromCoo(cooOf(ref.a), ref.dict_size), frameSetsFromCoo(cooOf(ref.b), ref.dict_size), ref.theta);
    samePairs(r.pairs, ref.coverage_ab.pairs, 'a × b');
    const s = coverageSummary(r, ref.theta);
    const w = ref.coverage_ab.summary;
    assert.deepEqual([s.aliveA, s.coveredA, s.aliveB, s.coveredB, s.pairs], [w.alive_a, w.covered_a, w.alive_b, w.covered_b, w.pairs]);
    close(s.coverageAB, w.coverage_ab, 'c(a, b)');
    close(s.coverageBA, w.coverage_ba, 'c(b, a)');
    const dense = new DenseIou(ref.dict_size, ref.dict_size);
    const [a0, a1] = splitFrames(cooOf(ref.a));
    const [b0, b1] = splitFrames(cooOf(ref.b));
    dense.add(frameSetsFromCoo(a0!, ref.dict_size), frameSetsFromCoo(b0!, ref.dict_size));
    dense.add(frameSetsFromCoo(a1!, ref.dict_size), frameSetsFromCoo(b1!, ref.dict_size));
    const d = dense.result(ref.theta);
    samePairs(d.pairs, ref.coverage_ab.pairs, 'a × b, dense over two batches');
    assert.deepEqual([d.countsA, d.countsB], [r.countsA, r.countsB]);
  });

  it('the F1 scan over frames (every candidate, then the cut at 0.5)', () => {
    const a = cooOf(ref.a);
    const positive = Uint8Array.from(ref.frame_label.positive);
    const all = labelSearch({ units: ref.frames, unit: a.frame, feature: a.feature, value: a.value, positive }, { step: ref.step, minF1: -1 });
    assert.deepEqual([all.positives, all.candidates], [ref.frame_label.positives, ref.frame_label.candidates]);
    sameScan(all.rows, ref.frame_label, -1, 'frames, all');
    sameScan(labelSearch({ units: ref.frames, unit: a.frame, feature: a.feature, value: a.value, positive }, { step: ref.step }).rows, ref.frame_label, 0.5, 'frames, F1 > 0.5');
  });

  it('Audacity label files: intervals, spectral lines skipped, bad lines named', () => {
    assert.deepEqual(parseAudacityLabels('0.5\t1.25\tlaughter\n\\\t200\t3000\n2\t2\t\n', 'x.txt'), [{ startS: 0.5, endS: 1.25, label: 'laughter' }, { startS: 2, endS: 2, label: '' }]);
    assert.throws(() => parseAudacityLabels('0.5 1.0 laughter\n', 'x.txt'), /x\.txt: line 1 is not "start<TAB>end<TAB>label"/);
    assert.throws(() => parseAudacityLabels('1\t0.5\tx\n', 'x.txt'), /line 1/);
  });
});

describe('the same through a store (two runs with frame codes, label files, a manifest column)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'audiosae-cooc-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  let store: CorpusStore;
  const runs: string[] = [];

  before(async () => {
    store = await CorpusStore.open(join(tmp, 's.duckdb'));
    const n = ref.frames_per_clip;
    for (const [name, table] of [['a', ref.a], ['b', ref.b]] as const) {
      const runId = await store.ensureRun({
        backbone: `fixture-${name}`, weights: 'fixture', layers: [4], sae: name, saeSha256: {}, mode: 'threshold', options: { keepFrameCodes: true },
        engineVersion: 'test', dModel: 1, dictSize: ref.dict_size, k: 5,
      }, []);
      runs.push(runId);
      for (let c = 0; c < ref.clips; c++) {
        // The clip's rows in frame order (the fixture's COO is), as CSR.
        const picks = table.frame.map((t, i) => i).filter((i) => Math.floor(table.frame[i]! / n) === c);
        const rowPtr = new Int32Array(n + 1);
        for (const i of picks) rowPtr[table.frame[i]! - c * n + 1]!++;
        for (let t = 0; t < n; t++) rowPtr[t + 1]! += rowPtr[t]!;
        const codes: SparseCodes = { frames: n, rowPtr, indices: Int32Array.from(picks, (i) => table.feature[i]!), values: Float32Array.from(picks, (i) => table.value[i]!) };
        const stats = new FeatureStatsAccumulator(ref.dict_size);
        stats.add(0, codes);
        // Clip ids in the opposite order in run b: runs are paired by content, not by id.
        const clipId = name === 'a' ? c : ref.clips - 1 - c;
        const path = join(tmp, `clip${c}.wav`);
        const zero = new Float64Array(1);
        await store.writeClip(runId, {
          clipId, path, domain: 'speech', dataset: null, startS: null, endS: null, durationS: n / 50, frames: n, contentHash: `content${c}`,
          status: 'done', error: null, metadata: { laughter: ref.clip_label.positive[c] ? '1' : '0' },
        }, [{
          layer: 4, features: stats.fired(), frameCodes: [{ startFrame: 0, codes }],
          recon: { frames: n, zeroNormFrames: 0, sumL0: codes.indices.length, sumSqErr: 0, sumErr: 0, sumRelErr: 0, sumSqNorm: 0, sumCosine: 0, sumNormRatio: 0, sumX: zero, sumRes: zero },
        }]);
        // The frame label as intervals of consecutive positive frames, in seconds (a frame counts by its midpoint).
        const lines: string[] = [];
        for (let t = 0; t < n; t++) {
          if (!ref.frame_label.positive[c * n + t] || (t > 0 && ref.frame_label.positive[c * n + t - 1])) continue;
          let end = t;
          while (end < n && ref.frame_label.positive[c * n + end]) end++;
          lines.push(`${t / 50}\t${end / 50}\tLaughter`, `${t / 50}\t${end / 50}\tother`);
        }
        writeFileSync(join(tmp, c % 2 ? `clip${c}.txt` : `clip${c}.labels.txt`), lines.join('\n') + '\n');
      }
    }
  });
  after(() => store?.close());

  // Every way of counting: dense in one range, dense over ranges of a clip or two (ranges of at most 1 code a side
  // give one clip each), and the sparse path for a dictionary past the dense limit.
  const ways: Array<[string, IouOptions]> = [['one range', {}], ['a range per clip', { rangeCodes: 1 }], ['ranges of ~2 clips', { rangeCodes: Math.ceil((2 * ref.a.frame.length) / ref.clips) }], ['sparse', { denseLimit: 0 }]];

  it('duplicates of run a, from its stored frame codes', async () => {
    for (const [way, opts] of ways) {
      const r = await duplicateFeatures(store.connection, runs[0]!, [4], ref.theta, opts);
      samePairs(r.pairs, ref.duplicates_a.pairs, `store a × a, ${way}`);
      assert.deepEqual([r.summaries[0]!.alive, r.summaries[0]!.duplicated, r.summaries[0]!.frames], [ref.duplicates_a.summary.alive, ref.duplicates_a.summary.duplicated, ref.frames], way);
    }
  });

  it('coverage of run a by run b, clips paired by content', async () => {
    for (const [way, opts] of ways) {
      const r = await coverageBetween(store.connection, { runId: runs[0]!, layer: 4 }, { runId: runs[1]!, layer: 4 }, ref.theta, opts);
      samePairs(r.pairs, ref.coverage_ab.pairs, `store a × b, ${way}`);
      assert.deepEqual([r.summary.clips, r.summary.coveredA, r.summary.coveredB, r.summary.frames], [ref.clips, ref.coverage_ab.summary.covered_a, ref.coverage_ab.summary.covered_b, ref.frames], way);
    }
  });

  it('clipRanges: each range within the limit unless one clip alone passes it; all clips once, in order', () => {
    assert.deepEqual(clipRanges([3, 3, 3, 9, 1, 1], 6), [[0, 2], [2, 3], [3, 4], [4, 6]]);
    assert.deepEqual(clipRanges([], 6), []);
    assert.deepEqual(clipRanges([0, 0, 0], 1), [[0, 3]]);
  });

  it('label search: interval labels (frame level) and a manifest column (clip level)', async () => {
    const frames = await searchLabel(store.connection, { runId: runs[0]!, layer: 4, label: { name: 'laughter' }, step: ref.step, minF1: -1 });
    assert.deepEqual([frames.summary.source, frames.summary.level, frames.summary.units, frames.summary.positives], ['intervals', 'frame', ref.frames, ref.frame_label.positives]);
    sameScan(frames.rows, ref.frame_label, -1, 'store frames');
    const clips = await searchLabel(store.connection, { runId: runs[0]!, layer: 4, label: { name: 'laughter', value: '1' }, step: ref.step, minF1: -1 });
    assert.deepEqual([clips.summary.source, clips.summary.level, clips.summary.units, clips.summary.positives], ['metadata', 'clip', ref.clips, ref.clip_label.positives]);
    sameScan(clips.rows, ref.clip_label, -1, 'store clips');
  });

  it('a run without frame codes is told to run again with --keep-frame-codes', async () => {
    const runId = await store.ensureRun({
      backbone: 'fixture-c', weights: 'fixture', layers: [4], sae: 'c', saeSha256: {}, mode: 'threshold', options: {}, engineVersion: 'test', dModel: 1, dictSize: ref.dict_size, k: 5,
    }, []);
    await assert.rejects(duplicateFeatures(store.connection, runId, [4]), /did not keep per-frame codes.*--keep-frame-codes/);
    await assert.rejects(searchLabel(store.connection, { runId, layer: 4, label: { name: 'laughter' }, source: 'metadata', level: 'frame' }), /no clip has a manifest column "laughter"/);
  });
});
