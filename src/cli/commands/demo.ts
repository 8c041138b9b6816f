/**
 * `audiosae demo`: the whole pipeline on the bundled example clip, offline: decode → 16 kHz mono → Whisper
 * log-mel → 50 frames/s features → demo SAE → the clip's strongest features, written as an HTML report.
 *
 * The bundled demo SAE has random weights and reads log-mel frames (two mel frames averaged per 20 ms), not a
 * backbone layer: it shows the machinery, not findings. Real backbones and checkpoints come from the Hub.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadAudio16kMono, MODEL_FRAMES_PER_SECOND, SAMPLES_PER_MODEL_FRAME, whisperLogMel, windowsOf } from '../../engine/audio/index.ts';
import { writeFileAtomic } from '../../engine/io/atomicWrite.ts';
import { loadSae, metricsWithFormulas, reconstructionMetrics, runSae } from '../../engine/sae/index.ts';
import type { SaeResult } from '../../engine/sae/index.ts';
import { numberOption, type ParsedArgs, type VerbSpec } from '../args.ts';
import { assetPath } from '../assets.ts';
import { renderReport, type ReportFeature } from '../report/html.ts';
import { withRunner } from '../runner.ts';

export const spec: VerbSpec = {
  name: 'demo',
  summary: 'Run the offline demo on the example clip (or your own) and write an HTML report.',
  positionals: [],
  options: [
    { name: 'audio', value: '<file>', description: 'audio file (default: the bundled example clip)' },
    { name: 'out', value: '<dir>', description: 'output folder', default: 'demo-output' },
    { name: 'top', value: '<n>', description: 'how many features to show', default: '8' },
  ],
  details: `
The demo SAE bundled with the package has RANDOM weights over 80-bin log-mel frames; it exercises every step
(decoding, resampling, the Whisper front end, SAE inference in onnxruntime, metrics, the report) without a network.`,
};

/** [melBins, melFrames] (100/s) → [frames, melBins] (50/s): the mean of mel frames 2t and 2t+1, real audio only. */
function melToFrames(mel: { nMels: number; frames: number; data: Float32Array }, samples: number): { frames: number; data: Float32Array } {
  const parts: number[] = [];
  for (const w of windowsOf(samples)) {
    const real = Math.ceil(w.realSamples / SAMPLES_PER_MODEL_FRAME);
    for (let t = 0; t < real; t++) parts.push(w.index * 3000 + 2 * t);
  }
  const data = new Float32Array(parts.length * mel.nMels);
  parts.forEach((m0, t) => {
    for (let b = 0; b < mel.nMels; b++) {
      const a = mel.data[b * mel.frames + m0]!;
      const c = mel.data[b * mel.frames + Math.min(m0 + 1, mel.frames - 1)]!;
      data[t * mel.nMels + b] = (a + c) / 2;
    }
  });
  return { frames: parts.length, data };
}

/** Features ranked by their maximum over the clip, with their activation tracks. */
export function topFeatures(result: SaeResult, dictSize: number, count: number, framesPerSecond: number): ReportFeature[] {
  const max = new Float32Array(dictSize);
  const argmax = new Int32Array(dictSize);
  const active = new Int32Array(dictSize);
  const { rowPtr, indices, values } = result.sparse;
  for (let t = 0; t < result.frames; t++) {
    for (let p = rowPtr[t]!; p < rowPtr[t + 1]!; p++) {
      const j = indices[p]!;
      active[j]!++;
      if (values[p]! > max[j]!) {
        max[j] = values[p]!;
        argmax[j] = t;
      }
    }
  }
  const ids = Array.from({ length: dictSize }, (_, j) => j).filter((j) => max[j]! > 0).sort((a, b) => max[b]! - max[a]!).slice(0, count);
  return ids.map((id) => {
    const track = new Float32Array(result.frames);
    for (let t = 0; t < result.frames; t++) track[t] = result.codes[t * dictSize + id]!;
    return { id, maxValue: max[id]!, maxTimeS: argmax[id]! / framesPerSecond, activeFrames: active[id]!, track };
  });
}

export async function run(args: ParsedArgs): Promise<void> {
  const audioPath = resolve(args.options.get('audio') ?? assetPath('demo', 'example.wav'));
  const outDir = resolve(args.options.get('out')!);
  const top = numberOption(args, 'top', 1, 100)!;
  const saePath = assetPath('demo', 'demo-sae', 'ae.pt');

  const started = performance.now();
  const sae = await loadSae(saePath);
  const { audio, mel, result, provider } = await withRunner(async (runner) => {
    const audio = await loadAudio16kMono(audioPath, runner);
    const mel = await whisperLogMel(runner, audio.samples, 80);
    const frames = melToFrames(mel, audio.samples.length);
    const result = await runSae(runner, sae, frames.data, { source: audio.name });
    return { audio, mel, frames, result, provider: runner.provider };
  });
  const frames = melToFrames(mel, audio.samples.length);
  const metrics = reconstructionMetrics(frames.data, result.recon, result.sparse, sae.dModel, sae.dictSize);
  const features = topFeatures(result, sae.dictSize, top, MODEL_FRAMES_PER_SECOND);
  const realMelFrames = Math.ceil(audio.samples.length / 160);
  const melShown = { nMels: mel.nMels, frames: Math.min(realMelFrames, mel.frames), framesPerSecond: 100, data: new Float32Array(0) };
  melShown.data = new Float32Array(mel.nMels * melShown.frames);
  for (let b = 0; b < mel.nMels; b++) {
    for (let t = 0; t < melShown.frames; t++) {
      // Windows are contiguous in time, and each is 3000 frames wide: frame t of the clip sits at t in the concatenation.
      melShown.data[b * melShown.frames + t] = mel.data[b * mel.frames + t]!;
    }
  }

  const html = renderReport({
    title: 'AudioSAE demo report',
    clipName: audio.name,
    durationS: audio.durationS,
    notes: [
      `Decoded ${audio.channels} channel(s) at ${audio.sourceRateHz} Hz, averaged to mono and resampled to 16 kHz.`,
      'Whisper log-mel (80 bins, 100 frames/s, per 30 s window), averaged to 50 frames/s.',
      `Demo SAE: d = ${sae.dModel}, F = ${sae.dictSize}, k = ${sae.k}. Its weights are RANDOM: the features show the machinery, not findings.`,
      `SAE mode: ${result.modeUsed}${result.notice ? ` — ${result.notice.replace(saePath, 'the demo SAE')}` : ''}`,
      `onnxruntime execution provider: ${provider.name}${provider.notes.length ? ` (${provider.notes.join('; ')})` : ''}.`,
    ],
    mel: melShown,
    featureFramesPerSecond: MODEL_FRAMES_PER_SECOND,
    features,
    metrics: metricsWithFormulas(metrics),
  });
  await mkdir(outDir, { recursive: true });
  const reportPath = join(outDir, 'report.html');
  await writeFileAtomic(reportPath, new TextEncoder().encode(html));
  const summary = {
    clip: audioPath,
    durationS: audio.durationS,
    frames: result.frames,
    mode: result.modeUsed,
    provider: provider.name,
    metrics: metricsWithFormulas(metrics),
    topFeatures: features.map((f) => ({ id: f.id, max: f.maxValue, timeOfMaxS: f.maxTimeS, activeFrames: f.activeFrames })),
  };
  await writeFileAtomic(join(outDir, 'summary.json'), new TextEncoder().encode(`${JSON.stringify(summary, null, 2)}\n`));

  console.log(`AudioSAE demo — ${audio.name}, ${audio.durationS.toFixed(2)} s, ${result.frames} frames at 50/s (${provider.name})`);
  console.log('  demo SAE with random weights over log-mel frames (machinery, not findings)');
  console.log(`  L0 ${metrics.l0.toFixed(2)} · FVE ${metrics.fve.toFixed(3)} · normalized L2 ${metrics.normalizedL2.toFixed(3)} · alive ${(100 * metrics.aliveFraction).toFixed(1)}%`);
  console.log('  strongest features:');
  for (const f of features.slice(0, 5)) console.log(`    #${String(f.id).padEnd(4)} max ${f.maxValue.toFixed(3)} at ${f.maxTimeS.toFixed(2)} s, active in ${f.activeFrames} frames`);
  console.log(`  report: ${reportPath}  (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
