/**
 * A clip's 16 kHz mono samples read by range, so that long files never need to be held whole: a WAV file is
 * read piece by piece (positional reads of whole frames, mixed to mono, resampled with the polyphase graph
 * over just the input a range needs); other formats, and rate pairs the graph does not cover, are decoded
 * whole once and read from memory. Either way a range holds exactly the samples `loadAudio16kMono` gives.
 */
import { readSync } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { AudioSaeError } from '../errors.ts';
import type { ModelRunner } from '../runtime/types.ts';
import { SAMPLE_RATE_HZ } from './constants.ts';
import { loadAudio16kMono, resampleRange, toMono, type Audio16k } from './resample.ts';
import { resamplePlan, type ResamplePlan } from './resampleGraph.ts';
import { decodeFrames, isWav, parseWavLayout, type WavLayout } from './wav.ts';

/** 16 kHz mono samples by range. */
export interface SampleReader {
  /** Samples at 16 kHz. */
  readonly length: number;
  /** Samples [start, start + count), clipped to the end of the clip (a fresh array the caller may keep). */
  read(start: number, count: number): Promise<Float32Array>;
}

/** A clip opened for reading by range: what `Audio16k` says about it, and its samples through a reader. */
export interface AudioStream16k extends Omit<Audio16k, 'samples'> {
  reader: SampleReader;
  close(): Promise<void>;
}

/** Samples already in memory. */
export function samplesReader(samples: Float32Array): SampleReader {
  return {
    length: samples.length,
    read: async (start, count) => samples.slice(Math.max(0, start), Math.min(samples.length, start + count)),
  };
}

async function openUserFile(path: string): Promise<FileHandle> {
  try {
    if ((await stat(path)).isDirectory()) throw new AudioSaeError('is a folder, not a file.', path);
    return await open(path, 'r');
  } catch (e) {
    if (e instanceof AudioSaeError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new AudioSaeError(code === 'ENOENT' ? 'file not found.' : `cannot be read (${code}).`, path);
  }
}

/** Positional read of exactly `length` bytes, or fewer at the end of the file. */
async function readAt(handle: FileHandle, position: number, length: number): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buf, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buf.subarray(0, done);
}

class WavFileReader implements SampleReader {
  readonly length: number;

  constructor(
    private readonly handle: FileHandle,
    private readonly path: string,
    private readonly layout: WavLayout,
    private readonly plan: ResamplePlan | undefined,
    private readonly runner: ModelRunner,
  ) {
    this.length = plan ? Math.round((layout.frames * SAMPLE_RATE_HZ) / layout.sampleRateHz) : layout.frames;
  }

  async read(start: number, count: number): Promise<Float32Array> {
    const from = Math.max(0, start);
    const to = Math.min(this.length, start + count);
    if (to <= from) return new Float32Array(0);
    if (!this.plan) return this.mono(from, to);
    return resampleRange(this.runner, this.plan, (a, b) => this.mono(a, b), from, to);
  }

  /** Source-rate mono samples [from, to), zero outside the file's frames. */
  private async mono(from: number, to: number): Promise<Float32Array> {
    const { frames, frameBytes, dataStart, sampleRateHz } = this.layout;
    const out = new Float32Array(to - from);
    const a = Math.max(0, from);
    const b = Math.min(frames, to);
    if (b <= a) return out;
    // Read at an even offset into a fresh buffer, so 16-bit samples can go through a typed view.
    const bytes = await readAt(this.handle, dataStart + a * frameBytes, (b - a) * frameBytes);
    const whole = Math.floor(bytes.length / frameBytes);
    if (whole < b - a) throw new AudioSaeError(`is truncated: it ended while reading frame ${a + whole}.`, this.path, 'Was it still being written?');
    const mono = toMono(decodeFrames(this.layout, bytes, whole));
    if (this.layout.format === 3) {
      for (let i = 0; i < mono.length; i++) {
        if (!Number.isFinite(mono[i]!)) {
          throw new AudioSaeError(`holds a non-finite sample (${mono[i]}) at ${((a + i) / sampleRateHz).toFixed(3)} s.`, this.path, 'The file is damaged or was written from invalid data.');
        }
      }
    }
    out.set(mono, a - from);
    return out;
  }
}

/**
 * Opens a clip for reading by range. WAV files at any rate the polyphase graph covers are streamed from disk;
 * anything else is decoded whole (as `loadAudio16kMono`) and served from memory.
 */
export async function openAudio16kStream(path: string, runner: ModelRunner): Promise<AudioStream16k> {
  const handle = await openUserFile(path);
  let keep = false;
  try {
    const size = (await handle.stat()).size;
    const head = await readAt(handle, 0, 12);
    if (isWav(head)) {
      const layout = parseLayout(handle, size, path);
      const plan = layout.sampleRateHz === SAMPLE_RATE_HZ ? undefined : resamplePlan(layout.sampleRateHz, SAMPLE_RATE_HZ);
      if (layout.frames === 0) throw new AudioSaeError('holds no audio samples (zero length).', path);
      if (layout.sampleRateHz === SAMPLE_RATE_HZ || plan) {
        keep = true;
        return {
          reader: new WavFileReader(handle, path, layout, plan, runner),
          sourceRateHz: layout.sampleRateHz,
          channels: layout.channels,
          durationS: layout.frames / layout.sampleRateHz,
          name: basename(path),
          close: () => handle.close(),
        };
      }
    }
  } finally {
    if (!keep) await handle.close();
  }
  const audio = await loadAudio16kMono(path, runner);
  return { ...audio, reader: samplesReader(audio.samples), close: async () => undefined };
}

/** The WAV layout, parsed where it lies through small synchronous positional reads (at most a few per chunk). */
function parseLayout(handle: FileHandle, size: number, path: string): WavLayout {
  return parseWavLayout((offset, length) => {
    const buf = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
    let done = 0;
    while (done < buf.length) {
      const n = readSync(handle.fd, buf, done, buf.length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    return buf.subarray(0, done);
  }, size, path);
}
