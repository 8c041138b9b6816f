/**
 * Per-feature analyses of a run's layer over the corpus store (reference doc §5): dead features, the aggregate
 * max activations, a feature's top clips, and per-feature statistics per domain or dataset. All of them count
 * only the layer's clips: status 'done' with a reconstruction row for the layer (LAYER_CLIPS_CTE); a failed
 * clip's rows, should any be left in the tables, are ignored. "Fires in a clip" = has a clip_features row.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { AudioSaeError } from '../errors.ts';
import { requireRun, type RunInfo } from './runs.ts';
import { LAYER_CLIPS_CTE, num, numOr0, numOrNull, rows, SAE_FRAMES_PER_SECOND, storeName, str, strOrNull, usedParams, type Params, type Row } from './sqlRows.ts';

// ---------------------------------------------------------------------------------------------------------- dead

export interface DeadFeaturesRow {
  /** null for the whole corpus, else the domain. */
  domain: string | null;
  dictSize: number;
  /** Features 0..dictSize−1 with no row in the group's clips, ascending. */
  features: number[];
  count: number;
  /** count / dictSize */
  fraction: number;
}

/** Features never active in the run's layer (corpus row first), and per domain (ascending): never active in that domain's clips. */
export async function deadFeatures(conn: DuckDBConnection, runId: string, layer: number, opts: { byDomain?: boolean } = {}): Promise<DeadFeaturesRow[]> {
  const run = await requireRun(conn, runId, layer);
  const params = { run: run.runId, layer, dict: run.dictSize };
  const alive = `${LAYER_CLIPS_CTE},
    alive AS (SELECT DISTINCT lc.domain, f.feature FROM clip_features f JOIN layer_clips lc ON lc.clip_id = f.clip_id
              WHERE f.run_id = $run AND f.layer = $layer)`;
  const corpus = await rows(
    conn,
    `WITH ${alive} SELECT t.feature::INTEGER AS feature FROM range(0, $dict) t(feature)
     WHERE NOT EXISTS (SELECT 1 FROM alive a WHERE a.feature = t.feature) ORDER BY feature`,
    params,
  );
  const row = (domain: string | null, features: number[]): DeadFeaturesRow => ({
    domain, dictSize: run.dictSize, features, count: features.length, fraction: features.length / run.dictSize,
  });
  const out = [row(null, corpus.map((r) => num(r, 'feature')))];
  if (!opts.byDomain) return out;
  const domains = await rows(conn, `WITH ${LAYER_CLIPS_CTE} SELECT DISTINCT domain FROM layer_clips ORDER BY domain`, params);
  const perDomain = await rows(
    conn,
    `WITH ${alive}, doms AS (SELECT DISTINCT domain FROM layer_clips)
     SELECT d.domain, t.feature::INTEGER AS feature FROM doms d CROSS JOIN range(0, $dict) t(feature)
     WHERE NOT EXISTS (SELECT 1 FROM alive a WHERE a.domain = d.domain AND a.feature = t.feature)
     ORDER BY d.domain, feature`,
    params,
  );
  const byDomain = new Map<string, number[]>(domains.map((r) => [str(r, 'domain'), []]));
  for (const r of perDomain) byDomain.get(str(r, 'domain'))!.push(num(r, 'feature'));
  for (const [domain, features] of byDomain) out.push(row(domain, features));
  return out;
}

// ------------------------------------------------------------------------------------------------------ max acts

export interface MaxActRow {
  clipId: number;
  /** The clip's path. */
  clip: string;
  feature: number;
  /** max over the clip's frames of the feature's code */
  max: number;
  /** first frame where the max is reached */
  frame: number;
  /** frame / 50 */
  timeS: number;
}

function maxActsSql(opts: { feature?: number; clipId?: number }): string {
  return `WITH ${LAYER_CLIPS_CTE}
    SELECT f.clip_id AS clip_id, lc.path AS path, f.feature AS feature, f.max_act::DOUBLE AS max, f.argmax_frame AS frame
    FROM clip_features f JOIN layer_clips lc ON lc.clip_id = f.clip_id
    WHERE f.run_id = $run AND f.layer = $layer${opts.feature !== undefined ? ' AND f.feature = $feature' : ''}${opts.clipId !== undefined ? ' AND f.clip_id = $clip' : ''}
    ORDER BY f.clip_id, f.feature`;
}

function maxActParams(run: RunInfo, layer: number, opts: { feature?: number; clipId?: number }): Params {
  const p: Params = { run: run.runId, layer };
  if (opts.feature !== undefined) p.feature = opts.feature;
  if (opts.clipId !== undefined) p.clip = opts.clipId;
  return p;
}

const toMaxAct = (r: Row): MaxActRow => {
  const frame = num(r, 'frame');
  return { clipId: num(r, 'clip_id'), clip: str(r, 'path'), feature: num(r, 'feature'), max: num(r, 'max'), frame, timeS: frame / SAE_FRAMES_PER_SECOND };
};

/**
 * The aggregate max activations in long format (one row per clip and feature that fired in it), ordered by
 * clip_id then feature; optionally one feature's or one clip's rows. For a whole large run prefer
 * `streamMaxActs` (tens of millions of rows).
 */
export async function maxActs(conn: DuckDBConnection, runId: string, layer: number, opts: { feature?: number; clipId?: number } = {}): Promise<MaxActRow[]> {
  const run = await requireRun(conn, runId, layer);
  if (opts.feature !== undefined) await checkFeature(conn, run, opts.feature);
  return (await rows(conn, maxActsSql(opts), maxActParams(run, layer, opts))).map(toMaxAct);
}

/** `maxActs` in batches of rows as DuckDB produces them (about 2048 each), for exports of whole runs. */
export async function* streamMaxActs(conn: DuckDBConnection, runId: string, layer: number, opts: { feature?: number; clipId?: number } = {}): AsyncGenerator<MaxActRow[]> {
  const run = await requireRun(conn, runId, layer);
  if (opts.feature !== undefined) await checkFeature(conn, run, opts.feature);
  const sql = maxActsSql(opts);
  const result = await conn.stream(sql, usedParams(sql, maxActParams(run, layer, opts)));
  for await (const batch of result.yieldRowObjectJs()) yield (batch as Row[]).map(toMaxAct);
}

// ----------------------------------------------------------------------------------------------------- top clips

export interface TopClipRow {
  /** 1-based; ties in max get successive ranks, the lower clip_id first. */
  rank: number;
  clipId: number;
  /** The clip's path. */
  clip: string;
  domain: string;
  dataset: string | null;
  max: number;
  frame: number;
  /** frame / 50: the time of the (first) maximum */
  timeS: number;
}

async function checkFeature(conn: DuckDBConnection, run: RunInfo, feature: number): Promise<void> {
  if (!Number.isInteger(feature) || feature < 0 || feature >= run.dictSize) {
    throw new AudioSaeError(`run ${run.runId} has features 0..${run.dictSize - 1}; ${feature} is not one of them.`, await storeName(conn));
  }
}

/** The n clips where `feature` reaches its highest max, descending; ties broken by clip_id ascending. */
export async function topClips(conn: DuckDBConnection, runId: string, layer: number, feature: number, n = 10): Promise<TopClipRow[]> {
  const run = await requireRun(conn, runId, layer);
  await checkFeature(conn, run, feature);
  if (!Number.isInteger(n) || n < 1) throw new AudioSaeError(`the number of top clips must be a positive integer, not ${n}.`);
  const r = await rows(
    conn,
    `WITH ${LAYER_CLIPS_CTE}
     SELECT f.clip_id, lc.path, lc.domain, lc.dataset, f.max_act::DOUBLE AS max, f.argmax_frame AS frame
     FROM clip_features f JOIN layer_clips lc ON lc.clip_id = f.clip_id
     WHERE f.run_id = $run AND f.layer = $layer AND f.feature = $feature
     ORDER BY f.max_act DESC, f.clip_id ASC LIMIT $n`,
    { run: run.runId, layer, feature, n },
  );
  return r.map((row, i) => {
    const frame = num(row, 'frame');
    return {
      rank: i + 1, clipId: num(row, 'clip_id'), clip: str(row, 'path'), domain: str(row, 'domain'), dataset: strOrNull(row, 'dataset'),
      max: num(row, 'max'), frame, timeS: frame / SAE_FRAMES_PER_SECOND,
    };
  });
}

// --------------------------------------------------------------------------------------------------------- stats

export type StatsGrouping = 'domain' | 'dataset';

export interface FeatureStatsRow {
  feature: number;
  /** The domain or dataset; null is the group of clips without a dataset. */
  group: string | null;
  /** SAE frames of the group's clips */
  frames: number;
  /** frames where the feature is non-zero */
  activeFrames: number;
  /** activeFrames / frames (0 when the group has no frames) */
  frameFreq: number;
  clips: number;
  /** clips where the feature fires at least once */
  activeClips: number;
  /** activeClips / clips */
  audioFreq: number;
  /** mean of the non-zero codes over the active frames (Σ sum_act / Σ active_frames); null when it never fires */
  meanActFrame: number | null;
  /** mean over the clips where it fires of its max in the clip; null when it never fires */
  meanActAudio: number | null;
}

/** snake_case column names of the table, for CSV / Parquet output, in order. */
export const FEATURE_STATS_COLUMNS: readonly (readonly [keyof FeatureStatsRow, string])[] = [
  ['feature', 'feature'], ['group', 'group'], ['frames', 'frames'], ['activeFrames', 'active_frames'], ['frameFreq', 'frame_freq'],
  ['clips', 'clips'], ['activeClips', 'active_clips'], ['audioFreq', 'audio_freq'], ['meanActFrame', 'mean_act_frame'], ['meanActAudio', 'mean_act_audio'],
];

/**
 * Per feature and group (domain or dataset): every feature 0..dict_size−1 (or only `feature`) in every group
 * that has done clips, those that never fire there with zero counts and null means. Ordered by feature, then
 * group ascending (the null dataset last).
 */
export async function featureStats(
  conn: DuckDBConnection,
  runId: string,
  layer: number,
  opts: { by?: StatsGrouping; feature?: number } = {},
): Promise<FeatureStatsRow[]> {
  const run = await requireRun(conn, runId, layer);
  const by = opts.by ?? 'domain';
  if (by !== 'domain' && by !== 'dataset') throw new AudioSaeError(`statistics are grouped by domain or dataset, not "${String(by)}".`);
  if (opts.feature !== undefined) await checkFeature(conn, run, opts.feature);
  const one = opts.feature !== undefined;
  const params: Params = { run: run.runId, layer };
  if (one) params.feature = opts.feature!;
  else params.dict = run.dictSize;
  const r = await rows(
    conn,
    `WITH ${LAYER_CLIPS_CTE},
     grp AS (SELECT ${by} AS g, count(*)::DOUBLE AS clips, sum(frames)::DOUBLE AS frames FROM layer_clips GROUP BY ${by}),
     agg AS (SELECT lc.${by} AS g, f.feature, sum(f.active_frames)::DOUBLE AS active_frames, count(*)::DOUBLE AS active_clips,
                    sum(f.sum_act) AS sum_act, avg(f.max_act::DOUBLE) AS mean_max
             FROM clip_features f JOIN layer_clips lc ON lc.clip_id = f.clip_id
             WHERE f.run_id = $run AND f.layer = $layer${one ? ' AND f.feature = $feature' : ''}
             GROUP BY lc.${by}, f.feature)
     SELECT t.feature::INTEGER AS feature, grp.g, grp.frames, grp.clips, a.active_frames, a.active_clips, a.sum_act, a.mean_max
     FROM grp CROSS JOIN ${one ? '(SELECT $feature AS feature)' : 'range(0, $dict)'} t(feature)
     LEFT JOIN agg a ON a.g IS NOT DISTINCT FROM grp.g AND a.feature = t.feature
     ORDER BY t.feature, grp.g ASC NULLS LAST`,
    params,
  );
  return r.map((row) => {
    const frames = num(row, 'frames');
    const clips = num(row, 'clips');
    const activeFrames = numOr0(row, 'active_frames');
    const activeClips = numOr0(row, 'active_clips');
    const sumAct = numOrNull(row, 'sum_act');
    return {
      feature: num(row, 'feature'),
      group: strOrNull(row, 'g'),
      frames,
      activeFrames,
      frameFreq: frames > 0 ? activeFrames / frames : 0,
      clips,
      activeClips,
      audioFreq: clips > 0 ? activeClips / clips : 0,
      meanActFrame: activeFrames > 0 && sumAct !== null ? sumAct / activeFrames : null,
      meanActAudio: activeClips > 0 ? numOrNull(row, 'mean_max') : null,
    };
  });
}
