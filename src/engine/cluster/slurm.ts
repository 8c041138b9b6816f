/**
 * A sharded corpus run on Slurm: the sbatch scripts (a job array of shard tasks and a merge job that depends on
 * it with afterok), their submission, and the state of each shard as the markers and the scheduler (squeue,
 * sacct, or scontrol where accounting is off) tell it. Slurm schedules; nothing here waits or retries.
 *
 * Arrays: a task's shard is SLURM_ARRAY_TASK_ID + AUDIOSAE_SHARD_OFFSET. Slurm refuses array indexes at or
 * above MaxArraySize (scontrol show config), so a run of more tasks is submitted as several arrays, each with
 * indexes below it and its own offset; the merge job depends on all of them. A resubmission sends only the
 * shards that are missing or failed, the same way, and replaces the merge job.
 *
 * Time limits: with `signalSeconds`, Slurm sends SIGUSR1 to the batch script that long before the limit; the
 * script passes it to the shard, which stops after the clip in flight (exit 75), and the script requeues its
 * own task, which continues from the shard's store.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AudioSaeError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomicWrite.ts';
import { readMarker, readStart } from './markers.ts';
import { shardFolderName } from '../corpus/shard.ts';

/** Slurm's default MaxArraySize (indexes 0..1000). */
export const DEFAULT_MAX_ARRAY_SIZE = 1001;

export interface SbatchOptions {
  jobName: string;
  partition?: string;
  time?: string;
  mem?: string;
  gpusPerTask?: string;
  cpusPerTask?: number;
  /** Send SIGUSR1 this many seconds before the time limit (and requeue the task). */
  signalSeconds?: number;
  /** Further sbatch options, one per element (e.g. "--account=abc"). */
  extra: string[];
}

export interface ArrayChunk {
  /** Added to SLURM_ARRAY_TASK_ID to give the shard index. */
  offset: number;
  /** The --array value, e.g. "0-999" or "1,2,7-9". */
  array: string;
  shards: number[];
}

export interface Submission {
  kind: 'array' | 'merge';
  jobId: string;
  /** Array jobs: the shard of array task t is t + offset. */
  offset?: number;
  shards?: number[];
  submittedAt: string;
}

/** DIR/slurm/: the scripts and the record of what was submitted. */
export interface SlurmRecord {
  tasks: number;
  arrayScript: string;
  mergeScript: string;
  submissions: Submission[];
}

export type ShardState = 'done' | 'running' | 'pending' | 'failed' | 'missing';

export interface ShardStatus {
  index: number;
  state: ShardState;
  /** The scheduler's word for it (RUNNING, CANCELLED, TIMEOUT …) or what the folder shows. */
  detail: string;
  job?: string;
}

const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);

/** Runs a Slurm command; its error output becomes an AudioSaeError naming the command. */
export function slurmCommand(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') throw new AudioSaeError(`the Slurm command "${cmd}" was not found.`, undefined, 'Run this on a Slurm login node (or use --dry-run to see the scripts).');
    const line = (err.stderr ?? '').trim().split('\n').filter(Boolean).pop() ?? err.message;
    throw new AudioSaeError(`${cmd} ${args.join(' ')} failed: ${line}`);
  }
}

export function hasSlurm(env: NodeJS.ProcessEnv = process.env): boolean {
  try {
    execFileSync('sbatch', ['--version'], { env, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** MaxArraySize of the cluster (scontrol show config), or Slurm's default when it cannot be read. */
export function maxArraySize(env: NodeJS.ProcessEnv = process.env): number {
  try {
    const m = /^MaxArraySize\s*=\s*(\d+)/m.exec(slurmCommand('scontrol', ['show', 'config'], env));
    return m ? Number(m[1]) : DEFAULT_MAX_ARRAY_SIZE;
  } catch {
    return DEFAULT_MAX_ARRAY_SIZE;
  }
}

/** "0-3,7,9-10" for [0,1,2,3,7,9,10]. */
export function compressRanges(sorted: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** The shards as arrays whose indexes stay below `maxArraySize`: shard s is task s − offset of its chunk. */
export function arrayChunks(shards: readonly number[], maxArraySize: number): ArrayChunk[] {
  const byChunk = new Map<number, number[]>();
  for (const s of [...shards].sort((a, b) => a - b)) {
    const c = Math.floor(s / maxArraySize);
    byChunk.set(c, [...(byChunk.get(c) ?? []), s]);
  }
  return [...byChunk].map(([c, list]) => {
    const offset = c * maxArraySize;
    return { offset, array: compressRanges(list.map((s) => s - offset)), shards: list };
  });
}

function directives(o: SbatchOptions, output: string): string[] {
  const d = [`--job-name=${o.jobName}`, `--output=${output}`, '--open-mode=append'];
  if (o.partition) d.push(`--partition=${o.partition}`);
  if (o.time) d.push(`--time=${o.time}`);
  if (o.mem) d.push(`--mem=${o.mem}`);
  if (o.gpusPerTask) d.push(`--gpus-per-task=${o.gpusPerTask}`);
  if (o.cpusPerTask) d.push(`--cpus-per-task=${o.cpusPerTask}`);
  d.push(...o.extra);
  return d.map((x) => `#SBATCH ${x}`);
}

/**
 * The array script: one shard per task. `command` is the audiosae command line up to (not including) the
 * shard and output options.
 */
export function arrayScript(o: SbatchOptions & { command: string[]; tasks: number; out: string }): string {
  const lines = ['#!/bin/bash', `# One shard of a sharded audiosae corpus run per array task (shard = task id + AUDIOSAE_SHARD_OFFSET).`];
  lines.push(...directives(o, join(o.out, 'logs', '%A_%a.out')));
  if (o.signalSeconds) lines.push(`#SBATCH --signal=B:USR1@${o.signalSeconds}`, '#SBATCH --requeue');
  lines.push(
    'set -u',
    'shard=$((SLURM_ARRAY_TASK_ID + ${AUDIOSAE_SHARD_OFFSET:-0}))',
    'echo "audiosae shard $shard/' + o.tasks + ' on $(hostname), job ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"',
    '# SIGUSR1 (before the time limit) goes on to the shard, which stops after the clip in flight (exit 75); the task then requeues itself.',
    'warned=0',
    'trap \'warned=1; kill -USR1 "$child" 2>/dev/null\' USR1',
    `${o.command.map(quote).join(' ')} --shard "$shard/${o.tasks}" --out ${quote(o.out)} &`,
    'child=$!',
    'while :; do wait "$child"; rc=$?; kill -0 "$child" 2>/dev/null || break; done',
    'if [ "$warned" = 1 ] && [ "$rc" != 0 ]; then',
    '  echo "shard $shard stopped before the time limit; requeueing it to continue"',
    '  scontrol requeue "${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"',
    'fi',
    'exit "$rc"',
  );
  return `${lines.join('\n')}\n`;
}

/** The merge job's script. */
export function mergeScript(o: SbatchOptions & { command: string[]; out: string; store: string }): string {
  const lines = ['#!/bin/bash', '# Merges the shards of the array it depends on (afterok) into the store.'];
  lines.push(...directives({ ...o, gpusPerTask: undefined }, join(o.out, 'logs', 'merge_%j.out')));
  lines.push(`exec ${o.command.map(quote).join(' ')} ${quote(o.out)} --store ${quote(o.store)}`);
  return `${lines.join('\n')}\n`;
}

/** The sbatch command lines of a submission (for --dry-run and for sbatch itself). */
export function sbatchArgs(script: string, extra: string[]): string[] {
  return ['--parsable', ...extra, script];
}

/** Submits with sbatch --parsable; returns the job id. */
export function submit(args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const out = slurmCommand('sbatch', args, env).trim();
  const id = out.split(';')[0]!.trim();
  if (!/^\d+$/.test(id)) throw new AudioSaeError(`sbatch answered "${out}", not a job id.`);
  return id;
}

export function recordPath(out: string): string {
  return join(out, 'slurm', 'jobs.json');
}

export function readRecord(out: string): SlurmRecord | undefined {
  const path = recordPath(out);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as SlurmRecord;
  } catch (e) {
    throw new AudioSaeError(`cannot be read (${(e as Error).message}).`, path);
  }
}

export async function writeRecord(out: string, record: SlurmRecord): Promise<void> {
  mkdirSync(join(out, 'slurm'), { recursive: true });
  await writeFileAtomic(recordPath(out), new TextEncoder().encode(`${JSON.stringify(record, null, 2)}\n`));
}

/**
 * Submits the arrays for `shards` and a merge job after them (afterok); returns the submissions. Arrays come
 * first so that a failure leaves no merge job waiting on nothing.
 */
export function submitShards(record: Pick<SlurmRecord, 'arrayScript' | 'mergeScript'>, shards: number[], maxSize: number, env: NodeJS.ProcessEnv = process.env): Submission[] {
  const now = () => new Date().toISOString();
  const subs: Submission[] = [];
  for (const chunk of arrayChunks(shards, maxSize)) {
    const jobId = submit(sbatchArgs(record.arrayScript, [`--array=${chunk.array}`, `--export=ALL,AUDIOSAE_SHARD_OFFSET=${chunk.offset}`]), env);
    subs.push({ kind: 'array', jobId, offset: chunk.offset, shards: chunk.shards, submittedAt: now() });
  }
  const after = subs.map((s) => s.jobId).join(':');
  const merge = submit(sbatchArgs(record.mergeScript, after ? [`--dependency=afterok:${after}`] : []), env);
  subs.push({ kind: 'merge', jobId: merge, submittedAt: now() });
  return subs;
}

/** The scheduler's state of each job/task id it still knows ("12_3" → RUNNING), from squeue, then sacct or scontrol. */
export function schedulerStates(jobIds: string[], env: NodeJS.ProcessEnv = process.env): Map<string, string> {
  const states = new Map<string, string>();
  if (jobIds.length === 0 || !hasSlurm(env)) return states;
  const ids = jobIds.join(',');
  try {
    // Finished jobs first (sacct where accounting runs, else scontrol while they are within MinJobAge) …
    try {
      for (const line of slurmCommand('sacct', ['-n', '-P', '-X', '-j', ids, '--format=JobID,State'], env).split('\n')) {
        const [id, state] = line.trim().split('|');
        if (id && state) states.set(id, state.split(' ')[0]!);
      }
    } catch {
      for (const id of jobIds) {
        let text = '';
        try {
          text = slurmCommand('scontrol', ['show', 'job', '-o', id], env);
        } catch {
          continue; // no longer known
        }
        for (const line of text.split('\n')) {
          const task = /ArrayTaskId=(\d+)\b/.exec(line)?.[1];
          const array = /ArrayJobId=(\d+)/.exec(line)?.[1];
          const job = /JobId=(\d+)/.exec(line)?.[1];
          const state = /JobState=(\w+)/.exec(line)?.[1];
          if (state && (task !== undefined ? array : job)) states.set(task !== undefined ? `${array}_${task}` : job!, state);
        }
      }
    }
    // … then the queue, which is the most current.
    for (const line of slurmCommand('squeue', ['-h', '-r', '-j', ids, '-o', '%i %T'], env).split('\n')) {
      const [id, state] = line.trim().split(/\s+/);
      if (id && state) states.set(id, state);
    }
  } catch {
    // the queue could not be read: the markers alone speak
  }
  return states;
}

const ACTIVE = new Set(['RUNNING', 'COMPLETING', 'CONFIGURING', 'SUSPENDED', 'STAGE_OUT', 'SIGNALING', 'RESIZING']);
const WAITING = new Set(['PENDING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'RESV_DEL_HOLD']);

/** Each shard's state: its marker first, then the scheduler's word on its latest task, then what its folder shows. */
export function shardStatuses(out: string, tasks: number, record: SlurmRecord | undefined, env: NodeJS.ProcessEnv = process.env): ShardStatus[] {
  const taskOf = new Map<number, string>();
  for (const s of record?.submissions ?? []) {
    if (s.kind !== 'array') continue;
    for (const shard of s.shards ?? []) taskOf.set(shard, `${s.jobId}_${shard - (s.offset ?? 0)}`);
  }
  const states = schedulerStates([...new Set((record?.submissions ?? []).filter((s) => s.kind === 'array').map((s) => s.jobId))], env);
  const out_: ShardStatus[] = [];
  for (let i = 0; i < tasks; i++) {
    const folder = join(out, shardFolderName({ index: i, count: tasks }));
    const job = taskOf.get(i);
    const state = job ? states.get(job) : undefined;
    let status: ShardStatus;
    if (readMarker(folder)) status = { index: i, state: 'done', detail: 'complete' };
    else if (state && ACTIVE.has(state)) status = { index: i, state: 'running', detail: state };
    else if (state && WAITING.has(state)) status = { index: i, state: 'pending', detail: state };
    else if (state) status = { index: i, state: 'failed', detail: state === 'COMPLETED' ? 'COMPLETED without a completion marker' : state };
    else if (readStart(folder)) status = { index: i, state: 'failed', detail: 'started, not complete, not in the queue' };
    else status = { index: i, state: 'missing', detail: job ? 'no record of its task' : 'never submitted' };
    out_.push(job ? { ...status, job } : status);
  }
  return out_;
}
