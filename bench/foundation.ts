/**
 * This project's side of the foundation benchmark (bench/run.mjs runs it next to bench/reference.py).
 * Prints one JSON object: {name: {seconds: median, runs}} for
 *   frontend.<clip>  decode + mono + resample to 16 kHz + Whisper log-mel (all windows)
 *   logmel.<clip>    the log-mel alone (16 kHz samples in memory)
 *   sae.<d>x<F>      runSae (threshold mode) on 1500 frames, through the engine worker: codes (sparse, per
 *                    frame), reconstruction; the dense [frames, F] block is computed but not copied out
 * Usage: node --import tsx bench/foundation.ts <clip30s.wav> <clip10min.wav>
 */
import { loadAudio16kMono, whisperLogMel } from '../src/engine/audio/index.ts';
import { WorkerRunner } from '../src/engine/runtime/workerRunner.ts';
import { runSae, type Sae } from '../src/engine/sae/index.ts';

async function timed(fn: () => Promise<unknown>, runs: number): Promise<{ seconds: number; runs: number }> {
  await fn(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    times.push((performance.now() - t) / 1000);
  }
  times.sort((a, b) => a - b);
  return { seconds: times[Math.floor(times.length / 2)]!, runs };
}

/** Standard normal samples (Box–Muller over a fixed-seed LCG). */
function gaussian(seed: number): () => number {
  let s = seed;
  const uniform = () => ((s = (s * 1103515245 + 12345) % 2147483648) + 1) / 2147483649;
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

/**
 * Random weights with the same statistics as bench/reference.py: x ~ N(0, 1), W_enc ~ N(0, 1/d), so the
 * pre-activations are ~N(0, 1) and the threshold 2.4 leaves about 50 of F active per frame, like a real SAE.
 */
function randomSae(d: number, F: number): Sae {
  const randn = gaussian(7);
  return {
    file: `random-${d}x${F}`, dModel: d, dictSize: F, k: 50, threshold: 2.4, config: null,
    encoderWeight: Float32Array.from({ length: F * d }, () => randn() / Math.sqrt(d)), encoderBias: new Float32Array(F),
    decoderWeight: Float32Array.from({ length: d * F }, () => randn() / Math.sqrt(F)), bDec: new Float32Array(d),
  };
}

const [clip30, clip10m] = process.argv.slice(2);
const runner = await WorkerRunner.create({ executionProvider: 'cpu' });
const out: Record<string, unknown> = { provider: runner.provider.name };
for (const [name, path, runs] of [['30s', clip30!, 15], ['10min', clip10m!, 3]] as const) {
  out[`frontend.${name}`] = await timed(async () => whisperLogMel(runner, (await loadAudio16kMono(path, runner)).samples, 80), runs);
  const { samples } = await loadAudio16kMono(path, runner);
  out[`logmel.${name}`] = await timed(() => whisperLogMel(runner, samples, 80), name === '30s' ? 15 : 5);
}
for (const [d, F] of [[768, 6144], [1280, 10240]] as const) {
  const sae = randomSae(d, F);
  const randn = gaussian(3);
  const acts = Float32Array.from({ length: 1500 * d }, randn);
  out[`sae.${d}x${F}`] = await timed(() => runSae(runner, sae, acts, { mode: 'threshold' }), 9);
}
await runner.dispose();
out.peakRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
console.log(JSON.stringify(out));
