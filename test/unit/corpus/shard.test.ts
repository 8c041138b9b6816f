/**
 * Shard assignment (src/engine/corpus/shard.ts): every clip in exactly one shard with its id in the full
 * manifest; balanced by audio duration (longest-first greedy: within LPT's 4/3 bound of a brute-forced optimum
 * on small cases, within 1 % of the mean on a realistic corpus); the same shares when the manifest is
 * re-ordered; weights from segments, WAV headers and file sizes. Also the shard index from the options and the
 * schedulers' environment, and Slurm arrays split at MaxArraySize.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { clipKey, type Corpus, type CorpusClip } from '../../../src/engine/corpus/manifest.ts';
import { assignShards, clipWeightS, parseShard, shardFolderName, shardShare } from '../../../src/engine/corpus/shard.ts';
import { arrayChunks, compressRanges } from '../../../src/engine/cluster/slurm.ts';
import { shardFromArgs } from '../../../src/cli/commands/corpus/shardRun.ts';
import type { ParsedArgs } from '../../../src/cli/args.ts';
import { makeWav } from '../../helpers/wavFiles.ts';

const tmp = mkdtempSync(join(tmpdir(), 'audiosae-shard-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A deterministic pseudo-random generator (LCG) for test data. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** Clips given as segments (start, end) of a few files, so the weight is the segment length without reading files. */
function segments(durations: number[]): CorpusClip[] {
  return durations.map((d, i) => ({ path: `/corpus/file${i % 7}.wav`, domain: 'speech', dataset: null, startS: i * 100, endS: i * 100 + d, metadata: {} }));
}

const corpusOf = (clips: CorpusClip[]): Corpus => ({ source: '/corpus', clips, checksum: 'x' });

function loads(weights: number[], shardOf: Int32Array, n: number): number[] {
  const l = new Array<number>(n).fill(0);
  weights.forEach((w, i) => (l[shardOf[i]!]! += w));
  return l;
}

/** The best possible largest shard, by trying every assignment (small cases only). */
function optimum(weights: number[], n: number): number {
  let best = Infinity;
  const l = new Array<number>(n).fill(0);
  const go = (i: number) => {
    if (Math.max(...l) >= best) return;
    if (i === weights.length) return void (best = Math.max(...l));
    for (let s = 0; s < n; s++) {
      l[s]! += weights[i]!;
      go(i + 1);
      l[s]! -= weights[i]!;
    }
  };
  go(0);
  return best;
}

describe('shard assignment', () => {
  it('every clip is in exactly one shard, under its position in the full manifest', () => {
    const r = rng(1);
    const corpus = corpusOf(segments(Array.from({ length: 103 }, () => 1 + r() * 29)));
    const seen = new Map<number, number>();
    for (let i = 0; i < 5; i++) {
      const share = shardShare(corpus, { index: i, count: 5 });
      assert.equal(share.clips.length, share.clipIds.length);
      share.clipIds.forEach((id, j) => {
        assert.equal(corpus.clips[id], share.clips[j], 'the id is the clip\'s position in the manifest');
        assert.ok(!seen.has(id), `clip ${id} in shards ${seen.get(id)} and ${i}`);
        seen.set(id, i);
      });
      assert.deepEqual(share.clipIds, [...share.clipIds].sort((a, b) => a - b), 'manifest order within a shard');
    }
    assert.equal(seen.size, 103);
  });

  it('balanced by duration: within 4/3 of the optimum on small cases, within 1 % of the mean on a large corpus', () => {
    const r = rng(7);
    let worstRatio = 0;
    for (let trial = 0; trial < 40; trial++) {
      const n = 2 + (trial % 3);
      const w = Array.from({ length: 7 + (trial % 3) }, () => Math.round(1 + r() * 20));
      const l = loads(w, assignShards(segments(w), n, w), n);
      const ratio = Math.max(...l) / optimum(w, n);
      worstRatio = Math.max(worstRatio, ratio);
      assert.ok(ratio <= 4 / 3 - 1 / (3 * n) + 1e-12, `LPT bound broken: ${w.join(',')} on ${n}: ${ratio}`);
    }
    // 20 000 clips of 1-30 s with a long tail (a few 10-minute files), 64 shards.
    const w = Array.from({ length: 20_000 }, (_, i) => (i % 997 === 0 ? 600 : 1 + 29 * r() ** 2));
    const l = loads(w, assignShards(segments(w), 64, w), 64);
    const mean = w.reduce((a, b) => a + b, 0) / 64;
    assert.ok(Math.max(...l) / mean < 1.01 && Math.min(...l) / mean > 0.99, `loads ${Math.min(...l)}..${Math.max(...l)} around ${mean}`);
    assert.ok(worstRatio > 1, 'the small cases include ones where greedy is not optimal');
  });

  it('re-ordering the manifest gives every shard the same clips', () => {
    const r = rng(3);
    const clips = segments(Array.from({ length: 200 }, () => Math.round(1 + r() * 9))); // many equal weights: ties matter
    const shuffled = [...clips];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    for (let i = 0; i < 6; i++) {
      const a = shardShare(corpusOf(clips), { index: i, count: 6 }).clips.map(clipKey).sort();
      const b = shardShare(corpusOf(shuffled), { index: i, count: 6 }).clips.map(clipKey).sort();
      assert.deepEqual(b, a, `shard ${i}`);
    }
  });

  it('weights: segment length, WAV header duration (minus the start), compressed files by size at 128 kbit/s', () => {
    const wav = join(tmp, 'a.wav');
    writeFileSync(wav, makeWav({ rateHz: 8000 }, Buffer.alloc(8000 * 2 * 5))); // 5 s at 8 kHz
    const flac = join(tmp, 'b.flac');
    writeFileSync(flac, Buffer.alloc(48_000));
    const clip = (path: string, startS: number | null, endS: number | null): CorpusClip => ({ path, domain: 'x', dataset: null, startS, endS, metadata: {} });
    assert.equal(clipWeightS(clip(wav, 2, 4.5)), 2.5);
    assert.equal(clipWeightS(clip(wav, null, null)), 5);
    assert.equal(clipWeightS(clip(wav, 1, null)), 4);
    assert.equal(clipWeightS(clip(flac, null, null)), 3);
    assert.equal(clipWeightS(clip(join(tmp, 'gone.ogg'), null, null)), 0);
  });

  it('--shard I/N, folder names', () => {
    assert.deepEqual(parseShard('2/4'), { index: 2, count: 4 });
    for (const bad of ['4/4', '1', '-1/4', 'a/b', '0/0']) assert.throws(() => parseShard(bad), /--shard must be I\/N/);
    assert.equal(shardFolderName({ index: 2, count: 4 }), 'shard-0002-of-0004');
    assert.equal(shardFolderName({ index: 7, count: 12345 }), 'shard-00007-of-12345');
  });
});

describe('the shard from the options and the scheduler', () => {
  const args = (options: Record<string, string>, numbers: Record<string, number> = {}): ParsedArgs => ({
    positionals: [], options: new Map(Object.entries(options)), numbers: new Map(Object.entries(numbers)), flags: new Set(), help: false,
  });
  it('from --shard, from SLURM_ARRAY_TASK_ID (+ offset) or JOB_COMPLETION_INDEX with --shards, from a whole 0-based array', () => {
    assert.equal(shardFromArgs(args({ store: 's' }), {}), undefined);
    assert.deepEqual(shardFromArgs(args({ shard: '1/3', out: 'o' }), { SLURM_ARRAY_TASK_ID: '2' }), { index: 1, count: 3 });
    assert.deepEqual(shardFromArgs(args({ out: 'o', shards: '2000' }, { shards: 2000 }), { SLURM_ARRAY_TASK_ID: '5', AUDIOSAE_SHARD_OFFSET: '1001' }), { index: 1006, count: 2000 });
    assert.deepEqual(shardFromArgs(args({ out: 'o', shards: '4' }, { shards: 4 }), { JOB_COMPLETION_INDEX: '3' }), { index: 3, count: 4 });
    const array = { SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_COUNT: '4', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_MAX: '3' };
    assert.deepEqual(shardFromArgs(args({ out: 'o' }), array), { index: 2, count: 4 });
    // A resubmitted --array=2 has SLURM_ARRAY_TASK_COUNT=1: its count must come from --shards.
    assert.throws(() => shardFromArgs(args({ out: 'o' }), { ...array, SLURM_ARRAY_TASK_COUNT: '1', SLURM_ARRAY_TASK_MIN: '2', SLURM_ARRAY_TASK_MAX: '2' }), /needs the number of shards: --shards N/);
    assert.throws(() => shardFromArgs(args({ out: 'o' }), {}), /needs its shard: --shard I\/N, or SLURM_ARRAY_TASK_ID/);
    assert.throws(() => shardFromArgs(args({ out: 'o', shards: '4' }, { shards: 4 }), { JOB_COMPLETION_INDEX: '4' }), /index 4 .* not below the number of shards, 4/);
    assert.throws(() => shardFromArgs(args({ shard: '1/4', shards: '3' }, { shards: 3 }), {}), /disagree/);
  });

  it('Slurm arrays split below MaxArraySize, with offsets; resubmissions compress to ranges', () => {
    assert.equal(compressRanges([0, 1, 2, 3, 7, 9, 10]), '0-3,7,9-10');
    assert.deepEqual(arrayChunks([0, 1, 2, 3], 1001), [{ offset: 0, array: '0-3', shards: [0, 1, 2, 3] }]);
    const chunks = arrayChunks(Array.from({ length: 2500 }, (_, i) => i), 1000);
    assert.deepEqual(chunks.map((c) => [c.offset, c.array]), [[0, '0-999'], [1000, '0-999'], [2000, '0-499']]);
    assert.deepEqual(arrayChunks([2, 1500, 7], 1000).map((c) => [c.offset, c.array]), [[0, '2,7'], [1000, '500']]);
  });
});
