/**
 * Decodes an audio file's bytes: WAV with our own reader (wav.ts), FLAC, MP3, OGG (Vorbis or Opus) through the
 * `audio-decode` library. The format comes from the bytes, not the file name. Every failure names the file.
 */
import { readUserFile } from '../io/files.ts';
import { AudioSaeError } from '../errors.ts';
import type { DecodedAudio } from './types.ts';
import { decodeWav, isWav } from './wav.ts';

export type AudioFormat = 'wav' | 'flac' | 'mp3' | 'ogg';

export function sniffFormat(bytes: Uint8Array): AudioFormat | undefined {
  const s = (at: number, text: string) => [...text].every((ch, i) => bytes[at + i] === ch.charCodeAt(0));
  if (isWav(bytes)) return 'wav';
  if (s(0, 'fLaC')) return 'flac';
  if (s(0, 'OggS')) return 'ogg';
  if (s(0, 'ID3')) return 'mp3';
  if (bytes.length >= 2 && bytes[0] === 0xff && (bytes[1]! & 0xe0) === 0xe0) return 'mp3'; // MPEG frame sync
  return undefined;
}

function checkFinite(audio: DecodedAudio, fileName: string): DecodedAudio {
  audio.channels.forEach((ch, c) => {
    for (let i = 0; i < ch.length; i++) {
      if (!Number.isFinite(ch[i]!)) {
        throw new AudioSaeError(
          `holds a non-finite sample (${ch[i]}) in channel ${c + 1} at ${(i / audio.sampleRateHz).toFixed(3)} s.`,
          fileName,
          'The file is damaged or was written from invalid data.',
        );
      }
    }
  });
  return audio;
}

export async function decodeAudio(bytes: Uint8Array, fileName: string): Promise<DecodedAudio> {
  if (bytes.length === 0) throw new AudioSaeError('is empty (0 bytes).', fileName);
  const format = sniffFormat(bytes);
  if (!format) {
    throw new AudioSaeError('is not in a supported audio format.', fileName, 'Supported: WAV, FLAC, MP3, OGG (Vorbis, Opus).');
  }
  let audio: DecodedAudio;
  if (format === 'wav') {
    audio = decodeWav(bytes, fileName);
  } else {
    const { default: decode } = await import('audio-decode');
    let decoded: { channelData: Float32Array[]; sampleRate: number };
    try {
      decoded = await decode(bytes);
    } catch (e) {
      throw new AudioSaeError(`cannot be decoded as ${format.toUpperCase()}: ${(e as Error).message ?? e}.`, fileName, 'The file may be truncated or damaged.');
    }
    if (!decoded?.channelData?.length || !(decoded.sampleRate > 0)) {
      throw new AudioSaeError(`cannot be decoded as ${format.toUpperCase()}: the decoder returned no audio.`, fileName, 'The file may be truncated or damaged.');
    }
    audio = { sampleRateHz: decoded.sampleRate, channels: decoded.channelData };
  }
  if (audio.channels[0]!.length === 0) throw new AudioSaeError('holds no audio samples (zero length).', fileName);
  return audio.integerSource ? audio : checkFinite(audio, fileName);
}

export async function loadAudioFile(path: string): Promise<DecodedAudio> {
  return decodeAudio(await readUserFile(path), path);
}
