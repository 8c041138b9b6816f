/**
 * Times the "what a feature responds to" verbs (windows, tsne, duplicates, coverage, label-search, profile) on a
 * store of 10 000 clips, through the CLI as users run it, and prints one table: verb, arguments, seconds, peak RSS
 * of the CLI process, rows written.
 *
 * The store: a real `corpus run --keep-frame-codes` of the bundled toy backbone whisper-tiny-random (d 64, layers
 * 1-3) with a random SAE of 6 144 features per layer (written here with Debian python3-torch; the
 * issue's dictionary size) over a small corpus of WAV files written here (tones and noise, 1.5-4 s, three
 * domains, a `loud` manifest column), so that the run's models, SAE hashes and clip paths are genuine. Then the
 * run is grown inside DuckDB to --clips clips: clip n copies the path, hash, frames, metadata and clip_recon rows
 * of real clip n mod R (windows and profile read that real audio), and gets synthetic frame codes on every layer
 * (per frame 16-48 distinct features, mean 32, values 0.05-5; clips marked loud=1 also fire feature 0 in every
 * frame, so label-search has a feature to find); its clip_features rows are aggregated from its frame codes, so
 * the two tables agree. The real clips keep their real codes, encoded with batch top-k (k 32 per frame on
 * average, as the synthetic ones: the random SAE's threshold would let ~2 650 of 6 144 features fire per frame).
 *
 *   npm run build && node --import tsx bench/corpus_verbs_10k.ts [--clips N] [--real R] [--reuse] [--only verb,verb]
 *
 * --reuse keeps the store of an earlier run (under bench/.tmp/verbs10k); --only times just the verbs named (their
 * first word: windows, profile, tsne, duplicates, coverage, label-search). Not part of the test suite.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeWav, pcm16 } from '../test/helpers/wavFiles.ts';

const { values: args } = parseArgs({
  options: {
    clips: { type: 'string', default: '10000' },
    real: { type: 'string', default: '30' },
    reuse: { type: 'boolean', default: false },
    only: { type: 'string' },
  },
});
const CLIPS = Number(args.clips);
const REAL = Number(args.real);
const F = 6144;
const repo = join(import.meta.dirname, '..');
const cli = join(repo, 'dist', 'cli.cjs');
const tmp = join(import.meta.dirname, '.tmp', 'verbs10k');
const corpus = join(tmp, 'corpus');
const saeDir = join(tmp, 'sae');
const store = join(tmp, 'corpus.duckdb');
const out = join(tmp, 'out');
const env = { ...process.env, AUDIOSAE_EXECUTION_PROVIDER: 'cpu', AUDIOSAE_CACHE: join(tmp, 'cache') };
const secs = (t0: number) => (performance.now() - t0) / 1000;

/** R clips of 1.5-4 s at 16 kHz: a tone (speech), a chord (music) or noise bursts (sounds); every 4th one loud. */
function writeCorpus(): void {
  const lines = ['path,domain,dataset,loud'];
  for (let i = 0; i < REAL; i++) {
    const domain = ['speech', 'music', 'sounds'][i % 3]!;
    const rel = join(domain, `c${i}.wav`);
    const seconds = 1.5 + ((i * 7) % 26) / 10;
    const n = Math.round(seconds * 16000);
    const x = new Float32Array(n);
    const loud = i % 4 === 0;
    const gain = loud ? 0.9 : 0.2;
    let s = i + 1;
    for (let t = 0; t < n; t++) {
      s = (s * 1103515245 + 12345) % 2147483648;
      const noise = s / 2147483648 - 0.5;
      const f0 = 150 + 37 * (i % 11);
      const v = domain === 'speech' ? Math.sin((2 * Math.PI * f0 * (1 + 0.1 * Math.sin(t / 800)) * t) / 16000)
        : domain === 'music' ? (Math.sin((2 * Math.PI * f0 * t) / 16000) + Math.sin((2 * Math.PI * f0 * 1.25 * t) / 16000) + Math.sin((2 * Math.PI * f0 * 1.5 * t) / 16000)) / 3
          : (Math.floor(t / 2000) % 2 === 0 ? 2 * noise : 0.1 * noise);
      x[t] = gain * v;
    }
    mkdirSync(join(corpus, domain), { recursive: true });
    writeFileSync(join(corpus, rel), makeWav({ rateHz: 16000 }, pcm16([x])));
    lines.push(`${rel},${domain},${domain}-${i % 2 ? 'b' : 'a'},${loud ? 1 : 0}`);
  }
  writeFileSync(join(corpus, 'manifest.csv'), `${lines.join('\n')}\n`);
}

/** A random SAE (k 32) of F features for each of the toy backbone's 3 layers (d 64). */
function writeSae(): void {
  const py = `
import json, os, sys, torch
D, F, K = 64, ${F}, 32
for layer in (1, 2, 3):
    torch.manual_seed(layer)
    d = os.path.join(sys.argv[1], f'layer_{layer}')
    os.makedirs(d, exist_ok=True)
    dec = torch.randn(D, F)
    dec = dec / dec.norm(dim=0, keepdim=True)
    torch.save({'encoder.weight': dec.t().clone(), 'encoder.bias': torch.empty(F).uniform_(-1.0, 0.2), 'decoder.weight': dec,
                'b_dec': torch.zeros(D), 'k': torch.tensor(K), 'threshold': torch.tensor(0.0)}, os.path.join(d, 'ae.pt'))
    json.dump({'trainer': {'activation_dim': D, 'dict_size': F, 'k': K, 'layer': layer, 'note': 'RANDOM weights, timing only'}},
              open(os.path.join(d, 'config.json'), 'w'))
`;
  const r = spawnSync('/usr/bin/python3', ['-c', py, saeDir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`writing the random SAE into ${saeDir} failed (needs python3-torch): ${r.stderr}`);
}

/** Grows the store's one run to CLIPS clips (see the header). */
async function grow(): Promise<void> {
  const instance = await DuckDBInstance.create(store);
  const conn = await instance.connect();
  try {
    const q = async (sql: string) => (await conn.runAndReadAll(sql)).getRowObjectsJS();
    const [run] = await q('SELECT run_id, layers FROM runs');
    if (!run) throw new Error(`${store} has no run`);
    const id = String(run.run_id);
    const real = Number((await q(`SELECT count(*) AS n FROM clips WHERE run_id = '${id}'`))[0]!.n);
    await conn.run(`CREATE TEMP TABLE src AS SELECT row_number() OVER (ORDER BY clip_id) - 1 AS k, * FROM clips WHERE run_id = '${id}' AND status = 'done'`);
    const done = Number((await q('SELECT count(*) AS n FROM src'))[0]!.n);
    await conn.run(`INSERT INTO clips
      SELECT '${id}', c, s.path, s.domain, s.dataset, s.start_s, s.end_s, s.duration_s, s.frames, s.content_hash, 'done', NULL, s.metadata
      FROM range(${real}, ${CLIPS}) t(c) JOIN src s ON s.k = c % ${done}`);
    await conn.run(`INSERT INTO clip_recon
      SELECT '${id}', r.layer, c.clip_id, r.frames, r.zero_norm_frames, r.sum_l0, r.sum_sq_err, r.sum_err, r.sum_rel_err, r.sum_sq_norm, r.sum_cosine,
             r.sum_norm_ratio, r.sum_x, r.sum_res
      FROM clips c JOIN src s ON s.k = c.clip_id % ${done} JOIN clip_recon r ON r.run_id = '${id}' AND r.clip_id = s.clip_id
      WHERE c.run_id = '${id}' AND c.clip_id >= ${real}`);
    for (const layer of run.layers as number[]) {
      const t0 = performance.now();
      // Per frame 16-48 distinct features (h + k·7919) mod (F − 1) + 1 (7919 is prime), and feature 0 in loud clips.
      await conn.run(`INSERT INTO frame_codes
        SELECT '${id}', ${layer}::SMALLINT, r.clip_id, t, 1 + ((hash(r.clip_id, ${layer}, t) % ${F - 1}) + k * 7919) % ${F - 1}, (0.05 + random() * 4.95)::FLOAT
        FROM clip_recon r, LATERAL range(r.frames) a(t), LATERAL range(16 + (hash(t, r.clip_id, ${layer}) % 33)::INTEGER) b(k)
        WHERE r.run_id = '${id}' AND r.layer = ${layer} AND r.clip_id >= ${real}`);
      await conn.run(`INSERT INTO frame_codes
        SELECT '${id}', ${layer}::SMALLINT, r.clip_id, t, 0, (1 + random() * 4)::FLOAT
        FROM clip_recon r JOIN clips c ON c.run_id = r.run_id AND c.clip_id = r.clip_id, LATERAL range(r.frames) a(t)
        WHERE r.run_id = '${id}' AND r.layer = ${layer} AND r.clip_id >= ${real} AND json_extract_string(c.metadata, '$.loud') = '1'`);
      await conn.run(`INSERT INTO clip_features
        SELECT run_id, layer, clip_id, feature, max(value), arg_max(frame, value), count(*)::INTEGER, sum(value)
        FROM frame_codes WHERE run_id = '${id}' AND layer = ${layer} AND clip_id >= ${real}
        GROUP BY run_id, layer, clip_id, feature`);
      console.log(`layer ${layer}: frame codes and clip features of clips ${real}-${CLIPS - 1} in ${secs(t0).toFixed(1)} s`);
    }
    await conn.run('CHECKPOINT');
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

async function sizes(): Promise<string> {
  const instance = await DuckDBInstance.create(store, { access_mode: 'READ_ONLY' });
  const conn = await instance.connect();
  try {
    const r = (await conn.runAndReadAll(`SELECT (SELECT count(*) FROM clips)::DOUBLE AS clips,
      (SELECT sum(frames) FROM clip_recon WHERE layer = 3)::DOUBLE AS frames, (SELECT count(*) FROM frame_codes)::DOUBLE AS codes,
      (SELECT count(*) FROM frame_codes WHERE layer = 3)::DOUBLE AS codes3, (SELECT count(*) FROM clip_features)::DOUBLE AS cf,
      (SELECT metadata FROM clips LIMIT 1) AS meta`)).getRowObjectsJS()[0]!;
    return `${r.clips} clips, ${r.frames} frames per layer, ${r.codes} frame_codes rows (${r.codes3} on layer 3), ${r.cf} clip_features rows, ` +
      `${(statSync(store).size / 2 ** 30).toFixed(2)} GiB; metadata like ${String(r.meta)}`;
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

interface Timed { verb: string; args: string; s: number; peakMb: number; rows: number; status: number | null; tail: string }

/** One CLI process under /usr/bin/time -v (peak RSS), stdout to a file (rows = its lines less the header). */
function verb(name: string, argv: string[]): Promise<Timed> {
  const stdoutFile = join(out, `${name.replace(/[^a-z0-9]+/gi, '_')}.out`);
  return new Promise((resolve) => {
    const t0 = performance.now();
    const p = spawn('/usr/bin/time', ['-v', process.execPath, cli, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let err = '';
    p.stdout.on('data', (d: Buffer) => chunks.push(d));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('close', (status) => {
      const s = secs(t0);
      const text = Buffer.concat(chunks).toString();
      writeFileSync(stdoutFile, text);
      const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(err);
      const lines = text.trim() ? text.trim().split('\n').length : 0;
      const shown = argv.map((a) => a.replace(tmp, '$TMP')).filter((a, i, all) => a !== '--store' && all[i - 1] !== '--store');
      const errLines = err.split('\n').filter((l) => l && !/^\t|Command being timed|^clips \d+\//.test(l));
      resolve({ verb: name, args: shown.slice(2).join(' '), s, peakMb: rss ? Number(rss[1]) / 1024 : NaN, rows: Math.max(0, lines - 1), status, tail: errLines.slice(-2).join(' | ') });
    });
  });
}

async function main(): Promise<void> {
  if (!spawnSync(process.execPath, [cli, '--help']).stdout) throw new Error(`${cli} is missing: run npm run build first`);
  mkdirSync(tmp, { recursive: true });
  if (!args.reuse || !existsSync(store)) {
    rmSync(store, { force: true });
    rmSync(`${store}.wal`, { force: true });
    rmSync(corpus, { recursive: true, force: true });
    writeCorpus();
    if (!existsSync(join(saeDir, 'layer_3', 'ae.pt'))) writeSae();
    let t0 = performance.now();
    const r = spawnSync(process.execPath, [cli, 'corpus', 'run', join(corpus, 'manifest.csv'), '--backbone', 'whisper-tiny-random', '--sae', saeDir,
      '--layers', 'all', '--mode', 'batch-topk', '--keep-frame-codes', '--store', store], { encoding: 'utf8', env });
    if (r.status !== 0) throw new Error(`corpus run failed (exit ${r.status}): ${r.stderr.slice(-2000)}`);
    console.log(`corpus run of ${REAL} real clips, 3 layers, F ${F}: ${secs(t0).toFixed(1)} s`);
    t0 = performance.now();
    await grow();
    console.log(`grown to ${CLIPS} clips in ${secs(t0).toFixed(1)} s`);
  }
  console.log(`store: ${await sizes()}; ${(await import('node:os')).cpus().length} CPUs`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const S = ['--store', store];
  const results: Timed[] = [];
  const only = args.only?.split(',');
  const run = async (name: string, argv: string[]) => {
    if (only && !only.includes(name.split(' ')[0]!)) return;
    const r = await verb(name, argv);
    results.push(r);
    console.log(`${name}: ${r.s.toFixed(2)} s, ${r.peakMb.toFixed(0)} MB, ${r.rows} rows, exit ${r.status}${r.status ? ` (${r.tail})` : ''}`);
  };
  await run('windows', ['corpus', 'windows', ...S, '--layer', '3', '--feature', '0', '--out', join(out, 'windows-0')]);
  await run('profile', ['corpus', 'profile', ...S, '--layer', '3', '--feature', '0']);
  await run('tsne', ['corpus', 'tsne', ...S, '--layer', '3', '--all-features', '--out', join(out, 'map.csv'), '--plot', join(out, 'map.png')]);
  await run('duplicates', ['corpus', 'duplicates', ...S, '--layer', '3']);
  await run('coverage', ['corpus', 'coverage', ...S, '--layer', '2', '--to-layer', '3']);
  await run('label-search (clip)', ['corpus', 'label-search', ...S, '--layer', '3', '--label', 'loud=1']);
  await run('label-search (frame)', ['corpus', 'label-search', ...S, '--layer', '3', '--label', 'loud=1', '--level', 'frame']);
  console.log(`\n| verb | arguments | seconds | peak MB | rows out | exit |\n|---|---|---:|---:|---:|---:|`);
  for (const r of results) console.log(`| ${r.verb} | \`${r.args}\` | ${r.s.toFixed(2)} | ${r.peakMb.toFixed(0)} | ${r.rows} | ${r.status} |`);
  console.log(`\noutputs in ${out}`);
}

await main();
