/**
 * A WAV (RIFF and RF64) decoder: PCM 8 (unsigned), 16, 24 and 32 bit, IEEE float 32 and 64, plain or
 * WAVE_FORMAT_EXTENSIBLE, any channel count, chunks in any order with odd sizes padded to even. A data size of
 * 0 or 0xFFFFFFFF (left by streaming writers) means "to the end of the file", whole frames only. A data size
 * larger than the file is a truncated file and an error.
 */
import { AudioSaeError } from '../errors.ts';
import type { DecodedAudio } from './types.ts';

const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_EXTENSIBLE = 0xfffe;
const FORMAT_NAMES: Record<number, string> = {
  2: 'Microsoft ADPCM', 6: 'A-law', 7: 'mu-law', 0x11: 'IMA ADPCM', 0x31: 'GSM 6.10', 0x55: 'MPEG layer 3', 0x50: 'MPEG',
};

function fourcc(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
}

export function isWav(bytes: Uint8Array): boolean {
  return bytes.length >= 12 && (fourcc(bytes, 0) === 'RIFF' || fourcc(bytes, 0) === 'RF64') && fourcc(bytes, 8) === 'WAVE';
}

export function decodeWav(bytes: Uint8Array, fileName: string): DecodedAudio {
  if (!isWav(bytes)) throw new AudioSaeError('is not a WAV file (no RIFF/WAVE header).', fileName);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rf64 = fourcc(bytes, 0) === 'RF64';
  let rf64DataSize: number | undefined;
  let fmt: { format: number; channels: number; sampleRateHz: number; bits: number; blockAlign: number } | undefined;
  let data: { start: number; size: number } | undefined;

  let p = 12;
  while (p + 8 <= bytes.length) {
    const id = fourcc(bytes, p);
    const size = view.getUint32(p + 4, true);
    const body = p + 8;
    if (id === 'ds64' && rf64) {
      rf64DataSize = Number(view.getBigUint64(body + 8, true));
    } else if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.length) throw new AudioSaeError('has a truncated "fmt " chunk.', fileName);
      let format = view.getUint16(body, true);
      const bits = view.getUint16(body + 14, true);
      if (format === FORMAT_EXTENSIBLE) {
        if (size < 40 || body + 40 > bytes.length) throw new AudioSaeError('has a truncated WAVE_FORMAT_EXTENSIBLE header.', fileName);
        format = view.getUint16(body + 24, true); // first two bytes of the sub-format GUID
      }
      fmt = { format, channels: view.getUint16(body + 2, true), sampleRateHz: view.getUint32(body + 4, true), bits, blockAlign: view.getUint16(body + 12, true) };
    } else if (id === 'data') {
      const available = bytes.length - body;
      let declared = rf64 && size === 0xffffffff && rf64DataSize !== undefined ? rf64DataSize : size;
      if (declared === 0 || declared === 0xffffffff) declared = available; // streaming writer never filled it in
      if (declared > available) {
        throw new AudioSaeError(`is truncated: its data chunk declares ${declared} bytes but only ${available} follow.`, fileName, 'Re-export or re-download the file.');
      }
      data = { start: body, size: declared };
      if (fmt) break; // everything needed; trailing chunks (LIST …) do not matter
    }
    if (id === 'data' && data && data.size === bytes.length - body) break;
    p = body + size + (size & 1);
  }
  if (!fmt) throw new AudioSaeError('has no "fmt " chunk.', fileName);
  if (!data) throw new AudioSaeError('has no "data" chunk.', fileName);

  const { format, channels, sampleRateHz, bits } = fmt;
  if (format !== FORMAT_PCM && format !== FORMAT_FLOAT) {
    const name = FORMAT_NAMES[format] ?? `format code 0x${format.toString(16)}`;
    throw new AudioSaeError(`uses the ${name} codec, which is not supported.`, fileName, 'Convert it to PCM or float WAV, or to FLAC.');
  }
  if (channels < 1) throw new AudioSaeError('declares 0 channels.', fileName);
  if (sampleRateHz < 1 || sampleRateHz > 768000) throw new AudioSaeError(`declares an implausible sample rate of ${sampleRateHz} Hz.`, fileName);
  const valid = format === FORMAT_FLOAT ? bits === 32 || bits === 64 : [8, 16, 24, 32].includes(bits);
  if (!valid) throw new AudioSaeError(`uses ${bits}-bit ${format === FORMAT_FLOAT ? 'float' : 'PCM'} samples, which are not supported.`, fileName);

  const bytesPerSample = bits / 8;
  const frameBytes = bytesPerSample * channels;
  const frames = Math.floor(data.size / frameBytes);
  const out = Array.from({ length: channels }, () => new Float32Array(frames));
  if (format === FORMAT_PCM && bits === 16) {
    // The common case, read through an aligned Int16Array view rather than a DataView per sample.
    const pcm = new Int16Array(Uint8Array.prototype.slice.call(bytes, data.start, data.start + frames * frameBytes).buffer);
    for (let c = 0; c < channels; c++) {
      const ch = out[c]!;
      for (let t = 0, i = c; t < frames; t++, i += channels) ch[t] = pcm[i]! / 32768;
    }
    return { sampleRateHz, channels: out, integerSource: true };
  }
  let o = data.start;
  for (let t = 0; t < frames; t++) {
    for (let c = 0; c < channels; c++, o += bytesPerSample) {
      let v: number;
      if (format === FORMAT_FLOAT) v = bits === 32 ? view.getFloat32(o, true) : view.getFloat64(o, true);
      else if (bits === 16) v = view.getInt16(o, true) / 32768;
      else if (bits === 8) v = (bytes[o]! - 128) / 128;
      else if (bits === 24) v = (((bytes[o]! | (bytes[o + 1]! << 8) | (bytes[o + 2]! << 16)) << 8) >> 8) / 8388608;
      else v = view.getInt32(o, true) / 2147483648;
      out[c]![t] = v;
    }
  }
  return { sampleRateHz, channels: out, integerSource: format === FORMAT_PCM };
}
