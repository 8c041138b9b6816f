/**
 * `audiosae corpus run … --shard I/N --out DIR`: one share of a corpus run, as one task of a Slurm job array or a
 * Kubernetes Indexed Job runs it. The share is fixed by the manifest alone (src/engine/corpus/shard.ts); the
 * shard runs the ordinary corpus run over its clips into a store of its own inside DIR/shard-000I-of-000N/
 * (resumable after a crash, a requeue or kill -9), and when every clip is done writes its tables as Parquet
 * and the completion marker (src/engine/cluster/markers.ts). A complete shard started again does nothing.
 *
 * The index comes from --shard, or from SLURM_ARRAY_TASK_ID (plus AUDIOSAE_SHARD_OFFSET, which `corpus slurm`
 * sets for arrays split at MaxArraySize) or Kubernetes' JOB_COMPLETION_INDEX; the count from --shard, --shards,
 * or SLURM_ARRAY_TASK_COUNT. SIGTERM and SIGUSR1 (sent by Slurm before a time limit with --signal) stop after the
 * clip in flight; the shard then exits with status 75 and continues when run again.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { clipOrderChecksum, parseShard, shardFolderName, shardShare, type ShardSpec } from '../../../engine/corpus/shard.ts';
import type { Corpus } from '../../../engine/corpus/manifest.ts';
import type { CorpusRunSummary } from '../../../engine/corpus/run.ts';
import { AudioSaeError } from '../../../engine/errors.ts';
import {
  copyToParquet, MARKER_FILE, MARKER_FORMAT, MARKER_VERSION, readMarker, readStart, runRecord, START_FILE, storeTables, tableColumns, WORK_STORE, writeJson,
  type ManifestIdentity, type ShardMarker, type ShardStart, type TableFile,
} from '../../../engine/cluster/markers.ts';
import { CorpusStore } from '../../../engine/store/store.ts';
import { ENGINE_VERSION } from '../../../engine/version.ts';
import type { OptionSpec, ParsedArgs } from '../../args.ts';
import { interruptAsked, onInterrupt } from '../../interrupt.ts';

/** Exit status of a shard stopped (by a signal) before it was complete: run it again (requeue) to continue. */
export const SHARD_STOPPED_EXIT = 75;

export const SHARD_OPTIONS: OptionSpec[] = [
  { name: 'shard', value: '<I/N>', description: 'run only share I (0-based) of N of the corpus, into --out (instead of --store)' },
  { name: 'shards', value: '<N>', description: 'split into N shards; the index comes from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX', numeric: { kind: 'int', min: 1, max: 1_000_000 } },
  { name: 'out', value: '<dir>', description: 'output folder of a sharded run (one shard-000I-of-000N/ folder per shard; merge with corpus merge)' },
];

/** Options that name the shard or where it goes, not what the run computes. */
const NOT_IDENTITY = new Set(['shard', 'shards', 'out', 'store']);

export interface ShardRun {
  /** This shard's part of the corpus, for runCorpus. */
  corpus: Corpus;
  /** The clips' ids in the full manifest, for runCorpus. */
  clipIds: number[];
  store: CorpusStore;
  /** After runCorpus: Parquet + marker when complete; the exit status. */
  complete(summary: CorpusRunSummary): Promise<number>;
}

function envInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 0) throw new AudioSaeError(`the environment variable ${name} is "${raw}", not a whole number ≥ 0.`);
  return v;
}

/** The shard this process is, from the options and the scheduler's environment; undefined for a plain run. */
export function shardFromArgs(args: ParsedArgs, env: NodeJS.ProcessEnv = process.env): ShardSpec | undefined {
  const given = args.options.get('shard');
  const shards = args.numbers.get('shards');
  if (given !== undefined) {
    const s = parseShard(given);
    if (shards !== undefined && shards !== s.count) throw new AudioSaeError(`--shard ${given} and --shards ${shards} disagree on the number of shards.`);
    return s;
  }
  if (shards === undefined && !args.options.has('out')) return undefined;
  const slurm = envInt(env, 'SLURM_ARRAY_TASK_ID');
  const k8s = envInt(env, 'JOB_COMPLETION_INDEX');
  const offset = envInt(env, 'AUDIOSAE_SHARD_OFFSET') ?? 0;
  const index = slurm !== undefined ? slurm + offset : k8s;
  if (index === undefined) {
    throw new AudioSaeError('a sharded run (--out/--shards) needs its shard: --shard I/N, or SLURM_ARRAY_TASK_ID (a Slurm job array) or JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) in the environment.');
  }
  let count = shards;
  if (count === undefined && slurm !== undefined) {
    // The array's own size is the shard count only for a whole 0-based array (a resubmitted --array=2 has count 1).
    const total = envInt(env, 'SLURM_ARRAY_TASK_COUNT');
    if (total !== undefined && envInt(env, 'SLURM_ARRAY_TASK_MIN') === 0 && envInt(env, 'SLURM_ARRAY_TASK_MAX') === total - 1 && offset === 0) count = total;
  }
  if (count === undefined) throw new AudioSaeError('a sharded run needs the number of shards: --shards N (a Slurm array with indexes 0..N-1 also gives it).');
  if (index >= count) throw new AudioSaeError(`the shard index ${index} (from ${slurm !== undefined ? 'SLURM_ARRAY_TASK_ID' : 'JOB_COMPLETION_INDEX'}) is not below the number of shards, ${count}.`);
  return { index, count };
}

function requestOf(args: ParsedArgs): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (const [k, v] of [...args.options].sort(([a], [b]) => (a < b ? -1 : 1))) if (!NOT_IDENTITY.has(k)) out[k] = v;
  for (const f of [...args.flags].sort()) out[f] = true;
  return out;
}

/** What differs between two shard records (manifest, share, request), as names for a message. */
function differences(a: ShardStart, b: ShardStart): string[] {
  const out: string[] = [];
  if (a.count !== b.count || JSON.stringify(a.shards) !== JSON.stringify(b.shards)) out.push(`shard ${a.shards.join(',')}/${a.count} vs ${b.shards.join(',')}/${b.count}`);
  if (a.manifest.checksum !== b.manifest.checksum) out.push('the corpus (manifest checksum)');
  else if (a.manifest.order !== b.manifest.order) out.push('the order of the manifest (clip ids are positions)');
  const keys = new Set([...Object.keys(a.request), ...Object.keys(b.request)]);
  for (const k of [...keys].sort()) if (a.request[k] !== b.request[k]) out.push(`--${k} ${String(a.request[k] ?? '(none)')} vs ${String(b.request[k] ?? '(none)')}`);
  return out;
}

function duration(seconds: number): string {
  return seconds >= 3600 ? `${(seconds / 3600).toFixed(2)} h` : seconds >= 60 ? `${(seconds / 60).toFixed(1)} min` : `${seconds.toFixed(1)} s`;
}

/**
 * For `corpus run`: undefined for a plain run (which then needs --store); `{ finished: true }` when this shard is
 * already complete; otherwise the shard's part of the corpus and its store.
 */
export async function prepareShard(args: ParsedArgs, corpus: Corpus): Promise<ShardRun | { finished: true } | undefined> {
  const spec = shardFromArgs(args);
  if (!spec) {
    if (!args.options.has('store')) throw new AudioSaeError('"corpus run" needs --store <corpus.duckdb> (or --shard I/N --out DIR for one shard of a sharded run).', undefined, 'See: audiosae corpus run --help');
    return undefined;
  }
  const out = args.options.get('out');
  if (out === undefined) throw new AudioSaeError('a shard (--shard/--shards) writes into an output folder: add --out DIR (the same for every shard).');
  if (args.options.has('store')) throw new AudioSaeError('a shard writes into --out, not into --store; merge the shards into a store with: audiosae corpus merge DIR --store S');
  const folder = join(out, shardFolderName(spec));
  mkdirSync(folder, { recursive: true });
  const manifest: ManifestIdentity = { source: corpus.source, checksum: corpus.checksum, order: clipOrderChecksum(corpus), clips: corpus.clips.length };
  const start: ShardStart = { format: MARKER_FORMAT, version: MARKER_VERSION, shards: [spec.index], count: spec.count, manifest, request: requestOf(args) };
  const label = `shard ${spec.index}/${spec.count}`;

  const done = readMarker(folder);
  if (done) {
    const diff = differences(done, start);
    if (diff.length) throw new AudioSaeError(`holds a complete shard of another run (it differs in ${diff.join('; ')}).`, join(folder, MARKER_FILE), 'Use another --out for this run.');
    console.error(`${label} is complete (${join(folder, MARKER_FILE)}); nothing to do.`);
    return { finished: true };
  }
  const begun = readStart(folder);
  if (begun) {
    const diff = differences(begun, start);
    if (diff.length) throw new AudioSaeError(`holds an unfinished shard of another run (it differs in ${diff.join('; ')}).`, join(folder, START_FILE), 'Use another --out, or remove that folder to start this shard afresh.');
  } else {
    await writeJson(join(folder, START_FILE), start);
  }
  for (const name of readdirSync(folder)) if (/^\..*\.parquet\.\d+-[0-9a-f]+\.tmp$/.test(name)) rmSync(join(folder, name), { force: true }); // a killed export

  // Slurm's --signal=B:USR1@T warns before the time limit: stop as for SIGTERM (the clip in flight is finished or
  // dropped). A graceful stop is registered before the line below says the shard has begun, so a signal that
  // comes before the clip loop stops it too (the loop's own stop is then asked as it registers). However the run
  // ends after such a stop (the engine's "cancelled." error included), the shard is not complete but consistent,
  // and exits with SHARD_STOPPED_EXIT so that a requeue continues it.
  let completed = false;
  process.once('SIGUSR1', () => process.kill(process.pid, 'SIGTERM'));
  onInterrupt(() => undefined); // replaced by the clip loop's stop
  process.on('exit', () => {
    if (!interruptAsked() || completed) return;
    process.stderr.write(`${label} stopped before it was complete; run it again (or requeue the task) and it continues.\n`);
    process.exitCode = SHARD_STOPPED_EXIT;
  });
  const share = shardShare(corpus, spec);
  console.error(`${label}: ${share.clips.length} of ${corpus.clips.length} clips, ~${duration(share.seconds)} of audio (shards ${duration(share.minSeconds)} to ${duration(share.maxSeconds)}) → ${folder}`);
  const storePath = join(folder, WORK_STORE);
  if (existsSync(storePath) && statSync(storePath).size === 0) rmSync(storePath); // killed as DuckDB created it
  const store = await CorpusStore.open(storePath);
  const started = performance.now();

  return {
    corpus: { ...corpus, clips: share.clips },
    clipIds: share.clipIds,
    store,
    async complete(summary) {
      if (summary.cancelled) return SHARD_STOPPED_EXIT; // (said as the process exits)
      const conn = store.connection;
      const tables: Record<string, TableFile> = {};
      for (const table of await storeTables(conn)) {
        const where = (await tableColumns(conn, table)).includes('run_id') ? ` WHERE run_id = '${summary.runId}'` : '';
        tables[table] = await copyToParquet(conn, `SELECT * FROM ${table}${where}`, folder, table);
      }
      if (tables.clips?.rows !== share.clips.length) {
        throw new AudioSaeError(`holds ${tables.clips?.rows ?? 0} clips of run ${summary.runId}, but the shard has ${share.clips.length}.`, storePath, 'Remove the shard folder and run the shard again.');
      }
      const marker: ShardMarker = {
        ...start,
        run: await runRecord(conn, 'runs', summary.runId),
        tables,
        summary: { clips: share.clips.length, failed: summary.failed.length, audioSeconds: summary.audioSeconds, elapsedS: (performance.now() - started) / 1000 },
        engineVersion: ENGINE_VERSION,
        finishedAt: new Date().toISOString(),
      };
      await writeJson(join(folder, MARKER_FILE), marker);
      completed = true;
      store.close();
      for (const f of [storePath, `${storePath}.wal`]) rmSync(f, { force: true });
      console.error(`${label} complete: ${share.clips.length} clips (${summary.failed.length} failed) → ${folder}`);
      return 0;
    },
  };
}
