/**
 * A feature's acoustic profile: what the audio is like in the frames where it fires, against all frames of the
 * corpus. Per 20 ms SAE frame t, over a 1024-sample (64 ms) Hann window centred on the frame's middle (sample
 * 320t + 160, zeros beyond the clip): loudness (dBFS of the window's RMS), F0 and voicing, spectral centroid (Hz),
 * spectral flatness, onset strength (the positive spectral flux in dB against the previous frame), and the
 * frame's place in a sound event (events are runs of frames within 30 dB of the clip's loudest and above
 * −60 dBFS; the first third of an event is its beginning, the last third its end; other frames are outside).
 *
 * Libraries, compared for this: `meyda` (MIT, ~50 k downloads a month, plain JS, runs in Node on a Float32Array
 * with no Web Audio; RMS, centroid, flatness, amplitude spectrum; its spectralFlux extractor is broken in 5.6.3,
 * it reads an undeclared variable, so the flux is taken from its amplitude spectra here), `pitchfinder` (YIN,
 * AMDF and more, but GPL-3.0: not for an MIT extension), `essentia.js` (the most complete, but AGPL-3.0 and a
 * multi-megabyte WebAssembly build). Chosen: meyda for the spectral descriptors and `pitchy` (MIT, McLeod pitch
 * method, F0 with a clarity in [0, 1]; voiced = clarity ≥ 0.9 and 50–2000 Hz, in an event) for pitch.
 *
 * The frames where the feature fires need its code per frame: those are computed again (clipCodes.ts) for its
 * top clips by max (64 by default). The corpus side is every frame of up to `baselineClips` clips spread evenly
 * over the run's clips. The share per domain of its active frames comes from the store, over the whole corpus.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import Meyda from 'meyda';
import { PitchDetector } from 'pitchy';
import { SAMPLES_PER_MODEL_FRAME, SAMPLE_RATE_HZ } from '../audio/index.ts';
import { AudioSaeError } from '../errors.ts';
import type { ModelRunner } from '../runtime/types.ts';
import { featureColumn } from '../sae/sparseCodes.ts';
import { featureStats, topClips } from '../store/featureQueries.ts';
import { requireRun } from '../store/runs.ts';
import { forEachClipCodes, runClips, withClipAudio, type RunClip, type RunModels } from './clipCodes.ts';

const WINDOW = 1024;
const MIN_F0_HZ = 50;
const MAX_F0_HZ = 2000;
const CLARITY = 0.9;
const EVENT_RANGE_DB = 30;
const EVENT_FLOOR_DB = -60;
const SILENCE_DB = -120;

export const POSITIONS = ['outside', 'beginning', 'middle', 'end'] as const;
export type EventPosition = (typeof POSITIONS)[number];

/** Descriptors per SAE frame of one clip. */
export interface FrameDescriptors {
  frames: number;
  loudnessDb: Float32Array; // [frames] dBFS, −120 for digital silence
  f0Hz: Float32Array; // [frames] NaN where unvoiced
  centroidHz: Float32Array; // [frames] NaN in digital silence
  flatness: Float32Array; // [frames] NaN in digital silence
  onset: Float32Array; // [frames] mean over bins of max(0, dB_t − dB_{t−1}); 0 for the first frame
  position: Uint8Array; // [frames] index into POSITIONS
}

/** The descriptors of `frames` SAE frames of a clip's 16 kHz samples. */
export function frameDescriptors(samples: Float32Array, frames: number): FrameDescriptors {
  Meyda.bufferSize = WINDOW;
  Meyda.sampleRate = SAMPLE_RATE_HZ;
  Meyda.windowingFunction = 'hanning';
  const pitch = PitchDetector.forFloat32Array(WINDOW);
  const d: FrameDescriptors = {
    frames, loudnessDb: new Float32Array(frames), f0Hz: new Float32Array(frames).fill(Number.NaN), centroidHz: new Float32Array(frames),
    flatness: new Float32Array(frames), onset: new Float32Array(frames), position: new Uint8Array(frames),
  };
  const window = new Float32Array(WINDOW);
  /** The analysis window of frame t into `window`. */
  const cut = (t: number) => {
    const first = t * SAMPLES_PER_MODEL_FRAME + SAMPLES_PER_MODEL_FRAME / 2 - WINDOW / 2;
    window.fill(0);
    const a = Math.max(0, first);
    const b = Math.min(samples.length, first + WINDOW);
    if (b > a) window.set(samples.subarray(a, b), a - first);
  };
  let previousDb: Float32Array | undefined;
  for (let t = 0; t < frames; t++) {
    cut(t);
    let energy = 0;
    for (const v of window) energy += v * v;
    const rms = Math.sqrt(energy / WINDOW);
    d.loudnessDb[t] = rms > 0 ? Math.max(SILENCE_DB, 20 * Math.log10(rms)) : SILENCE_DB;
    if (rms === 0) {
      d.centroidHz[t] = d.flatness[t] = Number.NaN;
      previousDb = undefined;
      continue;
    }
    const f = Meyda.extract(['spectralCentroid', 'spectralFlatness', 'amplitudeSpectrum'], window) as { spectralCentroid: number; spectralFlatness: number; amplitudeSpectrum: Float32Array };
    d.centroidHz[t] = (f.spectralCentroid * SAMPLE_RATE_HZ) / WINDOW; // meyda gives it in FFT bins
    d.flatness[t] = Number.isFinite(f.spectralFlatness) ? f.spectralFlatness : Number.NaN;
    const db = Float32Array.from(f.amplitudeSpectrum, (v) => 20 * Math.log10(Math.max(v, 1e-6)));
    if (previousDb) {
      let flux = 0;
      for (let k = 0; k < db.length; k++) flux += Math.max(0, db[k]! - previousDb[k]!);
      d.onset[t] = flux / db.length;
    }
    previousDb = db;
  }
  // Sound events: runs of frames within EVENT_RANGE_DB of the clip's loudest (and above EVENT_FLOOR_DB).
  const peak = d.loudnessDb.reduce((m, v) => Math.max(m, v), SILENCE_DB);
  const threshold = Math.max(EVENT_FLOOR_DB, peak - EVENT_RANGE_DB);
  for (let t = 0; t < frames;) {
    if (d.loudnessDb[t]! < threshold) (t++);
    else {
      let end = t;
      while (end < frames && d.loudnessDb[end]! >= threshold) end++;
      const length = end - t;
      for (let i = t; i < end; i++) {
        const rel = (i - t + 0.5) / length;
        d.position[i] = rel < 1 / 3 ? 1 : rel > 2 / 3 ? 3 : 2;
        // Pitch only inside events (the costliest descriptor, and voicing is defined there only).
        cut(i);
        const [f0, clarity] = pitch.findPitch(window, SAMPLE_RATE_HZ);
        if (clarity >= CLARITY && f0 >= MIN_F0_HZ && f0 <= MAX_F0_HZ) d.f0Hz[i] = f0;
      }
      t = end;
    }
  }
  return d;
}

/** Sums over a set of frames, and what they come to. */
export class ProfileAccumulator {
  frames = 0;
  private loudness = 0;
  private voiced = 0;
  private readonly f0: number[] = [];
  private centroid = 0;
  private centroidFrames = 0;
  private flatness = 0;
  private flatnessFrames = 0;
  private onset = 0;
  private readonly positions = new Float64Array(POSITIONS.length);

  /** Adds frame t of a clip's descriptors. */
  add(d: FrameDescriptors, t: number): void {
    this.frames++;
    this.loudness += d.loudnessDb[t]!;
    const f0 = d.f0Hz[t]!;
    if (!Number.isNaN(f0)) (this.voiced++, this.f0.push(f0));
    if (!Number.isNaN(d.centroidHz[t]!)) (this.centroid += d.centroidHz[t]!, this.centroidFrames++);
    if (!Number.isNaN(d.flatness[t]!)) (this.flatness += d.flatness[t]!, this.flatnessFrames++);
    this.onset += d.onset[t]!;
    this.positions[d.position[t]!]!++;
  }

  finish(): ProfileStats {
    const n = this.frames;
    const f0 = [...this.f0].sort((a, b) => a - b);
    const median = f0.length === 0 ? Number.NaN : f0.length % 2 ? f0[(f0.length - 1) / 2]! : (f0[f0.length / 2 - 1]! + f0[f0.length / 2]!) / 2;
    return {
      frames: n,
      loudnessDb: n ? this.loudness / n : Number.NaN,
      voicedRate: n ? this.voiced / n : Number.NaN,
      f0MedianHz: median,
      f0MeanHz: f0.length ? f0.reduce((a, b) => a + b, 0) / f0.length : Number.NaN,
      centroidHz: this.centroidFrames ? this.centroid / this.centroidFrames : Number.NaN,
      flatness: this.flatnessFrames ? this.flatness / this.flatnessFrames : Number.NaN,
      onsetStrength: n ? this.onset / n : Number.NaN,
      position: Object.fromEntries(POSITIONS.map((p, i) => [p, n ? this.positions[i]! / n : Number.NaN])) as Record<EventPosition, number>,
    };
  }
}

export interface ProfileStats {
  frames: number;
  /** mean dBFS */
  loudnessDb: number;
  /** share of frames with an F0 */
  voicedRate: number;
  /** over the voiced frames */
  f0MedianHz: number;
  f0MeanHz: number;
  centroidHz: number;
  flatness: number;
  /** mean positive spectral flux, dB per bin */
  onsetStrength: number;
  /** share of frames at each place in a sound event */
  position: Record<EventPosition, number>;
}

export interface AcousticProfile {
  runId: string;
  layer: number;
  feature: number;
  /** The frames where the feature fires, in its top clips. */
  firing: ProfileStats;
  corpus: ProfileStats;
  /** Share of the feature's active frames per domain, over the whole corpus (from the store). */
  domains: { domain: string; share: number; activeFrames: number }[];
  clipsProfiled: number;
  baselineClips: number;
  description: string;
  notes: string[];
}

export interface ProfileOptions {
  runId: string;
  layer: number;
  feature: number;
  models: RunModels;
  /** Its top clips by max whose frames are profiled (default 64). */
  clips?: number;
  /** Clips (spread evenly over the run's clips) whose frames make the corpus side (default 100). */
  baselineClips?: number;
  cacheDir?: string;
  signal?: AbortSignal;
  onProgress?: (what: string, done: number, total: number) => void;
}

/** Up to n of the clips, spread evenly (every clip when there are no more than n). */
function spread<T>(all: readonly T[], n: number): T[] {
  if (all.length <= n) return [...all];
  return Array.from({ length: n }, (_, i) => all[Math.floor((i * all.length) / n)]!);
}

export async function acousticProfile(runner: ModelRunner, conn: DuckDBConnection, o: ProfileOptions): Promise<AcousticProfile> {
  const run = await requireRun(conn, o.runId, o.layer);
  const top = await topClips(conn, run.runId, o.layer, o.feature, o.clips ?? 64);
  if (top.length === 0) throw new AudioSaeError(`feature ${o.feature} never fires in run ${run.runId}, layer ${o.layer}: it has no profile.`);
  const clips = await runClips(conn, run.runId, o.layer, top.map((t) => t.clipId));
  const cache = new Map<number, FrameDescriptors>();
  const describe = async (clip: RunClip, read: () => Promise<Float32Array>) => {
    let d = cache.get(clip.clipId);
    if (!d) cache.set(clip.clipId, (d = frameDescriptors(await read(), clip.frames)));
    return d;
  };
  const feature = new ProfileAccumulator();
  await forEachClipCodes(runner, conn, run, o.layer, o.models, clips, async ({ clip, codes, reader }) => {
    const column = featureColumn(codes, o.feature);
    const d = await describe(clip, () => reader.read(0, reader.length));
    for (let t = 0; t < column.length; t++) if (column[t]! > 0) feature.add(d, t);
  }, { cacheDir: o.cacheDir, signal: o.signal, onProgress: (done, total) => o.onProgress?.('feature clips', done, total) });

  const baseline = spread(await runClips(conn, run.runId, o.layer), o.baselineClips ?? 100);
  const corpus = new ProfileAccumulator();
  for (const [i, clip] of baseline.entries()) {
    if (o.signal?.aborted) throw new AudioSaeError('cancelled.');
    const d = cache.get(clip.clipId) ?? (await withClipAudio(runner, clip, (reader) => describe(clip, () => reader.read(0, reader.length))));
    for (let t = 0; t < d.frames; t++) corpus.add(d, t);
    o.onProgress?.('corpus clips', i + 1, baseline.length);
  }

  const stats = await featureStats(conn, run.runId, o.layer, { by: 'domain', feature: o.feature });
  const active = stats.reduce((a, s) => a + s.activeFrames, 0);
  const domains = stats.filter((s) => s.activeFrames > 0).map((s) => ({ domain: s.group ?? '', share: s.activeFrames / active, activeFrames: s.activeFrames }))
    .sort((a, b) => b.share - a.share);
  const f = feature.finish();
  const c = corpus.finish();
  const notes: string[] = [];
  if (top.length === (o.clips ?? 64) && stats.reduce((a, s) => a + s.activeClips, 0) > top.length) notes.push(`Profiled the feature's top ${top.length} clips by max; it fires in more.`);
  return {
    runId: run.runId, layer: o.layer, feature: o.feature, firing: f, corpus: c, domains, clipsProfiled: clips.length, baselineClips: baseline.length,
    description: describeProfile(f, c, domains), notes,
  };
}

/** "fires on loud voiced onsets around 220 Hz; 80% in speech": the traits where the feature's frames stand out. */
export function describeProfile(f: ProfileStats, c: ProfileStats, domains: readonly { domain: string; share: number }[]): string {
  if (f.frames === 0) return 'fires on no frame of its top clips';
  const words: string[] = [];
  if (f.loudnessDb > c.loudnessDb + 6) words.push('loud');
  else if (f.loudnessDb < c.loudnessDb - 6) words.push('quiet');
  if (f.flatness > 2 * c.flatness && f.flatness > 0.2) words.push('noisy');
  else if (f.flatness < 0.5 * c.flatness) words.push('tonal');
  if (f.centroidHz > 1.5 * c.centroidHz) words.push('bright');
  else if (f.centroidHz < c.centroidHz / 1.5) words.push('dark');
  if (f.voicedRate >= 0.6) words.push('voiced');
  else if (f.voicedRate <= 0.2 && c.voicedRate > 0.3) words.push('unvoiced');
  const [place, share] = (['beginning', 'middle', 'end', 'outside'] as const).map((p) => [p, f.position[p]] as const).sort((a, b) => b[1] - a[1])[0]!;
  const noun = share < 0.5 ? 'sounds' : { beginning: 'onsets', middle: 'sustained sounds', end: 'offsets', outside: 'silence and quiet frames' }[place];
  let text = `fires on ${[...words, noun].join(' ')}`;
  if (f.voicedRate >= 0.3 && Number.isFinite(f.f0MedianHz)) text += ` around ${Math.round(f.f0MedianHz)} Hz`;
  const first = domains[0];
  if (first) text += `; ${Math.round(first.share * 100)}% in ${first.domain}`;
  return text;
}
