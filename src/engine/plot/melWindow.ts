/**
 * The receptive-field figure (as in the paper's): the mean log-mel window as a heatmap (low mel bins at the
 * bottom, time left to right, seconds from the centre), the centre column marked, columns no window covers in
 * gray, and above it the feature's mean activation curve over the same columns, with each column's coverage.
 * One SVG of rects (a colour lookup per cell); writeFigure renders it to PNG when asked.
 */
import { MEL_FRAMES_PER_SECOND } from '../audio/constants.ts';
import { escapeSvg as esc } from './figure.ts';

/** Matplotlib's magma, 9 stops (interpolated linearly). */
const MAGMA = ['#000004', '#1c1044', '#4f127b', '#812581', '#b5367a', '#e55964', '#fb8761', '#fec287', '#fcfdbf'];

function rgb(hex: string): [number, number, number] {
  return [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)];
}

const STOPS = MAGMA.map(rgb);
/** 256-entry colour table over [0, 1]. */
const LUT = Array.from({ length: 256 }, (_, i) => {
  const x = (i / 255) * (STOPS.length - 1);
  const a = Math.min(STOPS.length - 2, Math.floor(x));
  const f = x - a;
  const c = STOPS[a]!.map((v, k) => Math.round(v + f * (STOPS[a + 1]![k]! - v)));
  return `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
});

export interface MelWindowFigure {
  title: string;
  nMels: number;
  windowFrames: number;
  centreColumn: number;
  mean: Float32Array; // [nMels, W] row-major, NaN where uncovered
  coverage: Int32Array; // [W]
  curve?: Float32Array; // [W]
  /** What the windows are, e.g. "32 windows from 32 clips". */
  subtitle?: string;
}

export function melWindowSvg(f: MelWindowFigure): string {
  const { nMels, windowFrames: W, mean } = f;
  const cell = Math.max(3, Math.min(6, Math.floor(600 / W)));
  const rowH = Math.max(2, Math.floor(320 / nMels));
  const left = 60;
  const top = 56;
  const curveH = 90;
  const gap = 14;
  const heatTop = top + curveH + gap;
  const plotW = W * cell;
  const plotH = nMels * rowH;
  const width = left + plotW + 90;
  const height = heatTop + plotH + 50;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of mean) if (!Number.isNaN(v)) (lo = Math.min(lo, v), (hi = Math.max(hi, v)));
  if (!Number.isFinite(lo)) (lo = 0), (hi = 1);
  const span = hi - lo || 1;
  const parts: string[] = [];
  parts.push(`<text x="${left}" y="22" font-size="15" font-weight="600">${esc(f.title)}</text>`);
  if (f.subtitle) parts.push(`<text x="${left}" y="40" font-size="11" fill="#555">${esc(f.subtitle)}</text>`);

  // Heatmap: row 0 (lowest mel bin) at the bottom.
  for (let m = 0; m < nMels; m++) {
    const y = heatTop + (nMels - 1 - m) * rowH;
    for (let k = 0; k < W; k++) {
      const v = mean[m * W + k]!;
      const fill = Number.isNaN(v) ? '#bdbdbd' : LUT[Math.max(0, Math.min(255, Math.round(((v - lo) / span) * 255)))]!;
      parts.push(`<rect x="${left + k * cell}" y="${y}" width="${cell}" height="${rowH}" fill="${fill}"/>`);
    }
  }
  const cx = left + (f.centreColumn + 0.5) * cell;
  parts.push(`<line x1="${cx}" x2="${cx}" y1="${top}" y2="${heatTop + plotH}" stroke="#00e5ff" stroke-width="1.5" stroke-dasharray="4 3"/>`);
  parts.push(`<rect x="${left}" y="${heatTop}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`);
  // Time axis: seconds from the centre.
  const secondsPerColumn = 1 / MEL_FRAMES_PER_SECOND;
  const step = W * secondsPerColumn > 1.5 ? 0.5 : W * secondsPerColumn > 0.6 ? 0.25 : 0.1;
  for (let s = -Math.floor((f.centreColumn * secondsPerColumn) / step) * step; s <= (W - f.centreColumn) * secondsPerColumn + 1e-9; s += step) {
    const x = cx + (s / secondsPerColumn) * cell;
    if (x < left - 0.5 || x > left + plotW + 0.5) continue;
    parts.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${heatTop + plotH}" y2="${heatTop + plotH + 4}" stroke="#333"/>`);
    parts.push(`<text x="${x.toFixed(1)}" y="${heatTop + plotH + 16}" font-size="10" text-anchor="middle">${(Math.abs(s) < 1e-9 ? 0 : s).toFixed(2)}</text>`);
  }
  parts.push(`<text x="${left + plotW / 2}" y="${height - 12}" font-size="11" text-anchor="middle">time from the activated frame (s)</text>`);
  parts.push(`<text x="${left - 10}" y="${heatTop + plotH}" font-size="10" text-anchor="end">0</text>`);
  parts.push(`<text x="${left - 10}" y="${heatTop + 10}" font-size="10" text-anchor="end">${nMels - 1}</text>`);
  parts.push(`<text transform="translate(${left - 34},${heatTop + plotH / 2}) rotate(-90)" font-size="11" text-anchor="middle">mel bin</text>`);
  // Colour bar.
  const barX = left + plotW + 16;
  for (let i = 0; i < 64; i++) parts.push(`<rect x="${barX}" y="${(heatTop + plotH - ((i + 1) / 64) * plotH).toFixed(1)}" width="12" height="${(plotH / 64 + 0.5).toFixed(1)}" fill="${LUT[Math.round((i / 63) * 255)]}"/>`);
  parts.push(`<text x="${barX + 16}" y="${heatTop + 10}" font-size="10">${hi.toFixed(2)}</text>`);
  parts.push(`<text x="${barX + 16}" y="${heatTop + plotH}" font-size="10">${lo.toFixed(2)}</text>`);

  // Activation curve (or the coverage alone when no codes were computed).
  parts.push(`<rect x="${left}" y="${top}" width="${plotW}" height="${curveH}" fill="none" stroke="#333"/>`);
  const maxCoverage = Math.max(1, ...f.coverage);
  const cov = [...f.coverage].map((c, k) => `${(left + (k + 0.5) * cell).toFixed(1)},${(top + curveH - (c / maxCoverage) * curveH).toFixed(1)}`);
  parts.push(`<polyline points="${cov.join(' ')}" fill="none" stroke="#9e9e9e" stroke-width="1"/>`);
  parts.push(`<text x="${left + plotW + 6}" y="${top + 10}" font-size="10" fill="#757575">coverage ≤ ${maxCoverage}</text>`);
  if (f.curve) {
    let cmax = 0;
    for (const v of f.curve) if (!Number.isNaN(v)) cmax = Math.max(cmax, v);
    const scale = cmax > 0 ? cmax : 1;
    const pts: string[] = [];
    const segments: string[] = [];
    f.curve.forEach((v, k) => {
      if (Number.isNaN(v)) {
        if (pts.length) segments.push(pts.splice(0).join(' '));
        return;
      }
      pts.push(`${(left + (k + 0.5) * cell).toFixed(1)},${(top + curveH - (v / scale) * (curveH - 6)).toFixed(1)}`);
    });
    if (pts.length) segments.push(pts.join(' '));
    for (const s of segments) parts.push(`<polyline points="${s}" fill="none" stroke="#d62728" stroke-width="1.8"/>`);
    parts.push(`<text x="${left - 6}" y="${top + 10}" font-size="10" text-anchor="end">${cmax.toPrecision(3)}</text>`);
    parts.push(`<text x="${left - 6}" y="${top + curveH}" font-size="10" text-anchor="end">0</text>`);
    parts.push(`<text x="${left + plotW + 6}" y="${top + 24}" font-size="10" fill="#d62728">mean activation</text>`);
  } else {
    parts.push(`<text x="${left + 6}" y="${top + 16}" font-size="10" fill="#757575">activation curve not computed (no model run)</text>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" shape-rendering="crispEdges"><rect width="100%" height="100%" fill="white"/>${parts.join('')}</svg>\n`;
}
