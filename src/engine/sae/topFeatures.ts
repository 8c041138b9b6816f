/** Ranks a clip's features by their maximum activation, with each one's activation track. */
import type { SaeResult } from './encode.ts';

export interface RankedFeature {
  id: number;
  maxValue: number;
  maxTimeS: number;
  activeFrames: number;
  /** Activation per frame: [frames]. */
  track: Float32Array;
}

/** Features ranked by their maximum over the clip, with their activation tracks. */
export function topFeatures(result: SaeResult, dictSize: number, count: number, framesPerSecond: number): RankedFeature[] {
  const max = new Float32Array(dictSize);
  const argmax = new Int32Array(dictSize);
  const active = new Int32Array(dictSize);
  const { rowPtr, indices, values } = result.sparse;
  for (let t = 0; t < result.frames; t++) {
    for (let p = rowPtr[t]!; p < rowPtr[t + 1]!; p++) {
      const j = indices[p]!;
      active[j]!++;
      if (values[p]! > max[j]!) {
        max[j] = values[p]!;
        argmax[j] = t;
      }
    }
  }
  const ids = Array.from({ length: dictSize }, (_, j) => j).filter((j) => max[j]! > 0).sort((a, b) => max[b]! - max[a]!).slice(0, count);
  const tracks = new Map(ids.map((id) => [id, new Float32Array(result.frames)]));
  for (let t = 0; t < result.frames; t++) {
    for (let p = rowPtr[t]!; p < rowPtr[t + 1]!; p++) {
      const track = tracks.get(indices[p]!);
      if (track) track[t] = values[p]!;
    }
  }
  return ids.map((id) => {
    const track = tracks.get(id)!;
    return { id, maxValue: max[id]!, maxTimeS: argmax[id]! / framesPerSecond, activeFrames: active[id]!, track };
  });
}

