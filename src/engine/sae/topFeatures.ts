/** Ranks a clip's features by their maximum activation, with each one's activation track. */
import type { SaeResult } from './encode.ts';
import { FeatureStatsAccumulator, type FeatureSummary } from './featureStats.ts';

export interface RankedFeature extends FeatureSummary {
  /** Activation per frame: [frames]. */
  track: Float32Array;
}

/** Features ranked by their maximum over the clip (ties: lower id first), with their activation tracks. */
export function topFeatures(result: SaeResult, dictSize: number, count: number, framesPerSecond: number): RankedFeature[] {
  const stats = new FeatureStatsAccumulator(dictSize);
  stats.add(0, result.sparse);
  const top = stats.top(count, framesPerSecond);
  const tracks = new Map(top.map((f) => [f.id, new Float32Array(result.frames)]));
  const { rowPtr, indices, values } = result.sparse;
  for (let t = 0; t < result.frames; t++) {
    for (let p = rowPtr[t]!; p < rowPtr[t + 1]!; p++) {
      const track = tracks.get(indices[p]!);
      if (track) track[t] = values[p]!;
    }
  }
  return top.map((f) => ({ ...f, track: tracks.get(f.id)! }));
}
