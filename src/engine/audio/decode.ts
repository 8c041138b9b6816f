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

/**
 * The channel count an MP3 declares in its first frame header (after any ID3v2 tag): mode 3 is mono, every
 * other mode (stereo, joint stereo, dual channel) two. Undefined when no frame header is found.
 */
export function mp3DeclaredChannels(bytes: Uint8Array): number | undefined {
  let i = 0;
  if (bytes.length >= 10 && bytes[0] === 0x49 && bytes[1] === 0x44 && bytes[2] === 0x33) {
    const size = ((bytes[6]! & 0x7f) << 21) | ((bytes[7]! & 0x7f) << 14) | ((bytes[8]! & 0x7f) << 7) | (bytes[9]! & 0x7f);
    i = 10 + size + (bytes[5]! & 0x10 ? 10 : 0);
  }
  const end = Math.min(bytes.length - 3, i + 64 * 1024);
  for (; i < end; i++) {
    if (bytes[i] === 0xff && (bytes[i + 1]! & 0xe0) === 0xe0) return ((bytes[i + 3]! >> 6) & 3) === 3 ? 1 : 2;
  }
  return undefined;
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
    // mpg123 gives two channels and audio-decode merges identical ones: say what the file holds.
    const declared = format === 'mp3' ? mp3DeclaredChannels(bytes) : undefined;
    if (declared && declared > audio.channels.length) audio.sourceChannels = declared;
  }
  if (audio.channels[0]!.length === 0) throw new AudioSaeError('holds no audio samples (zero length).', fileName);
  return audio.integerSource ? audio : checkFinite(audio, fileName);
}

export async function loadAudioFile(path: string): Promise<DecodedAudio> {
  return decodeAudio(await readUserFile(path), path);
}
