/**
 * The classification panel's view logic (no DOM): the per-layer stacked bars of the paper's Figure 2 (speech,
 * sounds, music, shared, unassigned, dead as % of the dictionary), the Venn regions, and the feature table.
 */
import type { LayerSummaryRow } from '../../../src/engine/interp/classify.ts';
import type { ClassificationFeature, ClassificationView } from '../../../src/shared/panelProtocol.ts';
import type { Column } from '../common/tableModel.ts';

export const SEGMENTS = ['speech', 'sounds', 'music', 'shared', 'unassigned', 'dead'] as const;
export type Segment = (typeof SEGMENTS)[number];

/** The labels' colours: the paper's, as in the CLI's figures (also the feature map's). */
export { LABEL_COLOURS } from '../../../src/shared/labelColours.ts';

export interface StackedBar {
  layer: number;
  /** Segments bottom to top, [y0, y1] in percent of the dictionary. */
  segments: { segment: Segment; y0: number; y1: number; count: number }[];
}

export function stackedBars(rows: readonly LayerSummaryRow[]): StackedBar[] {
  return rows.map((r) => {
    let y = 0;
    return {
      layer: r.layer,
      segments: SEGMENTS.map((segment) => {
        const pct = r[`${segment}Pct` as const];
        const s = { segment, y0: y, y1: y + pct, count: r[segment] };
        y += pct;
        return s;
      }),
    };
  });
}

/** The seven Venn regions of the sets S_L (assigned under L in some combination), with their counts. */
export function vennRegions(view: ClassificationView): { region: string; count: number }[] {
  const v = view.summary.assignedVenn;
  return (['speech', 'sounds', 'music', 'speech+sounds', 'speech+music', 'sounds+music', 'speech+sounds+music', 'none'] as const).map((region) => ({ region, count: v[region] }));
}

export const featureColumns: Column<ClassificationFeature>[] = [
  { key: 'feature', title: 'feature', value: (r) => r.feature, numeric: true },
  { key: 'label', title: 'label', value: (r) => r.label },
  { key: 'grade', title: 'grade', value: (r) => r.grade, numeric: true, hint: 'index of the first τ that held (0 = strictest); empty for unassigned and dead' },
  { key: 'firesUnder', title: 'fires under', value: (r) => r.firesUnder, numeric: true, hint: 'how many of speech, sounds, music it fires in' },
];

/** The layer a click at `x` (px) on a chart of `layers` bars over `width` px selects. */
export function layerAt(x: number, width: number, layers: readonly number[]): number | undefined {
  if (layers.length === 0 || width <= 0 || x < 0 || x >= width) return undefined;
  return layers[Math.min(layers.length - 1, Math.floor((x / width) * layers.length))];
}
