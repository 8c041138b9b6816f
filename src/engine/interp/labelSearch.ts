/**
 * Label search (paper appendix F): which features detect a label. Units are clips (clip level: a feature's value
 * is its max over the clip's frames) or frames (frame level: its code in the frame); a label marks some units
 * positive. For every feature active on at least one positive unit and each threshold t from the feature's
 * smallest to its largest value in steps of `step` (t_i = min + i·step while t_i ≤ max), the feature predicts
 * "positive" where its value ≥ t (so t = min means "active at all"); F1 = 2·TP / (2·TP + FP + FN) against the
 * label. A feature is reported with its best threshold (the lowest t among equal F1s), precision and recall
 * when that F1 exceeds `minF1`, best first. Units where a feature is inactive (value 0) are predicted negative
 * at every threshold; F1 needs no true negatives, so silent units matter only through the positives.
 *
 * Labels come from the corpus: a clip-level manifest column (the clips' metadata: NAME=VALUE, or NAME alone for
 * any value but "", 0, false, no), or interval labels in Audacity label files next to the clips (`<clip>.txt` or
 * `<clip>.labels.txt`, lines "start<TAB>end<TAB>label" in seconds of the file; a frame is inside an interval when
 * its midpoint is: start ≤ (t + ½)·20 ms + segment start < end). With label files only the clips that have one
 * take part (the others are not annotated). Frame level needs the run's frame codes.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { existsSync, readFileSync } from 'node:fs';
import { AudioSaeError } from '../errors.ts';
import { readFrameCodes, requireFrameCodes } from '../store/frameCodes.ts';
import { requireRun } from '../store/runs.ts';
import { num, numOrNull, rows, SAE_FRAMES_PER_SECOND, storeName, str } from '../store/sqlRows.ts';

/** One feature's values on units (COO, value > 0 only), and which units carry the label. */
export interface LabelledValues {
  units: number;
  unit: Int32Array;
  feature: Int32Array;
  value: Float32Array;
  /** [units]: 1 where the unit carries the label. */
  positive: Uint8Array;
}

export interface LabelSearchRow {
  feature: number;
  f1: number;
  threshold: number;
  precision: number;
  recall: number;
  tp: number;
  fp: number;
  fn: number;
}

export interface LabelSearchOptions {
  step?: number;
  minF1?: number;
}

/** The F1 scan of every feature active on a positive unit; the rows above minF1, best first (then by feature). */
export function labelSearch(v: LabelledValues, o: LabelSearchOptions = {}): { rows: LabelSearchRow[]; positives: number; candidates: number } {
  const step = o.step ?? 0.1;
  const minF1 = o.minF1 ?? 0.5;
  if (!(step > 0)) throw new AudioSaeError(`the threshold step must be above 0; got ${step}.`);
  let positives = 0;
  for (let u = 0; u < v.units; u++) positives += v.positive[u]!;
  let dictSize = 0;
  for (const f of v.feature) dictSize = Math.max(dictSize, f + 1);
  // Entries grouped by feature (counting sort).
  const ptr = new Int32Array(dictSize + 1);
  for (const f of v.feature) ptr[f + 1]!++;
  for (let j = 0; j < dictSize; j++) ptr[j + 1]! += ptr[j]!;
  const next = ptr.slice(0, dictSize);
  const order = new Int32Array(v.feature.length);
  for (let p = 0; p < v.feature.length; p++) order[next[v.feature[p]!]!++] = p;
  const out: LabelSearchRow[] = [];
  let candidates = 0;
  for (let j = 0; j < dictSize; j++) {
    // The feature's values on positive and on negative units, each sorted ascending (native typed-array sorts).
    let nPos = 0;
    for (let p = ptr[j]!; p < ptr[j + 1]!; p++) nPos += v.positive[v.unit[order[p]!]!]!;
    if (nPos === 0) continue;
    candidates++;
    const pos = new Float32Array(nPos);
    const neg = new Float32Array(ptr[j + 1]! - ptr[j]! - nPos);
    for (let p = ptr[j]!, a = 0, b = 0; p < ptr[j + 1]!; p++) {
      const e = order[p]!;
      if (v.positive[v.unit[e]!]) pos[a++] = v.value[e]!;
      else neg[b++] = v.value[e]!;
    }
    pos.sort();
    neg.sort();
    const min = Math.min(pos[0]!, neg.length ? neg[0]! : Infinity);
    const max = Math.max(pos[nPos - 1]!, neg.length ? neg[neg.length - 1]! : -Infinity);
    let posBelow = 0; // values < t
    let negBelow = 0;
    let best: LabelSearchRow | null = null;
    for (let i = 0; ; i++) {
      const t = min + i * step;
      if (t > max) break;
      while (posBelow < nPos && pos[posBelow]! < t) posBelow++;
      while (negBelow < neg.length && neg[negBelow]! < t) negBelow++;
      const tp = nPos - posBelow;
      const fp = neg.length - negBelow;
      const fn = positives - tp;
      const f1 = (2 * tp) / (2 * tp + fp + fn);
      if (best === null || f1 > best.f1) best = { feature: j, f1, threshold: t, precision: tp / (tp + fp), recall: tp / positives, tp, fp, fn };
    }
    if (best && best.f1 > minF1) out.push(best);
  }
  out.sort((a, b) => b.f1 - a.f1 || a.feature - b.feature);
  return { rows: out, positives, candidates };
}

/** A label: a manifest column (NAME=VALUE, or NAME for any true-ish value) or an interval label NAME. */
export interface LabelSpec {
  name: string;
  value?: string;
}

export function parseLabel(text: string): LabelSpec {
  const at = text.indexOf('=');
  const name = (at < 0 ? text : text.slice(0, at)).trim();
  if (name === '') throw new AudioSaeError(`--label must be NAME or NAME=VALUE; got "${text}".`);
  return at < 0 ? { name } : { name, value: text.slice(at + 1).trim() };
}

export interface Interval {
  startS: number;
  endS: number;
  label: string;
}

/** An Audacity label file: "start\tend\tlabel" per line (spectral-selection lines starting with "\" are skipped). */
export function parseAudacityLabels(text: string, file: string): Interval[] {
  const out: Interval[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '' || line.startsWith('\\')) return;
    const [a, b, ...rest] = line.split('\t');
    const startS = Number(a);
    const endS = Number(b);
    if (b === undefined || a!.trim() === '' || b.trim() === '' || !Number.isFinite(startS) || !Number.isFinite(endS) || endS < startS) {
      throw new AudioSaeError(`line ${i + 1} is not "start<TAB>end<TAB>label" in seconds: "${line.slice(0, 80)}".`, file, 'Export labels from Audacity (File › Export › Export Labels).');
    }
    out.push({ startS, endS, label: rest.join('\t').trim() });
  });
  return out;
}

/** The label file next to a clip, if any: `<clip without extension>.txt` or `.labels.txt`. */
export function labelFileOf(clipPath: string): string | null {
  const base = clipPath.replace(/\.[^./\\]+$/, '');
  for (const candidate of [`${base}.txt`, `${base}.labels.txt`]) if (existsSync(candidate)) return candidate;
  return null;
}

const FALSE_VALUES = new Set(['', '0', 'false', 'no', 'n', 'f']);

export type LabelSource = 'metadata' | 'intervals';
export type LabelLevel = 'clip' | 'frame';

export interface LabelSearchQuery extends LabelSearchOptions {
  runId: string;
  layer: number;
  label: LabelSpec;
  /** Default: intervals when the label has no value and some clip has a label file, else metadata. */
  source?: LabelSource;
  /** Default: frame for intervals, clip for metadata. */
  level?: LabelLevel;
}

export interface LabelSearchResult {
  rows: LabelSearchRow[];
  summary: {
    label: string;
    source: LabelSource;
    level: LabelLevel;
    /** Clips that took part (with label files: those that have one), and of those with the label. */
    clips: number;
    clipsWithLabel: number;
    /** Units (clips or frames) and positive units. */
    units: number;
    positives: number;
    /** Features active on at least one positive unit (those scanned). */
    candidates: number;
    step: number;
    minF1: number;
  };
}

interface ClipRow {
  clipId: number;
  path: string;
  startS: number | null;
  frames: number;
  metadata: Record<string, unknown>;
}

/** Label search over a run's layer in the store. */
export async function searchLabel(conn: DuckDBConnection, q: LabelSearchQuery): Promise<LabelSearchResult> {
  const step = q.step ?? 0.1;
  const minF1 = q.minF1 ?? 0.5;
  const run = await requireRun(conn, q.runId, q.layer);
  const clips: ClipRow[] = (await rows(conn, `
    SELECT c.clip_id, c.path, c.start_s, c.metadata::VARCHAR AS metadata, r.frames
    FROM clips c JOIN clip_recon r ON r.run_id = c.run_id AND r.clip_id = c.clip_id AND r.layer = $layer
    WHERE c.run_id = $run AND c.status = 'done' ORDER BY c.clip_id`, { run: run.runId, layer: q.layer })).map((r) => ({
    clipId: num(r, 'clip_id'), path: str(r, 'path'), startS: numOrNull(r, 'start_s'), frames: num(r, 'frames'), metadata: JSON.parse(str(r, 'metadata')) as Record<string, unknown>,
  }));
  const files = q.source === 'metadata' || q.label.value !== undefined ? null : clips.map((c) => labelFileOf(c.path));
  const source: LabelSource = q.source ?? (files?.some((f) => f !== null) ? 'intervals' : 'metadata');
  const level: LabelLevel = q.level ?? (source === 'intervals' ? 'frame' : 'clip');
  const store = await storeName(conn);
  const name = q.label.value === undefined ? q.label.name : `${q.label.name}=${q.label.value}`;

  // Per clip taking part: the frames (of the clip) that carry the label, or all of them for a clip-level label.
  let taking: ClipRow[];
  let marks: Array<Uint8Array>;
  if (source === 'metadata') {
    if (!clips.some((c) => q.label.name in c.metadata)) {
      const columns = [...new Set(clips.flatMap((c) => Object.keys(c.metadata)))];
      throw new AudioSaeError(`run ${run.runId}: no clip has a manifest column "${q.label.name}"${columns.length ? `; the columns are ${columns.join(', ')}` : ' (the corpus had no extra columns)'}.`, store,
        'Name a manifest column with --label NAME=VALUE, or put Audacity label files (<clip>.txt) next to the clips.');
    }
    const has = (c: ClipRow) => {
      const raw = c.metadata[q.label.name];
      const v = raw === undefined || raw === null ? '' : String(raw).trim();
      return q.label.value === undefined ? !FALSE_VALUES.has(v.toLowerCase()) : v === q.label.value;
    };
    taking = clips;
    marks = clips.map((c) => new Uint8Array(c.frames).fill(has(c) ? 1 : 0));
  } else {
    const paths = files ?? clips.map((c) => labelFileOf(c.path));
    taking = [];
    marks = [];
    const wanted = q.label.name.toLowerCase();
    clips.forEach((c, i) => {
      const file = paths[i];
      if (!file) return;
      const intervals = parseAudacityLabels(readFileSync(file, 'utf8'), file).filter((x) => x.label.toLowerCase() === wanted);
      const m = new Uint8Array(c.frames);
      for (let t = 0; t < c.frames; t++) {
        const mid = (c.startS ?? 0) + (t + 0.5) / SAE_FRAMES_PER_SECOND;
        if (intervals.some((x) => x.startS <= mid && mid < x.endS)) m[t] = 1;
      }
      taking.push(c);
      marks.push(m);
    });
    if (taking.length === 0) throw new AudioSaeError(`run ${run.runId}: no clip has a label file next to it (<clip>.txt or <clip>.labels.txt).`, store, 'Export Audacity labels next to the clips, or use a manifest column with --label NAME=VALUE.');
  }
  const clipsWithLabel = marks.reduce((n, m) => n + (m.some((x) => x === 1) ? 1 : 0), 0);

  const clipIds = Int32Array.from(taking, (c) => c.clipId);
  let labelled: LabelledValues;
  if (level === 'clip') {
    const ones = new Int32Array(taking.length).fill(1);
    const offsets = Int32Array.from({ length: taking.length + 1 }, (_, i) => i);
    const coo = await readFrameCodes(conn, run.runId, q.layer, clipIds, ones, offsets, { clipMax: true });
    labelled = { units: taking.length, unit: coo.frame, feature: coo.feature, value: coo.value, positive: Uint8Array.from(marks, (m) => (m.some((x) => x === 1) ? 1 : 0)) };
  } else {
    await requireFrameCodes(conn, run.runId, q.layer);
    const frames = Int32Array.from(taking, (c) => c.frames);
    const offsets = new Int32Array(taking.length + 1);
    for (let i = 0; i < taking.length; i++) offsets[i + 1] = offsets[i]! + frames[i]!;
    const coo = await readFrameCodes(conn, run.runId, q.layer, clipIds, frames, offsets);
    const positive = new Uint8Array(offsets[taking.length]!);
    marks.forEach((m, i) => positive.set(m, offsets[i]!));
    labelled = { units: positive.length, unit: coo.frame, feature: coo.feature, value: coo.value, positive };
  }
  const r = labelSearch(labelled, { step, minF1 });
  if (r.positives === 0) {
    throw new AudioSaeError(`run ${run.runId}: no ${level} carries the label "${name}" (${source === 'metadata' ? 'manifest column' : 'label files'}).`, store, 'Check the label name and value.');
  }
  return {
    rows: r.rows,
    summary: { label: name, source, level, clips: taking.length, clipsWithLabel, units: labelled.units, positives: r.positives, candidates: r.candidates, step, minF1 },
  };
}

export const LABEL_SEARCH_DEFINITION =
  'per feature active on a labelled unit: predicted = value ≥ t for t = min, min + step, … ≤ max of its values; F1 = 2·TP / (2·TP + FP + FN); best t (lowest among ties), precision = TP / (TP + FP), recall = TP / positives; reported where F1 > min-f1';
