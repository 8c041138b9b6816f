/**
 * The feature map's view logic (no DOM): points in flat typed arrays, the view transform (zoom and pan) between
 * map and screen coordinates, which points a label filter shows, the point nearest the pointer through a
 * uniform grid (10 240 points: a hover looks at a few cells, not at every point), and a lasso's points.
 */
import type { FeatureLabel } from '../../../src/engine/interp/classify.ts';
import type { FeatureMapPoint } from '../../../src/shared/panelProtocol.ts';

export const LABELS: readonly FeatureLabel[] = ['speech', 'sounds', 'music', 'unassigned', 'dead'];

export interface MapData {
  n: number;
  x: Float32Array;
  y: Float32Array;
  /** index into LABELS */
  label: Uint8Array;
  /** The label's grade (0 = strictest τ), 0 where none: the map darkens by 0.2 per grade. */
  grade: Uint8Array;
  points: readonly FeatureMapPoint[];
  bounds: { x0: number; x1: number; y0: number; y1: number };
  /**
   * The points by fill colour (label, then grade): bucket c = label · GRADES + grade holds
   * byColour[colourStart[c] .. colourStart[c + 1]), so a redraw sets each colour once and visits each point once.
   */
  byColour: Int32Array;
  colourStart: Int32Array;
}

/** Grades 0..4: the map's fill colour per label darkens by grade. */
export const GRADES = 5;

export function mapData(points: readonly FeatureMapPoint[]): MapData {
  const n = points.length;
  const x = new Float32Array(n);
  const y = new Float32Array(n);
  const label = new Uint8Array(n);
  const grade = new Uint8Array(n);
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  points.forEach((p, i) => {
    x[i] = p.x;
    y[i] = p.y;
    label[i] = Math.max(0, LABELS.indexOf(p.label));
    grade[i] = Math.min(GRADES - 1, Math.max(0, p.grade ?? 0));
    x0 = Math.min(x0, p.x); x1 = Math.max(x1, p.x); y0 = Math.min(y0, p.y); y1 = Math.max(y1, p.y);
  });
  if (n === 0) (x0 = y0 = 0), (x1 = y1 = 1);
  // A counting sort by colour bucket.
  const colourStart = new Int32Array(LABELS.length * GRADES + 1);
  for (let i = 0; i < n; i++) colourStart[label[i]! * GRADES + grade[i]! + 1]!++;
  for (let c = 0; c < LABELS.length * GRADES; c++) colourStart[c + 1]! += colourStart[c]!;
  const next = colourStart.slice(0, -1);
  const byColour = new Int32Array(n);
  for (let i = 0; i < n; i++) byColour[next[label[i]! * GRADES + grade[i]!]!++] = i;
  return { n, x, y, label, grade, points, bounds: { x0, x1, y0, y1 }, byColour, colourStart };
}

/** screen = (map · scale + offset) per axis, y growing downwards on screen. */
export interface Transform {
  scale: number;
  tx: number;
  ty: number;
}

/** The transform that fits the map's bounds into a width × height canvas with a margin. */
export function fitTransform(d: MapData, width: number, height: number, margin = 16): Transform {
  const w = Math.max(1e-9, d.bounds.x1 - d.bounds.x0);
  const h = Math.max(1e-9, d.bounds.y1 - d.bounds.y0);
  const scale = Math.min((width - 2 * margin) / w, (height - 2 * margin) / h);
  return { scale, tx: (width - scale * (d.bounds.x0 + d.bounds.x1)) / 2, ty: (height + scale * (d.bounds.y0 + d.bounds.y1)) / 2 };
}

export const toScreen = (t: Transform, x: number, y: number): [number, number] => [x * t.scale + t.tx, -y * t.scale + t.ty];
export const toMap = (t: Transform, sx: number, sy: number): [number, number] => [(sx - t.tx) / t.scale, -(sy - t.ty) / t.scale];

/** Zoom by `factor` about the screen point (sx, sy), which stays where it is. */
export function zoomAt(t: Transform, sx: number, sy: number, factor: number): Transform {
  const scale = t.scale * factor;
  return { scale, tx: sx - (sx - t.tx) * factor, ty: sy - (sy - t.ty) * factor };
}

export const pan = (t: Transform, dx: number, dy: number): Transform => ({ ...t, tx: t.tx + dx, ty: t.ty + dy });

/** Which points show: labels switched on, and (when set) a lasso selection. */
export function visibleMask(d: MapData, labelsOn: ReadonlySet<FeatureLabel>, selection?: ReadonlySet<number>): Uint8Array {
  const on = LABELS.map((l) => labelsOn.has(l));
  const mask = new Uint8Array(d.n);
  for (let i = 0; i < d.n; i++) mask[i] = on[d.label[i]!] && (!selection || selection.has(i)) ? 1 : 0;
  return mask;
}

/** A uniform grid over map coordinates for nearest-point queries. */
export class PointGrid {
  private readonly cells: Int32Array;
  private readonly starts: Int32Array;
  private readonly size: number;

  constructor(private readonly d: MapData, cellsPerSide = 64) {
    this.size = cellsPerSide;
    const counts = new Int32Array(cellsPerSide * cellsPerSide + 1);
    const cellOf = new Int32Array(d.n);
    for (let i = 0; i < d.n; i++) counts[(cellOf[i] = this.cell(d.x[i]!, d.y[i]!)) + 1]!++;
    for (let c = 1; c < counts.length; c++) counts[c]! += counts[c - 1]!;
    this.starts = counts.slice();
    this.cells = new Int32Array(d.n);
    const fill = counts.slice();
    for (let i = 0; i < d.n; i++) this.cells[fill[cellOf[i]!]!++] = i;
  }

  private coord(v: number, lo: number, hi: number): number {
    return Math.min(this.size - 1, Math.max(0, Math.floor(((v - lo) / Math.max(1e-12, hi - lo)) * this.size)));
  }

  private cell(x: number, y: number): number {
    const b = this.d.bounds;
    return this.coord(y, b.y0, b.y1) * this.size + this.coord(x, b.x0, b.x1);
  }

  /** The visible point nearest (x, y) in map units within `radius`, or -1. */
  nearest(x: number, y: number, radius: number, mask?: Uint8Array): number {
    const b = this.d.bounds;
    const cx0 = this.coord(x - radius, b.x0, b.x1), cx1 = this.coord(x + radius, b.x0, b.x1);
    const cy0 = this.coord(y - radius, b.y0, b.y1), cy1 = this.coord(y + radius, b.y0, b.y1);
    let best = -1;
    let bestD = radius * radius;
    for (let cy = cy0; cy <= cy1; cy++) {
      for (let cx = cx0; cx <= cx1; cx++) {
        const c = cy * this.size + cx;
        for (let k = this.starts[c]!; k < this.starts[c + 1]!; k++) {
          const i = this.cells[k]!;
          if (mask && !mask[i]) continue;
          const dx = this.d.x[i]! - x, dy = this.d.y[i]! - y;
          const dd = dx * dx + dy * dy;
          if (dd <= bestD) (bestD = dd), (best = i);
        }
      }
    }
    return best;
  }
}

/** Even-odd point-in-polygon. */
export function inPolygon(x: number, y: number, poly: readonly [number, number][]): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i]!;
    const [xj, yj] = poly[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** The visible points inside a lasso drawn in map coordinates. */
export function lassoSelect(d: MapData, poly: readonly [number, number][], mask?: Uint8Array): Set<number> {
  const out = new Set<number>();
  if (poly.length < 3) return out;
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const [x, y] of poly) (x0 = Math.min(x0, x)), (x1 = Math.max(x1, x)), (y0 = Math.min(y0, y)), (y1 = Math.max(y1, y));
  for (let i = 0; i < d.n; i++) {
    if (mask && !mask[i]) continue;
    const x = d.x[i]!, y = d.y[i]!;
    if (x >= x0 && x <= x1 && y >= y0 && y <= y1 && inPolygon(x, y, poly)) out.add(i);
  }
  return out;
}

/** Counts of each label among the visible points (the legend). */
export function labelCounts(d: MapData, mask?: Uint8Array): Record<FeatureLabel, number> {
  const counts = Object.fromEntries(LABELS.map((l) => [l, 0])) as Record<FeatureLabel, number>;
  for (let i = 0; i < d.n; i++) if (!mask || mask[i]) counts[LABELS[d.label[i]!]!]++;
  return counts;
}
