/**
 * Scale-out costs, in two parts:
 *
 *   merge   shards totalling 10 000 clips × 6 144 features × 12 layers (d = 768): the synthetic store of
 *           bench/corpus_queries.ts (its `fill`), cut into --shards shard folders of contiguous clip ranges
 *           (Parquet + completion markers, as `corpus run --shard` writes them), then `audiosae corpus merge`
 *           timed as its own process, with its peak memory (VmHWM, test/helpers/peakRss.mjs).
 *   array   a corpus of --clips 30 s clips through the toy backbone (whisper-tiny-random, layers 1,3): one
 *           process into a store, vs `audiosae corpus slurm --tasks 4` on a private single-node Slurm cluster
 *           (test/slurm/start-cluster.sh; as many CPUs as the machine) from submission until the merge job is
 *           done, vs the 4 shards one after the other (the sum of the task times: the overhead of sharding).
 *
 *   npm run build && node --import tsx bench/merge.ts [--part merge|array|all] [--shards 16] [--clips 16] [--dir bench/.tmp/merge] [--reuse]
 *
 * --reuse merges the shard folders an earlier run left (filling the synthetic store takes minutes).
 *
 * Needs root and Debian's slurm packages for the array part (test/slurm/setup.sh installs them). Not part of
 * the test suite.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { copyToParquet, MARKER_FORMAT, MARKER_VERSION, runRecord, storeTables, tableColumns, writeJson, type ShardMarker, type TableFile } from '../src/engine/cluster/markers.ts';
import { shardFolderName } from '../src/engine/corpus/shard.ts';
import { ENGINE_VERSION } from '../src/engine/version.ts';
import { makeWav, pcm16 } from '../test/helpers/wavFiles.ts';
import { fill } from './corpus_queries.ts';

const { values: args } = parseArgs({
  options: {
    part: { type: 'string', default: 'all' },
    shards: { type: 'string', default: '16' },
    clips: { type: 'string', default: '16' },
    dir: { type: 'string', default: 'bench/.tmp/merge' },
    reuse: { type: 'boolean', default: false },
  },
});
const repo = new URL('..', import.meta.url).pathname;
const cli = join(repo, 'dist/cli.cjs');
const dir = resolve(args.dir!);
const fmtS = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;

function folderBytes(folder: string): number {
  return readdirSync(folder, { withFileTypes: true }).reduce((a, e) => a + (e.isDirectory() ? folderBytes(join(folder, e.name)) : statSync(join(folder, e.name)).size), 0);
}

/** Runs audiosae with the peak-memory probe; returns wall time, peak RSS and output. */
function timedCli(argv: string[], env: NodeJS.ProcessEnv = process.env): { ms: number; peakKb: number; stdout: string } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', join(repo, 'test/helpers/peakRss.mjs'), cli, ...argv], { encoding: 'utf8', env, maxBuffer: 1 << 26 });
  const ms = performance.now() - t0;
  if (r.status !== 0 && r.status !== 3) throw new Error(`audiosae ${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms, peakKb: Number(/peak_rss_kb=(\d+)/.exec(r.stderr)?.[1] ?? NaN), stdout: r.stdout };
}

/** The synthetic store, cut into `n` shard folders of contiguous clip ranges, as `corpus run --shard` writes them. */
async function writeShards(work: string, out: string, n: number): Promise<void> {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const instance = await DuckDBInstance.create(join(work, 'full.duckdb'));
  const conn = await instance.connect();
  let t0 = performance.now();
  await fill(conn);
  const clips = Number((await conn.runAndReadAll('SELECT count(*) FROM clips')).getRows()[0]![0]);
  const features = Number((await conn.runAndReadAll('SELECT count(*) FROM clip_features')).getRows()[0]![0]);
  console.log(`filled a synthetic store (bench/corpus_queries.ts): ${clips} clips, ${features} clip_features rows in ${fmtS(performance.now() - t0)}`);
  t0 = performance.now();
  const run = await runRecord(conn, 'runs');
  const tables = await storeTables(conn);
  for (let i = 0; i < n; i++) {
    const folder = join(out, shardFolderName({ index: i, count: n }));
    mkdirSync(folder, { recursive: true });
    const lo = Math.floor((i * clips) / n);
    const hi = Math.floor(((i + 1) * clips) / n);
    const files: Record<string, TableFile> = {};
    for (const t of tables) {
      const perClip = (await tableColumns(conn, t)).includes('clip_id');
      files[t] = await copyToParquet(conn, `SELECT * FROM ${t}${perClip ? ` WHERE clip_id >= ${lo} AND clip_id < ${hi}` : ''}`, folder, t);
    }
    const marker: ShardMarker = {
      format: MARKER_FORMAT, version: MARKER_VERSION, shards: [i], count: n,
      manifest: { source: '/corpus', checksum: 'synthetic', order: 'synthetic', clips }, request: {}, run, tables: files,
      summary: { clips: hi - lo, failed: 0, audioSeconds: 0, elapsedS: 0 }, engineVersion: ENGINE_VERSION, finishedAt: new Date().toISOString(),
    };
    await writeJson(join(folder, 'done.json'), marker);
  }
  conn.closeSync();
  instance.closeSync();
  rmSync(join(work, 'full.duckdb'), { force: true });
  console.log(`wrote ${n} shard folders (${gib(folderBytes(out))} of Parquet) in ${fmtS(performance.now() - t0)}`);
}

async function mergePart(): Promise<void> {
  const n = Number(args.shards);
  const work = join(dir, 'synthetic');
  const out = join(work, 'out');
  if (args.reuse && existsSync(join(out, shardFolderName({ index: n - 1, count: n }), 'done.json'))) console.log(`reusing the ${n} shard folders in ${out}`);
  else await writeShards(work, out, n);
  const store = join(work, 'merged.duckdb');
  rmSync(store, { force: true });
  const r = timedCli(['corpus', 'merge', out, '--store', store]);
  console.log(`corpus merge of ${n} shards: ${fmtS(r.ms)} wall (SHA-256 of every file, bulk insert, clustering, checkpoint), peak RSS ${(r.peakKb / 1024).toFixed(0)} MiB; store ${gib(statSync(store).size)}`);
  console.log(`  ${r.stdout.trim()}`);
  for (const limit of ['2GB']) {
    rmSync(store, { force: true });
    const bounded = timedCli(['corpus', 'merge', out, '--store', store, '--no-verify', '--memory-limit', limit]);
    console.log(`  --no-verify --memory-limit ${limit}: ${fmtS(bounded.ms)}, peak RSS ${(bounded.peakKb / 1024).toFixed(0)} MiB`);
  }
  rmSync(store, { force: true });
}

/** 30 s clips: tones in noise, one per clip. */
function makeCorpus(folder: string, count: number): string {
  mkdirSync(folder, { recursive: true });
  const rows = ['path,domain'];
  for (let i = 0; i < count; i++) {
    const x = Float32Array.from({ length: 30 * 16000 }, (_, t) => 0.25 * Math.sin((2 * Math.PI * (150 + 40 * i) * t) / 16000) + 0.05 * (Math.random() - 0.5));
    writeFileSync(join(folder, `clip${i}.wav`), makeWav({}, pcm16([x])));
    rows.push(`clip${i}.wav,${['speech', 'music', 'sounds'][i % 3]}`);
  }
  writeFileSync(join(folder, 'corpus.csv'), `${rows.join('\n')}\n`);
  return join(folder, 'corpus.csv');
}

async function arrayPart(): Promise<void> {
  const work = join(dir, 'array');
  rmSync(work, { recursive: true, force: true });
  const setup = spawnSync('bash', [join(repo, 'test/slurm/setup.sh')], { encoding: 'utf8' });
  if (setup.status !== 0) return void console.log(`array part skipped: ${setup.stderr.trim()}`);
  const corpus = makeCorpus(join(work, 'corpus'), Number(args.clips));
  const env: NodeJS.ProcessEnv = { ...process.env, AUDIOSAE_EXECUTION_PROVIDER: 'cpu', AUDIOSAE_CACHE: join(work, 'cache'), PATH: `${process.env.PATH}:/usr/sbin:/sbin` };
  const run = ['--backbone', 'whisper-tiny-random', '--layers', '1,3'];
  timedCli(['corpus', 'run', corpus, ...run, '--store', join(work, 'warm.duckdb')], env); // builds the graphs into the cache
  const single = timedCli(['corpus', 'run', corpus, ...run, '--store', join(work, 'single.duckdb')], env);
  console.log(`one process, ${args.clips} × 30 s clips: ${fmtS(single.ms)}`);
  let sequential = 0;
  for (let i = 0; i < 4; i++) sequential += timedCli(['corpus', 'run', corpus, ...run, '--shard', `${i}/4`, '--out', join(work, 'seq')], env).ms;
  const merge = timedCli(['corpus', 'merge', join(work, 'seq'), '--store', join(work, 'seq.duckdb')], env);
  console.log(`4 shards one after the other: ${fmtS(sequential)} (sum of task times; ${(sequential / single.ms).toFixed(2)}× the single run), merge ${fmtS(merge.ms)}`);

  const cluster = join(work, 'c');
  const started = execFileSync('bash', [join(repo, 'test/slurm/start-cluster.sh'), cluster], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: { ...env, SLURM_TEST_CPUS: String(cpus().length) } });
  for (const m of started.matchAll(/^export (\w+)=(.*)$/gm)) env[m[1]!] = m[2]!;
  try {
    const t0 = performance.now();
    const sub = timedCli(['corpus', 'slurm', corpus, ...run, '--tasks', '4', '--out', join(work, 'slurm')], env);
    const mergeJob = /merge job (\d+)/.exec(sub.stdout)![1]!;
    while (execFileSync('squeue', ['-h', '-j', mergeJob], { encoding: 'utf8', env }).trim() !== '') await new Promise((r) => setTimeout(r, 200));
    const wall = performance.now() - t0;
    const ok = existsSync(join(work, 'slurm', 'corpus.duckdb'));
    console.log(`4-task Slurm array on ${cpus().length} CPUs, submission to merged store: ${fmtS(wall)} (${(single.ms / wall).toFixed(2)}× faster than one process)${ok ? '' : ' — the merge job wrote no store!'}`);
  } finally {
    await new Promise((r) => spawn('bash', [join(repo, 'test/slurm/stop-cluster.sh'), cluster, '--purge'], { stdio: 'ignore' }).on('exit', r));
  }
  rmSync(work, { recursive: true, force: true });
}

if (args.part === 'array' || args.part === 'all') await arrayPart();
if (args.part === 'merge' || args.part === 'all') await mergePart();
