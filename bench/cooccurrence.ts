/**
 * Duplicates (IoU of every pair of features over frames, paper appendix B) on a synthetic store of the issue's
 * size: 6 144 features × 100 000 frames (100 clips of 1 000 frames), 50 distinct active features per frame drawn
 * with a skewed popularity (p ∝ 1 / (rank + 20)), and 40 planted duplicate pairs (feature j + 3 072 is active
 * wherever j is, j < 40, so their IoU is 1). The frame codes go through the real writer (CorpusStore.writeClip,
 * one transaction per clip), then:
 *   - the engine: frame codes read from the store, then the sparse Aᵀ·A with a row accumulator (cooccurrence.ts);
 *   - DuckDB alone: a self-join of frame_codes on (clip, frame) grouped by pair, the IoU from the counts.
 * Both must find the same pairs. Then the coverage pairs (the same codes as two SAEs) and a label search over every
 * frame (a label following feature 0). Prints write throughput, store bytes per code, and each time.
 *
 *   node --import tsx bench/cooccurrence.ts [--frames 100000] [--features 6144] [--k 50] [--store PATH] [--no-sql] [--reuse]
 *
 * Wall and CPU time (all threads) are printed for each step; on a shared machine the CPU time is the steadier.
 * --reuse keeps the store an earlier run filled.
 *
 * Not part of the test suite.
 */
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { frameSetsFromCoo, iouPairs } from '../src/engine/interp/cooccurrence.ts';
import { duplicateFeatures } from '../src/engine/interp/runCooccurrence.ts';
import { labelSearch } from '../src/engine/interp/labelSearch.ts';
import type { SparseCodes } from '../src/engine/sae/index.ts';
import { alignClips, readFrameCodes } from '../src/engine/store/frameCodes.ts';
import { rows } from '../src/engine/store/sqlRows.ts';
import { CorpusStore, type LayerResult } from '../src/engine/store/store.ts';

const { values: args } = parseArgs({
  options: {
    frames: { type: 'string', default: '100000' },
    features: { type: 'string', default: '6144' },
    k: { type: 'string', default: '50' },
    store: { type: 'string', default: 'bench/.tmp/cooccurrence.duckdb' },
    'no-sql': { type: 'boolean', default: false },
    reuse: { type: 'boolean', default: false },
  },
});
const FRAMES = Number(args.frames);
const F = Number(args.features);
const K = Number(args.k);
const PER_CLIP = 1000;
const CLIPS = Math.ceil(FRAMES / PER_CLIP);
const PLANTED = 40;
const D = 8;
const LAYER = 6;

const ms = (t0: number) => performance.now() - t0;
const fmt = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)} ms`);
/** CPU time of this process (all threads, DuckDB's included) since `from`, in ms: steadier than wall time on a shared machine. */
const cpuMs = (from: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000;
};

/** A small deterministic generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One clip's codes: K distinct features per frame by skewed popularity, planted partners added after. */
function clipCodes(random: () => number, frames: number, cdf: Float64Array, order: Int32Array): SparseCodes {
  const rowPtr = new Int32Array(frames + 1);
  const indices: number[] = [];
  const values: number[] = [];
  const chosen = new Set<number>();
  for (let t = 0; t < frames; t++) {
    chosen.clear();
    while (chosen.size < K) {
      const u = random() * cdf[cdf.length - 1]!;
      let lo = 0;
      let hi = cdf.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cdf[mid]! < u) lo = mid + 1;
        else hi = mid;
      }
      const j = order[lo]!;
      if (j >= F / 2 && j < F / 2 + PLANTED) continue; // the planted partners fire only with their feature
      chosen.add(j);
    }
    for (const j of [...chosen]) if (j < PLANTED) chosen.add(j + F / 2);
    for (const j of chosen) {
      indices.push(j);
      values.push(0.1 + 4.9 * random());
    }
    rowPtr[t + 1] = indices.length;
  }
  return { frames, rowPtr, indices: Int32Array.from(indices), values: Float32Array.from(values) };
}

async function fill(store: CorpusStore): Promise<string> {
  const runId = await store.ensureRun({
    backbone: 'synthetic', weights: 'synthetic', layers: [LAYER], sae: 'synthetic', saeSha256: {}, mode: 'threshold',
    options: { keepFrameCodes: true }, engineVersion: 'bench', dModel: D, dictSize: F, k: K,
  }, []);
  const random = rng(7);
  // Popularity by a random permutation of the ids, so that popular features are spread over the id range.
  const order = Int32Array.from({ length: F }, (_, i) => i);
  for (let i = F - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const cdf = new Float64Array(F);
  for (let r = 0, s = 0; r < F; r++) cdf[r] = s += 1 / (r + 20);
  let codes = 0;
  let writeMs = 0;
  let writeCpu = 0;
  for (let c = 0; c < CLIPS; c++) {
    const frames = Math.min(PER_CLIP, FRAMES - c * PER_CLIP);
    const sparse = clipCodes(random, frames, cdf, order);
    codes += sparse.indices.length;
    const zeros = new Float64Array(D);
    const layer: LayerResult = {
      layer: LAYER, features: { feature: new Int32Array(0), maxAct: new Float32Array(0), argmaxFrame: new Int32Array(0), activeFrames: new Int32Array(0), sumAct: new Float64Array(0) },
      recon: { frames, zeroNormFrames: 0, sumL0: sparse.indices.length, sumSqErr: 0, sumErr: 0, sumRelErr: 0, sumSqNorm: 0, sumCosine: 0, sumNormRatio: 0, sumX: zeros, sumRes: zeros },
      frameCodes: [{ startFrame: 0, codes: sparse }],
    };
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await store.writeClip(runId, {
      clipId: c, path: `/synthetic/clip_${c}.wav`, domain: 'speech', dataset: null, startS: null, endS: null, durationS: frames / 50, frames,
      contentHash: `hash${c}`, status: 'done', error: null, metadata: {},
    }, [layer]);
    writeMs += ms(t0);
    writeCpu += cpuMs(c0);
  }
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await store.finishRun(false);
  writeMs += ms(t0);
  writeCpu += cpuMs(c0);
  console.log(`wrote ${CLIPS} clips, ${FRAMES} frames, ${codes} codes (${(codes / FRAMES).toFixed(1)} per frame) through writeClip in ${fmt(writeMs)} wall, ${fmt(writeCpu)} CPU (${(codes / writeMs / 1000).toFixed(2)} M codes/s wall)`);
  return runId;
}

async function main(): Promise<void> {
  mkdirSync(dirname(args.store), { recursive: true });
  let runId: string;
  if (args.reuse && existsSync(args.store)) {
    const reader = await CorpusStore.open(args.store, { readOnly: true });
    runId = String((await rows(reader.connection, 'SELECT run_id FROM runs'))[0]!.run_id);
    reader.close();
  } else {
    for (const suffix of ['', '.wal']) if (existsSync(args.store + suffix)) rmSync(args.store + suffix);
    const writer = await CorpusStore.open(args.store);
    runId = await fill(writer);
    writer.close();
  }
  const bytes = statSync(args.store).size;
  const store = await CorpusStore.open(args.store, { readOnly: true });
  const conn = store.connection;
  const [{ n }] = (await rows(conn, 'SELECT count(*)::DOUBLE AS n FROM frame_codes')) as [{ n: number }];
  console.log(`store: ${(bytes / 1e6).toFixed(1)} MB for ${n} codes (${(bytes / n).toFixed(2)} bytes per code, all tables)`);

  // The engine, in its parts and as the verb calls it.
  let t0 = performance.now();
  let c0 = process.cpuUsage();
  const clips = await alignClips(conn, { runId, layer: LAYER }, { runId, layer: LAYER });
  const coo = await readFrameCodes(conn, runId, LAYER, clips.clipA, clips.frames, clips.offsets, { values: false });
  const readMs = ms(t0);
  const readCpu = cpuMs(c0);
  t0 = performance.now();
  c0 = process.cpuUsage();
  const sets = frameSetsFromCoo(coo, F);
  const r = iouPairs(sets, null, 0.5);
  const pairMs = ms(t0);
  const pairCpu = cpuMs(c0);
  t0 = performance.now();
  c0 = process.cpuUsage();
  const verb = await duplicateFeatures(conn, runId, [LAYER], 0.5);
  const verbMs = ms(t0);
  const verbCpu = cpuMs(c0);
  const s = verb.summaries[0]!;
  console.log(`engine: read ${fmt(readMs)} wall / ${fmt(readCpu)} CPU + pairs ${fmt(pairMs)} wall / ${fmt(pairCpu)} CPU; duplicateFeatures as the verb runs it ${fmt(verbMs)} wall / ${fmt(verbCpu)} CPU → ${s.pairs} pairs, ${s.duplicated} of ${s.alive} alive features duplicated`);
  const planted = r.pairs.filter((p) => p.featureA < PLANTED && p.featureB === p.featureA + F / 2 && p.iou === 1).length;
  if (planted !== PLANTED) throw new Error(`found ${planted} of the ${PLANTED} planted pairs`);

  // Coverage costs Σ_t |A_t|·|B_t| (twice the pairs of one SAE): the layer against itself as another SAE.
  t0 = performance.now();
  c0 = process.cpuUsage();
  const cross = iouPairs(sets, sets, 0.5);
  console.log(`coverage pairs (the same sets as A and B): ${fmt(ms(t0))} wall / ${fmt(cpuMs(c0))} CPU → ${cross.pairs.length} pairs`);
  // Label search over every frame: a label on the frames where feature 0 fires, 10% of them dropped and 1% of
  // the other frames added.
  const random = rng(11);
  const positive = new Uint8Array(sets.frames);
  for (let p = 0; p < coo.frame.length; p++) if (coo.feature[p] === 0) positive[coo.frame[p]!] = 1;
  for (let t = 0; t < positive.length; t++) if (random() < (positive[t] ? 0.1 : 0.01)) positive[t] ^= 1;
  t0 = performance.now();
  c0 = process.cpuUsage();
  const found = labelSearch({ units: sets.frames, unit: coo.frame, feature: coo.feature, value: coo.value, positive }, { step: 0.1, minF1: 0.5 });
  console.log(`label search over ${sets.frames} frames: ${fmt(ms(t0))} wall / ${fmt(cpuMs(c0))} CPU → ${found.candidates} features scanned, best ${found.rows[0]?.feature} at F1 ${found.rows[0]?.f1.toFixed(3)}`);
  if (args['no-sql']) {
    store.close();
    return;
  }

  // DuckDB alone: the same intersections by a self-join.
  t0 = performance.now();
  c0 = process.cpuUsage();
  const sqlPairs = await rows(conn, `
    WITH f AS (SELECT clip_id, frame, feature FROM frame_codes WHERE run_id = $run AND layer = $layer),
         n AS (SELECT feature, count(*) AS n FROM f GROUP BY feature),
         i AS (SELECT a.feature AS fa, b.feature AS fb, count(*) AS inter FROM f a JOIN f b ON a.clip_id = b.clip_id AND a.frame = b.frame AND a.feature < b.feature GROUP BY ALL)
    SELECT fa, fb, inter, na.n + nb.n - inter AS uni FROM i JOIN n na ON na.feature = fa JOIN n nb ON nb.feature = fb
    WHERE inter / (na.n + nb.n - inter) > 0.5 ORDER BY fa, fb`, { run: runId, layer: LAYER });
  const sqlMs = ms(t0);
  const sqlCpu = cpuMs(c0);
  console.log(`DuckDB self-join: ${fmt(sqlMs)} wall / ${fmt(sqlCpu)} CPU → ${sqlPairs.length} pairs`);
  const same = sqlPairs.length === r.pairs.length && sqlPairs.every((p, i) => Number(p.fa) === r.pairs[i]!.featureA && Number(p.fb) === r.pairs[i]!.featureB && Number(p.inter) === r.pairs[i]!.intersect);
  if (!same) throw new Error('the engine and DuckDB found different pairs');
  console.log(`both find the same ${r.pairs.length} pairs, the ${PLANTED} planted ones among them; engine (read + pairs) ${fmt(readMs + pairMs)} wall / ${fmt(readCpu + pairCpu)} CPU vs DuckDB ${fmt(sqlMs)} wall / ${fmt(sqlCpu)} CPU`);
  store.close();
}

await main();
