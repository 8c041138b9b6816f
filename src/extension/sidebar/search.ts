/**
 * Feature search over one layer of one run, fast enough to filter 10 000 features on every keystroke: the
 * per-feature statistics are flat typed arrays built once per layer (`FeatureColumns`, see featureIndex.ts for
 * how they are read from a store), the annotation text is kept lower-cased per feature, and each sort order is
 * computed once and cached, so a query is one pass over the features in sorted order. No `vscode` import.
 *
 * Query text (tokens separated by spaces, all must hold):
 *   12  12-40        feature id, or an inclusive id range (several ids/ranges: any of them)
 *   #tag             an annotation tag starting with "tag"
 *   label:speech     label (speech, sounds, music, unassigned, dead); several label: tokens = any of them
 *   grade:1          grade at most 1 (0 strictest; unassigned and dead have none)
 *   freq>0.01  max<=3  audio>0.5  mean>1   frame frequency, max activation, audio frequency, mean activation
 *   anything else    a word of the annotation's name, notes or tags (case-insensitive substring)
 * The structured filters of `FeatureQuery` (from the sidebar's controls) combine with the text.
 */
import type { FeatureLabel } from '../../engine/interp/classify.ts';

/** Labels in index order (FeatureColumns.label holds these indices); `none` = not classified. */
export const LABELS = ['speech', 'sounds', 'music', 'unassigned', 'dead', 'none'] as const;
export type IndexLabel = FeatureLabel | 'none';
export const labelIndex = (l: IndexLabel): number => LABELS.indexOf(l);

/** One layer's features as columns, index = feature id (0..count−1). */
export interface FeatureColumns {
  count: number;
  /** Domains of the corpus in the order of `domainFreq`'s columns. */
  domains: string[];
  /** Σ active frames / Σ frames over the corpus */
  frameFreq: Float64Array;
  /** clips where it fires / clips */
  audioFreq: Float64Array;
  /** max over clips of its max activation; 0 when it never fires */
  maxAct: Float64Array;
  /** mean non-zero code over its active frames; 0 when it never fires */
  meanAct: Float64Array;
  /** [count, domains.length] row-major: frame frequency per domain (the sparkline) */
  domainFreq: Float32Array;
  /** index into LABELS (three-way frame-level classification) */
  label: Uint8Array;
  /** grade (0 strictest), −1 for none */
  grade: Int8Array;
  /** Why there are no labels (e.g. the corpus lacks a domain), when `label` is all `none`. */
  labelNote?: string;
}

export type SortKey = 'feature' | 'frameFreq' | 'audioFreq' | 'maxAct' | 'meanAct' | 'label' | 'grade' | `domain:${string}`;
export const SORT_KEYS: readonly string[] = ['feature', 'frameFreq', 'audioFreq', 'maxAct', 'meanAct', 'label', 'grade'];

export interface Range {
  min?: number;
  max?: number;
}

export interface FeatureQuery {
  text?: string;
  /** Any of these labels (empty or absent: any). */
  labels?: readonly IndexLabel[];
  /** Grade at most this. */
  maxGrade?: number;
  frameFreq?: Range;
  maxAct?: Range;
  annotatedOnly?: boolean;
  /** Only these features (e.g. the ones firing in the editor's selection); absent: all. */
  within?: readonly number[];
  sort?: { key: SortKey; descending: boolean };
}

/** What the annotation search looks at. */
export interface FeatureText {
  name: string;
  notes: string;
  tags: readonly string[];
}

type Numeric = 'frameFreq' | 'maxAct' | 'audioFreq' | 'meanAct';
const FIELD_OF: Record<string, Numeric> = { freq: 'frameFreq', max: 'maxAct', audio: 'audioFreq', mean: 'meanAct' };

interface ParsedText {
  ids: [number, number][];
  tags: string[];
  labels: number[];
  maxGrade?: number;
  ranges: { field: Numeric; op: '<' | '<=' | '>' | '>='; value: number }[];
  words: string[];
  /** tokens that look like a filter but are not one (e.g. label:musik), for the UI to point out */
  problems: string[];
}

export function parseQueryText(text: string): ParsedText {
  const out: ParsedText = { ids: [], tags: [], labels: [], ranges: [], words: [], problems: [] };
  for (const token of text.toLowerCase().split(/\s+/).filter(Boolean)) {
    let m: RegExpExecArray | null;
    if ((m = /^(\d+)(?:-(\d+))?$/.exec(token))) {
      const a = Number(m[1]);
      const b = m[2] === undefined ? a : Number(m[2]);
      out.ids.push([Math.min(a, b), Math.max(a, b)]);
    } else if (token.startsWith('#')) {
      if (token.length > 1) out.tags.push(token.slice(1));
    } else if ((m = /^label:(\w*)$/.exec(token))) {
      const i = LABELS.indexOf(m[1] as IndexLabel);
      if (i >= 0) out.labels.push(i);
      else if (m[1] !== '' && !LABELS.some((l) => l.startsWith(m![1]!))) out.problems.push(token);
      else if (m[1] !== '') for (const l of LABELS) if (l.startsWith(m[1]!)) out.labels.push(labelIndex(l)); // typing "label:mu"
    } else if ((m = /^grade:(\d)$/.exec(token))) {
      out.maxGrade = Number(m[1]);
    } else if ((m = /^(freq|max|audio|mean)(<=|>=|<|>)(-?\d*\.?\d+(?:e-?\d+)?)$/.exec(token))) {
      out.ranges.push({ field: FIELD_OF[m[1]!]!, op: m[2] as '<' | '<=' | '>' | '>=', value: Number(m[3]) });
    } else if (/^(freq|max|audio|mean|grade|label)[:<>=]/.test(token)) {
      out.problems.push(token); // half-typed filter: ignored until complete
    } else {
      out.words.push(token);
    }
  }
  return out;
}

export interface SearchResult {
  /** Matching feature ids in the requested order. */
  features: Int32Array;
  /** Tokens that were not understood. */
  problems: string[];
}

export class FeatureSearch {
  /** per feature: lower-cased "name \n notes \n tags" ('' when not annotated) */
  private readonly haystack: string[];
  private readonly tagLists: (string[] | undefined)[];
  private readonly orders = new Map<string, Int32Array>();
  private readonly annotations = new Map<number, FeatureText>();

  constructor(readonly columns: FeatureColumns, annotations: ReadonlyMap<number, FeatureText> = new Map()) {
    this.haystack = new Array<string>(columns.count).fill('');
    this.tagLists = new Array<string[] | undefined>(columns.count);
    for (const [f, a] of annotations) this.setAnnotation(f, a);
  }

  /** The annotation text a feature is searched by (undefined: none). */
  annotationOf(feature: number): FeatureText | undefined {
    return this.annotations.get(feature);
  }

  /** Updates one feature's annotation text (undefined: none). */
  setAnnotation(feature: number, a: FeatureText | undefined): void {
    if (!Number.isInteger(feature) || feature < 0 || feature >= this.columns.count) return;
    const empty = !a || (a.name === '' && a.notes === '' && a.tags.length === 0);
    if (empty) this.annotations.delete(feature);
    else this.annotations.set(feature, { name: a.name, notes: a.notes, tags: [...a.tags] });
    this.haystack[feature] = empty ? '' : `${a.name}\n${a.notes}\n${a.tags.join(' ')}`.toLowerCase();
    this.tagLists[feature] = empty ? undefined : a.tags.map((t) => t.toLowerCase());
  }

  /** The features in the order of `key` (ties by feature id ascending), computed once per key. */
  order(key: SortKey): Int32Array {
    let o = this.orders.get(key);
    if (o) return o;
    const c = this.columns;
    o = Int32Array.from({ length: c.count }, (_, i) => i);
    let value: ((i: number) => number) | undefined;
    if (key === 'frameFreq' || key === 'audioFreq' || key === 'maxAct' || key === 'meanAct') {
      const col = c[key];
      value = (i) => col[i]!;
    } else if (key === 'label') {
      value = (i) => c.label[i]!;
    } else if (key === 'grade') {
      value = (i) => (c.grade[i]! < 0 ? 99 : c.grade[i]!);
    } else if (key.startsWith('domain:')) {
      const d = c.domains.indexOf(key.slice('domain:'.length));
      const n = c.domains.length;
      value = d < 0 ? undefined : (i) => c.domainFreq[i * n + d]!;
    }
    if (value) {
      const v = Float64Array.from({ length: c.count }, (_, i) => value!(i));
      o.sort((a, b) => v[a]! - v[b]! || a - b);
    }
    this.orders.set(key, o);
    return o;
  }

  search(q: FeatureQuery): SearchResult {
    const c = this.columns;
    const t = parseQueryText(q.text ?? '');
    const labels = new Set<number>([...(q.labels ?? []).map(labelIndex), ...t.labels]);
    const useLabels = labels.size > 0;
    const maxGrade = Math.min(q.maxGrade ?? Infinity, t.maxGrade ?? Infinity);
    const ranges = [...t.ranges];
    const addRange = (field: Numeric, r: Range | undefined) => {
      if (r?.min !== undefined && Number.isFinite(r.min)) ranges.push({ field, op: '>=', value: r.min });
      if (r?.max !== undefined && Number.isFinite(r.max)) ranges.push({ field, op: '<=', value: r.max });
    };
    addRange('frameFreq', q.frameFreq);
    addRange('maxAct', q.maxAct);
    const within = q.within ? new Uint8Array(c.count) : undefined;
    if (within) for (const f of q.within!) if (f >= 0 && f < c.count) within[f] = 1;
    const needsText = t.words.length > 0 || t.tags.length > 0 || q.annotatedOnly === true;

    const sort = q.sort ?? { key: 'feature', descending: false };
    const order = this.order(sort.key);
    const out = new Int32Array(c.count);
    let n = 0;
    const total = order.length;
    for (let k = 0; k < total; k++) {
      const i = order[sort.descending ? total - 1 - k : k]!;
      if (within && within[i] === 0) continue;
      if (t.ids.length > 0 && !t.ids.some(([a, b]) => i >= a && i <= b)) continue;
      if (useLabels && !labels.has(c.label[i]!)) continue;
      if (maxGrade !== Infinity && (c.grade[i]! < 0 || c.grade[i]! > maxGrade)) continue;
      let ok = true;
      for (const r of ranges) {
        const v = c[r.field][i]!;
        if (r.op === '<' ? !(v < r.value) : r.op === '<=' ? !(v <= r.value) : r.op === '>' ? !(v > r.value) : !(v >= r.value)) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      if (needsText) {
        const h = this.haystack[i]!;
        if (h === '') continue;
        if (!t.words.every((w) => h.includes(w))) continue;
        const tags = this.tagLists[i]!;
        if (!t.tags.every((p) => tags.some((tag) => tag.startsWith(p)))) continue;
      }
      out[n++] = i;
    }
    return { features: out.slice(0, n), problems: t.problems };
  }
}
