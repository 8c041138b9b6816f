/**
 * The feature map as a scatter figure (SVG; writeFigure makes it PNG): one dot per feature at its map
 * coordinates, coloured by label in the paper's colours (speech red, sounds blue, music green, unassigned
 * gray) with brightness × (1 − 0.2·grade), a legend with the counts, and equal scales on both axes.
 */
import { LABEL_COLOURS, labelColour } from '../../shared/labelColours.ts';
import { escapeSvg as esc } from './figure.ts';

export interface ScatterPoint {
  x: number;
  y: number;
  label: string;
  /** Confidence grade (0 = most confident); null counts as 0. */
  grade: number | null;
  /** Tooltip text. */
  title?: string;
}

export function scatterSvg(points: readonly ScatterPoint[], title: string): string {
  const W = 760, H = 640, left = 20, top = 44, plot = Math.min(W - 190, H - top - 24);
  let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
  for (const p of points) {
    minX = Math.min(minX, p.x);
    maxX = Math.max(maxX, p.x);
    minY = Math.min(minY, p.y);
    maxY = Math.max(maxY, p.y);
  }
  const span = Math.max(maxX - minX, maxY - minY, 1e-12);
  const sx = (v: number) => left + plot * (0.5 + (v - (minX + maxX) / 2) / span * 0.96);
  const sy = (v: number) => top + plot * (0.5 - (v - (minY + maxY) / 2) / span * 0.96);
  const r = points.length > 4000 ? 1.6 : points.length > 1000 ? 2.2 : 3;
  const parts: string[] = [`<text x="${left}" y="26" font-size="15" font-weight="600">${esc(title)}</text>`];
  parts.push(`<rect x="${left}" y="${top}" width="${plot}" height="${plot}" fill="none" stroke="#ccc"/>`);
  // Unassigned first, so labelled features draw on top.
  const order = [...points].sort((a, b) => Number(a.label !== 'unassigned') - Number(b.label !== 'unassigned'));
  for (const p of order) {
    const tip = p.title ? `<title>${esc(p.title)}</title>` : '';
    parts.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="${r}" fill="${labelColour(p.label, p.grade)}" fill-opacity="0.85">${tip}</circle>`);
  }
  const counts = new Map<string, number>();
  for (const p of points) counts.set(p.label, (counts.get(p.label) ?? 0) + 1);
  let row = 0;
  for (const label of ['speech', 'sounds', 'music', 'unassigned', ...[...counts.keys()].filter((l) => !(l in LABEL_COLOURS))]) {
    const count = counts.get(label) ?? 0;
    if (count === 0) continue;
    const y = top + 10 + row * 22;
    parts.push(`<circle cx="${left + plot + 30}" cy="${y}" r="6" fill="${labelColour(label, 0)}"/>`);
    parts.push(`<text x="${left + plot + 44}" y="${y + 4}" font-size="12">${esc(label)} (${count})</text>`);
    row++;
  }
  parts.push(`<text x="${left + plot + 22}" y="${top + 18 + row * 22}" font-size="11" fill="#555">darker: lower confidence</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>${parts.join('')}</svg>\n`;
}
