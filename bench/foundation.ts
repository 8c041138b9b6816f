/**
 * This project's side of the foundation benchmark (bench/run.mjs runs it next to bench/reference.py).
 * Prints one JSON object: {name: {seconds: median, runs}} for
 *   frontend.<clip>  decode + mono + resample to 16 kHz + Whisper log-mel (all windows)
 *   logmel.<clip>    the log-mel alone (16 kHz samples in memory)
 *   sae.<d>x<F>      runSae (threshold mode) on 1500 frames, through the engine worker
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

function randomSae(d: number, F: number): Sae {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  return {
    file: `random-${d}x${F}`, dModel: d, dictSize: F, k: 50, threshold: 0.5, config: null,
    encoderWeight: Float32Array.from({ length: F * d }, () => rand() / Math.sqrt(d)), encoderBias: new Float32Array(F),
    decoderWeight: Float32Array.from({ length: d * F }, () => rand() / Math.sqrt(F)), bDec: new Float32Array(d),
  };
}

const [clip30, clip10m] = process.argv.slice(2);
const runner = await WorkerRunner.create({ executionProvider: 'cpu' });
const out: Record<string, unknown> = { provider: runner.provider.name };
for (const [name, path, runs] of [['30s', clip30!, 5], ['10min', clip10m!, 2]] as const) {
  out[`frontend.${name}`] = await timed(async () => whisperLogMel(runner, (await loadAudio16kMono(path, runner)).samples, 80), runs);
  const { samples } = await loadAudio16kMono(path, runner);
  out[`logmel.${name}`] = await timed(() => whisperLogMel(runner, samples, 80), name === '30s' ? 5 : 3);
}
for (const [d, F] of [[768, 6144], [1280, 10240]] as const) {
  const sae = randomSae(d, F);
  let seed = 3;
  const acts = Float32Array.from({ length: 1500 * d }, () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1);
  out[`sae.${d}x${F}`] = await timed(() => runSae(runner, sae, acts, { mode: 'threshold' }), 5);
}
await runner.dispose();
out.peakRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
console.log(JSON.stringify(out));
