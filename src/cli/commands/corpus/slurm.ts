/**
 * `audiosae corpus slurm <manifest> … --tasks N --out DIR`: a corpus run as a Slurm job array of N shard tasks
 * and a merge job after it (afterok). Writes the scripts into DIR/slurm/, submits them with sbatch and prints
 * the job ids; --dry-run prints the scripts and the sbatch command lines instead.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadCorpus } from '../../../engine/corpus/manifest.ts';
import { arrayChunks, arrayScript, maxArraySize, mergeScript, readRecord, sbatchArgs, submitShards, writeRecord, type SbatchOptions } from '../../../engine/cluster/slurm.ts';
import { AudioSaeError } from '../../../engine/errors.ts';
import type { OptionSpec, ParsedArgs, VerbSpec } from '../../args.ts';
import { spec as runSpec } from './run.ts';

/** corpus run's options that the shards get as given (everything but where the output goes). */
const PASSED = runSpec.options.filter((o) => !['store', 'shard', 'shards', 'out'].includes(o.name));

const SLURM_OPTIONS: OptionSpec[] = [
  { name: 'tasks', value: '<N>', description: 'number of shards = array tasks', numeric: { kind: 'int', min: 1, max: 1_000_000 }, required: true },
  { name: 'out', value: '<dir>', description: 'output folder on storage every node sees (shards, logs, scripts)', required: true },
  { name: 'store', value: '<corpus.duckdb>', description: 'the store the merge job writes (default DIR/corpus.duckdb)' },
  { name: 'partition', value: '<name>', description: 'partition of the shard tasks' },
  { name: 'merge-partition', value: '<name>', description: 'partition of the merge job (default: --partition; it needs no GPU)' },
  { name: 'time', value: '<limit>', description: 'time limit per task (sbatch --time, e.g. 4:00:00)' },
  { name: 'mem', value: '<size>', description: 'memory per task (sbatch --mem, e.g. 8G)' },
  { name: 'gpus-per-task', value: '<n>', description: 'GPUs per task (sbatch --gpus-per-task)' },
  { name: 'cpus-per-task', value: '<n>', description: 'CPU cores per task', numeric: { kind: 'int', min: 1, max: 4096 } },
  { name: 'signal', value: '<seconds>', description: 'SIGUSR1 that long before the time limit: the task stops after its clip and requeues itself', numeric: { kind: 'int', min: 1, max: 86_400 } },
  { name: 'sbatch-arg', value: '<args>', description: 'further sbatch options for both jobs, space-separated (e.g. "--account=abc --qos=low")' },
  { name: 'dry-run', description: 'print the scripts and sbatch commands; submit nothing' },
];

export const spec: VerbSpec = {
  name: 'corpus slurm',
  summary: 'Run a corpus as a Slurm job array of shards plus a merge job (afterok) into one store.',
  positionals: ['<folder|manifest>'],
  options: [...PASSED, ...SLURM_OPTIONS],
  details: `
Each task runs \`audiosae corpus run … --shard I/N --out DIR\` (its share of the manifest, balanced by audio
duration); the merge job runs \`audiosae corpus merge DIR --store S\` once every task has succeeded. Per-task
logs: DIR/logs/<array job>_<task>.out. DIR, the corpus, the models and this audiosae must be on storage that
every node sees; set AUDIOSAE_CACHE and HF_HOME to shared folders so the models are fetched and built once.
Arrays larger than the cluster's MaxArraySize are submitted as several arrays. Follow the run with
\`audiosae corpus status DIR\`, and send only the missing or failed shards again with --resubmit.
See docs/cluster.md.`,
};

/** The audiosae command line the jobs run: this Node and this CLI, by absolute path. */
export function selfCommand(): string[] {
  return [process.execPath, resolve(process.argv[1]!)];
}

export async function run(args: ParsedArgs): Promise<number> {
  const out = resolve(args.options.get('out')!);
  const tasks = args.numbers.get('tasks')!;
  const store = resolve(args.options.get('store') ?? join(out, 'corpus.duckdb'));
  const dryRun = args.flags.has('dry-run');
  const corpus = await loadCorpus(args.positionals[0]!); // every problem of the corpus before anything is submitted
  if (tasks > corpus.clips.length) console.error(`note: ${tasks} tasks for ${corpus.clips.length} clips: ${tasks - corpus.clips.length} shard(s) will be empty.`);
  if (!dryRun && readRecord(out)?.submissions.length) {
    throw new AudioSaeError('already holds a submitted run (slurm/jobs.json).', out, 'Follow it with `audiosae corpus status DIR` (and --resubmit), or use another --out.');
  }
  const passed: string[] = [];
  for (const o of PASSED) {
    if (o.value && args.options.has(o.name) && (args.options.get(o.name) !== o.default || o.default === undefined)) passed.push(`--${o.name}`, args.options.get(o.name)!);
    else if (!o.value && args.flags.has(o.name)) passed.push(`--${o.name}`);
  }
  const common: SbatchOptions = {
    jobName: 'audiosae-shards',
    partition: args.options.get('partition'),
    time: args.options.get('time'),
    mem: args.options.get('mem'),
    gpusPerTask: args.options.get('gpus-per-task'),
    cpusPerTask: args.numbers.get('cpus-per-task'),
    signalSeconds: args.numbers.get('signal'),
    extra: [`--chdir=${process.cwd()}`, ...(args.options.get('sbatch-arg') ?? '').split(/\s+/).filter(Boolean)],
  };
  const self = selfCommand();
  const array = arrayScript({ ...common, command: [...self, 'corpus', 'run', corpus.source, ...passed], tasks, out });
  const merge = mergeScript({
    ...common, jobName: 'audiosae-merge', partition: args.options.get('merge-partition') ?? common.partition, cpusPerTask: undefined, signalSeconds: undefined,
    command: [...self, 'corpus', 'merge'], out, store,
  });
  const arrayPath = join(out, 'slurm', 'array.sbatch');
  const mergePath = join(out, 'slurm', 'merge.sbatch');
  const maxSize = dryRun ? 1001 : maxArraySize();
  const shards = Array.from({ length: tasks }, (_, i) => i);
  if (dryRun) {
    console.log(`# ${arrayPath}\n${array}\n# ${mergePath}\n${merge}`);
    const chunks = arrayChunks(shards, maxSize);
    for (const c of chunks) console.log(`sbatch ${sbatchArgs(arrayPath, [`--array=${c.array}`, `--export=ALL,AUDIOSAE_SHARD_OFFSET=${c.offset}`]).join(' ')}`);
    console.log(`sbatch ${sbatchArgs(mergePath, [`--dependency=afterok:${chunks.map((_, i) => `<array job ${i + 1}>`).join(':')}`]).join(' ')}`);
    console.log(`# (MaxArraySize assumed ${maxSize}; the cluster's is read from scontrol show config when submitting)`);
    return 0;
  }
  mkdirSync(join(out, 'slurm'), { recursive: true });
  mkdirSync(join(out, 'logs'), { recursive: true });
  writeFileSync(arrayPath, array, { mode: 0o755 });
  writeFileSync(mergePath, merge, { mode: 0o755 });
  const record = { tasks, arrayScript: arrayPath, mergeScript: mergePath, submissions: submitShards({ arrayScript: arrayPath, mergeScript: mergePath }, shards, maxSize) };
  await writeRecord(out, record);
  const arrays = record.submissions.filter((s) => s.kind === 'array');
  const mergeJob = record.submissions.find((s) => s.kind === 'merge')!;
  console.log(`submitted ${tasks} shard task(s) as array job(s) ${arrays.map((s) => s.jobId).join(', ')}; merge job ${mergeJob.jobId} (afterok) → ${store}`);
  console.log(`logs: ${join(out, 'logs')}; follow with: audiosae corpus status ${out}`);
  return 0;
}
