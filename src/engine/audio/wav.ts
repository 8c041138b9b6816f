/**
 * A WAV (RIFF and RF64) reader: PCM 8 (unsigned), 16, 24 and 32 bit, IEEE float 32 and 64, plain or
 * WAVE_FORMAT_EXTENSIBLE, any channel count, chunks in any order with odd sizes padded to even. A data size of
 * 0 or 0xFFFFFFFF (left by streaming writers) means "to the end of the file", whole frames only. A data size
 * larger than the file is a truncated file and an error.
 *
 * The header is parsed through a positional `read`, so the same code serves bytes in memory (`decodeWav`) and
 * a file read piece by piece (`source.ts`, which never holds a long file whole); `decodeFrames` turns any run of
 * whole frames into samples.
 */
import { AudioSaeError } from '../errors.ts';
import type { DecodedAudio } from './types.ts';

const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_EXTENSIBLE = 0xfffe;
const FORMAT_NAMES = new Map<number, string>([
  [2, 'Microsoft ADPCM'], [6, 'A-law'], [7, 'mu-law'], [0x11, 'IMA ADPCM'], [0x31, 'GSM 6.10'], [0x55, 'MPEG layer 3'], [0x50, 'MPEG'],
]);
/** Sample rates outside this range are a damaged or hostile header, not audio (1 Hz would need GBs at 16 kHz). */
export const MIN_SAMPLE_RATE_HZ = 1000;
export const MAX_SAMPLE_RATE_HZ = 768_000;
/** Chunks before the audio data: real files have a handful; more is a damaged or hostile file. */
const MAX_CHUNKS = 10_000;

/** Where a WAV file's samples are and how they are stored. */
export interface WavLayout {
  format: typeof FORMAT_PCM | typeof FORMAT_FLOAT;
  channels: number;
  sampleRateHz: number;
  bits: number;
  /** Bytes per frame (one sample of every channel). */
  frameBytes: number;
  /** Byte offset of the first frame. */
  dataStart: number;
  /** Whole frames in the data chunk. */
  frames: number;
}

function fourcc(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
}

export function isWav(bytes: Uint8Array): boolean {
  return bytes.length >= 12 && (fourcc(bytes, 0) === 'RIFF' || fourcc(bytes, 0) === 'RF64') && fourcc(bytes, 8) === 'WAVE';
}

/**
 * Reads the chunk headers through `read(offset, length)` (which returns at most `length` bytes, fewer at the
 * end of the file) of a file of `fileSize` bytes, and checks everything the samples depend on.
 */
export function parseWavLayout(read: (offset: number, length: number) => Uint8Array, fileSize: number, fileName: string): WavLayout {
  const head = read(0, 12);
  if (!isWav(head)) throw new AudioSaeError('is not a WAV file (no RIFF/WAVE header).', fileName);
  const rf64 = fourcc(head, 0) === 'RF64';
  let rf64DataSize: number | undefined;
  let fmt: { format: number; channels: number; sampleRateHz: number; bits: number } | undefined;
  let data: { start: number; size: number } | undefined;

  let p = 12;
  for (let n = 0; p + 8 <= fileSize; n++) {
    if (n >= MAX_CHUNKS) throw new AudioSaeError(`has more than ${MAX_CHUNKS} chunks before its audio data; it is damaged.`, fileName);
    const h = read(p, 8);
    const hv = new DataView(h.buffer, h.byteOffset, 8);
    const id = fourcc(h, 0);
    const size = hv.getUint32(4, true);
    const body = p + 8;
    if (id === 'ds64' && rf64) {
      if (size < 16 || body + 16 > fileSize) throw new AudioSaeError('has a truncated RF64 "ds64" chunk.', fileName, 'Re-export or re-download the file.');
      const b = read(body, 16);
      const size64 = new DataView(b.buffer, b.byteOffset, 16).getBigUint64(8, true);
      rf64DataSize = size64 > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(size64);
    } else if (id === 'fmt ') {
      if (size < 16 || body + 16 > fileSize) throw new AudioSaeError('has a truncated "fmt " chunk.', fileName);
      const b = read(body, Math.min(size, 40));
      const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
      let format = v.getUint16(0, true);
      if (format === FORMAT_EXTENSIBLE) {
        if (size < 40 || b.byteLength < 40) throw new AudioSaeError('has a truncated WAVE_FORMAT_EXTENSIBLE header.', fileName);
        format = v.getUint16(24, true); // first two bytes of the sub-format GUID
      }
      fmt = { format, channels: v.getUint16(2, true), sampleRateHz: v.getUint32(4, true), bits: v.getUint16(14, true) };
    } else if (id === 'data') {
      const available = fileSize - body;
      let declared = rf64 && size === 0xffffffff && rf64DataSize !== undefined ? rf64DataSize : size;
      if (declared === 0 || declared === 0xffffffff) declared = available; // streaming writer never filled it in
      if (declared > available) {
        throw new AudioSaeError(`is truncated: its data chunk declares ${declared} bytes but only ${available} follow.`, fileName, 'Re-export or re-download the file.');
      }
      data = { start: body, size: declared };
      if (fmt || declared === available) break; // everything needed; trailing chunks (LIST …) do not matter
    }
    p = body + size + (size & 1);
  }
  if (!fmt) throw new AudioSaeError('has no "fmt " chunk.', fileName);
  if (!data) throw new AudioSaeError('has no "data" chunk.', fileName);

  const { format, channels, sampleRateHz, bits } = fmt;
  if (format !== FORMAT_PCM && format !== FORMAT_FLOAT) {
    const name = FORMAT_NAMES.get(format) ?? `format code 0x${format.toString(16)}`;
    throw new AudioSaeError(`uses the ${name} codec, which is not supported.`, fileName, 'Convert it to PCM or float WAV, or to FLAC.');
  }
  if (channels < 1) throw new AudioSaeError('declares 0 channels.', fileName);
  if (sampleRateHz < MIN_SAMPLE_RATE_HZ || sampleRateHz > MAX_SAMPLE_RATE_HZ) {
    throw new AudioSaeError(
      `declares a sample rate of ${sampleRateHz} Hz, outside the ${MIN_SAMPLE_RATE_HZ / 1000}–${MAX_SAMPLE_RATE_HZ / 1000} kHz that audio files use; its header is damaged.`,
      fileName,
    );
  }
  const valid = format === FORMAT_FLOAT ? bits === 32 || bits === 64 : [8, 16, 24, 32].includes(bits);
  if (!valid) throw new AudioSaeError(`uses ${bits}-bit ${format === FORMAT_FLOAT ? 'float' : 'PCM'} samples, which are not supported.`, fileName);
  const frameBytes = (bits / 8) * channels;
  return { format, channels, sampleRateHz, bits, frameBytes, dataStart: data.start, frames: Math.floor(data.size / frameBytes) };
}

/** Samples of `frames` whole frames held in `bytes` (starting at a frame boundary): one array per channel. */
export function decodeFrames(layout: WavLayout, bytes: Uint8Array, frames: number): Float32Array[] {
  const { format, bits, channels } = layout;
  const out = Array.from({ length: channels }, () => new Float32Array(frames));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bytesPerSample = bits / 8;
  const sample: (o: number) => number =
    format === FORMAT_FLOAT ? (bits === 32 ? (o) => view.getFloat32(o, true) : (o) => view.getFloat64(o, true))
    : bits === 16 ? (o) => view.getInt16(o, true) / 32768
    : bits === 8 ? (o) => (bytes[o]! - 128) / 128
    : bits === 24 ? (o) => (((bytes[o]! | (bytes[o + 1]! << 8) | (bytes[o + 2]! << 16)) << 8) >> 8) / 8388608
    : (o) => view.getInt32(o, true) / 2147483648;
  if (format === FORMAT_PCM && bits === 16 && bytes.byteOffset % 2 === 0) {
    // The common case, read through an aligned Int16Array view rather than a DataView per sample.
    const pcm = new Int16Array(bytes.buffer, bytes.byteOffset, frames * channels);
    for (let c = 0; c < channels; c++) {
      const ch = out[c]!;
      for (let t = 0, i = c; t < frames; t++, i += channels) ch[t] = pcm[i]! / 32768;
    }
    return out;
  }
  let o = 0;
  for (let t = 0; t < frames; t++) {
    for (let c = 0; c < channels; c++, o += bytesPerSample) out[c]![t] = sample(o);
  }
  return out;
}

export function decodeWav(bytes: Uint8Array, fileName: string): DecodedAudio {
  const layout = parseWavLayout((offset, length) => bytes.subarray(offset, offset + length), bytes.length, fileName);
  const start = layout.dataStart;
  // A copy at an even offset, so 16-bit samples can be read through a typed view.
  const body = Uint8Array.prototype.slice.call(bytes, start, start + layout.frames * layout.frameBytes);
  const channels = decodeFrames(layout, body, layout.frames);
  return { sampleRateHz: layout.sampleRateHz, channels, integerSource: layout.format === FORMAT_PCM };
}
