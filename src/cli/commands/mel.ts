/** `audiosae mel`: the Whisper log-mel of an audio file, as numpy's .npy. */
import { basename } from 'node:path';
import { loadAudio16kMono, whisperLogMel } from '../../engine/audio/index.ts';
import { writeNpy } from '../../engine/io/npy.ts';
import { AudioSaeError } from '../../engine/errors.ts';
import type { ParsedArgs, VerbSpec } from '../args.ts';
import { withRunner } from '../runner.ts';

export const spec: VerbSpec = {
  name: 'mel',
  summary: 'Compute the Whisper log-mel spectrogram of an audio file and write it as float32 [n_mels, frames] .npy.',
  positionals: ['<audio>'],
  options: [
    { name: 'n-mels', value: '<80|128>', description: 'mel bins (80: Whisper-small; 128: large-v3, large-v3-turbo)', choices: ['80', '128'], default: '80' },
    { name: 'out', value: '<file.npy>', description: 'output file', required: true },
  ],
  details: `
Audio is decoded (wav, flac, mp3, ogg/vorbis, opus), averaged to mono and resampled to 16 kHz. Each 30 s window
(480 000 samples, the last one zero-padded) gives 3000 frames at 100 frames/s, computed exactly as openai-whisper's
log_mel_spectrogram; longer audio gives all windows concatenated along frames.`,
};

export async function run(args: ParsedArgs): Promise<void> {
  const audioPath = args.positionals[0]!;
  const out = args.options.get('out')!;
  if (!out.endsWith('.npy')) throw new AudioSaeError('--out must name a .npy file.', out);
  const nMels = Number(args.options.get('n-mels')) as 80 | 128;
  const { audio, mel } = await withRunner(async (runner) => {
    const audio = await loadAudio16kMono(audioPath, runner);
    return { audio, mel: await whisperLogMel(runner, audio.samples, nMels) };
  });
  await writeNpy(out, { dtype: 'float32', shape: [mel.nMels, mel.frames], data: mel.data });
  console.log(
    `${basename(audioPath)}: ${audio.durationS.toFixed(2)} s (${audio.sourceRateHz} Hz, ${audio.channels} ch) → ` +
      `log-mel [${mel.nMels}, ${mel.frames}] → ${out}`,
  );
}
