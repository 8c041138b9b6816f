/** WAV files built byte by byte for tests: any format fields (true or lying), extra chunks, long silence. */
import { closeSync, openSync, writeSync } from 'node:fs';

export interface WavFields {
  format?: number; // 1 PCM, 3 float, 0xfffe extensible
  channels?: number;
  rateHz?: number;
  bits?: number;
  /** The data chunk's size field (default: the real size). */
  dataSize?: number;
  riff?: 'RIFF' | 'RF64';
  /** Chunks placed before fmt. */
  before?: Buffer[];
}

export function chunk(id: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.write(id, 0, 'latin1');
  head.writeUInt32LE(body.length, 4);
  return Buffer.concat([head, body, body.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}

export function fmtChunk(f: WavFields): Buffer {
  const channels = f.channels ?? 1;
  const bits = f.bits ?? 16;
  const rate = f.rateHz ?? 16000;
  const body = Buffer.alloc(16);
  body.writeUInt16LE(f.format ?? 1, 0);
  body.writeUInt16LE(channels, 2);
  body.writeUInt32LE(rate >>> 0, 4);
  body.writeUInt32LE((rate * channels * bits / 8) >>> 0, 8);
  body.writeUInt16LE(channels * bits / 8, 12);
  body.writeUInt16LE(bits, 14);
  return chunk('fmt ', body);
}

/** A whole WAV file around `data` (the sample bytes). */
export function makeWav(f: WavFields, data: Buffer): Buffer {
  const dataHead = Buffer.alloc(8);
  dataHead.write('data', 0, 'latin1');
  dataHead.writeUInt32LE((f.dataSize ?? data.length) >>> 0, 4);
  const body = Buffer.concat([Buffer.from('WAVE'), ...(f.before ?? []), fmtChunk(f), dataHead, data]);
  const head = Buffer.alloc(8);
  head.write(f.riff ?? 'RIFF', 0, 'latin1');
  head.writeUInt32LE(body.length >>> 0, 4);
  return Buffer.concat([head, body]);
}

/** 16-bit PCM of the given samples (in [-1, 1]), interleaved from per-channel arrays. */
export function pcm16(channels: Float32Array[]): Buffer {
  const n = channels[0]!.length;
  const out = Buffer.alloc(n * channels.length * 2);
  for (let t = 0; t < n; t++) for (let c = 0; c < channels.length; c++) out.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(channels[c]![t]! * 32767))), (t * channels.length + c) * 2);
  return out;
}

/** A silent 16-bit mono WAV of `seconds` at `rateHz`, written in pieces (hours of audio, little memory). */
export function writeSilentWav(path: string, seconds: number, rateHz: number): void {
  const bytes = seconds * rateHz * 2;
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, makeWav({ rateHz, dataSize: bytes }, Buffer.alloc(0)));
    const zeros = Buffer.alloc(1 << 20);
    for (let done = 0; done < bytes; done += zeros.length) writeSync(fd, zeros, 0, Math.min(zeros.length, bytes - done));
  } finally {
    closeSync(fd);
  }
}
