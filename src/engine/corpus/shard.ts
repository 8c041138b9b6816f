/**
 * Which clips of a corpus one shard of a scaled-out run processes, and under which clip ids.
 *
 * The rule (deterministic, the same in every task, documented in docs/cluster.md):
 *   1. each clip gets a weight, its audio duration: the segment's length when the manifest gives start and end,
 *      the WAV header's duration otherwise (minus the segment's start), and for compressed files (whose
 *      duration needs a decode) the file size at 128 kbit/s;
 *   2. clips are sorted by weight, longest first, ties broken by the SHA-256 of the clip's identity (its file
 *      path and segment), which does not depend on where the clip sits in the manifest;
 *   3. greedily, each clip goes to the shard with the least audio so far (the lowest index among equals):
 *      longest-processing-time-first scheduling, whose largest shard is within 4/3 of the best possible split.
 * The assignment depends only on the set of clips (identities and weights), so re-ordering the manifest gives
 * every shard the same clips. The clip ids are the clips' positions in the full manifest, exactly the ids one
 * process over the same manifest gives a fresh store, so shards merge into the same store.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { extname } from 'node:path';
import { AudioSaeError } from '../errors.ts';
import { clipKey, wavDurationS, type Corpus, type CorpusClip } from './manifest.ts';

/** Bytes per second assumed for compressed audio (128 kbit/s) when estimating its duration. */
const COMPRESSED_BYTES_PER_S = 16_000;

export interface ShardSpec {
  /** 0-based. */
  index: number;
  count: number;
}

export interface ShardShare {
  shard: ShardSpec;
  /** This shard's clips, in manifest order. */
  clips: CorpusClip[];
  /** Each clip's id in the full manifest (its position there), parallel to `clips`. */
  clipIds: number[];
  /** Estimated audio seconds of this shard, and of the busiest and idlest shard. */
  seconds: number;
  maxSeconds: number;
  minSeconds: number;
}

/** A clip's estimated audio duration in seconds (the weight the shards are balanced by). */
export function clipWeightS(clip: CorpusClip): number {
  if (clip.startS !== null && clip.endS !== null) return Math.max(0, clip.endS - clip.startS);
  const full = wavDurationS(clip.path) ?? sizeSeconds(clip.path);
  const end = clip.endS ?? full;
  return Math.max(0, end - (clip.startS ?? 0));
}

function sizeSeconds(path: string): number {
  try {
    return extname(path).toLowerCase() === '.wav' ? statSync(path).size / 32_000 : statSync(path).size / COMPRESSED_BYTES_PER_S;
  } catch {
    return 0;
  }
}

/** The shard of every clip (parallel to `clips`), by the rule above. */
export function assignShards(clips: readonly CorpusClip[], count: number, weights: readonly number[] = clips.map(clipWeightS)): Int32Array {
  if (!Number.isInteger(count) || count < 1) throw new AudioSaeError(`a run splits into 1 or more shards; got ${count}.`);
  const keys = clips.map((c) => createHash('sha256').update(clipKey(c)).digest('hex'));
  const order = clips.map((_, i) => i).sort((a, b) => weights[b]! - weights[a]! || (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0));
  const load = new Float64Array(count);
  const shardOf = new Int32Array(clips.length);
  for (const i of order) {
    let best = 0;
    for (let s = 1; s < count; s++) if (load[s]! < load[best]!) best = s;
    shardOf[i] = best;
    load[best]! += weights[i]!;
  }
  return shardOf;
}

/** The clips one shard processes, with their ids in the full manifest. */
export function shardShare(corpus: Corpus, shard: ShardSpec): ShardShare {
  if (shard.index < 0 || shard.index >= shard.count) throw new AudioSaeError(`shard ${shard.index} does not exist in a run of ${shard.count} shards (0 to ${shard.count - 1}).`);
  const weights = corpus.clips.map(clipWeightS);
  const shardOf = assignShards(corpus.clips, shard.count, weights);
  const loads = new Float64Array(shard.count);
  const clips: CorpusClip[] = [];
  const clipIds: number[] = [];
  corpus.clips.forEach((c, i) => {
    loads[shardOf[i]!]! += weights[i]!;
    if (shardOf[i] === shard.index) {
      clips.push(c);
      clipIds.push(i);
    }
  });
  return { shard, clips, clipIds, seconds: loads[shard.index]!, maxSeconds: Math.max(...loads), minSeconds: Math.min(...loads) };
}

/** sha256 over the clips' identities in manifest order: clip ids are positions, so shards must agree on it. */
export function clipOrderChecksum(corpus: Corpus): string {
  const hash = createHash('sha256');
  for (const c of corpus.clips) hash.update(clipKey(c)).update('\n');
  return hash.digest('hex');
}

/** "I/N" (0-based I) as a shard. */
export function parseShard(text: string): ShardSpec {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index >= count) throw new AudioSaeError(`--shard must be I/N with 0 ≤ I < N (0-based, e.g. 0/4 … 3/4); got "${text}".`);
  return { index, count };
}

/** The folder name of a shard inside the output folder: shard-0002-of-0004. */
export function shardFolderName(shard: ShardSpec): string {
  const width = Math.max(4, String(shard.count).length);
  return `shard-${String(shard.index).padStart(width, '0')}-of-${String(shard.count).padStart(width, '0')}`;
}

export const SHARD_FOLDER_RE = /^shard-(\d+)-of-(\d+)$/;
