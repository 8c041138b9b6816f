/**
 * Sharded corpus runs on a real scheduler: a single-node Slurm cluster (Debian's slurmctld, slurmd and munge,
 * installed by test/slurm/setup.sh when missing) started in a temporary folder on ports of its own and stopped
 * afterwards. A small corpus with the toy backbone runs once as one process into a store, and then:
 *   - through `audiosae corpus slurm` as an array of 4 tasks and a merge job (afterok): the merged store equals
 *     the single-process one (every table; exact for counts, ids, maxima, frames, labels; 1e-6 relative for
 *     sums), and so do the verbs' top clips and classification;
 *   - with task 2 cancelled mid-run (scancel JOB_2): `corpus status` reports it, `--resubmit` sends only it
 *     (and a new merge job), and the merge still equals the single run;
 *   - as a Kubernetes Indexed Job would (4 local processes with JOB_COMPLETION_INDEX): the same store; a
 *     shard of another run, a missing shard and a shard given twice are refused by the merge, naming them.
 * Also without a scheduler: SIGUSR1 stops a shard after its clip and a second start completes it.
 * The Slurm tests are skipped (with the reason) only where the packages cannot be installed (not root, no apt-get).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { fixture } from '../helpers/compare.ts';
import { makeWav, pcm16 } from '../helpers/wavFiles.ts';

const repo = new URL('../..', import.meta.url).pathname;
const cli = join(repo, 'dist/cli.cjs');
const tmp = mkdtempSync(join(tmpdir(), 'audiosae-slurm-'));
const cluster = join(tmp, 'c');
const corpus = join(tmp, 'corpus.csv');
const single = join(tmp, 'single.duckdb');
let env: NodeJS.ProcessEnv = { ...process.env, AUDIOSAE_EXECUTION_PROVIDER: 'cpu', AUDIOSAE_CACHE: join(tmp, 'cache') };
let skipReason = '';
let started = false;
const RUN = ['--backbone', 'whisper-tiny-random', '--layers', '1,3', '--keep-frame-codes']; // frame_codes too: every table merges

function audiosae(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env, cwd: tmp });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function slurm(cmd: string, ...args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', env });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ok: () => boolean, timeoutS = 90, more = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutS * 1000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutS} s waiting for ${what}${started ? `; queue: ${slurm('squeue', '-h', '-r')}` : ''}${more()}`);
    await sleep(200);
  }
}

/** How many clips a shard's work store holds (0 where it was not yet made). */
async function storedClips(path: string): Promise<number> {
  if (!existsSync(path) || statSync(path).size === 0) return 0;
  const db = await DuckDBInstance.create(path);
  const conn = await db.connect();
  try {
    const tables = await conn.runAndReadAll("SELECT count(*) FROM information_schema.tables WHERE table_name = 'clips'");
    if (Number(tables.getRows()[0][0]) === 0) return 0;
    return Number((await conn.runAndReadAll('SELECT count(*) FROM clips')).getRows()[0][0]);
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

const inQueue = (job: string) => slurm('squeue', '-h', '-j', job).trim() !== '';

/** The corpus: 8 WAV clips of 2-9 s (tones with noise) over three domains, and one undecodable file. */
function makeCorpus(): void {
  const rows = ['path,domain,dataset'];
  mkdirSync(join(tmp, 'audio'));
  [9, 8, 7, 6, 5, 4, 3, 2].forEach((seconds, i) => {
    const n = seconds * 16000;
    const x = new Float32Array(n);
    let seed = i + 1;
    for (let t = 0; t < n; t++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      x[t] = 0.4 * Math.sin((2 * Math.PI * (180 + 70 * i) * t) / 16000) * (1 + Math.sin(t / (800 + 90 * i))) / 2 + 0.05 * (seed / 2147483648 - 0.5);
    }
    const path = join(tmp, 'audio', `clip${i}.wav`);
    writeFileSync(path, makeWav({}, pcm16([x])));
    rows.push(`audio/clip${i}.wav,${['speech', 'music', 'sounds'][i % 3]},set${i % 2}`);
  });
  copyFileSync(fixture('audio', 'codecs', 'corrupt.flac'), join(tmp, 'audio', 'corrupt.flac'));
  rows.push('audio/corrupt.flac,sounds,set0');
  writeFileSync(corpus, `${rows.join('\n')}\n`);
}

before(async () => {
  makeCorpus();
  const r = audiosae('corpus', 'run', corpus, ...RUN, '--store', single);
  assert.equal(r.code, 3, `one clip fails to decode: ${r.stderr}`);
  const setup = spawnSync('bash', [join(repo, 'test/slurm/setup.sh')], { encoding: 'utf8' });
  if (setup.status === 2) {
    skipReason = `Slurm cannot be installed here: ${setup.stderr.trim()}`;
    return;
  }
  assert.equal(setup.status, 0, `test/slurm/setup.sh failed: ${setup.stderr}`);
  const out = execFileSync('bash', [join(repo, 'test/slurm/start-cluster.sh'), cluster], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  started = true;
  env = { ...env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` };
  for (const m of out.matchAll(/^export (\w+)=(.*)$/gm)) env[m[1]!] = m[2]!;
});

after(() => {
  if (started) spawnSync('bash', [join(repo, 'test/slurm/stop-cluster.sh'), cluster, '--purge'], { stdio: 'ignore' });
  rmSync(tmp, { recursive: true, force: true });
});

/**
 * Every table of `actual` equals `expected`'s: the same rows with every non-DOUBLE column equal (ids, counts,
 * maxima, frames, paths, JSON) and DOUBLE columns (and DOUBLE[] elements) within 1e-6 relative. runs.created_at
 * differs by nature. Returns the worst relative difference seen.
 */
async function assertSameStore(expected: string, actual: string): Promise<number> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const rows = async (q: string) => (await c.runAndReadAll(q)).getRowObjectsJS();
  let worst = 0;
  try {
    await c.run(`ATTACH '${expected}' AS e (READ_ONLY)`);
    await c.run(`ATTACH '${actual}' AS a (READ_ONLY)`);
    const tables = (await rows(`SELECT table_name FROM information_schema.tables WHERE table_catalog = 'e' AND table_schema = 'main' AND table_name <> 'store_info' ORDER BY 1`)).map((r) => String(r.table_name));
    assert.ok(tables.includes('clip_features') && tables.includes('clip_recon'), tables.join());
    for (const t of tables) {
      const cols = await rows(`SELECT column_name AS name, data_type AS type FROM information_schema.columns WHERE table_catalog = 'e' AND table_name = '${t}' ORDER BY ordinal_position`);
      const exact = cols.filter((x) => x.type !== 'DOUBLE' && x.type !== 'DOUBLE[]' && x.name !== 'created_at').map((x) => String(x.name));
      const approx = cols.filter((x) => x.type === 'DOUBLE').map((x) => String(x.name));
      const lists = cols.filter((x) => x.type === 'DOUBLE[]').map((x) => String(x.name));
      const [n] = await rows(`SELECT (SELECT count(*) FROM e.main.${t})::DOUBLE AS e, (SELECT count(*) FROM a.main.${t})::DOUBLE AS a`);
      assert.equal(n!.a, n!.e, `${t}: ${n!.a} rows, the single run has ${n!.e}`);
      const on = exact.map((k) => `x.${k} IS NOT DISTINCT FROM y.${k}`).join(' AND ');
      const join = `FROM e.main.${t} x JOIN a.main.${t} y ON ${on}`;
      const [m] = await rows(`SELECT count(*)::DOUBLE AS n ${join}`);
      if (m!.n !== n!.e) {
        const diff = await rows(`SELECT ${exact.join(', ')} FROM e.main.${t} EXCEPT SELECT ${exact.join(', ')} FROM a.main.${t} LIMIT 3`);
        assert.fail(`${t}: ${Number(n!.e) - Number(m!.n)} rows differ in ${exact.join(', ')}; e.g. ${JSON.stringify(diff, (_, v) => (typeof v === 'bigint' ? Number(v) : v))}`);
      }
      const rel = (x: string, y: string) => `max(abs(${x} - ${y}) / greatest(abs(${x}), abs(${y}), 1e-12))`;
      for (const col of approx) {
        const [r] = await rows(`SELECT ${rel(`x.${col}`, `y.${col}`)} AS d ${join}`);
        worst = Math.max(worst, Number(r!.d ?? 0));
        assert.ok(Number(r!.d ?? 0) <= 1e-6, `${t}.${col}: relative difference ${r!.d}`);
      }
      for (const col of lists) {
        const [r] = await rows(`SELECT ${rel('p', 'q')} AS d FROM (SELECT unnest(x.${col}) AS p, unnest(y.${col}) AS q ${join})`);
        worst = Math.max(worst, Number(r!.d ?? 0));
        assert.ok(Number(r!.d ?? 0) <= 1e-6, `${t}.${col}: relative difference ${r!.d}`);
      }
    }
  } finally {
    c.closeSync();
    db.closeSync();
  }
  return worst;
}

/** The verbs' answers over a store: top clips of a few features and the classification (labels). */
function answers(store: string): string {
  const out: string[] = [];
  for (const feature of ['7', '311']) out.push(audiosae('corpus', 'top-clips', '--store', store, '--layer', '3', '--feature', feature, '--n', '5').stdout);
  const classify = audiosae('corpus', 'classify', '--store', store, '--layer', '1', '--level', 'audio', '--format', 'json');
  assert.equal(classify.code, 0, classify.stderr);
  out.push(JSON.stringify(JSON.parse(classify.stdout).rows));
  return out.join('\n');
}

function submitArray(out: string): { arrays: string[]; array: string; merge: string } {
  const r = audiosae('corpus', 'slurm', corpus, ...RUN, '--tasks', '4', '--out', out);
  assert.equal(r.code, 0, r.stderr);
  const m = /array job\(s\) ([\d, ]+); merge job (\d+)/.exec(r.stdout);
  assert.ok(m, r.stdout);
  const arrays = m[1]!.split(', ');
  return { arrays, array: arrays[0]!, merge: m[2]! };
}

const allGone = (jobs: string[]) => jobs.every((j) => !inQueue(j));

/** The tasks' and merge's logs, for failure messages. */
function logsOf(out: string): string {
  const logs = join(out, 'logs');
  return existsSync(logs) ? readdirSync(logs).map((f) => `--- ${f}\n${readFileSync(join(logs, f), 'utf8')}`).join('\n') : '(no logs)';
}

describe('sharded corpus runs on Slurm', () => {
  it('an array of 4 tasks and its merge job give the store of one process', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const out = join(tmp, 'array');
    const dry = audiosae('corpus', 'slurm', corpus, ...RUN, '--tasks', '4', '--out', out, '--partition', 'debug', '--time', '10:00', '--signal', '60', '--dry-run');
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /#SBATCH --output=.*logs\/%A_%a\.out/);
    assert.match(dry.stdout, /#SBATCH --signal=B:USR1@60/);
    assert.match(dry.stdout, /sbatch --parsable --array=0-3 /);
    assert.match(dry.stdout, /--dependency=afterok:/);
    assert.ok(!existsSync(join(out, 'slurm')), '--dry-run writes nothing');

    const t0 = performance.now();
    const { array, merge } = submitArray(out);
    await until(`merge job ${merge}`, () => !inQueue(merge) && !inQueue(array));
    const wall = (performance.now() - t0) / 1000;
    assert.match(slurm('scontrol', 'show', 'job', merge), /JobState=COMPLETED/);
    for (const i of [0, 1, 2, 3]) assert.ok(existsSync(join(out, 'logs', `${array}_${i}.out`)), `per-task log ${array}_${i}`);
    const status = audiosae('corpus', 'status', out);
    assert.equal(status.code, 0, status.stdout + status.stderr);
    assert.match(status.stdout, /4 shard\(s\): 4 done, 0 running, 0 pending, 0 failed, 0 missing/);
    const worst = await assertSameStore(single, join(out, 'corpus.duckdb'));
    assert.equal(answers(join(out, 'corpus.duckdb')), answers(single));
    t.diagnostic(`4-task array (2 CPUs) to merged store: ${wall.toFixed(1)} s; worst relative difference to the single run ${worst.toExponential(1)}`);
  });

  it('a task cancelled mid-run is reported, resubmitted alone, and the merge is still exact (arrays split at MaxArraySize)', async (t) => {
    if (skipReason) return t.skip(skipReason);
    // MaxArraySize = 3: the 4 tasks go as two arrays (tasks 0-2, and 0 with offset 3).
    writeFileSync(env.SLURM_CONF!, `${readFileSync(env.SLURM_CONF!, 'utf8')}MaxArraySize=3\n`);
    slurm('scontrol', 'reconfigure');
    await until('MaxArraySize 3', () => /MaxArraySize\s*=\s*3\b/.test(slurm('scontrol', 'show', 'config')));
    const out = join(tmp, 'cancel');
    const { arrays, array, merge } = submitArray(out);
    assert.equal(arrays.length, 2, 'two arrays');
    assert.match(readFileSync(join(out, 'slurm', 'jobs.json'), 'utf8'), /"offset": 3/);
    // Cancel once task 2 really runs (its shard folder is started), not at launch (see test/slurm: a cancel
    // landing within ~0.1 s of a launch can be lost).
    await until('task 2 to start', () => existsSync(join(out, 'shard-0002-of-0004', 'shard.json')));
    slurm('scancel', `${array}_2`);
    await until(`arrays ${arrays.join(', ')}`, () => allGone(arrays));
    assert.ok(!existsSync(join(out, 'shard-0002-of-0004', 'done.json')), 'the cancelled shard is not complete');
    const status = audiosae('corpus', 'status', out, '--format', 'json');
    assert.equal(status.code, 3, status.stderr);
    const s = JSON.parse(status.stdout);
    assert.deepEqual(s.counts, { done: 3, running: 0, pending: 0, failed: 1, missing: 0 });
    assert.equal(s.shards[2].state, 'failed');
    assert.equal(s.shards[2].detail, 'CANCELLED');
    assert.equal(s.shards[2].job, `${array}_2`);
    assert.equal(s.shards[3].job, `${arrays[1]}_0`, 'shard 3 is task 0 of the second array');
    assert.ok(inQueue(merge), 'the first merge job waits (afterok cannot hold)');

    const again = audiosae('corpus', 'status', out, '--resubmit');
    assert.equal(again.code, 0, again.stderr);
    const m = /resubmitted shard\(s\) 2 as array job\(s\) (\d+); merge job (\d+)/.exec(again.stdout);
    assert.ok(m, again.stdout);
    await until(`merge job ${m[2]}`, () => !inQueue(m[2]!) && !inQueue(m[1]!), 90, () => logsOf(out));
    assert.ok(!inQueue(merge), 'the old merge job was replaced');
    assert.match(slurm('scontrol', 'show', 'job', m[2]!), /JobState=COMPLETED/);
    assert.match(audiosae('corpus', 'status', out).stdout, /4 done, 0 running, 0 pending, 0 failed, 0 missing/);
    await assertSameStore(single, join(out, 'corpus.duckdb'));
    assert.match(audiosae('corpus', 'status', out, '--resubmit').stdout, /nothing to resubmit/);
  });

});

describe('sharded corpus runs without a scheduler', () => {
  it('SIGUSR1 (Slurm --signal before the time limit) stops a shard after its clip (exit 75); run again, it completes', async () => {
    const out = join(tmp, 'signal');
    const p = spawn(process.execPath, [cli, 'corpus', 'run', corpus, ...RUN, '--shard', '0/2', '--out', out], { env, cwd: tmp, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let signalled = false;
    p.stderr!.on('data', (d) => {
      stderr += d;
      // The shard says it has begun once its handlers are in; signalled then, it has all its clips still to do,
      // so the stop cannot come too late however fast the machine is (progress lines come only after a second).
      if (!signalled && /shard 0\/2: \d+ of \d+ clips/.test(stderr)) signalled = p.kill('SIGUSR1');
    });
    const exited = new Promise<number | null>((resolve) => p.on('exit', resolve));
    assert.equal(await exited, 75, stderr);
    assert.match(stderr, /shard 0\/2 stopped before it was complete; run it again/);
    const folder = join(out, 'shard-0000-of-0002');
    assert.ok(!existsSync(join(folder, 'done.json')));
    const kept = await storedClips(join(folder, 'work.duckdb')); // 0 too where the signal came before the store
    assert.ok(kept < 4, `${kept} clips stored before the stop: the shard has 4`);
    const again = audiosae('corpus', 'run', corpus, ...RUN, '--shard', '0/2', '--out', out);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, new RegExp(` ${kept} already stored`), 'the clips done before the signal are kept');
    assert.ok(existsSync(join(out, 'shard-0000-of-0002', 'done.json')));
    assert.ok(!existsSync(join(out, 'shard-0000-of-0002', 'work.duckdb')), 'the work store goes once the Parquet files are written');
  });

  it('4 processes with JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) merge to the same store; foreign, missing and doubled shards are refused', async () => {
    const out = join(tmp, 'k8s');
    const codes = await Promise.all([0, 1, 2, 3].map((i) => new Promise<number | null>((resolve) => {
      const p = spawn(process.execPath, [cli, 'corpus', 'run', corpus, ...RUN, '--shards', '4', '--out', out], { env: { ...env, JOB_COMPLETION_INDEX: String(i) }, cwd: tmp, stdio: 'ignore' });
      p.on('exit', resolve);
    })));
    assert.deepEqual(codes, [0, 0, 0, 0]);
    const status = audiosae('corpus', 'status', out);
    assert.equal(status.code, 0, status.stdout + status.stderr);
    assert.match(status.stdout, /4 shard\(s\): 4 done/, 'status without Slurm: from the shard folders');
    const again = audiosae('corpus', 'run', corpus, ...RUN, '--shard', '1/4', '--out', out);
    assert.equal(again.code, 0);
    assert.match(again.stderr, /shard 1\/4 is complete .*nothing to do/);

    // A shard of another run (layer 1 only) in the place of shard 2.
    const other = join(tmp, 'other');
    assert.equal(audiosae('corpus', 'run', corpus, '--backbone', 'whisper-tiny-random', '--layers', '1', '--shard', '2/4', '--out', other).code, 0);
    const shard = (dir: string, i: number) => join(dir, `shard-000${i}-of-0004`);
    const foreign = audiosae('corpus', 'merge', shard(out, 0), shard(out, 1), shard(other, 2), shard(out, 3), '--store', join(tmp, 'foreign.duckdb'));
    assert.equal(foreign.code, 1);
    assert.match(foreign.stderr, new RegExp(`${shard(other, 2)} belongs to another run .*differs in run: run `));
    const missing = audiosae('corpus', 'merge', shard(out, 0), shard(out, 1), shard(out, 3), '--store', join(tmp, 'missing.duckdb'));
    assert.match(missing.stderr, /shard\(s\) 2 of 4 are missing/);
    const part = join(tmp, 'part-01');
    assert.equal(audiosae('corpus', 'merge', shard(out, 0), shard(out, 1), '--out', part).code, 0);
    const twice = audiosae('corpus', 'merge', part, shard(out, 1), shard(out, 2), shard(out, 3), '--store', join(tmp, 'twice.duckdb'));
    assert.match(twice.stderr, new RegExp(`shard 1 of 4 is in both ${part} and ${shard(out, 1)}`));
    for (const f of ['foreign', 'missing', 'twice']) assert.ok(!existsSync(join(tmp, `${f}.duckdb`)), `${f}: nothing written`);

    // Associative: (0 ∪ 1) ∪ 2 ∪ 3 and 0 ∪ 1 ∪ 2 ∪ 3 give the single run's store.
    const store = join(tmp, 'k8s.duckdb');
    const merged = audiosae('corpus', 'merge', out, '--store', store);
    assert.equal(merged.code, 0, merged.stderr);
    await assertSameStore(single, store);
    const store2 = join(tmp, 'k8s-partial.duckdb');
    assert.equal(audiosae('corpus', 'merge', part, shard(out, 2), shard(out, 3), '--store', store2).code, 0);
    await assertSameStore(single, store2);
    const marker = JSON.parse(readFileSync(join(shard(out, 2), 'done.json'), 'utf8'));
    assert.equal(marker.manifest.clips, 9);
    assert.deepEqual(Object.keys(marker.tables).sort(), ['clip_features', 'clip_recon', 'clips', 'frame_codes', 'runs']);
    assert.ok(marker.tables.frame_codes.rows > 0, 'frame codes were kept and merged like every table');
  });
});
