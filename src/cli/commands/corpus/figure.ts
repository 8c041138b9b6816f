/**
 * The paper's Figure 2 as an SVG (or PNG): per layer, a stacked bar of the share of features classified speech (red),
 * sounds (blue), music (green), shared (purple), unassigned (gray) and dead (black), in the paper's colours.
 */
import { escapeSvg as esc, writeFigure } from '../../../engine/plot/figure.ts';
import type { LayerSummaryRow } from '../../../engine/store/queries.ts';
import { LABEL_COLOURS } from '../../../shared/labelColours.ts';

const PARTS = (['speech', 'sounds', 'music', 'shared', 'unassigned', 'dead'] as const).map((l) => [`${l}Pct`, l, LABEL_COLOURS[l]] as const);

export function layerFigureSvg(rows: readonly LayerSummaryRow[], title: string): string {
  const W = 720;
  const H = 380;
  const left = 56;
  const top = 40;
  const plotW = W - left - 150;
  const plotH = H - top - 50;
  const bar = plotW / Math.max(1, rows.length);
  const y = (pct: number) => top + plotH - (pct / 100) * plotH;
  const parts: string[] = [];
  parts.push(`<text x="${left}" y="24" font-size="15" font-weight="600">${esc(title)}</text>`);
  for (const pct of [0, 25, 50, 75, 100]) {
    parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${y(pct)}" y2="${y(pct)}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 6}" y="${y(pct) + 4}" font-size="11" text-anchor="end">${pct}%</text>`);
  }
  rows.forEach((r, i) => {
    let acc = 0;
    const x = left + i * bar + bar * 0.12;
    for (const [key, label, colour] of PARTS) {
      const v = Number.isFinite(r[key]) ? r[key] : 0;
      if (v > 0) parts.push(`<rect x="${x.toFixed(1)}" y="${y(acc + v).toFixed(1)}" width="${(bar * 0.76).toFixed(1)}" height="${((v / 100) * plotH).toFixed(1)}" fill="${colour}"><title>layer ${r.layer}: ${label} ${v.toFixed(1)}%</title></rect>`);
      acc += v;
    }
    parts.push(`<text x="${(left + (i + 0.5) * bar).toFixed(1)}" y="${top + plotH + 16}" font-size="11" text-anchor="middle">${r.layer}</text>`);
  });
  parts.push(`<text x="${left + plotW / 2}" y="${H - 12}" font-size="12" text-anchor="middle">layer</text>`);
  PARTS.forEach(([, label, colour], i) => {
    parts.push(`<rect x="${left + plotW + 20}" y="${top + i * 20}" width="12" height="12" fill="${colour}"/>`);
    parts.push(`<text x="${left + plotW + 38}" y="${top + i * 20 + 10}" font-size="12">${label}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>${parts.join('')}</svg>\n`;
}

export async function writeLayerFigure(path: string, rows: readonly LayerSummaryRow[], title: string): Promise<void> {
  await writeFigure(path, layerFigureSvg(rows, title));
  process.stderr.write(`plot → ${path}\n`);
}
