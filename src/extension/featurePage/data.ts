/**
 * What a feature page shows, read from a corpus store (no `vscode` import; the panel in page.ts sends it to the
 * webview): statistics per domain, the three-way label and grade, the histogram of the feature's per-clip max
 * (from clip_features), its top clips with the segment offsets needed to play them, and the nearest features by
 * decoder cosine (from the run's SAE checkpoint, checked against the sha256 the run recorded). Also the audio
 * snippet around a clip's maximum, decoded and resampled to 16 kHz on the host.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadAudio16kMono, SAMPLE_RATE_HZ } from '../../engine/audio/index.ts';
import { AudioSaeError } from '../../engine/errors.ts';
import { classifyFeatures, type FeatureLabel } from '../../engine/interp/classify.ts';
import { loadSae } from '../../engine/sae/index.ts';
import { featureStats, requireRun, topClips, type FeatureStatsRow, type TopClipRow } from '../../engine/store/queries.ts';
import { rows } from '../../engine/store/sqlRows.ts';
import { saeIdentity } from '../sidebar/featureIndex.ts';

export interface Histogram {
  /** bins + 1 edges, ascending */
  edges: number[];
  counts: number[];
}

export interface TopClip extends TopClipRow {
  /** Segment start in the file (0 for a whole file): the maximum is at startS + timeS in the file. */
  segmentStartS: number;
}

export interface NeighbourFeature {
  feature: number;
  cosine: number;
}

export interface FeatureStatsData {
  feature: number;
  runId: string;
  backbone: string;
  layer: number;
  sae: string;
  saeSource: string;
  dictSize: number;
  label: FeatureLabel | null;
  grade: number | null;
  /** why there is no label */
  labelNote?: string;
  domains: FeatureStatsRow[];
  /** clips where it fires, of the layer's done clips */
  clipsFired: number;
  clipsTotal: number;
  histogram: Histogram;
  topClips: TopClip[];
}

/** Equal-width bins from 0 to the largest value (one bin of width 1 when all are 0 or there are none). */
export function histogram(values: ArrayLike<number>, bins: number): Histogram {
  let max = 0;
  for (let i = 0; i < values.length; i++) if (values[i]! > max) max = values[i]!;
  const width = max > 0 ? max / bins : 1 / bins;
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < values.length; i++) counts[Math.min(bins - 1, Math.max(0, Math.floor(values[i]! / width)))]!++;
  return { edges: Array.from({ length: bins + 1 }, (_, i) => i * width), counts };
}

/**
 * Everything but the neighbours. The classification needs every feature's statistics (the labels are defined
 * over the whole layer), so it is computed once per layer and passed in when the caller has it (`labels`).
 */
export async function featureStatsData(
  conn: DuckDBConnection,
  runId: string,
  layer: number,
  feature: number,
  opts: { topN?: number; bins?: number; labels?: { label: FeatureLabel | null; grade: number | null; note?: string } } = {},
): Promise<FeatureStatsData> {
  const run = await requireRun(conn, runId, layer);
  const domains = await featureStats(conn, run.runId, layer, { feature, by: 'domain' });
  let labels = opts.labels;
  if (!labels) {
    try {
      const all = await featureStats(conn, run.runId, layer, { by: 'domain' });
      const t = classifyFeatures(all, { level: 'frame' }).threeWay.find((x) => x.feature === feature);
      labels = { label: t?.label ?? null, grade: t?.grade ?? null };
    } catch (e) {
      labels = { label: null, grade: null, note: (e as Error).message };
    }
  }
  const maxima = await rows(
    conn,
    `SELECT f.max_act::DOUBLE AS m FROM clip_features f JOIN clips c ON c.run_id = f.run_id AND c.clip_id = f.clip_id
     JOIN clip_recon r ON r.run_id = f.run_id AND r.clip_id = f.clip_id AND r.layer = f.layer
     WHERE f.run_id = $run AND f.layer = $layer AND f.feature = $feature AND c.status = 'done'`,
    { run: run.runId, layer, feature },
  );
  const top = await topClips(conn, run.runId, layer, feature, opts.topN ?? 10);
  const starts = new Map<number, number>();
  if (top.length > 0) {
    const r = await rows(conn, `SELECT clip_id, start_s FROM clips WHERE run_id = $run AND clip_id IN (${top.map((t) => t.clipId).join(', ')})`, { run: run.runId });
    for (const row of r) starts.set(Number(row.clip_id), row.start_s === null ? 0 : Number(row.start_s));
  }
  return {
    feature, runId: run.runId, backbone: run.backbone, layer, sae: await saeIdentity(conn, run.runId, layer), saeSource: run.sae, dictSize: run.dictSize,
    label: labels.label, grade: labels.grade, labelNote: labels.note,
    domains,
    clipsFired: maxima.length,
    clipsTotal: domains.reduce((s, d) => s + d.clips, 0),
    histogram: histogram(maxima.map((r) => Number(r.m)), 20),
    topClips: top.map((t) => ({ ...t, segmentStartS: starts.get(t.clipId) ?? 0 })),
  };
}

// ------------------------------------------------------------------------------------------- decoder cosine

/**
 * The ae.pt of a run's layer: the run's `sae` source as a file or a folder of layer_<n>/ (as `corpus run
 * --sae` takes it), or the bundled demo SAE of a demo backbone. Undefined when it cannot be found here.
 */
export function saeFileOf(saeSource: string, backbone: string, layer: number, demoModelsDir?: string): string | undefined {
  const candidates: string[] = [];
  if (existsSync(saeSource)) candidates.push(statSync(saeSource).isDirectory() ? join(saeSource, `layer_${layer}`, 'ae.pt') : saeSource);
  if (demoModelsDir) candidates.push(join(demoModelsDir, backbone, 'sae', `layer_${layer}`, 'ae.pt'));
  return candidates.find((p) => existsSync(p) && statSync(p).isFile());
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Unit decoder directions of an SAE: [dictSize, dModel] row-major (row j = column j of decoder.weight / its norm). */
export class DecoderDirections {
  private constructor(readonly dictSize: number, readonly dModel: number, readonly unit: Float32Array) {}

  static fromDecoder(decoderWeight: Float32Array, dModel: number, dictSize: number): DecoderDirections {
    const unit = new Float32Array(dictSize * dModel); // [dictSize, dModel] row-major
    for (let j = 0; j < dictSize; j++) {
      let norm = 0;
      for (let d = 0; d < dModel; d++) norm += decoderWeight[d * dictSize + j]! ** 2;
      const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
      for (let d = 0; d < dModel; d++) unit[j * dModel + d] = decoderWeight[d * dictSize + j]! * inv;
    }
    return new DecoderDirections(dictSize, dModel, unit);
  }

  /** Loads the SAE file and checks it is the one the run used (sha256), else an error saying so. */
  static async load(file: string, expectedSha256: string): Promise<DecoderDirections> {
    const sha = await sha256Of(file);
    if (sha !== expectedSha256) {
      throw new AudioSaeError(`is not the SAE this run used (its sha256 is ${sha.slice(0, 12)}…, the run recorded ${expectedSha256.slice(0, 12)}…).`, file, 'Point the run at the original SAE file.');
    }
    const sae = await loadSae(file);
    return DecoderDirections.fromDecoder(sae.decoderWeight, sae.dModel, sae.dictSize);
  }

  /** The n features with the highest cosine to `feature` (itself excluded), descending; ties by id. */
  nearest(feature: number, n: number): NeighbourFeature[] {
    const D = this.dModel;
    const u = this.unit;
    const base = feature * D;
    const cos = new Float64Array(this.dictSize);
    for (let j = 0; j < this.dictSize; j++) {
      let s = 0;
      const o = j * D;
      for (let d = 0; d < D; d++) s += u[base + d]! * u[o + d]!;
      cos[j] = s;
    }
    const order = Array.from({ length: this.dictSize }, (_, j) => j).filter((j) => j !== feature);
    order.sort((a, b) => cos[b]! - cos[a]! || a - b);
    return order.slice(0, n).map((j) => ({ feature: j, cosine: cos[j]! }));
  }
}

// ----------------------------------------------------------------------------------------------- snippets

export interface Snippet {
  /** mono 16 kHz */
  samples: Float32Array;
  sampleRateHz: number;
  /** where the snippet starts in the file */
  startS: number;
  /** where the maximum is, from the snippet's start */
  peakS: number;
}

/** `seconds` of audio centred on `atS` (seconds into the file), clamped to the file. */
export async function audioSnippet(path: string, atS: number, seconds = 3): Promise<Snippet> {
  const audio = await loadAudio16kMono(path);
  const total = audio.samples.length;
  const half = Math.round((seconds / 2) * SAMPLE_RATE_HZ);
  const centre = Math.round(atS * SAMPLE_RATE_HZ);
  const from = Math.max(0, Math.min(centre - half, total - 2 * half));
  const to = Math.min(total, from + 2 * half);
  return { samples: audio.samples.slice(from, to), sampleRateHz: SAMPLE_RATE_HZ, startS: from / SAMPLE_RATE_HZ, peakS: atS - from / SAMPLE_RATE_HZ };
}
