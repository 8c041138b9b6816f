/**
 * `audiosae corpus status DIR`: the shards of a sharded run, done / running / pending / failed / missing, from
 * their markers and (when Slurm is there) the scheduler; `--resubmit` sends only the missing and failed ones
 * again, with a new merge job after them.
 */
import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { SHARD_FOLDER_RE } from '../../../engine/corpus/shard.ts';
import {
  maxArraySize, readRecord, schedulerStates, shardStatuses, slurmCommand, submitShards, writeRecord, type ShardState,
} from '../../../engine/cluster/slurm.ts';
import { AudioSaeError } from '../../../engine/errors.ts';
import type { ParsedArgs, VerbSpec } from '../../args.ts';

export const spec: VerbSpec = {
  name: 'corpus status',
  summary: 'Show the shards of a sharded corpus run (done, running, pending, failed, missing); --resubmit the missing and failed ones.',
  positionals: ['<dir>'],
  options: [
    { name: 'tasks', value: '<N>', description: 'number of shards (default: from DIR/slurm/jobs.json or the shard folders)', numeric: { kind: 'int', min: 1, max: 1_000_000 } },
    { name: 'format', value: '<format>', description: 'text or json', choices: ['text', 'json'], default: 'text' },
    { name: 'resubmit', description: 'submit the missing and failed shards again (and a new merge job after them)' },
  ],
  details: `
A shard is done when its folder holds the completion marker (done.json). Otherwise the scheduler's state of its
latest task decides (squeue; sacct where accounting runs, else scontrol for recently finished jobs): running,
pending, or failed (FAILED, CANCELLED, TIMEOUT, OUT_OF_MEMORY … or finished without a marker). A shard started
but neither complete nor queued is failed; one with no folder and no task is missing. The exit status is 0 when
every shard is done, 3 otherwise.`,
};

const ORDER: ShardState[] = ['done', 'running', 'pending', 'failed', 'missing'];

function tasksOf(dir: string, given: number | undefined): number {
  if (given !== undefined) return given;
  const record = readRecord(dir);
  if (record) return record.tasks;
  const counts = new Set((existsSync(dir) ? readdirSync(dir) : []).map((n) => SHARD_FOLDER_RE.exec(n)?.[2]).filter((x): x is string => x !== undefined).map(Number));
  if (counts.size === 1) return [...counts][0]!;
  if (counts.size > 1) throw new AudioSaeError(`holds shard folders of different shard counts (${[...counts].join(', ')}).`, dir, 'Name the count with --tasks.');
  throw new AudioSaeError('holds no sharded run (no slurm/jobs.json, no shard-000I-of-000N folders).', dir);
}

export async function run(args: ParsedArgs): Promise<number> {
  const dir = resolve(args.positionals[0]!);
  const tasks = tasksOf(dir, args.numbers.get('tasks'));
  const record = readRecord(dir);
  const statuses = shardStatuses(dir, tasks, record);
  const merge = record?.submissions.filter((s) => s.kind === 'merge').at(-1);
  const mergeState = merge ? (schedulerStates([merge.jobId]).get(merge.jobId) ?? 'not in the queue') : undefined;
  const counts = Object.fromEntries(ORDER.map((s) => [s, statuses.filter((x) => x.state === s).length])) as Record<ShardState, number>;
  if (args.options.get('format') === 'json') {
    console.log(JSON.stringify({ dir, tasks, counts, shards: statuses, merge: merge ? { job: merge.jobId, state: mergeState } : null }, null, 2));
  } else {
    console.log(`${dir}: ${tasks} shard(s): ${ORDER.map((s) => `${counts[s]} ${s}`).join(', ')}`);
    for (const s of statuses) if (s.state !== 'done') console.log(`  shard ${s.index}: ${s.state} (${s.detail}${s.job ? `, task ${s.job}` : ''})`);
    if (merge) console.log(`merge job ${merge.jobId}: ${mergeState}`);
  }
  if (!args.flags.has('resubmit')) return counts.done === tasks ? 0 : 3;

  const again = statuses.filter((s) => s.state === 'failed' || s.state === 'missing').map((s) => s.index);
  if (again.length === 0) {
    console.log('nothing to resubmit: every shard is done, running or pending.');
    return counts.done === tasks ? 0 : 3;
  }
  if (!record) throw new AudioSaeError('has no slurm/jobs.json: it was not submitted with `audiosae corpus slurm`, so there are no scripts to resubmit.', dir);
  // The old merge job waits on tasks that failed (afterok never holds): replace it.
  if (merge && mergeState && !/^(COMPLETED|FAILED|CANCELLED|TIMEOUT|not in the queue)/.test(mergeState)) slurmCommand('scancel', [merge.jobId]);
  const subs = submitShards(record, again, maxArraySize());
  record.submissions.push(...subs);
  await writeRecord(dir, record);
  const arrays = subs.filter((s) => s.kind === 'array').map((s) => s.jobId);
  console.log(`resubmitted shard(s) ${again.join(', ')} as array job(s) ${arrays.join(', ')}; merge job ${subs.at(-1)!.jobId} (afterok)${merge ? `, replacing ${merge.jobId}` : ''}`);
  return 0;
}
