/**
 * Speech / sounds / music classification of SAE features, the paper's appendix C (reference doc §5), over
 * per-feature statistics of groups (domains or datasets, `featureStats`).
 *
 * - A label's frequency pools the groups mapped to it: frame level Σ active_frames / Σ frames, audio level
 *   Σ active_clips / Σ clips over those groups (the union treated as one domain, not a mean of frequencies).
 * - For each combination c of labels ([speech, sounds, music], [speech, sounds], [speech, music], [sounds, music])
 *   and feature j: if j's frequency is 0 for every label of c, j is `dead` in c (the algorithm sees only c's
 *   domains, so a speech-only feature is dead in [sounds, music]). Otherwise i* = argmax over c; j is assigned
 *   to i* with grade g for the first τ_g (strictest first: frame {0.2, 0.1, 0.04}, audio {0.5, 0.3}) such that
 *   f_i* − f_k ≥ τ_g for every other k in c; no τ → `unassigned`.
 * - Ties at the argmax: the difference to the tied domain is 0 < τ, so a tie for the maximum is always
 *   unassigned (τ must be > 0), whichever of the tied domains is taken as i*.
 * - Ties at τ: ≥ holds, in exact arithmetic. Frequencies are ratios of counts and τ is a decimal, so float
 *   subtraction can land a hair below τ (0.3 − 0.1 = 0.19999999999999998); the comparison is
 *   f_i* − f_k ≥ τ − 1e-12. No real difference lies in that slack: it would need over 10¹² frames.
 */
import { AudioSaeError } from '../errors.ts';

export type DomainLabel = 'speech' | 'sounds' | 'music';
export type FeatureLabel = DomainLabel | 'unassigned' | 'dead';
export type ClassifyLevel = 'frame' | 'audio';

export const DOMAIN_LABELS: readonly DomainLabel[] = ['speech', 'sounds', 'music'];
/** The paper's four combinations, in its order; named by joining with '+'. */
export const COMBINATIONS: readonly (readonly DomainLabel[])[] = [['speech', 'sounds', 'music'], ['speech', 'sounds'], ['speech', 'music'], ['sounds', 'music']];
export const DEFAULT_TAUS: Readonly<Record<ClassifyLevel, readonly number[]>> = { frame: [0.2, 0.1, 0.04], audio: [0.5, 0.3] };
/** Float slack of the τ comparison (see the module comment). */
export const TAU_SLACK = 1e-12;

/** The per-group counts classification needs (a subset of `FeatureStatsRow`). */
export interface GroupFeatureCounts {
  feature: number;
  group: string | null;
  frames: number;
  activeFrames: number;
  clips: number;
  activeClips: number;
}

export interface ClassifyOptions {
  level: ClassifyLevel;
  /** Strictest first; default DEFAULT_TAUS[level]. */
  taus?: readonly number[];
  /**
   * Label → the groups pooled under it (e.g. speech → [ls, esd]). A label not given maps to the group of its
   * own name. Every label must end up with at least one group that is present in the statistics.
   */
  domains?: ReadonlyMap<string, readonly string[]>;
}

export interface ClassificationRow {
  feature: number;
  /** e.g. 'speech+sounds+music' */
  combination: string;
  label: FeatureLabel;
  /** index of the first τ that held; null for unassigned and dead */
  grade: number | null;
}

/** Counts of the eight regions of a three-set Venn diagram over speech, sounds, music ('none' = in no set). */
export type VennCounts = Record<'speech' | 'sounds' | 'music' | 'speech+sounds' | 'speech+music' | 'sounds+music' | 'speech+sounds+music' | 'none', number>;

export interface ClassificationSummary {
  level: ClassifyLevel;
  taus: number[];
  /** Features classified. */
  features: number;
  /** The groups pooled under each label. */
  mapping: Record<DomainLabel, string[]>;
  /** Per combination: features per label (the combination's labels, unassigned, dead). */
  combinations: { combination: string; counts: Partial<Record<FeatureLabel, number>> }[];
  /** Sets S_L = features assigned L in at least one of the four combinations; their Venn regions. */
  assignedVenn: VennCounts;
  /** Sets T_L = features with frequency > 0 under L; their Venn regions. */
  firingVenn: VennCounts;
  /** Features strictly in one domain: frequency > 0 under that label and 0 under the other two (= firingVenn's single regions). */
  strictlyOne: Record<DomainLabel, number>;
}

export interface Classification {
  rows: ClassificationRow[];
  summary: ClassificationSummary;
  /** Per feature (ascending) the label in [speech, sounds, music] and the number of the three labels it fires under. */
  threeWay: { feature: number; label: FeatureLabel; grade: number | null; firesUnder: number }[];
}

export const combinationName = (c: readonly string[]) => c.join('+');

function checkTaus(taus: readonly number[], level: ClassifyLevel): number[] {
  const ok = taus.length > 0 && taus.every((t, i) => Number.isFinite(t) && t > 0 && t <= 1 && (i === 0 || t < taus[i - 1]!));
  if (!ok) {
    throw new AudioSaeError(`the thresholds τ must be numbers in (0, 1], strictest (largest) first, without repeats; got ${taus.join(', ') || 'none'}.`,
      undefined, `The paper's are ${DEFAULT_TAUS[level].join(', ')} at the ${level} level.`);
  }
  return [...taus];
}

function resolveMapping(groups: readonly (string | null)[], domains: ReadonlyMap<string, readonly string[]> | undefined): Record<DomainLabel, string[]> {
  const present = new Set(groups.filter((g): g is string => g !== null));
  const shown = [...present].sort().join(', ') || 'none';
  const hint = 'Map your domain names onto them, e.g. --domains "speech=ls,esd;sounds=fsd50k;music=jamendo".';
  for (const label of domains?.keys() ?? []) {
    if (!(DOMAIN_LABELS as readonly string[]).includes(label)) {
      throw new AudioSaeError(`the domain mapping names "${label}"; only speech, sounds and music can be mapped.`, undefined, hint);
    }
  }
  const mapping = {} as Record<DomainLabel, string[]>;
  const owner = new Map<string, DomainLabel>();
  const missing: string[] = [];
  for (const label of DOMAIN_LABELS) {
    const given = domains?.get(label);
    const list = [...new Set(given ?? [label])];
    const absent = list.filter((g) => !present.has(g));
    if (given !== undefined && absent.length > 0) {
      throw new AudioSaeError(`the domain mapping for ${label} names ${absent.map((g) => `"${g}"`).join(', ')}, which the corpus does not have; it has: ${shown}.`, undefined, hint);
    }
    if (absent.length > 0 || list.length === 0) missing.push(label);
    for (const g of list) {
      const other = owner.get(g);
      if (other !== undefined) throw new AudioSaeError(`"${g}" is mapped to both ${other} and ${label}; a group can count for one label only.`, undefined, hint);
      owner.set(g, label);
    }
    mapping[label] = list;
  }
  if (missing.length > 0) {
    throw new AudioSaeError(`classification needs the domains speech, sounds and music; ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing. The corpus has: ${shown}.`, undefined, hint);
  }
  return mapping;
}

function venn(features: readonly number[], member: (label: DomainLabel, j: number) => boolean): VennCounts {
  const v: VennCounts = { speech: 0, sounds: 0, music: 0, 'speech+sounds': 0, 'speech+music': 0, 'sounds+music': 0, 'speech+sounds+music': 0, none: 0 };
  for (const j of features) {
    const key = DOMAIN_LABELS.filter((l) => member(l, j)).join('+') || 'none';
    v[key as keyof VennCounts]++;
  }
  return v;
}

/** Classifies every feature present in `stats` (each feature should appear once per group, as featureStats gives it). */
export function classifyFeatures(stats: readonly GroupFeatureCounts[], opts: ClassifyOptions): Classification {
  const level = opts.level;
  if (level !== 'frame' && level !== 'audio') throw new AudioSaeError(`the classification level is frame or audio, not "${String(level)}".`);
  const taus = checkTaus(opts.taus ?? DEFAULT_TAUS[level], level);
  const mapping = resolveMapping([...new Set(stats.map((s) => s.group))], opts.domains);
  const labelOf = new Map<string, DomainLabel>();
  for (const label of DOMAIN_LABELS) for (const g of mapping[label]) labelOf.set(g, label);

  // Pooled counts: feature → [num, den] per label (index in DOMAIN_LABELS).
  const pooled = new Map<number, Float64Array>(); // [num0, den0, num1, den1, num2, den2]
  for (const s of stats) {
    let acc = pooled.get(s.feature);
    if (!acc) pooled.set(s.feature, (acc = new Float64Array(6)));
    const label = s.group === null ? undefined : labelOf.get(s.group);
    if (label === undefined) continue;
    const i = DOMAIN_LABELS.indexOf(label);
    acc[2 * i] += level === 'frame' ? s.activeFrames : s.activeClips;
    acc[2 * i + 1] += level === 'frame' ? s.frames : s.clips;
  }
  const features = [...pooled.keys()].sort((a, b) => a - b);
  const freq = (j: number, label: DomainLabel): number => {
    const acc = pooled.get(j)!;
    const i = DOMAIN_LABELS.indexOf(label);
    return acc[2 * i + 1]! > 0 ? acc[2 * i]! / acc[2 * i + 1]! : 0;
  };

  const rows: ClassificationRow[] = [];
  const labels = new Map<string, FeatureLabel>(); // `${combination}:${feature}`
  const threeWay: Classification['threeWay'] = [];
  const combinations: ClassificationSummary['combinations'] = [];
  for (const combo of COMBINATIONS) {
    const name = combinationName(combo);
    const counts: Partial<Record<FeatureLabel, number>> = {};
    for (const l of [...combo, 'unassigned', 'dead'] as FeatureLabel[]) counts[l] = 0;
    for (const j of features) {
      const f = combo.map((l) => freq(j, l));
      let label: FeatureLabel;
      let grade: number | null = null;
      if (f.every((v) => v === 0)) {
        label = 'dead';
      } else {
        let top = 0;
        for (let i = 1; i < f.length; i++) if (f[i]! > f[top]!) top = i;
        for (let g = 0; g < taus.length && grade === null; g++) {
          if (f.every((v, k) => k === top || f[top]! - v >= taus[g]! - TAU_SLACK)) grade = g;
        }
        label = grade === null ? 'unassigned' : combo[top]!;
      }
      rows.push({ feature: j, combination: name, label, grade });
      labels.set(`${name}:${j}`, label);
      if (combo.length === 3) threeWay.push({ feature: j, label, grade, firesUnder: f.filter((v) => v > 0).length });
      counts[label] = counts[label]! + 1;
    }
    combinations.push({ combination: name, counts });
  }

  const firingVenn = venn(features, (l, j) => freq(j, l) > 0);
  const summary: ClassificationSummary = {
    level,
    taus,
    features: features.length,
    mapping,
    combinations,
    assignedVenn: venn(features, (l, j) => COMBINATIONS.some((c) => labels.get(`${combinationName(c)}:${j}`) === l)),
    firingVenn,
    strictlyOne: { speech: firingVenn.speech, sounds: firingVenn.sounds, music: firingVenn.music },
  };
  return { rows, summary, threeWay };
}

/** One layer's line of the paper's Figure 2: the three-way labels as counts and % of the features. */
export interface LayerSummaryRow {
  layer: number;
  level: ClassifyLevel;
  features: number;
  speech: number;
  sounds: number;
  music: number;
  /** unassigned in [speech, sounds, music] and firing under two or three of the labels */
  shared: number;
  /** unassigned and firing under one label only (too rarely for any τ) */
  unassigned: number;
  /** firing under none of the three labels */
  dead: number;
  speechPct: number;
  soundsPct: number;
  musicPct: number;
  sharedPct: number;
  unassignedPct: number;
  deadPct: number;
}

/** The three-way split of a classification as one Figure 2 row (the six counts partition the features). */
export function layerSummaryRow(layer: number, c: Classification): LayerSummaryRow {
  const n = { speech: 0, sounds: 0, music: 0, shared: 0, unassigned: 0, dead: 0 };
  for (const t of c.threeWay) {
    if (t.label === 'unassigned') n[t.firesUnder >= 2 ? 'shared' : 'unassigned']++;
    else n[t.label]++;
  }
  const total = c.summary.features;
  const pct = (v: number) => (total > 0 ? (100 * v) / total : NaN);
  return {
    layer, level: c.summary.level, features: total, ...n,
    speechPct: pct(n.speech), soundsPct: pct(n.sounds), musicPct: pct(n.music), sharedPct: pct(n.shared), unassignedPct: pct(n.unassigned), deadPct: pct(n.dead),
  };
}
