/**
 * Corpus throughput (audio-hours per hour) on this machine, all in one run:
 *   bare      the streamed pipeline on every clip (the encoder pass and layer L's SAE, window by window), no
 *             store, no statistics; it opens the backbone and loads the SAE inside its timing, as a run does
 *   store     `corpus run` for layer L into a fresh DuckDB store (file hashes, statistics, transactional writes,
 *             the clustering at the end); its one-time parts (run registration, the final clustering) are also
 *             shown apart from the per-clip work
 *   sweep     `corpus run` for layers 1..L in one encoder pass, against layer L alone
 *   separate  (with --separate) the bare pipeline once per layer 1..L: what a sweep costs without the one pass
 * bare and store alternate (bare, store, bare, store) so that a machine getting busier or quieter biases neither;
 * on ~20 minutes of 30 s clips, with real-size random weights from bench/make_real_size_whisper.py or
 * bench/make_real_size_hubert.py. Then peak memory of `corpus run` (toy backbone) for 100 and 1000 clips.
 * Run: npm run build && npx tsx bench/corpus.ts <models folder> [whisper-small|hubert-base] [L=12] [minutes=20] [--pairs=N (2)] [--no-sweep] [--separate] [--no-memory]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openAudio16kStream } from '../src/engine/audio/index.ts';
import { loadCorpus } from '../src/engine/corpus/manifest.ts';
import { runCorpus } from '../src/engine/corpus/run.ts';
import { encoderPass } from '../src/engine/pipeline/activations.ts';
import { openBackbone } from '../src/engine/pipeline/backbone.ts';
import { loadSae, runSae, type Sae } from '../src/engine/sae/index.ts';
import { InProcessRunner } from '../src/engine/runtime/inProcess.ts';
import { CorpusStore } from '../src/engine/store/store.ts';
import { makeWav, pcm16 } from '../test/helpers/wavFiles.ts';

const flags = new Set(process.argv.slice(2).filter((a) => a.startsWith('--')));
const [models, backboneId = 'whisper-small', layersArg = '12', minutesArg = '20'] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
if (!models) throw new Error('usage: npx tsx bench/corpus.ts <real-size models folder> [whisper-small|hubert-base] [L] [minutes]');
const L = Number(layersArg);
const tmp = join(import.meta.dirname, '.tmp', 'corpus-bench');
const cacheDir = join(tmp, 'graphs');

function clip(path: string, seconds: number, seed: number): void {
  if (existsSync(path)) return;
  mkdirSync(join(path, '..'), { recursive: true });
  const n = Math.round(seconds * 16000);
  const x = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    x[i] = 0.3 * Math.sin((2 * Math.PI * (180 + 40 * (seed % 7) + 60 * Math.floor(i / 24000)) * i) / 16000) + 0.05 * (s / 2147483648 - 0.5);
  }
  writeFileSync(path, makeWav({ rateHz: 16000 }, pcm16([x])));
}

const clipCount = Math.round((Number(minutesArg) * 60) / 30);
const clipsDir = join(tmp, `clips-${clipCount}`); // one folder per size: it holds exactly the corpus asked for
for (let i = 0; i < clipCount; i++) clip(join(clipsDir, ['speech', 'music', 'sounds'][i % 3]!, `c${i}.wav`), 30, i + 1);
const corpus = await loadCorpus(clipsDir);
const audioHours = clipCount * 30 / 3600;
const weightsFolder = join(models, backboneId);
const sae = (layer: number) => join(models, 'sae', `layer_${layer}`, 'ae.pt');
const runner = new InProcessRunner();
const rate = (seconds: number) => audioHours / (seconds / 3600);
const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

/** The bare streamed pipeline: each clip window by window through the encoder and the layers' SAEs, nothing kept. */
async function bare(layers: number[]): Promise<number> {
  const t = performance.now();
  const backbone = await openBackbone(weightsFolder);
  const saes = new Map<number, Sae>();
  for (const l of layers) saes.set(l, await loadSae(sae(l)));
  for (const c of corpus.clips) {
    const audio = await openAudio16kStream(c.path, runner);
    await encoderPass(runner, backbone, audio.reader, {
      layers, cacheDir,
      onChunk: async (_start, _frames, acts) => {
        for (const [layer, x] of acts) await runSae(runner, saes.get(layer)!, x, { mode: 'threshold' });
      },
    });
    await audio.close();
  }
  return (performance.now() - t) / 1000;
}

/** A corpus run into a fresh store: total seconds, and the part from the first clip's start to the last clip's end. */
async function stored(layers: number[], clips = corpus): Promise<{ total: number; clips: number }> {
  const path = join(tmp, `store-${layers.join('_')}.duckdb`);
  rmSync(path, { force: true });
  rmSync(`${path}.wal`, { force: true });
  const store = await CorpusStore.open(path);
  const t = performance.now();
  let firstStart = 0;
  let lastEnd = 0;
  await runCorpus(runner, {
    corpus: clips, store, backboneId, weightsFolder, saePaths: new Map(layers.map((l) => [l, sae(l)])), saeSource: models, cacheDir,
    onProgress: (p) => {
      lastEnd = performance.now();
      // The first clip's start is estimated from its end minus the mean per-clip time of the rest.
      if (p.processed === 1) firstStart = lastEnd;
    },
  });
  store.close();
  const total = (performance.now() - t) / 1000;
  const perClip = (lastEnd - firstStart) / 1000 / Math.max(1, clipCount - 1);
  return { total, clips: perClip * clipCount };
}

// Warm-up on two clips: build every graph once, load the runtime (not timed).
const two = { ...corpus, clips: corpus.clips.slice(0, 2) };
await stored(range(L), two);
await stored([L], two);
const bareRuns: number[] = [];
const storeRuns: { total: number; clips: number }[] = [];
const pairs = Number([...flags].find((f) => f.startsWith('--pairs='))?.slice(8) ?? 2);
for (let i = 0; i < pairs; i++) {
  bareRuns.push(await bare([L]));
  storeRuns.push(await stored([L]));
}
const sweep = flags.has('--no-sweep') ? undefined : await stored(range(L));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const bareL = mean(bareRuns);
const storeL = mean(storeRuns.map((r) => r.total));
const storeClips = mean(storeRuns.map((r) => r.clips));
const name = backboneId === 'hubert-base' ? 'HuBERT-base' : 'Whisper-small';
console.log(`\nCorpus throughput, ${clipCount} clips × 30 s (${(audioHours * 60).toFixed(0)} min), real-size random ${name}, CPU`);
console.log(`  bare pipeline, layer ${L}              ${bareL.toFixed(1)} s   ${rate(bareL).toFixed(1)} audio-h/h   (runs ${bareRuns.map((x) => x.toFixed(1)).join(', ')} s)`);
console.log(`  corpus run into a store, layer ${L}    ${storeL.toFixed(1)} s   ${rate(storeL).toFixed(1)} audio-h/h   store + statistics: ${(100 * (storeL / bareL - 1)).toFixed(1)}%   (runs ${storeRuns.map((r) => r.total.toFixed(1)).join(', ')} s)`);
console.log(`    of which the clips                 ${storeClips.toFixed(1)} s   per clip: ${(100 * (storeClips / bareL - 1)).toFixed(1)}% over bare; one-time (registration, hashes of the SAEs, clustering): ${(storeL - storeClips).toFixed(1)} s`);
// Each pair ran back to back: its own ratio is the least disturbed by a machine getting busier or quieter.
const pairRatios = bareRuns.map((b, i) => storeRuns[i]!.total / b - 1).sort((a, b) => a - b);
console.log(`    per pair (bare then store)         ${pairRatios.map((r) => `${(100 * r).toFixed(1)}%`).join(', ')}; median ${(100 * pairRatios[Math.floor((pairRatios.length - 1) / 2)]!).toFixed(1)}%`);
if (sweep) console.log(`  corpus run, layers 1-${L} (one pass)    ${sweep.total.toFixed(1)} s   ${rate(sweep.total).toFixed(1)} audio-h/h   ${(sweep.total / storeL).toFixed(2)}× layer ${L} alone`);
if (flags.has('--separate') && sweep) {
  let separate = 0;
  for (let l = 1; l <= L; l++) separate += await bare([l]);
  console.log(`  bare, layers 1-${L} one at a time       ${separate.toFixed(1)} s   ${rate(separate).toFixed(1)} audio-h/h   one pass is ${(separate / sweep.total).toFixed(2)}× faster`);
}
await runner.dispose();
if (flags.has('--no-memory')) process.exit(0);

// Peak memory of the CLI's corpus run as the corpus grows (toy backbone, 1 s clips).
const cli = join(import.meta.dirname, '..', 'dist', 'cli.cjs');
const hook = join(import.meta.dirname, '..', 'test', 'helpers', 'peakRss.mjs');
for (const n of [100, 1000]) {
  const dir = join(tmp, `small-${n}`);
  for (let i = 0; i < n; i++) clip(join(dir, ['speech', 'music', 'sounds'][i % 3]!, `s${i}.wav`), 1, i + 7);
  const store = join(tmp, `small-${n}.duckdb`);
  rmSync(store, { force: true });
  rmSync(`${store}.wal`, { force: true });
  const t = performance.now();
  const r = spawnSync(process.execPath, ['--import', hook, cli, 'corpus', 'run', dir, '--backbone', 'whisper-tiny-random', '--layers', 'all', '--store', store], {
    encoding: 'utf8', env: { ...process.env, AUDIOSAE_EXECUTION_PROVIDER: 'cpu', AUDIOSAE_CACHE: cacheDir },
  });
  const kb = Number(/peak_rss_kb=(\d+)/.exec(r.stderr)?.[1]);
  console.log(`  corpus run (toy, 3 layers), ${String(n).padStart(4)} clips of 1 s: peak RSS ${(kb / 1024).toFixed(0)} MB, ${((performance.now() - t) / 1000).toFixed(1)} s${r.status === 0 ? '' : ` (exit ${r.status}: ${r.stderr.trim().split('\n').pop()})`}`);
}
