/**
 * A corpus run: every clip of a corpus through the backbone once, to the deepest requested layer, every
 * requested layer's activations through that layer's SAE, and per clip and layer the statistics the analyses
 * need (features that fired: max, arg-max frame, active frames, sum; the reconstruction sums) written to the
 * store in one transaction per clip.
 *
 * Resumable and incremental: a clip whose file content is unchanged since the run stored it is skipped, so a
 * run killed at any point (even `kill -9`) continues where it stopped, redoing at most the clip in flight, and
 * a run over a corpus that gained, changed or lost clips processes only those. A clip that cannot be decoded
 * or is too short is recorded as failed with its error and left out of every statistic; the run goes on.
 *
 * Memory is bounded by one window: clips stream from disk window by window (Whisper 30 s, HuBERT chunks), and
 * in batch top-k mode a clip is encoded whole only up to `batchTopKMaxFrames` frames summed over layers.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { SAMPLE_RATE_HZ, openAudio16kStream, type SampleReader } from '../audio/index.ts';
import { AudioSaeError } from '../errors.ts';
import { encoderPass } from '../pipeline/activations.ts';
import { openBackbone, type OpenBackbone } from '../pipeline/backbone.ts';
import type { EncoderTap } from '../onnx/whisper.ts';
import type { ModelRunner } from '../runtime/types.ts';
import { FeatureStatsAccumulator, loadSae, MetricsAccumulator, resolveMode, runSae, type Sae, type SaeMode, type SaeModeChoice } from '../sae/index.ts';
import type { FrameCodeChunk } from '../store/frameCodes.ts';
import type { CorpusStore, LayerResult, RunIdentity } from '../store/store.ts';
import { ENGINE_VERSION } from '../version.ts';
import { clipKey, type Corpus, type CorpusClip } from './manifest.ts';

export interface CorpusRunOptions {
  corpus: Corpus;
  store: CorpusStore;
  /** Registry id of the backbone (recorded with the run). */
  backboneId: string;
  weightsFolder: string;
  /** The SAE of each layer (an ae.pt file). */
  saePaths: ReadonlyMap<number, string>;
  /** Where the SAEs came from, for the record (a folder of layer_<n>/ or the Hub repo). */
  saeSource: string;
  mode?: SaeModeChoice;
  tap?: EncoderTap;
  normalizeInput?: boolean;
  maxHubertSeconds?: number;
  cacheDir?: string;
  /** Frames (summed over layers) up to which batch top-k encodes a clip whole; longer clips go per window. */
  batchTopKMaxFrames?: number;
  /** Also keep every frame's sparse codes (table frame_codes), for the frame-level analyses; part of the run's identity. */
  keepFrameCodes?: boolean;
  /** Each clip's id (parallel to corpus.clips), e.g. its position in the full manifest of a sharded run. */
  clipIds?: readonly number[];
  /** Stops after the clip in flight. */
  signal?: AbortSignal;
  onProgress?: (p: CorpusProgress) => void;
}

export interface CorpusProgress {
  clipsDone: number;
  clipsTotal: number;
  /** Clips of this run processed so far (not skipped). */
  processed: number;
  skipped: number;
  failed: number;
  audioSecondsDone: number;
  elapsedS: number;
  current?: string;
}

export interface CorpusRunSummary {
  runId: string;
  mode: SaeMode;
  layers: number[];
  clips: number;
  processed: number;
  skipped: number;
  removed: number;
  failed: Array<{ path: string; error: string }>;
  audioSeconds: number;
  elapsedS: number;
  cancelled: boolean;
  notes: string[];
}

async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The samples of a segment [startS, endS) of a clip read by range. */
function segment(reader: SampleReader, startS: number | null, endS: number | null): SampleReader {
  if (startS === null && endS === null) return reader;
  const from = Math.min(reader.length, Math.round((startS ?? 0) * SAMPLE_RATE_HZ));
  const to = Math.min(reader.length, endS === null ? reader.length : Math.round(endS * SAMPLE_RATE_HZ));
  return { length: Math.max(0, to - from), read: (start, count) => reader.read(from + start, Math.min(count, to - from - start)) };
}

/** One layer's running state within a clip. */
interface LayerState {
  sae: Sae;
  metrics: MetricsAccumulator;
  stats: FeatureStatsAccumulator;
  /** Batch top-k over the whole clip: the activations gathered until the clip ends. */
  pending: Float32Array[];
  /** The clip's codes, kept when the run keeps frame codes. */
  frameCodes: FrameCodeChunk[];
}

export async function runCorpus(runner: ModelRunner, o: CorpusRunOptions): Promise<CorpusRunSummary> {
  const started = performance.now();
  const layers = [...o.saePaths.keys()].sort((a, b) => a - b);
  const backbone = await openBackbone(o.weightsFolder);
  const saes = new Map<number, Sae>();
  const saeSha256: Record<string, string> = {};
  for (const layer of layers) {
    const path = o.saePaths.get(layer)!;
    const sae = await loadSae(path);
    if (sae.dModel !== backbone.dModel) {
      throw new AudioSaeError(`has d = ${sae.dModel}, but the backbone in ${o.weightsFolder} produces d = ${backbone.dModel} per frame.`, path, 'Use the SAEs trained on this backbone.');
    }
    saes.set(layer, sae);
    saeSha256[String(layer)] = await fileSha256(path);
  }
  const first = saes.get(layers[0]!)!;
  for (const [layer, sae] of saes) {
    if (sae.dictSize !== first.dictSize) throw new AudioSaeError(`has F = ${sae.dictSize}; the SAE of layer ${layers[0]} has F = ${first.dictSize}. One run uses one dictionary size.`, o.saePaths.get(layer)!);
  }
  // One mode for the whole run: threshold only when every layer's SAE stores one (or it was asked for).
  const notes: string[] = [];
  const modes = layers.map((l) => resolveMode(saes.get(l)!, o.mode ?? 'auto'));
  const mode: SaeMode = modes.every((m) => m.mode === 'threshold') ? 'threshold' : 'batch-topk';
  if (mode === 'batch-topk' && (o.mode ?? 'auto') === 'auto') notes.push('Some layer SAEs store no usable threshold, so batch top-k ran per clip (k·n over each clip\'s n frames) for every layer.');
  const options = { tap: o.tap ?? 'block', normalizeInput: o.normalizeInput ?? false, maxHubertSeconds: o.maxHubertSeconds ?? 60 };
  // Only set when on, so that runs without it keep the ids they had before the option existed.
  const identityOptions = o.keepFrameCodes ? { ...options, keepFrameCodes: true } : options;
  const identity: RunIdentity = {
    backbone: o.backboneId, weights: backbone.identity, layers, sae: o.saeSource, saeSha256, mode, options: identityOptions,
    engineVersion: ENGINE_VERSION, dModel: backbone.dModel, dictSize: first.dictSize, k: first.k,
  };
  const runId = await o.store.ensureRun(identity, notes);

  // Clip ids: stable for clips the run already has, new ones after the largest; clips no longer listed go.
  const stored = new Map((await o.store.storedClips(runId)).map((c) => [clipKey(c), c]));
  const listed = new Set(o.corpus.clips.map(clipKey));
  const removed = [...stored.values()].filter((c) => !listed.has(clipKey(c))).map((c) => c.clipId);
  await o.store.removeClips(runId, removed);
  let nextId = Math.max(-1, ...[...stored.values()].map((c) => c.clipId)) + 1;

  const progress: CorpusProgress = { clipsDone: 0, clipsTotal: o.corpus.clips.length, processed: 0, skipped: 0, failed: 0, audioSecondsDone: 0, elapsedS: 0 };
  const failed: CorpusRunSummary['failed'] = [];
  let cancelled = false;
  for (const [i, clip] of o.corpus.clips.entries()) {
    if (o.signal?.aborted) {
      cancelled = true;
      break;
    }
    const before = stored.get(clipKey(clip));
    const clipId = o.clipIds?.[i] ?? before?.clipId ?? nextId++;
    progress.current = clip.path;
    const hash = await fileSha256(clip.path).catch(() => 'unreadable');
    if (before && before.contentHash === hash) {
      progress.skipped++;
      if (before.status === 'failed') progress.failed++;
    } else {
      const result = await processClip(runner, backbone, saes, layers, mode, clip, options, o).then(
        (r) => ({ ok: true as const, ...r }),
        (e: unknown) => {
          if (e instanceof AudioSaeError && e.problem === 'cancelled.') throw e;
          return { ok: false as const, error: e instanceof Error ? e.message : String(e) };
        },
      );
      await o.store.writeClip(runId, {
        clipId, path: clip.path, domain: clip.domain, dataset: clip.dataset, startS: clip.startS, endS: clip.endS,
        durationS: result.ok ? result.durationS : null, frames: result.ok ? result.frames : null, contentHash: hash,
        status: result.ok ? 'done' : 'failed', error: result.ok ? null : result.error, metadata: clip.metadata,
      }, result.ok ? result.layers : []);
      progress.processed++;
      if (result.ok) progress.audioSecondsDone += result.durationS;
      else {
        progress.failed++;
        failed.push({ path: clip.path, error: result.error });
      }
    }
    progress.clipsDone++;
    progress.elapsedS = (performance.now() - started) / 1000;
    o.onProgress?.({ ...progress });
  }
  // Failures recorded by earlier runs of the same corpus are still failures of this one.
  for (const c of await o.store.storedClips(runId)) {
    if (c.status === 'failed' && !failed.some((f) => f.path === c.path)) failed.push({ path: c.path, error: await errorOf(o.store, runId, c.clipId) });
  }
  await o.store.finishRun(progress.processed > 0 || removed.length > 0);
  return {
    runId, mode, layers, clips: o.corpus.clips.length, processed: progress.processed, skipped: progress.skipped, removed: removed.length,
    failed, audioSeconds: progress.audioSecondsDone, elapsedS: (performance.now() - started) / 1000, cancelled, notes,
  };
}

async function errorOf(store: CorpusStore, runId: string, clipId: number): Promise<string> {
  const r = await store.connection.runAndReadAll(`SELECT error FROM clips WHERE run_id = '${runId}' AND clip_id = ${clipId}`);
  return String(r.getRows()[0]?.[0] ?? '');
}

/** One clip through the encoder (once) and every layer's SAE: the per-layer results to store. */
async function processClip(
  runner: ModelRunner,
  backbone: OpenBackbone,
  saes: ReadonlyMap<number, Sae>,
  layers: number[],
  mode: SaeMode,
  clip: CorpusClip,
  options: { tap: EncoderTap; normalizeInput: boolean; maxHubertSeconds: number },
  o: CorpusRunOptions,
): Promise<{ durationS: number; frames: number; layers: LayerResult[] }> {
  const audio = await openAudio16kStream(clip.path, runner);
  try {
    const reader = segment(audio.reader, clip.startS, clip.endS);
    if (reader.length === 0) throw new AudioSaeError('the segment holds no audio.', clip.path);
    const totalFrames = Math.ceil(reader.length / 320);
    const wholeClip = mode === 'batch-topk' && totalFrames * layers.length <= (o.batchTopKMaxFrames ?? 30_000);
    const state = new Map<number, LayerState>(layers.map((l) => {
      const sae = saes.get(l)!;
      return [l, { sae, metrics: new MetricsAccumulator(sae.dModel, sae.dictSize), stats: new FeatureStatsAccumulator(sae.dictSize), pending: [], frameCodes: [] }];
    }));
    const encode = async (s: LayerState, startFrame: number, x: Float32Array) => {
      const r = await runSae(runner, s.sae, x, { mode, source: clip.path });
      s.metrics.add(x, r.recon, r.sparse);
      s.stats.add(startFrame, r.sparse);
      if (o.keepFrameCodes) s.frameCodes.push({ startFrame, codes: r.sparse });
    };
    const pass = await encoderPass(runner, backbone, reader, {
      layers, ...options, cacheDir: o.cacheDir, signal: o.signal,
      onChunk: async (start, _frames, acts) => {
        for (const [layer, x] of acts) {
          const s = state.get(layer)!;
          if (wholeClip) s.pending.push(x.slice());
          else await encode(s, start, x);
        }
      },
    }).catch((e: unknown) => {
      throw e instanceof AudioSaeError && !e.file && e.problem !== 'cancelled.' ? new AudioSaeError(e.problem, clip.path, e.hint) : e;
    });
    const results: LayerResult[] = [];
    for (const layer of layers) {
      const s = state.get(layer)!;
      if (wholeClip) {
        const all = new Float32Array(s.pending.reduce((a, p) => a + p.length, 0));
        let at = 0;
        for (const p of s.pending) (all.set(p, at), (at += p.length));
        s.pending = [];
        await encode(s, 0, all);
      }
      results.push({ layer, features: s.stats.fired(), recon: s.metrics.sums(), ...(o.keepFrameCodes ? { frameCodes: s.frameCodes } : {}) });
    }
    return { durationS: reader.length / SAMPLE_RATE_HZ, frames: pass.frames, layers: results };
  } finally {
    await audio.close();
  }
}

