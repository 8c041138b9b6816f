/**
 * A feature's mel receptive field (the paper's `feature_activation_windows` / `get_mels`): log-mel windows of
 * `windowFrames` mel frames (100 = 1 s) centred on mel frame 2t of SAE frames t where the feature is active,
 * taken from the clips where it reaches its highest max; their element-wise mean is the receptive field.
 *
 * - The mel is the backbone's own front end (Whisper's log-mel, 80 or 128 bins, each 30 s window normalised on
 *   its own exactly as the encoder sees it); for HuBERT, Whisper's 80-bin log-mel, for display.
 * - Window column k shows clip mel frame 2t − ⌊W/2⌋ + k, so the centre column is ⌊W/2⌋. Columns that fall
 *   outside the clip's real frames (before its start, after its end, the zero padding of its last 30 s window)
 *   are not data: an individual window holds NaN there, and the mean averages each column only over the windows
 *   that cover it; `coverage[k]` counts them (a column no window covers is NaN in the mean).
 * - Which frames: by default one window per clip at the arg-max frame the store recorded (no model runs); or
 *   every frame whose code exceeds a value (codes computed again for those clips, clipCodes.ts), highest first,
 *   optionally at most one per clip. When codes are computed, the feature's activation per mel column (each SAE
 *   frame spans two mel frames) is averaged the same way: the activation curve drawn above the heatmap.
 * - Clips are read as the run read them: the segment [start_s, end_s) of the file, frame 0 at its start.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { HOP_SAMPLES, MEL_FRAMES_PER_SECOND, MEL_FRAMES_PER_WINDOW, WINDOW_SAMPLES, whisperLogMelWindow, type SampleReader } from '../audio/index.ts';
import { backboneById } from '../backbones/registry.ts';
import { AudioSaeError } from '../errors.ts';
import { DEMO_BACKBONES } from '../pipeline/resolve.ts';
import type { ModelRunner } from '../runtime/types.ts';
import { featureColumn } from '../sae/sparseCodes.ts';
import { requireRun } from '../store/runs.ts';
import { topClips } from '../store/featureQueries.ts';
import { SAE_FRAMES_PER_SECOND } from '../store/sqlRows.ts';
import { forEachClipCodes, runClips, withClipAudio, type RunClip, type RunModels } from './clipCodes.ts';

/** A matrix of `rows` × `frames` columns, row-major ([rows, frames]); column c is clip frame `offset + c`. */
export interface ColumnSource {
  rows: number;
  frames: number;
  data: Float32Array; // [rows, frames] row-major
  /** Clip frame of column 0. */
  offset: number;
  /** The clip's real frames are [0, validFrames): anything outside is not data. */
  validFrames: number;
}

/** The window [rows, W] centred on clip frame `centre` (column ⌊W/2⌋), NaN in columns outside the clip's real frames. */
export function cutWindow(source: ColumnSource, centre: number, windowFrames: number): Float32Array {
  const { rows, frames, data, offset, validFrames } = source;
  const out = new Float32Array(rows * windowFrames).fill(Number.NaN); // [rows, W] row-major
  const first = centre - Math.floor(windowFrames / 2);
  for (let k = 0; k < windowFrames; k++) {
    const m = first + k;
    const c = m - offset;
    if (m < 0 || m >= validFrames || c < 0 || c >= frames) continue;
    for (let r = 0; r < rows; r++) out[r * windowFrames + k] = data[r * frames + c]!;
  }
  return out;
}

/** The running element-wise mean of windows [rows, W] (NaN columns = not covered), Float64 sums; nothing kept. */
export class WindowMean {
  private readonly sums: Float64Array; // [rows, W]
  readonly coverage: Int32Array; // [W]
  count = 0;

  constructor(readonly rows: number, readonly windowFrames: number) {
    this.sums = new Float64Array(rows * windowFrames);
    this.coverage = new Int32Array(windowFrames);
  }

  add(window: Float32Array): void {
    const W = this.windowFrames;
    this.count++;
    for (let k = 0; k < W; k++) {
      if (Number.isNaN(window[k]!)) continue; // row 0 tells: a column is covered in every row or in none
      this.coverage[k]!++;
      for (let r = 0; r < this.rows; r++) this.sums[r * W + k] += window[r * W + k]!;
    }
  }

  /** Each column averaged over the windows that cover it (NaN where none does), and that count per column. */
  finish(): { mean: Float32Array; coverage: Int32Array } {
    const W = this.windowFrames;
    const mean = new Float32Array(this.rows * W); // [rows, W] row-major
    for (let r = 0; r < this.rows; r++) for (let k = 0; k < W; k++) mean[r * W + k] = this.coverage[k]! > 0 ? this.sums[r * W + k]! / this.coverage[k]! : Number.NaN;
    return { mean, coverage: this.coverage.slice() };
  }
}

/** The element-wise mean of windows [rows, W], each column over the windows that cover it, and that count per column. */
export function meanOfWindows(windows: readonly Float32Array[], rows: number, windowFrames: number): { mean: Float32Array; coverage: Int32Array } {
  const m = new WindowMean(rows, windowFrames);
  for (const w of windows) m.add(w);
  return m.finish();
}

/**
 * A clip's log-mel over mel frames [from, to) as the backbone computes it (each 30 s window on its own), only
 * the 30 s windows that span touches; real frames of the clip: ceil(samples / 160).
 */
export async function clipMelColumns(runner: ModelRunner, reader: SampleReader, nMels: 80 | 128, from: number, to: number): Promise<ColumnSource> {
  const validFrames = Math.ceil(reader.length / HOP_SAMPLES);
  from = Math.max(0, from);
  to = Math.max(from, Math.min(to, validFrames));
  const frames = to - from;
  const data = new Float32Array(nMels * frames); // [nMels, frames] row-major
  for (let w = Math.floor(from / MEL_FRAMES_PER_WINDOW); frames > 0 && w * MEL_FRAMES_PER_WINDOW < to; w++) {
    const mel = (await whisperLogMelWindow(runner, await reader.read(w * WINDOW_SAMPLES, WINDOW_SAMPLES), nMels)).data; // [nMels, 3000]
    const a = Math.max(from, w * MEL_FRAMES_PER_WINDOW);
    const b = Math.min(to, (w + 1) * MEL_FRAMES_PER_WINDOW);
    for (let m = 0; m < nMels; m++) {
      data.set(mel.subarray(m * MEL_FRAMES_PER_WINDOW + a - w * MEL_FRAMES_PER_WINDOW, m * MEL_FRAMES_PER_WINDOW + b - w * MEL_FRAMES_PER_WINDOW), m * frames + a - from);
    }
  }
  return { rows: nMels, frames, data, offset: from, validFrames };
}

/** The mel bins of the backbone's own front end; Whisper's 80 for HuBERT (display only). */
export function displayMelBins(backboneId: string): 80 | 128 {
  const spec = backboneById(backboneId, DEMO_BACKBONES);
  return spec.melBins ?? 80;
}

/** At most this many values of individual windows are kept (1 GiB of float32). */
const MAX_KEPT_VALUES = 2 ** 28;

export type WindowSelection = { kind: 'argmax' } | { kind: 'above'; value: number };

export interface ReceptiveFieldOptions {
  runId: string;
  layer: number;
  feature: number;
  /** The clips where the feature reaches its highest max (default 32). */
  clips?: number;
  /** Window length in mel frames (default 100 = 1 s). */
  windowFrames?: number;
  /** One window at each clip's stored arg-max (default), or at every frame whose code exceeds a value. */
  selection?: WindowSelection;
  /** At most this many windows (the highest activations first); default: every selected frame. */
  maxWindows?: number;
  /** With `above`: at most one window per clip, at its highest frame above the value (default false). */
  oncePerClip?: boolean;
  /** Compute the codes again (needed for `above`; gives the activation curve). Default: true when models are given. */
  models?: RunModels;
  keepWindows?: boolean;
  /** Keep the 16 kHz samples of each window (for listening). */
  keepAudio?: boolean;
  cacheDir?: string;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface PickedWindow {
  clipId: number;
  clip: string;
  domain: string;
  startS: number | null;
  /** SAE frame t (from the segment's start) and its time t / 50. */
  frame: number;
  timeS: number;
  /** The feature's code there (the stored max in arg-max mode). */
  activation: number;
  /** Clip mel frame at the window's centre: 2t. */
  centreMelFrame: number;
  /** Window columns with clip data. */
  covered: number;
}

export interface ReceptiveField {
  runId: string;
  layer: number;
  feature: number;
  nMels: number;
  windowFrames: number;
  /** ⌊W/2⌋ */
  centreColumn: number;
  mean: Float32Array; // [nMels, W] row-major; NaN where coverage is 0
  coverage: Int32Array; // [W]
  /** [n, nMels, W] row-major; NaN outside the clips (when asked for). */
  windows?: Float32Array;
  /** The feature's mean code per window column, averaged over the windows covering it (when codes were computed). */
  curve?: Float32Array; // [W]
  curveCoverage?: Int32Array; // [W]
  picked: PickedWindow[];
  /** The real samples of each window (16 kHz) and the window column where they begin. */
  audio?: { samples: Float32Array; firstColumn: number }[];
  notes: string[];
}

/** The SAE frames of a clip where the feature's code exceeds `value`, highest first (then earliest). */
function framesAbove(column: Float32Array, value: number): number[] {
  const out: number[] = [];
  for (let t = 0; t < column.length; t++) if (column[t]! > value) out.push(t);
  return out.sort((a, b) => column[b]! - column[a]! || a - b);
}

/** Each SAE frame's code repeated over its two mel frames: the activation at mel resolution, [1, 2·frames]. */
function melTrack(column: Float32Array): ColumnSource {
  const data = new Float32Array(column.length * 2);
  for (let t = 0; t < column.length; t++) data[2 * t] = data[2 * t + 1] = column[t]!;
  return { rows: 1, frames: data.length, data, offset: 0, validFrames: data.length };
}

interface Candidate {
  clip: RunClip;
  frame: number;
  activation: number;
}

export async function receptiveField(runner: ModelRunner, conn: DuckDBConnection, o: ReceptiveFieldOptions): Promise<ReceptiveField> {
  const run = await requireRun(conn, o.runId, o.layer);
  const W = o.windowFrames ?? 100;
  if (!Number.isInteger(W) || W < 2) throw new AudioSaeError(`the window length must be a whole number of mel frames, at least 2; got ${W}.`);
  const selection = o.selection ?? { kind: 'argmax' };
  if (selection.kind === 'above' && !o.models) throw new Error('receptiveField: "above" needs the run\'s models to compute the codes');
  const nMels = displayMelBins(run.backbone);
  const half = Math.floor(W / 2);
  const top = await topClips(conn, run.runId, o.layer, o.feature, o.clips ?? 32);
  const clips = await runClips(conn, run.runId, o.layer, top.map((t) => t.clipId));
  const stored = new Map(top.map((t) => [t.clipId, t]));
  const notes: string[] = [];

  // Pass 1 (with models): the codes of each top clip; candidates and their curves.
  const candidates: Candidate[] = [];
  const tracks = new Map<number, ColumnSource>();
  if (o.models) {
    let worst = 0;
    await forEachClipCodes(runner, conn, run, o.layer, o.models, clips, ({ clip, codes }) => {
      const column = featureColumn(codes, o.feature);
      tracks.set(clip.clipId, melTrack(column));
      const s = stored.get(clip.clipId)!;
      worst = Math.max(worst, Math.abs((column[s.frame] ?? 0) - s.max));
      if (selection.kind === 'argmax') candidates.push({ clip, frame: s.frame, activation: s.max });
      else {
        const frames = framesAbove(column, selection.value);
        for (const t of o.oncePerClip ? frames.slice(0, 1) : frames) candidates.push({ clip, frame: t, activation: column[t]! });
      }
    }, { cacheDir: o.cacheDir, signal: o.signal, onProgress: o.onProgress });
    if (worst > 1e-3 * Math.max(1, ...top.map((t) => Math.abs(t.max)))) {
      notes.push(`The codes computed again differ from the store's max at the stored arg-max by up to ${worst.toPrecision(3)}: the models or settings may not be the run's.`);
    }
  } else {
    for (const clip of clips) {
      const s = stored.get(clip.clipId)!;
      candidates.push({ clip, frame: s.frame, activation: s.max });
    }
  }
  candidates.sort((a, b) => b.activation - a.activation || a.clip.clipId - b.clip.clipId || a.frame - b.frame);
  const chosen = o.maxWindows !== undefined ? candidates.slice(0, o.maxWindows) : candidates;
  if (chosen.length === 0) {
    throw new AudioSaeError(selection.kind === 'above'
      ? `feature ${o.feature} never exceeds ${selection.value} in its top ${clips.length} clips.`
      : `feature ${o.feature} never fires in run ${run.runId}, layer ${o.layer}.`);
  }

  if (o.keepWindows && chosen.length * nMels * W > MAX_KEPT_VALUES) {
    throw new AudioSaeError(`keeping ${chosen.length} windows of ${nMels} × ${W} values would take ${((chosen.length * nMels * W * 4) / 2 ** 30).toFixed(1)} GiB.`, undefined, 'Ask for fewer with --windows, or leave out --individual.');
  }

  // Pass 2: the mel windows, clip by clip (only the 30 s windows they touch are computed), averaged as they come.
  const byClip = new Map<number, number[]>();
  chosen.forEach((c, i) => byClip.set(c.clip.clipId, [...(byClip.get(c.clip.clipId) ?? []), i]));
  const melMean = new WindowMean(nMels, W);
  const curveMean = new WindowMean(1, W);
  const kept = o.keepWindows ? new Float32Array(chosen.length * nMels * W) : undefined; // [n, nMels, W]
  const covered = new Int32Array(chosen.length);
  const audio: { samples: Float32Array; firstColumn: number }[] = new Array(o.keepAudio ? chosen.length : 0);
  for (const [, indices] of byClip) {
    const clip = chosen[indices[0]!]!.clip;
    await withClipAudio(runner, clip, async (reader) => {
      const centres = indices.map((i) => 2 * chosen[i]!.frame);
      const mel = await clipMelColumns(runner, reader, nMels, Math.min(...centres) - half, Math.max(...centres) - half + W);
      const track = tracks.get(clip.clipId);
      for (const i of indices) {
        const centre = 2 * chosen[i]!.frame;
        const window = cutWindow(mel, centre, W);
        melMean.add(window);
        kept?.set(window, i * nMels * W);
        covered[i] = countCovered(window, W);
        if (track) curveMean.add(cutWindow(track, centre, W));
        if (o.keepAudio) audio[i] = await windowAudio(reader, centre - half, W);
      }
    });
  }
  const { mean, coverage } = melMean.finish();
  const result: ReceptiveField = {
    runId: run.runId, layer: o.layer, feature: o.feature, nMels, windowFrames: W, centreColumn: half, mean, coverage, notes,
    picked: chosen.map((c, i) => ({
      clipId: c.clip.clipId, clip: c.clip.path, domain: c.clip.domain, startS: c.clip.startS, frame: c.frame, timeS: c.frame / SAE_FRAMES_PER_SECOND,
      activation: c.activation, centreMelFrame: 2 * c.frame, covered: covered[i]!,
    })),
  };
  if (kept) result.windows = kept;
  if (tracks.size > 0) {
    const curve = curveMean.finish();
    result.curve = curve.mean;
    result.curveCoverage = curve.coverage;
  }
  if (o.keepAudio) result.audio = audio;
  return result;
}

function countCovered(window: Float32Array, W: number): number {
  let n = 0;
  for (let k = 0; k < W; k++) if (!Number.isNaN(window[k]!)) n++;
  return n;
}

/** The real samples under window columns starting at clip mel frame `first` (hop 160), and the column they begin at. */
async function windowAudio(reader: SampleReader, first: number, W: number): Promise<{ samples: Float32Array; firstColumn: number }> {
  const from = Math.max(0, first * HOP_SAMPLES);
  const to = Math.min(reader.length, (first + W) * HOP_SAMPLES);
  return { samples: to > from ? await reader.read(from, to - from) : new Float32Array(0), firstColumn: Math.max(0, -first) };
}

/** 16 kHz mono 16-bit PCM WAV bytes. */
export function wav16k(samples: Float32Array): Uint8Array {
  const bytes = new Uint8Array(44 + samples.length * 2);
  const v = new DataView(bytes.buffer);
  const ascii = (at: number, s: string) => [...s].forEach((ch, i) => v.setUint8(at + i, ch.charCodeAt(0)));
  ascii(0, 'RIFF');
  v.setUint32(4, 36 + samples.length * 2, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true); // PCM
  v.setUint16(22, 1, true); // mono
  v.setUint32(24, MEL_FRAMES_PER_SECOND * HOP_SAMPLES, true); // 16 000 Hz
  v.setUint32(28, MEL_FRAMES_PER_SECOND * HOP_SAMPLES * 2, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, 16, true);
  ascii(36, 'data');
  v.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) v.setInt16(44 + 2 * i, Math.max(-32768, Math.min(32767, Math.round(samples[i]! * 32767))), true);
  return bytes;
}
