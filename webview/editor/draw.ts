/**
 * Painting: value grids through a colour lookup table into ImageData (never one fillRect per cell), line
 * tracks, and the time axis. Every function draws one thing into a canvas it is given; none keeps state.
 */
import type { Viewport } from './viewport.ts';
import { formatTime, tickStep, xAt } from './viewport.ts';

/**
 * Paints a [rows, cols] grid (row 0 at the top) scaled to the canvas span of times [fromS, toS) in view `v`,
 * at rows [y, y + height). `value` returns 0..1, or NaN for "not computed yet" (left transparent).
 */
export function paintGrid(
  ctx: CanvasRenderingContext2D, v: Viewport, fromS: number, toS: number, y: number, height: number,
  rows: number, cols: number, value: (r: number, c: number) => number, lut: Uint8Array,
): void {
  if (rows <= 0 || cols <= 0) return;
  const img = new ImageData(cols, rows);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const x = value(r, c);
      if (Number.isNaN(x)) continue;
      const i = Math.max(0, Math.min(255, Math.round(x * 255))) * 4;
      const o = (r * cols + c) * 4;
      img.data[o] = lut[i]!;
      img.data[o + 1] = lut[i + 1]!;
      img.data[o + 2] = lut[i + 2]!;
      img.data[o + 3] = 255;
    }
  }
  const bitmap = document.createElement('canvas');
  bitmap.width = cols;
  bitmap.height = rows;
  bitmap.getContext('2d')!.putImageData(img, 0, 0);
  const w = ctx.canvas.width;
  const x0 = xAt(v, fromS, w);
  const x1 = xAt(v, toS, w);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(bitmap, x0, y, Math.max(1, x1 - x0), height);
}

/** A polyline of `values` (NaN = gap) over [fromS, toS), scaled so `max` reaches the top of [y, y + height). */
export function paintTrack(
  ctx: CanvasRenderingContext2D, v: Viewport, fromS: number, toS: number, y: number, height: number,
  values: Float32Array, max: number, colour: string, width = 1,
): void {
  const w = ctx.canvas.width;
  const n = values.length;
  ctx.strokeStyle = colour;
  ctx.lineWidth = width;
  ctx.beginPath();
  let pen = false;
  for (let c = 0; c < n; c++) {
    const value = values[c]!;
    if (Number.isNaN(value)) {
      pen = false;
      continue;
    }
    const x = xAt(v, fromS + ((c + 0.5) / n) * (toS - fromS), w);
    const yy = y + height - (max > 0 ? Math.min(1, value / max) : 0) * (height - 2) - 1;
    if (pen) ctx.lineTo(x, yy);
    else ctx.moveTo(x, yy);
    pen = true;
  }
  ctx.stroke();
}

/** Min/max waveform peaks ([cols, 2]) over [fromS, toS). */
export function paintPeaks(ctx: CanvasRenderingContext2D, v: Viewport, fromS: number, toS: number, peaks: Float32Array, colour: string): void {
  const w = ctx.canvas.width;
  const h = ctx.canvas.height;
  const n = peaks.length / 2;
  ctx.fillStyle = colour;
  for (let c = 0; c < n; c++) {
    const x0 = xAt(v, fromS + (c / n) * (toS - fromS), w);
    const x1 = xAt(v, fromS + ((c + 1) / n) * (toS - fromS), w);
    const lo = peaks[2 * c]!;
    const hi = peaks[2 * c + 1]!;
    ctx.fillRect(x0, h / 2 - hi * (h / 2), Math.max(1, x1 - x0), Math.max(1, (hi - lo) * (h / 2)));
  }
}

/** Tick labels for the view, as absolutely placed spans in `axis` (percent positions). */
export function renderAxis(axis: HTMLElement, v: Viewport): void {
  const step = tickStep(v.t1S - v.t0S);
  const ticks: HTMLElement[] = [];
  for (let t = Math.ceil(v.t0S / step) * step; t <= v.t1S + 1e-9; t += step) {
    const tick = document.createElement('span');
    tick.textContent = formatTime(t, step);
    const at = (100 * (t - v.t0S)) / (v.t1S - v.t0S);
    tick.style.left = `${at}%`;
    // Centred on its time, but kept inside the axis at either end.
    if (at < 2) tick.style.transform = 'none';
    else if (at > 98) tick.style.transform = 'translateX(-100%)';
    ticks.push(tick);
  }
  axis.replaceChildren(...ticks);
}
