/**
 * `audiosae demo`: the whole pipeline on one clip with no network: decode → 16 kHz mono → backbone layer
 * → SAE → the clip's strongest features, printed and written as a self-contained HTML report.
 *
 * By default it runs the bundled toy Whisper-like backbone and its SAEs, whose weights are RANDOM: they show
 * the machinery, not findings. With --backbone whisper-small --layer 6 (on a machine with internet) the same
 * command downloads and runs the real backbone and the authors' SAE.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { whisperLogMel } from '../../engine/audio/index.ts';
import { writeFileAtomic } from '../../engine/io/atomicWrite.ts';
import { clipFeatures } from '../../engine/pipeline/features.ts';
import { metricsWithFormulas } from '../../engine/sae/index.ts';
import { topFeatures } from '../../engine/sae/featureStats.ts';
import { numberOption, type ParsedArgs, type VerbSpec } from '../args.ts';
import { assetPath } from '../assets.ts';
import { MODEL_OPTIONS, modelChoice, resolveFromArgs } from '../modelOptions.ts';
import { renderReport } from '../report/html.ts';
import { demoCorpus } from './demoCorpus.ts';
import { withRunner } from '../runner.ts';

const DEFAULTS: Record<string, string> = { backbone: 'whisper-tiny-random', layer: '2' };

export const spec: VerbSpec = {
  name: 'demo',
  summary: 'Run the whole pipeline on the example clip (or yours) and write an HTML report; offline by default.',
  positionals: [],
  options: [
    { name: 'audio', value: '<file>', description: 'audio file (default: the bundled example clip)' },
    ...MODEL_OPTIONS.map((o) => (DEFAULTS[o.name] ? { ...o, required: false, default: DEFAULTS[o.name] } : o)),
    { name: 'out', value: '<dir>', description: 'output folder', default: 'demo-output' },
    { name: 'top', value: '<n>', description: 'how many features to show', numeric: { kind: 'int', min: 1, max: 100 }, default: '8' },
  ],
  details: `
The bundled backbones (whisper-tiny-random, hubert-tiny-random) and their per-layer SAEs have RANDOM weights:
the report shows every step working (decoding, resampling, the front end, the encoder and the SAE in
onnxruntime, metrics), not what a trained model hears. --backbone whisper-small --layer 6 uses the real
checkpoints from the Hugging Face Hub.`,
};

export async function run(args: ParsedArgs): Promise<void> {
  const audioPath = resolve(args.options.get('audio') ?? assetPath('demo', 'example.wav'));
  const outDir = resolve(args.options.get('out')!);
  const top = numberOption(args, 'top')!;
  const choice = modelChoice(args);
  const started = performance.now();
  const resolved = await resolveFromArgs(args);

  await mkdir(outDir, { recursive: true });
  const { f, mel, provider, corpus } = await withRunner(async (runner) => {
    const f = await clipFeatures(runner, { audioPath, weightsFolder: resolved.weightsFolder, saePath: resolved.saePath, ...choice });
    const mel = await whisperLogMel(runner, f.audio.samples, 80);
    // The example clip is speech, then a melody, then noise: its segments make a tiny labelled corpus.
    const corpus = args.options.has('audio') ? undefined : await demoCorpus(runner, {
      audioPath, outDir, resolved, layer: choice.layer,
      saePathOf: async (layer) => (await resolveFromArgs({ ...args, options: new Map(args.options).set('layer', String(layer)), numbers: new Map(args.numbers).set('layer', layer) })).saePath,
    });
    return { f, mel, provider: runner.provider, corpus };
  });
  const features = topFeatures(f.result.sparse, f.sae.dictSize, top, f.acts.framesPerSecond);
  // The spectrogram over the real audio only: windows are contiguous, so frame t of the clip sits at t.
  const shownFrames = Math.min(Math.ceil(f.audio.samples.length / 160), mel.frames);
  const shown = new Float32Array(mel.nMels * shownFrames);
  for (let b = 0; b < mel.nMels; b++) shown.set(mel.data.subarray(b * mel.frames, b * mel.frames + shownFrames), b * shownFrames);

  const random = resolved.demo ? ' Its weights are RANDOM, like those of its SAE: the features show the machinery, not findings.' : '';
  const html = renderReport({
    title: `AudioSAE — ${resolved.spec.label}, layer ${choice.layer}`,
    clipName: f.audio.name,
    durationS: f.audio.durationS,
    notes: [
      `Decoded ${f.audio.channels} channel(s) at ${f.audio.sourceRateHz} Hz, averaged to mono and resampled to 16 kHz.`,
      `Backbone: ${resolved.spec.label}, output of block ${choice.layer} (${choice.tap === 'block' ? 'raw block output' : 'after the final LayerNorm'}), ${f.acts.framesPerSecond} frames/s.${random}`,
      `SAE: d = ${f.sae.dModel}, F = ${f.sae.dictSize}, k = ${f.sae.k}; mode ${f.result.modeUsed}.`,
      ...f.notes.map((n) => n.replace(resolved.saePath, 'The SAE')),
      `onnxruntime execution provider: ${provider.name}${provider.notes.length ? ` (${provider.notes.join('; ')})` : ''}.`,
    ],
    mel: { nMels: mel.nMels, frames: shownFrames, framesPerSecond: 100, data: shown },
    featureFramesPerSecond: f.acts.framesPerSecond,
    features,
    metrics: metricsWithFormulas(f.metrics),
    corpus,
  });
  const reportPath = join(outDir, 'report.html');
  await writeFileAtomic(reportPath, new TextEncoder().encode(html));
  const summary = {
    clip: audioPath, durationS: f.audio.durationS, backbone: resolved.spec.id, layer: choice.layer, randomWeights: resolved.demo,
    frames: f.result.frames, mode: f.result.modeUsed, provider: provider.name, notes: f.notes,
    metrics: metricsWithFormulas(f.metrics),
    topFeatures: features.map((t) => ({ id: t.id, max: t.maxValue, timeOfMaxS: t.maxTimeS, activeFrames: t.activeFrames })),
    corpus: corpus && { store: corpus.store, clips: corpus.clips, layers: corpus.layers, metrics: corpus.metrics, labelsAtLayer: corpus.counts },
  };
  await writeFileAtomic(join(outDir, 'summary.json'), new TextEncoder().encode(`${JSON.stringify(summary, null, 2)}\n`));

  console.log(`AudioSAE demo — ${f.audio.name}, ${f.audio.durationS.toFixed(2)} s → ${resolved.spec.label}, layer ${choice.layer} → SAE (${provider.name})`);
  if (resolved.demo) console.log('  bundled toy backbone and SAE with RANDOM weights: the machinery, not findings');
  console.log(`  ${f.result.frames} frames · ${f.result.modeUsed} · L0 ${f.metrics.l0.toFixed(2)} · FVE ${f.metrics.fve.toFixed(3)} · normalized L2 ${f.metrics.normalizedL2.toFixed(3)} · alive ${(100 * f.metrics.aliveFraction).toFixed(1)}%`);
  console.log('  strongest features:');
  for (const t of features.slice(0, 5)) console.log(`    #${String(t.id).padEnd(5)} max ${t.maxValue.toFixed(3)} at ${t.maxTimeS.toFixed(2)} s, active in ${t.activeFrames} frames`);
  if (corpus) {
    const all = corpus.metrics.find((m) => m.group === 'all');
    console.log(`  corpus: ${corpus.clips} segments (speech, music, sounds) × layers ${corpus.layers.join(',')} in one pass → ${corpus.store}`);
    console.log(`    layer ${corpus.layer}: FVE ${all?.fve.toFixed(3)} · ${Object.entries(corpus.counts).map(([k, v]) => `${k} ${v}`).join(' · ')}`);
  }
  console.log(`  report: ${reportPath}  (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
