/**
 * `audiosae corpus run` on a corpus whose answer is known by design (test/reference/make_design_corpus.py):
 * 6 speech, 6 music and 6 sounds clips and an SAE per layer of whisper-tiny-random built by hand so that
 * feature 0 fires in every speech clip and nowhere else, 1 in music, 2 in sounds, 3 speech+music,
 * 4 speech+sounds, 5 sounds+music, 6 everywhere, and 7 never. The generator checked with numpy that these give
 * the intended appendix-C labels and wrote what every clip's row must hold to expected.json. Here the real
 * pipeline runs the corpus into a store, and the store, the engine's queries and the CLI verbs must give those
 * answers. A second group checks the pipeline's guarantees on the same corpus: a run killed with SIGKILL and
 * resumed, and an incremental run after clips were added, changed and removed, end with exactly the tables of
 * one clean run.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { classifyLayer, deadFeatures, featureStats, topClips } from '../../src/engine/store/queries.ts';
import { fixture } from '../helpers/compare.ts';

interface ClipValues { active_frames: number; max_act: number; sum_act: number }
interface LabelGrade { label: string; grade: number | null }
interface ExpectedFeature {
  feature: number;
  name: string;
  domains: string[];
  intended_audio: Record<string, string>;
  audio: Record<string, LabelGrade>;
  frame: Record<string, LabelGrade>;
  top_clips: string[];
  clips: Record<string, ClipValues>;
}
interface Expected {
  layers: number[];
  dict_size: number;
  clips: { path: string; domain: string; frames: number }[];
  tolerance: { max_act: number; sum_act: number };
  per_layer: Record<string, { features: ExpectedFeature[]; dead: number[] }>;
}

const cli = new URL('../../dist/cli.cjs', import.meta.url).pathname;
const corpusDir = fixture('design-corpus');
const saeDir = join(corpusDir, 'sae');
const expected = JSON.parse(readFileSync(join(corpusDir, 'expected.json'), 'utf8')) as Expected;
const DOMAINS = ['speech', 'sounds', 'music'];
const tmp = mkdtempSync(join(tmpdir(), 'audiosae-design-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const env = { ...process.env, AUDIOSAE_EXECUTION_PROVIDER: 'cpu', AUDIOSAE_CACHE: join(tmp, 'cache') };

function runArgs(corpus: string, store: string): string[] {
  return [cli, 'corpus', 'run', corpus, '--backbone', 'whisper-tiny-random', '--layers', 'all', '--sae', saeDir, '--store', store];
}

function corpusRun(corpus: string, store: string) {
  const r = spawnSync(process.execPath, runArgs(corpus, store), { encoding: 'utf8', env });
  assert.equal(r.status, 0, `corpus run ${corpus} → ${store} exited ${r.status}: ${r.stderr}`);
  const m = /(\d+) clips: (\d+) run, (\d+) already stored, (\d+) removed, (\d+) failed/.exec(r.stdout);
  assert.ok(m, `no summary line in: ${r.stdout}`);
  const [clips, ran, stored, removed, failed] = m.slice(1).map(Number) as [number, number, number, number, number];
  return { clips, ran, stored, removed, failed, stdout: r.stdout };
}

function cliJson(...args: string[]): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args, '--format', 'json'], { env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`audiosae ${args.join(' ')} exited ${code}: ${err}`));
      try {
        resolve(JSON.parse(out) as Record<string, unknown>);
      } catch (e) {
        reject(new Error(`audiosae ${args.join(' ')}: ${(e as Error).message} in ${JSON.stringify(out)} (stderr: ${err})`));
      }
    });
  });
}

async function withStore<T>(path: string, fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
  const conn = await instance.connect();
  try {
    return await fn(conn);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

async function query(conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await conn.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
}

/** A clip's path relative to its corpus folder (stores of copies of the corpus compare by it). */
function relative(path: unknown, root: string): string {
  assert.equal(typeof path, 'string');
  assert.ok((path as string).startsWith(root + '/'), `${String(path)} is not under ${root}`);
  return (path as string).slice(root.length + 1);
}

/**
 * Every row of clips, clip_features and clip_recon, keyed by the clip's relative path and sorted, with every
 * value as stored (FLOAT, DOUBLE and DOUBLE[] exactly); clip_id kept only when `withClipIds`.
 */
async function tables(store: string, root: string, withClipIds: boolean) {
  return withStore(store, async (conn) => {
    type Keyed = Record<string, unknown> & { path: string };
    const keyed = async (sql: string): Promise<Keyed[]> => (await query(conn, sql)).map(({ path, clip_id, ...r }) =>
      ({ path: relative(path, root), ...(withClipIds ? { clip_id } : {}), ...r }));
    const byLayerPath = (a: Keyed, b: Keyed) => Number(a.layer) - Number(b.layer) || a.path.localeCompare(b.path);
    const runs = await query(conn, 'SELECT * EXCLUDE (created_at) FROM runs');
    const clips = (await keyed(`SELECT * EXCLUDE (metadata), metadata::VARCHAR AS metadata FROM clips`)).sort((a, b) => a.path.localeCompare(b.path));
    const features = (await keyed(`SELECT f.*, c.path FROM clip_features f JOIN clips c USING (run_id, clip_id)`))
      .sort((a, b) => byLayerPath(a, b) || Number(a.feature) - Number(b.feature));
    const recon = (await keyed(`SELECT r.*, c.path FROM clip_recon r JOIN clips c USING (run_id, clip_id)`)).sort(byLayerPath);
    return { runs, clips, features, recon };
  });
}

function assertSameTables(actual: Awaited<ReturnType<typeof tables>>, reference: Awaited<ReturnType<typeof tables>>, what: string): void {
  assert.deepEqual(actual.runs, reference.runs, `${what}: runs`);
  assert.deepEqual(actual.clips, reference.clips, `${what}: clips`);
  assert.equal(actual.features.length, reference.features.length, `${what}: clip_features rows`);
  for (let i = 0; i < reference.features.length; i++) assert.deepEqual(actual.features[i], reference.features[i], `${what}: clip_features row ${i}`);
  assert.equal(actual.recon.length, reference.recon.length, `${what}: clip_recon rows`);
  for (let i = 0; i < reference.recon.length; i++) assert.deepEqual(actual.recon[i], reference.recon[i], `${what}: clip_recon row ${i}`);
}

/** One clean run of the fixture corpus, shared by both groups (made by whichever needs it first). */
let cleanStore: Promise<string> | undefined;
function clean(): Promise<string> {
  cleanStore ??= Promise.resolve().then(() => {
    const store = join(tmp, 'c.duckdb');
    const r = corpusRun(corpusDir, store);
    assert.deepEqual([r.clips, r.ran, r.stored, r.removed, r.failed], [expected.clips.length, expected.clips.length, 0, 0, 0], r.stdout);
    return store;
  });
  return cleanStore;
}

async function onlyRun(conn: DuckDBConnection): Promise<string> {
  const runs = await query(conn, 'SELECT run_id, mode, layers, dict_size FROM runs');
  assert.equal(runs.length, 1, 'one run in the store');
  assert.equal(runs[0]!.mode, 'threshold', 'the SAEs store a threshold: threshold mode');
  assert.deepEqual(runs[0]!.layers, expected.layers);
  assert.equal(runs[0]!.dict_size, expected.dict_size);
  return String(runs[0]!.run_id);
}

describe('the design corpus: a corpus run finds the answer built into it', () => {
  it('every clip is done, and each feature fires in exactly its domains\' clips with the designed values', async () => {
    const store = await clean();
    await withStore(store, async (conn) => {
      await onlyRun(conn);
      const clips = await query(conn, 'SELECT clip_id, path, domain, status, frames FROM clips ORDER BY clip_id');
      assert.deepEqual(
        clips.map((c) => [relative(c.path, corpusDir), c.domain, c.status, c.frames]).sort(),
        expected.clips.map((c) => [c.path, c.domain, 'done', c.frames]).sort(),
        'clips: path, domain, status, frames',
      );
      const rows = await query(conn, `SELECT f.layer, f.feature, c.path, f.max_act, f.active_frames, f.sum_act FROM clip_features f JOIN clips c USING (run_id, clip_id)`);
      const tol = expected.tolerance;
      let worst = 0;
      for (const layer of expected.layers) {
        const ofLayer = rows.filter((r) => r.layer === layer);
        for (const f of expected.per_layer[layer]!.features) {
          const got = new Map(ofLayer.filter((r) => r.feature === f.feature).map((r) => [relative(r.path, corpusDir), r]));
          const what = `layer ${layer} feature ${f.feature} (${f.name})`;
          assert.deepEqual([...got.keys()].sort(), Object.keys(f.clips).sort(), `${what}: the clips where it fires`);
          for (const [path, want] of Object.entries(f.clips)) {
            const r = got.get(path)!;
            assert.equal(r.active_frames, want.active_frames, `${what}, ${path}: active frames`);
            const d = Math.abs(Number(r.max_act) - want.max_act);
            worst = Math.max(worst, d);
            assert.ok(d <= tol.max_act, `${what}, ${path}: max_act ${String(r.max_act)} vs ${want.max_act}`);
            assert.ok(Math.abs(Number(r.sum_act) - want.sum_act) <= tol.sum_act, `${what}, ${path}: sum_act ${String(r.sum_act)} vs ${want.sum_act}`);
          }
          // Top clips straight from the table: its domains' clips, in the designed order, and no other clip.
          const ranked = [...got.entries()].sort((a, b) => Number(b[1].max_act) - Number(a[1].max_act)).map(([p]) => p);
          assert.deepEqual(ranked, f.top_clips, `${what}: clips by max_act`);
          for (const p of ranked) assert.ok(f.domains.includes(p.split('/')[0]!), `${what}: ${p} outside ${f.domains.join('+')}`);
        }
        for (const j of expected.per_layer[layer]!.dead) assert.equal(ofLayer.filter((r) => r.feature === j).length, 0, `layer ${layer}: dead feature ${j} has rows`);
      }
      // The reconstruction rows agree with the feature rows: Σ_t L0 = Σ over features of active frames.
      const l0 = await query(conn, `SELECT r.layer, r.clip_id, r.sum_l0, r.frames, (SELECT coalesce(sum(f.active_frames), 0) FROM clip_features f
        WHERE f.run_id = r.run_id AND f.layer = r.layer AND f.clip_id = r.clip_id)::DOUBLE AS active FROM clip_recon r`);
      assert.equal(l0.length, expected.layers.length * expected.clips.length, 'one clip_recon row per layer and clip');
      for (const r of l0) assert.equal(r.sum_l0, r.active, `layer ${String(r.layer)} clip ${String(r.clip_id)}: sum_l0`);
      console.log(`design corpus: worst |max_act − numpy design| = ${worst.toExponential(2)}`);
    });
  });

  it('the engine\'s queries: classification (audio and frame level, four combinations), top clips, dead features', async () => {
    await withStore(await clean(), async (conn) => {
      const runId = await onlyRun(conn);
      for (const layer of expected.layers) {
        const exp = expected.per_layer[layer]!;
        for (const level of ['audio', 'frame'] as const) {
          const got = (await classifyLayer(conn, runId, layer, { level })).rows;
          for (const f of exp.features) {
            for (const [combination, want] of Object.entries(f[level])) {
              const row = got.find((r) => r.feature === f.feature && r.combination === combination);
              assert.deepEqual(row && { label: row.label, grade: row.grade }, want, `layer ${layer} ${level} ${combination} feature ${f.feature} (${f.name})`);
              if (level === 'audio') assert.equal(row!.label, f.intended_audio[combination], `layer ${layer}: ${f.name} by design`);
            }
          }
        }
        for (const f of exp.features) {
          const top = await topClips(conn, runId, layer, f.feature, expected.clips.length);
          assert.deepEqual(top.map((t) => relative(t.clip, corpusDir)), f.top_clips, `layer ${layer} feature ${f.feature} (${f.name}): top clips`);
          assert.ok(top.every((t) => f.domains.includes(t.domain)));
        }
        const dead = await deadFeatures(conn, runId, layer, { byDomain: true });
        assert.deepEqual(dead[0]!.features, exp.dead, `layer ${layer}: dead features`);
        for (const row of dead.slice(1)) {
          const silent = exp.features.filter((f) => !f.domains.includes(row.domain!)).map((f) => f.feature);
          assert.deepEqual(row.features, silent, `layer ${layer}: dead in ${row.domain}`);
        }
      }
    });
  });

  it('the CLI verbs: corpus classify, top-clips and dead say the same', async () => {
    const store = await clean();
    const checks: (() => Promise<void>)[] = [];
    for (const layer of expected.layers) {
      const exp = expected.per_layer[layer]!;
      const base = ['--store', store, '--layer', String(layer)];
      for (const level of ['audio', 'frame'] as const) {
        checks.push(() => cliJson('corpus', 'classify', ...base, '--level', level).then((out) => {
          const rows = out.rows as { feature: number; combination: string; label: string; grade: number | null }[];
          for (const f of exp.features) {
            for (const [combination, want] of Object.entries(f[level])) {
              const row = rows.find((r) => r.feature === f.feature && r.combination === combination);
              assert.deepEqual(row && { label: row.label, grade: row.grade }, want, `CLI layer ${layer} ${level} ${combination} ${f.name}`);
            }
          }
        }));
      }
      checks.push(() => cliJson('corpus', 'dead', ...base).then((out) => {
        assert.deepEqual((out.rows as { feature: number }[]).map((r) => r.feature), exp.dead, `CLI layer ${layer}: dead`);
      }));
    }
    // Top clips of the single-domain and shared features of the middle layer (the queries test covers every layer).
    const layer = expected.layers[1]!;
    for (const f of expected.per_layer[layer]!.features.filter((x) => x.domains.length > 0 && x.domains.length < DOMAINS.length)) {
      checks.push(() => cliJson('corpus', 'top-clips', '--store', store, '--layer', String(layer), '--feature', String(f.feature), '--n', String(expected.clips.length)).then((out) => {
        const rows = out.rows as { clip: string; domain: string }[];
        assert.deepEqual(rows.map((r) => relative(r.clip, corpusDir)), f.top_clips, `CLI layer ${layer} ${f.name}: top clips`);
      }));
    }
    const workers = Array.from({ length: 4 }, async () => {
      for (let c = checks.shift(); c; c = checks.shift()) await c();
    });
    await Promise.all(workers);
  });
});

/** Starts a run and SIGKILLs it once a few clips are committed; resolves with how the process ended. */
function runKilledMidway(corpus: string, store: string): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, runArgs(corpus, store), { env });
    let killed = false;
    const kill = () => {
      if (!killed) {
        killed = true;
        child.kill('SIGKILL');
      }
    };
    // Each clip is one committed transaction, appended to DuckDB's write-ahead log (8-14 kB a clip here, after
    // ~3.5 kB of schema): past 20 kB at least two clips are in. The first progress line (after 1 s) also does.
    const poll = setInterval(() => {
      try {
        if (statSync(`${store}.wal`).size > 20_000) kill();
      } catch {
        // no log yet
      }
    }, 3);
    child.stderr.on('data', (d) => {
      if (/clips [1-9]\d*\//.test(String(d))) kill();
    });
    child.on('close', (code, signal) => {
      clearInterval(poll);
      resolve({ code, signal });
    });
  });
}

/**
 * A temporary copy of the corpus (the incremental test changes it), run once with a SIGKILL in the middle and
 * then to completion; shared by both tests below (made by whichever needs it first).
 */
let resumed: Promise<{ corpus: string; store: string; summary: ReturnType<typeof corpusRun>; killed: { code: number | null; signal: NodeJS.Signals | null } }> | undefined;
function killedAndResumed() {
  resumed ??= (async () => {
    const corpus = join(tmp, 'copy', 'corpus');
    for (const domain of DOMAINS) cpSync(join(corpusDir, domain), join(corpus, domain), { recursive: true });
    const store = join(tmp, 'copy', 'killed.duckdb');
    const killed = await runKilledMidway(corpus, store);
    return { corpus, store, killed, summary: corpusRun(corpus, store) };
  })();
  return resumed;
}

describe('the design corpus: resumed and incremental runs end with the tables of one clean run', () => {
  it('kill -9 in the middle of a run, then run again: the same clips, features and reconstruction sums, exactly', async () => {
    const reference = await tables(await clean(), corpusDir, true);
    const { corpus, store, killed, summary } = await killedAndResumed();
    assert.equal(killed.signal, 'SIGKILL', `the run ended by itself (exit ${killed.code}) before it could be killed`);
    const n = expected.clips.length;
    assert.equal(summary.clips, n);
    assert.ok(summary.stored >= 1 && summary.stored < n, `the resumed run kept the clips committed before the kill: ${summary.stdout}`);
    assert.equal(summary.ran + summary.stored, n, summary.stdout);
    assert.deepEqual([summary.removed, summary.failed], [0, 0]);
    console.log(`design corpus: killed after ${summary.stored} of ${n} clips were stored; the second run ran ${summary.ran}`);
    // Same corpus in another folder: the same run, clip ids and rows (paths compared relative to each folder).
    assertSameTables(await tables(store, corpus, true), reference, 'killed and resumed vs clean');
  });

  it('clips added, changed and removed: only those run, and the tables equal a clean run over the changed corpus', async () => {
    const { corpus, store: resumedStore } = await killedAndResumed();
    const store = join(tmp, 'copy', 'incremental.duckdb');
    copyFileSync(resumedStore, store);
    copyFileSync(join(corpus, 'speech', 's1_en-us.wav'), join(corpus, 'speech', 's7_added.wav')); // added
    copyFileSync(join(corpusDir, 'sounds', 'n2_pink-noise.wav'), join(corpus, 'music', 'm2_a-minor-saw.wav')); // changed: other bytes
    rmSync(join(corpus, 'sounds', 'n6_thumps.wav')); // removed
    const n = expected.clips.length;
    const again = corpusRun(corpus, store);
    assert.deepEqual([again.clips, again.ran, again.stored, again.removed, again.failed], [n, 2, n - 2, 1, 0], again.stdout);

    const cleanStore = join(tmp, 'copy', 'clean.duckdb');
    const fresh = corpusRun(corpus, cleanStore);
    assert.deepEqual([fresh.ran, fresh.stored], [n, 0]);
    const inc = await tables(store, corpus, false);
    assertSameTables(inc, await tables(cleanStore, corpus, false), 'incremental vs clean');
    assert.ok(inc.clips.some((c) => c.path === 'speech/s7_added.wav') && !inc.clips.some((c) => c.path === 'sounds/n6_thumps.wav'));

    // The statistics follow: per-feature stats of every layer equal the clean run's.
    const stats = (path: string) => withStore(path, async (conn) => {
      const runId = await onlyRun(conn);
      return Promise.all(expected.layers.map((layer) => featureStats(conn, runId, layer)));
    });
    assert.deepEqual(await stats(store), await stats(cleanStore));
  });
});
