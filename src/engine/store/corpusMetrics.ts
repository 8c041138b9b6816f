/**
 * Reconstruction metrics of a run's layer over the whole corpus and per domain (reference doc §4), recombined
 * exactly from the per-clip sums in `clip_recon` — the same definitions as `MetricsAccumulator.finish`
 * (src/engine/sae/metrics.ts): frames with ‖x‖ = 0 are left out of the normalized-L2, cosine and norm-ratio
 * means; FVE = 1 − Σ_d Var(x_d − x̂_d) / Σ_d Var(x_d) with the variances over all frames of the group, from the
 * squared-norm sums and the per-dimension sums (Σ_d Var(x_d) = Σ_t ‖x‖²/n − Σ_d (Σ_t x_td/n)²). Only clips with status 'done' count. The alive fraction is the
 * number of features with any `clip_features` row in the group's clips over the run's dict_size.
 * A metric whose denominator is 0 (no frames, no directed frames, zero variance) is NaN, as in `finish`.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { metricsFromSums, type Metrics, type MetricSums } from '../sae/metrics.ts';
import { requireRun } from './runs.ts';
import { LAYER_CLIPS_CTE, num, numOr0, rows, strOrNull } from './sqlRows.ts';

export interface CorpusMetricsRow extends Metrics {
  /** null for the whole corpus, else the domain. */
  domain: string | null;
  clips: number;
}

/** The sums a group's metrics are made of: clip_recon summed over the group's clips, and its alive features. */
export interface ReconSums extends MetricSums {
  clips: number;
  aliveFeatures: number;
}

const key = (domain: string | null) => domain ?? '\u0000corpus';

/**
 * The corpus row first (domain null), then one row per domain (ascending) when `byDomain`. An empty corpus
 * (no done clips) gives one row with 0 frames and NaN metrics.
 */
export async function corpusMetrics(conn: DuckDBConnection, runId: string, layer: number, opts: { byDomain?: boolean } = {}): Promise<CorpusMetricsRow[]> {
  const run = await requireRun(conn, runId, layer);
  const params = { run: run.runId, layer };
  // byDomain: one pass with GROUPING SETS, the corpus row being the () set (domain NULL there).
  const by = opts.byDomain === true;
  const domainOf = (col: string) => (by ? `CASE WHEN grouping(${col}) = 1 THEN NULL ELSE ${col} END` : 'NULL::VARCHAR');
  const recon = `WITH ${LAYER_CLIPS_CTE},
    g AS (SELECT lc.domain, r.* FROM clip_recon r JOIN layer_clips lc ON lc.clip_id = r.clip_id WHERE r.run_id = $run AND r.layer = $layer)`;
  const scalars = await rows(
    conn,
    `${recon}
     SELECT ${domainOf('domain')} AS domain, count(*)::DOUBLE AS clips,
            sum(frames)::DOUBLE AS frames, sum(zero_norm_frames)::DOUBLE AS zero_norm_frames, sum(sum_l0) AS sum_l0,
            sum(sum_sq_err) AS sum_sq_err, sum(sum_err) AS sum_err, sum(sum_rel_err) AS sum_rel_err,
            sum(sum_sq_norm) AS sum_sq_norm, sum(sum_cosine) AS sum_cosine, sum(sum_norm_ratio) AS sum_norm_ratio
     FROM g ${by ? 'GROUP BY GROUPING SETS ((), (domain))' : ''}`,
    params,
  );
  // Per-dimension sums: one row per (group, dimension), unnested in step from the two arrays.
  const dims = await rows(
    conn,
    `${recon},
     u AS (SELECT domain, unnest(range(1, len(sum_x) + 1)) AS i, unnest(sum_x) AS x, unnest(sum_res) AS res FROM g)
     SELECT ${domainOf('domain')} AS domain, i::INTEGER AS i,
            sum(x) AS x, sum(res) AS res
     FROM u GROUP BY ${by ? 'GROUPING SETS ((i), (domain, i))' : 'i'}`,
    params,
  );
  const alive = await rows(
    conn,
    `WITH ${LAYER_CLIPS_CTE}
     SELECT ${domainOf('lc.domain')} AS domain, count(DISTINCT f.feature)::DOUBLE AS alive
     FROM clip_features f JOIN layer_clips lc ON lc.clip_id = f.clip_id
     WHERE f.run_id = $run AND f.layer = $layer
     ${by ? 'GROUP BY GROUPING SETS ((), (lc.domain))' : ''}`,
    params,
  );
  const d = run.dModel;
  const vectors = new Map<string, { x: Float64Array; res: Float64Array }>();
  for (const r of dims) {
    const k = key(strOrNull(r, 'domain'));
    let v = vectors.get(k);
    if (!v) vectors.set(k, (v = { x: new Float64Array(d), res: new Float64Array(d) }));
    const i = num(r, 'i') - 1;
    if (i < 0 || i >= d) throw new Error(`clip_recon arrays longer than d_model ${d}`);
    v.x[i] = num(r, 'x');
    v.res[i] = num(r, 'res');
  }
  const aliveBy = new Map(alive.map((r) => [key(strOrNull(r, 'domain')), num(r, 'alive')]));
  const out = scalars.map((r): CorpusMetricsRow => {
    const domain = strOrNull(r, 'domain');
    const v = vectors.get(key(domain)) ?? { x: new Float64Array(d), res: new Float64Array(d) };
    const sums: ReconSums = {
      clips: numOr0(r, 'clips'),
      frames: numOr0(r, 'frames'),
      zeroNormFrames: numOr0(r, 'zero_norm_frames'),
      sumL0: numOr0(r, 'sum_l0'),
      sumSqErr: numOr0(r, 'sum_sq_err'),
      sumErr: numOr0(r, 'sum_err'),
      sumRelErr: numOr0(r, 'sum_rel_err'),
      sumSqNorm: numOr0(r, 'sum_sq_norm'),
      sumCosine: numOr0(r, 'sum_cosine'),
      sumNormRatio: numOr0(r, 'sum_norm_ratio'),
      sumX: v.x,
      sumRes: v.res,
      aliveFeatures: aliveBy.get(key(domain)) ?? 0,
    };
    return { domain, clips: sums.clips, ...metricsFromSums(sums, run.dictSize) };
  });
  return out.sort((a, b) => (a.domain === null ? -1 : b.domain === null ? 1 : a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0));
}
