/** `audiosae features`: activations, SAE codes, metrics and the clip's strongest features, written to a folder. */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../engine/io/atomicWrite.ts';
import { writeNpy } from '../../engine/io/npy.ts';
import { clipFeatures } from '../../engine/pipeline/features.ts';
import { topFeatures } from '../../engine/sae/topFeatures.ts';
import { metricsWithFormulas } from '../../engine/sae/index.ts';
import type { ParsedArgs, VerbSpec } from '../args.ts';
import { MODEL_OPTIONS, modelChoice, resolveFromArgs } from '../modelOptions.ts';
import { withRunner } from '../runner.ts';

export const spec: VerbSpec = {
  name: 'features',
  summary: 'Run a backbone layer and its SAE on an audio file; write activations, codes, metrics and top features.',
  positionals: ['<audio>'],
  options: [...MODEL_OPTIONS, { name: 'out', value: '<dir>', description: 'output folder (created if missing)', required: true }, { name: 'top', value: '<n>', description: 'features listed in features.json', default: '20' }],
  details: `
Writes acts.npy (float32 [frames, d]), codes.npy (float32 [frames, F]), recon.npy (float32 [frames, d]) and
features.json: the models used, the SAE mode that ran, notes, every metric with its definition, and the
clip's strongest features (max activation, time of the max, active frames).`,
};

export async function run(args: ParsedArgs): Promise<void> {
  const outDir = args.options.get('out')!;
  const choice = modelChoice(args);
  const resolved = await resolveFromArgs(args);
  const f = await withRunner((runner) => clipFeatures(runner, { audioPath: args.positionals[0]!, weightsFolder: resolved.weightsFolder, saePath: resolved.saePath, ...choice, denseCodes: true }));
  for (const note of f.notes) console.error(`note: ${note}`);
  const top = topFeatures(f.result, f.sae.dictSize, Number(args.options.get('top')), f.acts.framesPerSecond);
  await mkdir(outDir, { recursive: true });
  await writeNpy(join(outDir, 'acts.npy'), { dtype: 'float32', shape: [f.acts.frames, f.acts.dModel], data: f.acts.data });
  await writeNpy(join(outDir, 'codes.npy'), { dtype: 'float32', shape: [f.result.frames, f.sae.dictSize], data: f.result.codes! });
  await writeNpy(join(outDir, 'recon.npy'), { dtype: 'float32', shape: [f.result.frames, f.sae.dModel], data: f.result.recon });
  const report = {
    audio: args.positionals[0], durationS: f.audio.durationS, backbone: resolved.spec.id, weights: resolved.weightsFolder,
    layer: choice.layer, tap: choice.tap, sae: resolved.saePath, dModel: f.sae.dModel, dictSize: f.sae.dictSize, k: f.sae.k,
    frames: f.result.frames, framesPerSecond: f.acts.framesPerSecond, mode: f.result.modeUsed, notes: f.notes,
    metrics: metricsWithFormulas(f.metrics),
    topFeatures: top.map((t) => ({ id: t.id, max: t.maxValue, timeOfMaxS: t.maxTimeS, activeFrames: t.activeFrames })),
  };
  await writeFileAtomic(join(outDir, 'features.json'), new TextEncoder().encode(`${JSON.stringify(report, null, 2)}\n`));
  console.log(`${resolved.spec.label} layer ${choice.layer}: ${f.result.frames} frames, ${f.result.modeUsed}, L0 ${f.metrics.l0.toFixed(1)}, FVE ${f.metrics.fve.toFixed(3)} → ${outDir}`);
}
