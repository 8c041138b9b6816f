/**
 * What the editor's Export menu writes from a run's sparse codes: dense codes as .npy, sparse codes as CSV, a
 * feature's firing intervals (the engine's, from sparseCodes.ts) as an Audacity label track or CSV. Pure functions;
 * the editor asks where to save.
 */
import { encodeNpy } from '../../engine/io/npy.ts';
import { denseRows, type Interval, type SparseCodes } from '../../engine/sae/sparseCodes.ts';

/** A run's codes (the engine's sparse codes) with what reading them needs: their frame rate and dictionary size. */
export interface Codes extends SparseCodes {
  framesPerSecond: number;
  dictSize: number;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((a, c) => a + c.byteLength, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out;
}

/** float32 [frames, F], numpy's format. */
export function codesNpy(f: Codes): Uint8Array {
  return concat(encodeNpy({ dtype: 'float32', shape: [f.frames, f.dictSize], data: denseRows(f, f.dictSize) }));
}

/** One row per active (frame, feature): frame,time_s,feature,value. */
export function codesCsv(f: Codes): Uint8Array {
  const { rowPtr, indices, values } = f;
  const lines = ['frame,time_s,feature,value'];
  for (let t = 0; t < f.frames; t++) {
    for (let p = rowPtr[t]!; p < rowPtr[t + 1]!; p++) lines.push(`${t},${(t / f.framesPerSecond).toFixed(3)},${indices[p]},${values[p]}`);
  }
  return new TextEncoder().encode(`${lines.join('\n')}\n`);
}

/** Audacity's label track format: start<TAB>end<TAB>label per line, seconds. */
export function audacityLabels(intervals: Interval[], feature: number): Uint8Array {
  return new TextEncoder().encode(intervals.map((i) => `${i.startS.toFixed(3)}\t${i.endS.toFixed(3)}\tfeature ${feature} (max ${i.max.toFixed(3)})\n`).join(''));
}

export function intervalsCsv(intervals: Interval[]): Uint8Array {
  return new TextEncoder().encode(`start_s,end_s,max_activation\n${intervals.map((i) => `${i.startS.toFixed(3)},${i.endS.toFixed(3)},${i.max}`).join('\n')}\n`);
}
