/** `audiosae activations`: a backbone layer's residual stream for an audio file, as float32 [frames, d] .npy. */
import { writeNpy } from '../../engine/io/npy.ts';
import { openBackbone } from '../../engine/pipeline/backbone.ts';
import { layerActivations } from '../../engine/pipeline/activations.ts';
import { loadAudio16kMono } from '../../engine/audio/index.ts';
import { AudioSaeError } from '../../engine/errors.ts';
import type { ParsedArgs, VerbSpec } from '../args.ts';
import { MODEL_OPTIONS, modelChoice, resolveFromArgs } from '../modelOptions.ts';
import { withRunner } from '../runner.ts';

export const spec: VerbSpec = {
  name: 'activations',
  summary: 'Write the output of encoder block <layer> for an audio file as float32 [frames, d] .npy (50 frames/s).',
  positionals: ['<audio>'],
  options: [...MODEL_OPTIONS.filter((o) => !['sae', 'mode'].includes(o.name)), { name: 'out', value: '<acts.npy>', description: 'output file', required: true }],
  details: `
Whisper runs consecutive 30 s windows and keeps only frames over real audio; HuBERT runs the whole clip in
one pass up to --max-hubert-seconds, then in chunks (said on stderr). Built graphs are cached in
~/.cache/audiosae/graphs (AUDIOSAE_CACHE to move it).`,
};

export async function run(args: ParsedArgs): Promise<void> {
  const out = args.options.get('out')!;
  if (!out.endsWith('.npy')) throw new AudioSaeError('--out must name a .npy file.', out);
  const choice = modelChoice(args);
  const resolved = await resolveFromArgs(args, false);
  const backbone = await openBackbone(resolved.weightsFolder);
  const acts = await withRunner(async (runner) => {
    const audio = await loadAudio16kMono(args.positionals[0]!, runner);
    return layerActivations(runner, backbone, audio.samples, { ...choice, onProgress: (done, total) => process.stderr.write(`\r${done}/${total} frames`) });
  });
  process.stderr.write('\n');
  for (const note of acts.notes) console.error(`note: ${note}`);
  await writeNpy(out, { dtype: 'float32', shape: [acts.frames, acts.dModel], data: acts.data });
  console.log(`${resolved.spec.label} layer ${choice.layer} (${choice.tap}): [${acts.frames}, ${acts.dModel}] at ${acts.framesPerSecond} frames/s → ${out}`);
}
