/**
 * `audiosae activations`: a backbone layer's residual stream for an audio file, as float32 [frames, d] .npy.
 * The clip streams through window by window and each window's rows are written as they come, into a file
 * that is renamed into place when complete.
 */
import { openAudio16kStream } from '../../engine/audio/index.ts';
import { AudioSaeError } from '../../engine/errors.ts';
import { NpyFileWriter } from '../../engine/io/npyStream.ts';
import { openBackbone } from '../../engine/pipeline/backbone.ts';
import { aboutClip, layerActivations, layerFrameCount } from '../../engine/pipeline/activations.ts';
import type { ParsedArgs, VerbSpec } from '../args.ts';
import { MODEL_OPTIONS, modelChoice, resolveFromArgs } from '../modelOptions.ts';
import { progressLine } from '../progress.ts';
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
  const progress = progressLine();
  const acts = await withRunner(async (runner) => {
    const audio = await openAudio16kStream(args.positionals[0]!, runner);
    let file: NpyFileWriter | undefined;
    try {
      const frames = layerFrameCount(backbone, audio.reader.length, choice.maxHubertSeconds);
      file = await NpyFileWriter.create(out, 'float32', [frames, backbone.dModel], { atomic: true });
      const result = await layerActivations(runner, backbone, audio.reader, {
        ...choice,
        keep: false,
        onChunk: (_start, x) => file!.append(x),
        onProgress: (done, total) => progress.update(`${done}/${total} frames`),
      }).catch((e: unknown) => {
        throw aboutClip(e, args.positionals[0]!);
      });
      await file.close();
      file = undefined;
      return result;
    } finally {
      await file?.abort();
      await audio.close();
    }
  });
  progress.done();
  for (const note of acts.notes) console.error(`note: ${note}`);
  console.log(`${resolved.spec.label} layer ${choice.layer} (${choice.tap}): [${acts.frames}, ${acts.dModel}] at ${acts.framesPerSecond} frames/s → ${out}`);
}
