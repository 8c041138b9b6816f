/**
 * Times every corpus analysis on a synthetic store of the size: 10 000 clips × 6 144 features × 12 layers
 * (each clip fires 300-599 features per layer: ~54 M clip_features rows; clip_recon with d = 768 arrays), filled
 * inside DuckDB with range()/random(). Runs every query before and after `clusterClipFeatures`, and prints the
 * times. Top clips and one feature's stats are what a UI calls on every click.
 *
 *   node --import tsx bench/corpus_queries.ts [--store PATH] [--reuse] [--clips N] [--features F] [--layers L] [--d D]
 *
 * --reuse keeps a store filled by an earlier run (filling takes a few minutes). Not part of the test suite.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { SCHEMA_SQL } from '../src/engine/store/schema.ts';
import {
  classifyLayer, clusterClipFeatures, corpusMetrics, deadFeatures, featureStats, layerSummary, listRuns, maxActs, resolveRun, streamMaxActs, topClips,
} from '../src/engine/store/queries.ts';
import { featureStatsData } from '../src/extension/featurePage/data.ts';

// Imported (bench/merge.ts reuses `fill`): the default sizes, and no run of its own.
const isMain = import.meta.url === pathToFileURL(process.argv[1] ?? '').href;
const { values: args } = parseArgs({
  args: isMain ? process.argv.slice(2) : [],
  options: {
    store: { type: 'string', default: 'bench/.tmp/corpus_queries.duckdb' },
    reuse: { type: 'boolean', default: false },
    clips: { type: 'string', default: '10000' },
    features: { type: 'string', default: '6144' },
    layers: { type: 'string', default: '12' },
    d: { type: 'string', default: '768' },
  },
});
const CLIPS = Number(args.clips);
const F = Number(args.features);
const LAYERS = Number(args.layers);
const D = Number(args.d);
const RUN = 'bench';
const LAYER = Math.min(6, LAYERS);

const ms = (t0: number) => performance.now() - t0;
const fmt = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)} ms`);

export async function fill(conn: DuckDBConnection): Promise<void> {
  await conn.run(SCHEMA_SQL);
  const layerList = Array.from({ length: LAYERS }, (_, i) => i + 1).join(',');
  await conn.run(`INSERT INTO runs VALUES ('${RUN}', 'whisper-small', 'synthetic', [${layerList}], 'synthetic', '{}', 'threshold', '{}', 'bench',
    ${D}, ${F}, 32, '[]', now()::TIMESTAMP)`);
  // Domains speech / sounds / music / podcast by clip_id % 4 (podcast rarer), 5-30 s clips; 1 % failed.
  await conn.run(`INSERT INTO clips
    SELECT '${RUN}', c, '/corpus/clip_' || c || '.wav',
           CASE WHEN c % 10 < 3 THEN 'speech' WHEN c % 10 < 6 THEN 'sounds' WHEN c % 10 < 9 THEN 'music' ELSE 'podcast' END,
           CASE WHEN c % 10 < 3 THEN (CASE WHEN c % 2 = 0 THEN 'ls' ELSE 'esd' END) WHEN c % 10 < 6 THEN 'fsd50k' WHEN c % 10 < 9 THEN 'jamendo' ELSE NULL END,
           NULL, NULL, (250 + hash(c) % 1250) / 50.0, (250 + hash(c) % 1250)::INTEGER, md5(c::VARCHAR),
           CASE WHEN c % 100 = 99 THEN 'failed' ELSE 'done' END, CASE WHEN c % 100 = 99 THEN 'synthetic failure' END, '{}'
    FROM range(${CLIPS}) t(c)`);
  // Per (clip, layer) 300-599 distinct features: (h + k·7919) mod (F − 144) (7919 is prime, so distinct for
  // k < F − 144); the last 144 features never fire. Domain skew: each domain's clips skip a quarter of the ids.
  const alive = F - 144;
  await conn.run(`INSERT INTO clip_features
    SELECT '${RUN}', l::SMALLINT, c::INTEGER, ((hash(c * 131 + l) % ${alive}) + k * 7919) % ${alive} AS feature,
           (0.05 + random() * 5)::FLOAT, (random() * 249)::INTEGER, 1 + (random() * 40)::INTEGER, random() * 100
    FROM range(${CLIPS}) a(c), range(1, ${LAYERS + 1}) b(l), LATERAL range(0, 300 + (hash(c * 17 + l) % 300)::INTEGER) k(k)
    WHERE (((hash(c * 131 + l) % ${alive}) + k * 7919) % ${alive}) % 4 <> c % 4`);
  await conn.run(`INSERT INTO clip_recon
    SELECT '${RUN}', l::SMALLINT, c::INTEGER, fr, (c % 50 = 0)::INTEGER, fr * 32.0, fr * 0.5, fr * 0.7, fr * 0.2, fr * 10.0, fr * 0.95, fr * 0.9,
           list_transform(range(${D}), i -> random() * fr), list_transform(range(${D}), i -> (random() - 0.5) * fr)
    FROM (SELECT clip_id AS c, frames AS fr FROM clips WHERE run_id = '${RUN}') t, range(1, ${LAYERS + 1}) b(l)`);
  await conn.run('CHECKPOINT');
}

async function time<T>(name: string, f: () => Promise<T>, repeat = 1): Promise<{ name: string; first: number; median: number; result: T }> {
  const times: number[] = [];
  let result!: T;
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    result = await f();
    times.push(ms(t0));
  }
  const sorted = [...times].sort((a, b) => a - b);
  return { name, first: times[0]!, median: sorted[Math.floor(sorted.length / 2)]!, result };
}

async function timeAll(conn: DuckDBConnection): Promise<{ name: string; first: number; median: number; note: string }[]> {
  const out: { name: string; first: number; median: number; note: string }[] = [];
  const add = (r: { name: string; first: number; median: number }, note = '') => out.push({ ...r, note });
  add(await time('listRuns', () => listRuns(conn), 5));
  add(await time('resolveRun', () => resolveRun(conn, undefined, LAYER), 5));
  let feature = 17;
  const top = await time('topClips (n = 10), 20 features', async () => topClips(conn, RUN, LAYER, (feature = (feature * 37 + 11) % F), 10), 20);
  add(top, `${top.result.length} rows`);
  const one = await time('featureStats, one feature, by domain', async () => featureStats(conn, RUN, LAYER, { feature: (feature = (feature * 37 + 11) % F) }), 20);
  add(one, `${one.result.length} rows`);
  add(await time('featureStats, one feature, by dataset', async () => featureStats(conn, RUN, LAYER, { by: 'dataset', feature: (feature = (feature * 37 + 11) % F) }), 20));
  // What the Feature page reads on open (labels come from the sidebar's layer index, read once per layer).
  const page = await time('feature page read, 20 features', async () => featureStatsData(conn, RUN, LAYER, (feature = (feature * 37 + 11) % F), { labels: { label: null, grade: null } }), 20);
  add(page, `${page.result.topClips.length} top clips, ${page.result.histogram.counts.length} bins`);
  add(await time('maxActs, one feature', async () => maxActs(conn, RUN, LAYER, { feature: (feature = (feature * 37 + 11) % F) }), 10));
  add(await time('maxActs, one clip', async () => maxActs(conn, RUN, LAYER, { clipId: (feature = (feature * 37 + 11) % CLIPS) }), 10));
  const m = await time('corpusMetrics (by domain)', () => corpusMetrics(conn, RUN, LAYER, { byDomain: true }), 3);
  add(m, `fve ${m.result[0]!.fve.toFixed(3)}, alive ${m.result[0]!.aliveFraction.toFixed(3)}`);
  const dead = await time('deadFeatures (by domain)', () => deadFeatures(conn, RUN, LAYER, { byDomain: true }), 3);
  add(dead, `${dead.result[0]!.count} dead`);
  const all = await time('featureStats, all features, by domain', () => featureStats(conn, RUN, LAYER), 3);
  add(all, `${all.result.length} rows`);
  add(await time('classifyLayer (frame)', () => classifyLayer(conn, RUN, LAYER, { level: 'frame' }), 3));
  add(await time(`layerSummary (${LAYERS} layers, audio)`, () => layerSummary(conn, RUN, { level: 'audio' })));
  const stream = await time('streamMaxActs, whole layer (count only)', async () => {
    let n = 0;
    for await (const batch of streamMaxActs(conn, RUN, LAYER)) n += batch.length;
    return n;
  });
  add(stream, `${stream.result} rows`);
  return out;
}

function print(title: string, rowsToPrint: { name: string; first: number; median: number; note: string }[]): void {
  console.log(`\n${title}`);
  console.log(`${'query'.padEnd(44)}${'first'.padStart(10)}${'median'.padStart(10)}  note`);
  for (const r of rowsToPrint) console.log(`${r.name.padEnd(44)}${fmt(r.first).padStart(10)}${fmt(r.median).padStart(10)}  ${r.note}`);
}

async function main(): Promise<void> {
  const path = args.store!;
  mkdirSync(dirname(path), { recursive: true });
  if (!args.reuse || !existsSync(path)) {
    rmSync(path, { force: true });
    rmSync(`${path}.wal`, { force: true });
  }
  const fresh = !existsSync(path);
  const instance = await DuckDBInstance.create(path);
  const conn = await instance.connect();
  try {
    if (fresh) {
      const t0 = performance.now();
      await fill(conn);
      console.log(`filled ${path} in ${fmt(ms(t0))}`);
    }
    const counts = (await conn.runAndReadAll('SELECT (SELECT count(*) FROM clip_features)::DOUBLE AS f, (SELECT count(*) FROM clip_recon)::DOUBLE AS r')).getRowObjectsJS()[0]!;
    console.log(`${CLIPS} clips × ${F} features × ${LAYERS} layers, d ${D}: ${counts.f} clip_features rows, ${counts.r} clip_recon rows, ` +
      `${(statSync(path).size / 2 ** 30).toFixed(2)} GiB; layer ${LAYER} queried; ${(await import('node:os')).cpus().length} CPUs`);
    print('as written (clip order)', await timeAll(conn));
    const t0 = performance.now();
    await clusterClipFeatures(conn);
    console.log(`\nclusterClipFeatures: ${fmt(ms(t0))}`);
    print('after clusterClipFeatures (run, layer, feature order)', await timeAll(conn));
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

if (isMain) await main();
