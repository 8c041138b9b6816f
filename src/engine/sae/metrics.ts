/**
 * Reconstruction metrics of an SAE over the frames evaluated (reference doc §4), x = activation,
 * x̂ = reconstruction, f = codes, t = frame, d = dimension, j = feature. Accumulated chunk by chunk (clips of a
 * corpus) in float64, then finished. Frames with ‖x‖ = 0 have no direction: they are left out of the
 * normalized L2, cosine and norm-ratio means (and counted in `zeroNormFrames`).
 */

/** Each metric's definition, as shown next to its value in reports and JSON output. */
export const METRIC_FORMULAS = {
  l0: 'L0 = mean over frames of #{j : f_j ≠ 0}',
  mse: 'MSE = mean over frames of ‖x − x̂‖²',
  l2: 'L2 = mean over frames of ‖x − x̂‖',
  normalizedL2: 'normalized L2 = mean over frames of ‖x − x̂‖ / ‖x‖',
  nmse: 'NMSE = Σ‖x − x̂‖² / Σ‖x‖² (sums over frames)',
  fve: 'FVE = 1 − Σ_d Var(x_d − x̂_d) / Σ_d Var(x_d) (variances over frames)',
  cosine: 'cosine = mean over frames of ⟨x, x̂⟩ / (‖x‖ ‖x̂‖)',
  normRatio: 'norm ratio = mean over frames of ‖x̂‖ / ‖x‖',
  aliveFraction: 'alive fraction = #{j : f_j ≠ 0 in some frame} / F',
} as const;

export type MetricName = keyof typeof METRIC_FORMULAS;
export type Metrics = Record<MetricName, number> & { frames: number; zeroNormFrames: number; aliveFeatures: number; dictSize: number };

/** The sums the metrics are made of, over the frames added (d-vectors: per dimension, over frames). */
export interface MetricSums {
  frames: number;
  zeroNormFrames: number;
  sumL0: number; // Σ_t #{j : f_tj ≠ 0}
  sumSqErr: number; // Σ_t ‖x − x̂‖²
  sumErr: number; // Σ_t ‖x − x̂‖
  sumRelErr: number; // Σ_t ‖x − x̂‖ / ‖x‖ over frames with ‖x‖ > 0
  sumSqNorm: number; // Σ_t ‖x‖²
  sumCosine: number; // over frames with ‖x‖ > 0
  sumNormRatio: number; // over frames with ‖x‖ > 0
  sumX: Float64Array; // [d] Σ_t x_td
  sumRes: Float64Array; // [d] Σ_t (x − x̂)_td
}

export class MetricsAccumulator {
  private frames = 0;
  private zeroNormFrames = 0;
  private activeSum = 0;
  private sqErrSum = 0;
  private errSum = 0;
  private relErrSum = 0;
  private sqNormSum = 0;
  private cosineSum = 0;
  private normRatioSum = 0;
  private readonly resSum: Float64Array; // [d] Σ_t r_td
  private readonly xSum: Float64Array; // [d]
  private readonly alive: Uint8Array; // [F]

  constructor(readonly dModel: number, readonly dictSize: number) {
    this.resSum = new Float64Array(dModel);
    this.xSum = new Float64Array(dModel);
    this.alive = new Uint8Array(dictSize);
  }

  /**
   * Adds frames. `x` and `recon` are [frames, d]; the codes are given sparsely (active feature ids per frame,
   * CSR), which is all L0 and liveness need.
   */
  add(x: Float32Array, recon: Float32Array, codes: { rowPtr: Int32Array; indices: Int32Array; values: Float32Array }): void {
    const d = this.dModel;
    const frames = x.length / d;
    for (let t = 0; t < frames; t++) {
      let err2 = 0;
      let x2 = 0;
      let r2 = 0;
      let dot = 0;
      const o = t * d;
      for (let i = 0; i < d; i++) {
        const xi = x[o + i]!;
        const ri = recon[o + i]!;
        const e = xi - ri;
        err2 += e * e;
        x2 += xi * xi;
        r2 += ri * ri;
        dot += xi * ri;
        this.resSum[i]! += e;
        this.xSum[i]! += xi;
      }
      this.sqErrSum += err2;
      this.errSum += Math.sqrt(err2);
      this.sqNormSum += x2;
      if (x2 > 0) {
        const xn = Math.sqrt(x2);
        this.relErrSum += Math.sqrt(err2) / xn;
        this.cosineSum += r2 > 0 ? dot / (xn * Math.sqrt(r2)) : 0;
        this.normRatioSum += Math.sqrt(r2) / xn;
      } else {
        this.zeroNormFrames++;
      }
      for (let p = codes.rowPtr[t]!; p < codes.rowPtr[t + 1]!; p++) {
        if (codes.values[p] !== 0) {
          this.activeSum++;
          this.alive[codes.indices[p]!] = 1;
        }
      }
    }
    this.frames += frames;
  }

  /** The running sums (what a corpus store keeps per clip and layer to recombine the metrics exactly). */
  sums(): MetricSums {
    return {
      frames: this.frames, zeroNormFrames: this.zeroNormFrames, sumL0: this.activeSum, sumSqErr: this.sqErrSum, sumErr: this.errSum,
      sumRelErr: this.relErrSum, sumSqNorm: this.sqNormSum, sumCosine: this.cosineSum, sumNormRatio: this.normRatioSum,
      sumX: this.xSum.slice(), sumRes: this.resSum.slice(),
    };
  }

  finish(): Metrics {
    let aliveFeatures = 0;
    for (let j = 0; j < this.dictSize; j++) aliveFeatures += this.alive[j]!;
    return metricsFromSums({ ...this.sums(), aliveFeatures }, this.dictSize);
  }
}

/**
 * The metrics from their sums (one clip's, or a corpus's added up): the formulas of METRIC_FORMULAS. FVE's
 * total variances need only the per-dimension means: Σ_d Var(x_d) = Σ_t ‖x‖²/n − Σ_d (Σ_t x_td / n)², and the
 * same for the residual with Σ_t ‖x − x̂‖².
 */
export function metricsFromSums(s: MetricSums & { aliveFeatures: number }, dictSize: number): Metrics {
  const n = s.frames;
  const directed = n - s.zeroNormFrames;
  let resMean2 = 0;
  let xMean2 = 0;
  for (let i = 0; i < s.sumX.length; i++) {
    resMean2 += (s.sumRes[i]! / n) ** 2;
    xMean2 += (s.sumX[i]! / n) ** 2;
  }
  const resVar = s.sumSqErr / n - resMean2;
  const xVar = s.sumSqNorm / n - xMean2;
  return {
    frames: n,
    zeroNormFrames: s.zeroNormFrames,
    aliveFeatures: s.aliveFeatures,
    dictSize,
    l0: s.sumL0 / n,
    mse: s.sumSqErr / n,
    l2: s.sumErr / n,
    normalizedL2: directed > 0 ? s.sumRelErr / directed : NaN,
    nmse: s.sumSqNorm > 0 ? s.sumSqErr / s.sumSqNorm : NaN,
    fve: xVar > 0 ? 1 - resVar / xVar : NaN,
    cosine: directed > 0 ? s.sumCosine / directed : NaN,
    normRatio: directed > 0 ? s.sumNormRatio / directed : NaN,
    aliveFraction: s.aliveFeatures / dictSize,
  };
}

/** Metrics of one block of frames. */
export function reconstructionMetrics(
  x: Float32Array,
  recon: Float32Array,
  codes: { rowPtr: Int32Array; indices: Int32Array; values: Float32Array },
  dModel: number,
  dictSize: number,
): Metrics {
  const acc = new MetricsAccumulator(dModel, dictSize);
  acc.add(x, recon, codes);
  return acc.finish();
}

/** Metrics with their formulas, as the CLI and reports print them. */
export function metricsWithFormulas(m: Metrics): Record<MetricName, { value: number; formula: string }> {
  const out = {} as Record<MetricName, { value: number; formula: string }>;
  for (const name of Object.keys(METRIC_FORMULAS) as MetricName[]) out[name] = { value: m[name], formula: METRIC_FORMULAS[name] };
  return out;
}
