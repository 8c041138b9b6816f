/** `audiosae mel`: the Whisper log-mel of an audio file, as numpy's .npy. */
import { basename } from 'node:path';
import { forEachMelWindow, MEL_FRAMES_PER_WINDOW, openAudio16kStream, windowsOf } from '../../engine/audio/index.ts';
import { AudioSaeError } from '../../engine/errors.ts';
import { NpyFileWriter } from '../../engine/io/npyStream.ts';
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
  const { audio, frames } = await withRunner(async (runner) => {
    const audio = await openAudio16kStream(audioPath, runner);
    let file: NpyFileWriter | undefined;
    try {
      // [nMels, frames] row-major: window w fills columns w·3000 … of every row, written in place as it comes.
      const frames = windowsOf(audio.reader.length).length * MEL_FRAMES_PER_WINDOW;
      file = await NpyFileWriter.create(out, 'float32', [nMels, frames], { atomic: true });
      await forEachMelWindow(runner, audio.reader, nMels, async (info, w) => {
        for (let m = 0; m < nMels; m++) {
          await file!.writeAt(m * frames + info.index * MEL_FRAMES_PER_WINDOW, w.data.subarray(m * MEL_FRAMES_PER_WINDOW, (m + 1) * MEL_FRAMES_PER_WINDOW));
        }
      });
      await file.close();
      file = undefined;
      return { audio, frames };
    } finally {
      await file?.abort();
      await audio.close();
    }
  });
  console.log(
    `${basename(audioPath)}: ${audio.durationS.toFixed(2)} s (${audio.sourceRateHz} Hz, ${audio.channels} ch) → ` +
      `log-mel [${nMels}, ${frames}] → ${out}`,
  );
}
