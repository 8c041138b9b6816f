/**
 * The measuring half of the GPU check (scripts/gpu-check.sh runs it; scripts/gpu-check/prepare.sh bundles it
 * with the engine into one file). On every execution provider that works here, and on the CPU first as the
 * reference, it runs the product's own pipeline over one long clip: 44.1 kHz WAV → resampler graph → Whisper
 * log-mel graph (Whisper) → encoder graph up to the layer → SAE graph, for each model and layer, then over 30 s
 * one encoder graph with taps at every layer at once. Each GPU result is checked against the CPU's:
 *   max rel err = max |gpu − cpu| / max |cpu|, over the layer's activations and over the SAE codes where both
 *                 supports agree (float32; must be ≤ 1e-3)
 *   flips       = (frame, feature) pairs active on one provider only (a value within rounding of the threshold)
 * Runs go job by job, the CPU first. It prints one table row as each run completes (and appends it to --rows), the provider decisions and every
 * per-graph fallback note. Runs stop being started once --budget seconds have passed.
 * Usage: node check.cjs --models DIR --work DIR [--minutes 10] [--layers 6,12] [--budget 240] [--rows FILE]
 *        [--providers cuda,webgpu,cpu]
 * DIR holds whisper-small/, hubert-base/ (Hugging Face layout) and sae/<model>/layer_<n>/ae.pt.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAudio16kMono } from '../../src/engine/audio/resample.ts';
import { encoderPass } from '../../src/engine/pipeline/activations.ts';
import { openBackbone } from '../../src/engine/pipeline/backbone.ts';
import { streamClipFeatures } from '../../src/engine/pipeline/stream.ts';
import { InProcessRunner } from '../../src/engine/runtime/inProcess.ts';
import { gatherProviderFacts } from '../../src/engine/runtime/providerFacts.ts';
import { candidateOrder, type ProviderName } from '../../src/engine/runtime/providerPlan.ts';
import { tryProvider } from '../../src/engine/runtime/providers.ts';

const TOLERANCE = 1e-3;
const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const models = args.get('models') ?? 'models';
const work = args.get('work') ?? 'work';
const minutes = Number(args.get('minutes') ?? 10);
const layers = (args.get('layers') ?? '6,12').split(',').map(Number);
const budgetS = Number(args.get('budget') ?? 240);
const rowsFile = args.get('rows');
const started = performance.now();
const elapsed = () => (performance.now() - started) / 1000;

/** A mono 16-bit WAV at 44.1 kHz: tones that change every 3 s over noise, deterministic. */
function writeWav(path: string, seconds: number): void {
  const rate = 44100;
  const n = Math.round(seconds * rate);
  const buf = Buffer.alloc(44 + n * 2);
  buf.write('RIFF', 0); buf.writeUInt32LE(36 + n * 2, 4); buf.write('WAVEfmt ', 8); buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20); buf.writeUInt16LE(1, 22); buf.writeUInt32LE(rate, 24); buf.writeUInt32LE(rate * 2, 28);
  buf.writeUInt16LE(2, 32); buf.writeUInt16LE(16, 34); buf.write('data', 36); buf.writeUInt32LE(n * 2, 40);
  let seed = 11;
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const t = i / rate;
    const v = 0.3 * Math.sin(2 * Math.PI * (180 + 60 * (Math.floor(t / 3) % 9)) * t) + 0.08 * (seed / 2147483648 - 0.5);
    buf.writeInt16LE(Math.round(v * 32767), 44 + i * 2);
  }
  writeFileSync(path, buf);
}

interface Output {
  frames: number;
  dModel: number;
  /** Activations per layer, [frames, dModel]. */
  acts: Map<number, Float32Array>;
  /** SAE codes as CSR, when an SAE ran. */
  codes?: { rowPtr: Int32Array; indices: Int32Array; values: Float32Array; dictSize: number };
}

interface Job {
  model: string;
  folder: string;
  /** One layer through its SAE, or several taps of one encoder graph (no SAE). */
  layers: number[];
  wav: string;
  seconds: number;
}

async function runJob(runner: InProcessRunner, wav: string, job: Job, cacheDir: string): Promise<Output> {
  const audio = await loadAudio16kMono(wav, runner);
  if (job.layers.length > 1) {
    const backbone = await openBackbone(job.folder);
    const parts = new Map(job.layers.map((l) => [l, [] as Float32Array[]]));
    const { frames } = await encoderPass(runner, backbone, audio.samples, {
      layers: job.layers, cacheDir,
      onChunk: (_start, _n, acts) => { for (const [l, x] of acts) parts.get(l)!.push(x.slice()); },
    });
    return { frames, dModel: backbone.dModel, acts: new Map([...parts].map(([l, p]) => [l, concat(p)])) };
  }
  const layer = job.layers[0]!;
  const acts: Float32Array[] = [];
  const rowPtr = [0];
  const indices: number[] = [];
  const values: number[] = [];
  let dictSize = 0;
  let dModel = 0;
  const summary = await streamClipFeatures(runner, {
    audio, weightsFolder: job.folder, saePath: join(models, 'sae', job.model, `layer_${layer}`, 'ae.pt'), layer, cacheDir,
    onStart: ({ sae }) => { dictSize = sae.dictSize; dModel = sae.dModel; },
    onChunk: (c) => {
      acts.push(c.acts.slice());
      for (let t = 0; t < c.frames; t++) {
        for (let p = c.sparse.rowPtr[t]!; p < c.sparse.rowPtr[t + 1]!; p++) {
          indices.push(c.sparse.indices[p]!);
          values.push(c.sparse.values[p]!);
        }
        rowPtr.push(indices.length);
      }
    },
  });
  return {
    frames: summary.frames, dModel, acts: new Map([[layer, concat(acts)]]),
    codes: { rowPtr: Int32Array.from(rowPtr), indices: Int32Array.from(indices), values: Float32Array.from(values), dictSize },
  };
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** max |a − b| / max |b|. */
function relError(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return scale > 0 ? diff / scale : diff;
}

/** The codes' error on the common support, and the pairs active on one side only. */
function compareCodes(g: NonNullable<Output['codes']>, c: NonNullable<Output['codes']>): { err: number; flips: number } {
  const dense = new Float32Array(c.dictSize).fill(NaN);
  let diff = 0;
  let scale = 0;
  let flips = 0;
  for (let t = 0; t + 1 < c.rowPtr.length; t++) {
    for (let p = c.rowPtr[t]!; p < c.rowPtr[t + 1]!; p++) {
      dense[c.indices[p]!] = c.values[p]!;
      scale = Math.max(scale, Math.abs(c.values[p]!));
    }
    let common = 0;
    for (let p = g.rowPtr[t]!; p < (g.rowPtr[t + 1] ?? g.rowPtr[t]!); p++) {
      const ref = dense[g.indices[p]!]!;
      if (Number.isNaN(ref)) { flips++; continue; }
      common++;
      diff = Math.max(diff, Math.abs(g.values[p]! - ref));
    }
    flips += c.rowPtr[t + 1]! - c.rowPtr[t]! - common;
    for (let p = c.rowPtr[t]!; p < c.rowPtr[t + 1]!; p++) dense[c.indices[p]!] = NaN;
  }
  if (g.rowPtr.length !== c.rowPtr.length) flips += Math.abs(g.indices.length - c.indices.length);
  return { err: scale > 0 ? diff / scale : diff, flips };
}

const COLUMNS = ['provider', 'model', 'layer', 'audio s', 'first s', 'time s', 'x realtime', 'speed-up', 'max rel err', 'flips', 'check'];
const WIDTHS = [9, 14, 6, 8, 8, 8, 11, 9, 12, 8, 6];
const line = (cells: string[]) => cells.map((c, i) => (i < 3 ? c.padEnd(WIDTHS[i]!) : c.padStart(WIDTHS[i]!))).join(' ');
function emit(cells: string[]): void {
  const text = line(cells);
  console.log(text);
  if (rowsFile) appendFileSync(rowsFile, `${text}\n`);
}

async function main(): Promise<void> {
  mkdirSync(work, { recursive: true });
  const cacheDir = join(work, 'graphs');
  const facts = gatherProviderFacts();
  console.log(`onnxruntime-node ${facts.ortVersion} on ${facts.platform}-${facts.arch}; providers in this build: ${facts.listed.join(', ')}`);
  const wanted = (args.get('providers') ?? candidateOrder(facts.platform, facts.arch).join(',')).split(',') as ProviderName[];
  const usable: Array<{ name: ProviderName; options: NonNullable<Awaited<ReturnType<typeof tryProvider>>['options']> }> = [];
  for (const name of wanted.filter((n) => n !== 'cpu')) {
    const r = await tryProvider(name, facts);
    console.log(r.options ? `${name}: usable` : `${name}: skipped: ${r.why}`);
    if (r.options) usable.push({ name, options: r.options });
  }
  const cpu = await tryProvider('cpu', facts);
  const providers = [{ name: 'cpu' as ProviderName, options: cpu.options! }, ...usable];

  const wav = join(work, `clip-${minutes}min.wav`);
  const short = join(work, 'clip-30s.wav');
  const warm = join(work, 'warm-up-10s.wav');
  writeWav(wav, minutes * 60);
  writeWav(short, 30);
  writeWav(warm, 10);
  // The single layers through their SAEs over the whole clip first; then, over 30 s, one graph with both taps.
  const backbones = [['whisper-small', join(models, 'whisper-small')], ['hubert-base', join(models, 'hubert-base')]] as const;
  const jobs: Job[] = [];
  for (const [model, folder] of backbones) for (const l of layers) jobs.push({ model, folder, layers: [l], wav, seconds: minutes * 60 });
  if (layers.length > 1) for (const [model, folder] of backbones) jobs.push({ model, folder, layers, wav: short, seconds: 30 });
  console.log(`audio: ${minutes} min at 44.1 kHz; ${jobs.length} runs per provider on ${providers.map((p) => p.name).join(', ')}; time budget ${budgetS} s`);
  console.log('"first s": a 10 s warm-up run that builds the graphs and creates the sessions; "time s": the clip after it.');
  console.log(`"layer" a,b: one encoder graph with taps at both layers (30 s, no SAE). max rel err = max|gpu-cpu|/max|cpu| over activations and common-support codes (tolerance ${TOLERANCE}).\n`);
  emit(COLUMNS);

  const reference = new Map<string, { output: Output; seconds: number }>();
  let failed = 0;
  let notRun = 0;
  // Job by job, the CPU first and then each GPU provider: a run cut short still has GPU rows with their speed-up.
  const runners = providers.map((p) => new InProcessRunner({ name: p.name, notes: [] }, p.options));
  try {
    for (const job of jobs) {
      const label = job.layers.join(',');
      const key = `${job.model}:${label}`;
      for (const runner of runners) {
        const name = runner.provider.name;
        if (elapsed() > budgetS) {
          notRun++;
          emit([name, job.model, label, '', '', '', '', '', '', '', 'not run (time budget)']);
          continue;
        }
        let cells: string[];
        try {
          const t0 = performance.now();
          await runJob(runner, warm, job, cacheDir);
          const first = (performance.now() - t0) / 1000;
          const t1 = performance.now();
          const out = await runJob(runner, job.wav, job, cacheDir);
          const seconds = (performance.now() - t1) / 1000;
          if (name === 'cpu') reference.set(key, { output: out, seconds });
          const ref = reference.get(key);
          let err = 0;
          let flips = 0;
          for (const [l, x] of out.acts) {
            const c = ref?.output.acts.get(l);
            err = Math.max(err, c ? relError(x, c) : Infinity);
          }
          if (out.codes && ref?.output.codes && name !== 'cpu') {
            const cc = compareCodes(out.codes, ref.output.codes);
            err = Math.max(err, cc.err);
            flips = cc.flips;
          }
          const ok = err <= TOLERANCE;
          if (!ok) failed++;
          cells = [name, job.model, label, String(job.seconds), first.toFixed(2), seconds.toFixed(2), (job.seconds / seconds).toFixed(1),
            ref ? (ref.seconds / seconds).toFixed(2) : '', err.toExponential(2), String(flips), ok ? 'ok' : 'FAIL'];
        } catch (e) {
          failed++;
          cells = [name, job.model, label, '', '', '', '', '', '', '', `error: ${String((e as Error).message ?? e).split('\n')[0]!.slice(0, 160)}`];
        }
        emit(cells);
      }
    }
  } finally {
    for (const runner of runners) {
      const name = runner.provider.name;
      for (const note of runner.provider.notes) console.log(`  ${name} note: ${note}`);
      const fellBack = Object.values(runner.placement()).filter((where) => where !== name).length;
      if (name !== 'cpu') console.log(`  ${name}: ${fellBack ? `${fellBack} graph(s) fell back to the CPU` : 'every graph ran on it'}`);
      await runner.dispose();
    }
  }
  console.log(`\ndone in ${elapsed().toFixed(1)} s: ${failed} failed, ${notRun} not run.`);
  process.exitCode = failed ? 1 : 0;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    console.log(`\ncut short by ${signal} after ${elapsed().toFixed(1)} s; the rows above are complete.`);
    process.exit(130);
  });
}
main().catch((e: unknown) => {
  console.error(`gpu check failed: ${(e as Error).stack ?? e}`);
  process.exit(2);
});
