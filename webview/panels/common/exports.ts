/**
 * What every panel exports: its rows as CSV or JSON (text from src/shared/rowsText.ts) and its chart as SVG
 * (the <svg> serialized with its computed colours inlined, since the theme's CSS variables do not travel) or
 * PNG (an SVG or canvas drawn to a canvas at device pixel ratio). The host asks where and writes atomically.
 */
import { rowsToCsv, rowsToJson } from '../../../src/shared/rowsText.ts';
import type { PanelRpc } from './rpc.ts';
import { button, el } from './dom.ts';

const INLINED = ['fill', 'stroke', 'stroke-width', 'font-size', 'font-family', 'opacity', 'fill-opacity', 'stroke-dasharray'] as const;

/** The chart as standalone SVG text: computed styles inlined, a background rectangle, the XML namespace. */
export function svgText(svg: SVGSVGElement): string {
  const copy = svg.cloneNode(true) as SVGSVGElement;
  const from = [svg, ...Array.from(svg.querySelectorAll('*'))];
  const to = [copy, ...Array.from(copy.querySelectorAll('*'))];
  from.forEach((node, i) => {
    const style = getComputedStyle(node);
    const target = to[i] as SVGElement;
    for (const p of INLINED) {
      const v = style.getPropertyValue(p);
      if (v) target.style.setProperty(p, v);
    }
  });
  copy.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  const bg = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
  bg.setAttribute('width', '100%');
  bg.setAttribute('height', '100%');
  bg.setAttribute('fill', getComputedStyle(document.body).backgroundColor || '#1e1e1e');
  copy.insertBefore(bg, copy.firstChild);
  return new XMLSerializer().serializeToString(copy);
}

async function canvasPng(canvas: HTMLCanvasElement): Promise<ArrayBuffer> {
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
  if (!blob) throw new Error('the chart could not be encoded as PNG');
  return blob.arrayBuffer();
}

/** An SVG chart rasterized at device pixel ratio. */
export async function svgPng(svg: SVGSVGElement): Promise<ArrayBuffer> {
  const text = svgText(svg);
  const { width, height } = svg.getBoundingClientRect();
  const scale = window.devicePixelRatio || 1;
  const img = new Image();
  img.src = `data:image/svg+xml;base64,${btoa(unescape(encodeURIComponent(text)))}`;
  await img.decode();
  const canvas = el('canvas', { width: String(Math.ceil(width * scale)), height: String(Math.ceil(height * scale)) });
  const ctx = canvas.getContext('2d')!;
  ctx.scale(scale, scale);
  ctx.drawImage(img, 0, 0, width, height);
  return canvasPng(canvas);
}

export interface ExportSource {
  /** A file name without extension, e.g. metrics-layer-3. */
  name: () => string;
  rows?: () => readonly Record<string, unknown>[];
  /** Extra JSON fields (formulas, the run). */
  extra?: () => Record<string, unknown>;
  svg?: () => SVGSVGElement | null;
  canvas?: () => HTMLCanvasElement | null;
}

/** A row of export buttons for what a panel shows; results and failures go to `notify`. */
export function exportBar<V, Q>(rpc: PanelRpc<V, Q>, source: ExportSource, notify: (text: string, error?: boolean) => void): HTMLElement {
  const run = (work: () => Promise<string | undefined>) => () =>
    void work().then((m) => m && notify(m), (e: unknown) => notify(`Export failed: ${(e as Error).message}`, true));
  const bar = el('div', { class: 'exports' });
  if (source.rows) {
    bar.append(
      button('CSV', 'table', run(() => rpc.call({ type: 'export', format: 'csv', name: source.name(), text: rowsToCsv(source.rows!()) } as never)), { 'data-export': 'csv' }),
      button('JSON', 'json', run(() => rpc.call({ type: 'export', format: 'json', name: source.name(), text: rowsToJson(source.rows!(), source.extra?.() ?? {}) } as never)), { 'data-export': 'json' }),
    );
  }
  if (source.svg) {
    bar.append(
      button('SVG', 'file-media', run(async () => {
        const svg = source.svg!();
        if (!svg) throw new Error('no chart is shown');
        return rpc.call({ type: 'export', format: 'svg', name: source.name(), text: svgText(svg) } as never);
      }), { 'data-export': 'svg' }),
    );
  }
  if (source.svg || source.canvas) {
    bar.append(
      button('PNG', 'device-camera', run(async () => {
        const canvas = source.canvas?.();
        const svg = source.svg?.();
        const bytes = canvas ? await canvasPng(canvas) : svg ? await svgPng(svg) : undefined;
        if (!bytes) throw new Error('no chart is shown');
        return rpc.call({ type: 'export', format: 'png', name: source.name(), bytes } as never);
      }), { 'data-export': 'png' }),
    );
  }
  return bar;
}
