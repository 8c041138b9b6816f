/**
 * Figures: every chart the engine draws is an SVG string; this writes it as .svg, or rasterises it to .png with
 * resvg (a maintained SVG renderer, native, no browser). Text uses the system's sans-serif fonts (DejaVu Sans
 * where present); a machine without fonts still gets the shapes.
 */
import { extname } from 'node:path';
import { AudioSaeError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomicWrite.ts';

export type FigureFormat = 'svg' | 'png';

/** The format a figure path asks for, from its extension; anything else is a clear error naming the file. */
export function figureFormat(path: string): FigureFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.svg') return 'svg';
  if (ext === '.png') return 'png';
  throw new AudioSaeError('a figure is written as .svg or .png: name the file with one of those extensions.', path);
}

/** Rasterises an SVG at `scale` × its own size (2 = crisp on high-density screens). */
export async function svgToPng(svg: string, scale = 2): Promise<Uint8Array> {
  const { Resvg } = await import('@resvg/resvg-js');
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
    background: 'white',
  });
  return resvg.render().asPng();
}

/** Writes the figure atomically as SVG or PNG by the path's extension. */
export async function writeFigure(path: string, svg: string): Promise<void> {
  const bytes = figureFormat(path) === 'png' ? await svgToPng(svg) : new TextEncoder().encode(svg);
  await writeFileAtomic(path, bytes);
}

/** Escapes text for SVG content and attribute values. */
export const escapeSvg = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
