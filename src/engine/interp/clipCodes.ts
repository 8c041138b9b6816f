/**
 * The per-frame SAE codes of a few clips of a corpus run, computed again: the store keeps per (clip, feature)
 * only the max, arg-max frame, active frames and sum, so the analyses that need a feature's code frame by frame
 * (receptive fields in "every active frame" mode and activation curves, acoustic profiles) run the run's backbone
 * and SAE again on just the clips they look at, with the run's own settings (tap, HuBERT options, SAE mode; batch
 * top-k over the whole clip exactly when the run did so). Clips are read as the run read them: the segment
 * [start_s, end_s) of the file, frame 0 at the segment's start.
 *
 * The models are the run's: the weights folder recorded in the run's identity (or one named by the caller) and
 * the layer's SAE, whose sha256 must be the one the run recorded, so codes cannot silently come from another SAE.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { openAudio16kStream, SAMPLE_RATE_HZ, type SampleReader } from '../audio/index.ts';
import { AudioSaeError } from '../errors.ts';
import type { EncoderTap } from '../onnx/whisper.ts';
import { aboutClip, encoderPass, layerFrameCount } from '../pipeline/activations.ts';
import { openClipModels } from '../pipeline/clipModels.ts';
import { resolveModels } from '../pipeline/resolve.ts';
import type { ModelRunner } from '../runtime/types.ts';
import { runSae, type Sae, type SaeMode, type SparseCodes } from '../sae/index.ts';
import { SparseCodesBuilder } from '../sae/sparseCodes.ts';
import { LAYER_CLIPS_CTE, num, numOrNull, rows, str } from '../store/sqlRows.ts';
import type { RunInfo } from '../store/runs.ts';

/** A clip of a run's layer as the store has it. */
export interface RunClip {
  clipId: number;
  path: string;
  domain: string;
  startS: number | null;
  endS: number | null;
  /** SAE frames the run computed for the clip at this layer. */
  frames: number;
}

/** The run's done clips of the layer (all, or those of `clipIds`, in that order). */
export async function runClips(conn: DuckDBConnection, runId: string, layer: number, clipIds?: readonly number[]): Promise<RunClip[]> {
  const r = await rows(
    conn,
    `WITH ${LAYER_CLIPS_CTE} SELECT lc.clip_id, lc.path, lc.domain, lc.frames, c.start_s, c.end_s
     FROM layer_clips lc JOIN clips c ON c.run_id = $run AND c.clip_id = lc.clip_id ORDER BY lc.clip_id`,
    { run: runId, layer },
  );
  const all = r.map((row) => ({
    clipId: num(row, 'clip_id'), path: str(row, 'path'), domain: str(row, 'domain'),
    startS: numOrNull(row, 'start_s'), endS: numOrNull(row, 'end_s'), frames: num(row, 'frames'),
  }));
  if (!clipIds) return all;
  const byId = new Map(all.map((c) => [c.clipId, c]));
  return clipIds.map((id) => byId.get(id)).filter((c): c is RunClip => c !== undefined);
}

/** The samples [startS, endS) of a clip, read by range (frame 0 = the segment's first sample). */
export function segmentReader(reader: SampleReader, startS: number | null, endS: number | null): SampleReader {
  if (startS === null && endS === null) return reader;
  const first = Math.min(reader.length, Math.round((startS ?? 0) * SAMPLE_RATE_HZ));
  const last = endS === null ? reader.length : Math.min(reader.length, Math.round(endS * SAMPLE_RATE_HZ));
  const length = Math.max(0, last - first);
  return { length, read: (start, count) => reader.read(first + start, Math.min(count, length - start)) };
}

/** Runs `use` with the clip's segment opened for reading (16 kHz mono), and closes it. */
export async function withClipAudio<T>(runner: ModelRunner, clip: RunClip, use: (reader: SampleReader) => Promise<T>): Promise<T> {
  const audio = await openAudio16kStream(clip.path, runner);
  try {
    return await use(segmentReader(audio.reader, clip.startS, clip.endS));
  } finally {
    await audio.close();
  }
}

/** The model files a run's layer ran with. */
export interface RunModels {
  weightsFolder: string;
  saePath: string;
}

/** The weights folder recorded in a run's identity (the folder of its config.json). */
export function runWeightsFolder(run: RunInfo): string | undefined {
  try {
    const files = JSON.parse(run.weights) as unknown;
    const first = Array.isArray(files) && Array.isArray(files[0]) ? files[0][0] : undefined;
    return typeof first === 'string' ? dirname(first) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The backbone folder and SAE file of a run's layer: those named (`weights`, `sae`), else the ones the run
 * recorded (its weights folder, its SAE folder or file when it still exists, else the backbone's default SAEs:
 * the bundled demo ones or the Hub's, from the cache).
 */
export async function resolveRunModels(run: RunInfo, layer: number, o: { weights?: string; sae?: string; demoModelsDir: string; signal?: AbortSignal }): Promise<RunModels> {
  const recorded = runWeightsFolder(run);
  const weights = o.weights ?? (recorded && existsSync(recorded) ? recorded : undefined);
  const sae = o.sae ?? (existsSync(run.sae) ? run.sae : undefined);
  const r = await resolveModels({ backbone: run.backbone, layer, weights, sae, demoModelsDir: o.demoModelsDir, signal: o.signal });
  return { weightsFolder: r.weightsFolder, saePath: r.saePath };
}

async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The sha256 of the layer's ae.pt that the run recorded. */
async function recordedSaeSha256(conn: DuckDBConnection, runId: string, layer: number): Promise<string | undefined> {
  const r = await rows(conn, 'SELECT sae_sha256::VARCHAR AS sha FROM runs WHERE run_id = $run', { run: runId });
  const all = r[0] ? (JSON.parse(str(r[0], 'sha')) as Record<string, unknown>) : {};
  const sha = all[String(layer)];
  return typeof sha === 'string' ? sha : undefined;
}

/** The run settings that shape the codes, as recorded in its options. */
function runSettings(run: RunInfo): { tap: EncoderTap; normalizeInput: boolean; maxHubertSeconds: number } {
  const o = (run.options ?? {}) as Record<string, unknown>;
  return {
    tap: o.tap === 'final-norm' ? 'final-norm' : 'block',
    normalizeInput: o.normalizeInput === true,
    maxHubertSeconds: typeof o.maxHubertSeconds === 'number' ? o.maxHubertSeconds : 60,
  };
}

/** Frames (summed over the run's layers) up to which the corpus run encodes a clip whole in batch top-k mode. */
const BATCH_TOPK_MAX_FRAMES = 30_000;

export interface ClipCodes {
  clip: RunClip;
  /** The clip's codes at the layer, every frame: [frames] CSR. */
  codes: SparseCodes;
  /** The clip's segment, open until the callback returns. */
  reader: SampleReader;
}

/**
 * Computes the codes of each clip of `clips` at the run's layer with the run's models and settings, and hands
 * them on clip by clip (with the clip's audio still open), so only one clip's codes are held at a time.
 */
export async function forEachClipCodes(
  runner: ModelRunner,
  conn: DuckDBConnection,
  run: RunInfo,
  layer: number,
  models: RunModels,
  clips: readonly RunClip[],
  use: (c: ClipCodes) => Promise<void> | void,
  o: { cacheDir?: string; signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<void> {
  const expected = await recordedSaeSha256(conn, run.runId, layer);
  if (expected && (await fileSha256(models.saePath)) !== expected) {
    throw new AudioSaeError(`is not the SAE run ${run.runId} used for layer ${layer} (its sha256 differs from the one the run recorded).`, models.saePath, 'Name the SAE the run used with --sae.');
  }
  const { backbone, sae } = await openClipModels({ weightsFolder: models.weightsFolder, saePath: models.saePath, layer });
  if (sae.dictSize !== run.dictSize) throw new AudioSaeError(`has F = ${sae.dictSize}; run ${run.runId} has F = ${run.dictSize}.`, models.saePath);
  const settings = runSettings(run);
  const mode: SaeMode = run.mode === 'batch-topk' ? 'batch-topk' : 'threshold';
  let done = 0;
  for (const clip of clips) {
    if (o.signal?.aborted) throw new AudioSaeError('cancelled.');
    await withClipAudio(runner, clip, async (reader) => {
      const total = layerFrameCount(backbone, reader.length, settings.maxHubertSeconds);
      if (total !== clip.frames) {
        throw new AudioSaeError(`gives ${total} frames now; run ${run.runId} stored ${clip.frames} for it.`, clip.path, 'The file changed since the run: run the corpus again.');
      }
      const codes = new SparseCodesBuilder(total);
      const whole = mode === 'batch-topk' && total * Math.max(1, run.layers.length) <= BATCH_TOPK_MAX_FRAMES;
      const pending: Float32Array[] = [];
      const encode = async (x: Float32Array) => codes.append((await runSae(runner, sae as Sae, x, { mode, source: clip.path })).sparse);
      await encoderPass(runner, backbone, reader, {
        layers: [layer], ...settings, cacheDir: o.cacheDir, signal: o.signal,
        onChunk: async (_start, _frames, acts) => {
          const x = acts.get(layer)!;
          if (whole) pending.push(x.slice());
          else await encode(x);
        },
      }).catch((e: unknown) => {
        throw aboutClip(e, clip.path);
      });
      if (whole) {
        const all = new Float32Array(pending.reduce((a, p) => a + p.length, 0));
        let at = 0;
        for (const p of pending) (all.set(p, at), (at += p.length));
        await encode(all);
      }
      await use({ clip, codes, reader });
    });
    o.onProgress?.(++done, clips.length);
  }
}
