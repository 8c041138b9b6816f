/**
 * Drawing the plot from the latest view reply: the log-mel spectrogram, waveform, feature lanes and their
 * labels, the L0 and error lanes, the selected feature's curve over the spectrogram, the overview strip, the
 * axis, the playhead and the region shade. Reads the state; changes nothing but pixels and the elements'
 * data attributes (which the end-to-end tests read).
 */
import { colormapLut, type ColormapName } from '../../src/shared/colormaps.ts';
import { el } from './dom.ts';
import { paintGrid, paintPeaks, paintTrack, renderAxis } from './draw.ts';
import {
  bars, cursor, lanesCanvas, laneLabels, metricCanvas, overlay, overviewCanvas, regionShade, specCanvas, trackWidth, waveCanvas, axis,
} from './layout.ts';
import { colourScale } from './specScale.ts';
import { featureLabel, LANE_HEIGHT, model, state } from './state.ts';
import { fit, xAt } from './viewport.ts';

function sizeCanvas(c: HTMLCanvasElement, height?: number): CanvasRenderingContext2D {
  const w = trackWidth();
  if (c.width !== w) c.width = w;
  if (height !== undefined && c.height !== height) c.height = height;
  const ctx = c.getContext('2d')!;
  ctx.clearRect(0, 0, c.width, c.height);
  return ctx;
}

export function drawSpectrogram(): void {
  const ctx = sizeCanvas(specCanvas);
  const { reply, view } = model;
  if (!reply || reply.melCols === 0) return;
  const mel = new Float32Array(reply.mel);
  const { nMels, melCols } = reply;
  // Absolute: the top of the scale sits a chosen number of dB below full scale, whatever the clip's own maximum.
  const scale = colourScale(Number(bars.ceilingField.value) || 0, Number(bars.rangeField.value) || 80);
  const lut = colormapLut(bars.colormapSelect.value as ColormapName);
  paintGrid(ctx, view, reply.melFromS, reply.melToS, 0, specCanvas.height, nMels, melCols, (r, c) => scale(mel[(nMels - 1 - r) * melCols + c]!), lut);
  specCanvas.dataset.drawn = String(!Number.isNaN(mel[0]));
}

function drawWaveform(): void {
  const ctx = sizeCanvas(waveCanvas);
  const { reply, view } = model;
  if (!reply) return;
  paintPeaks(ctx, view, reply.melFromS, reply.melToS, new Float32Array(reply.peaks), getComputedStyle(document.body).getPropertyValue('--vscode-charts-blue') || '#3794ff');
}

/** The reply's activations of one feature (max per column), if it holds them. */
export function laneData(id: number): Float32Array | undefined {
  const { reply } = model;
  if (!reply || reply.featureCols === 0) return undefined;
  const i = reply.features.indexOf(id);
  return i < 0 ? undefined : new Float32Array(reply.lanes, i * reply.featureCols * 4, reply.featureCols);
}

function drawLanes(): void {
  const { reply, view, shown } = model;
  const ctx = sizeCanvas(lanesCanvas, shown.length * LANE_HEIGHT);
  lanesCanvas.dataset.lanes = String(shown.length);
  if (!reply || reply.featureCols === 0) return;
  const cols = reply.featureCols;
  const lanes = shown.map((s) => laneData(s.id));
  const lut = colormapLut('magma');
  paintGrid(ctx, view, reply.featureFromS, reply.featureToS, 0, lanesCanvas.height, shown.length * LANE_HEIGHT, cols, (r, c) => {
    const lane = Math.floor(r / LANE_HEIGHT);
    const data = lanes[lane];
    const v = data ? data[c]! : NaN;
    if (Number.isNaN(v)) return NaN; // not run yet: left empty
    return r % LANE_HEIGHT === LANE_HEIGHT - 1 ? 0 : v / (shown[lane]!.max || 1);
  }, lut);
}

function drawMetrics(): void {
  const ctx = sizeCanvas(metricCanvas);
  const { reply, view, run } = model;
  if (!reply || reply.featureCols === 0 || !run) return;
  const l0 = new Float32Array(reply.l0);
  const err = new Float32Array(reply.relError);
  let maxL0 = 2 * run.k;
  for (const v of l0) if (v > maxL0) maxL0 = v;
  // k as a dashed reference line: L0 should hover around it.
  const yk = 20 - (run.k / maxL0) * 18 - 1;
  ctx.strokeStyle = 'rgba(229, 192, 123, 0.5)';
  ctx.setLineDash([3, 3]);
  ctx.beginPath();
  ctx.moveTo(0, yk);
  ctx.lineTo(metricCanvas.width, yk);
  ctx.stroke();
  ctx.setLineDash([]);
  paintTrack(ctx, view, reply.featureFromS, reply.featureToS, 0, 20, l0, maxL0, '#e5c07b');
  paintTrack(ctx, view, reply.featureFromS, reply.featureToS, 22, 20, err, 1, '#e06c75');
}

export function drawSelected(): void {
  const ctx = sizeCanvas(overlay);
  const { reply, view } = model;
  overlay.dataset.selected = state.selected === undefined ? '' : String(state.selected);
  if (state.selected === undefined || !reply) return;
  const values = laneData(state.selected);
  if (!values) return;
  let max = model.featureMax.get(state.selected) ?? 0;
  for (const v of values) if (v > max) max = v;
  const n = values.length;
  const w = overlay.width;
  ctx.fillStyle = 'rgba(255, 255, 255, 0.18)';
  for (let c = 0; c < n; c++) {
    if (!(values[c]! > 0)) continue;
    const x0 = xAt(view, reply.featureFromS + (c / n) * (reply.featureToS - reply.featureFromS), w);
    const x1 = xAt(view, reply.featureFromS + ((c + 1) / n) * (reply.featureToS - reply.featureFromS), w);
    ctx.fillRect(x0, 0, Math.max(1, x1 - x0), overlay.height);
  }
  paintTrack(ctx, view, reply.featureFromS, reply.featureToS, 4, overlay.height - 8, values, max, '#ffffff', 2);
}

/** The lane labels: id and name, a click selects (input.ts), the page link opens the feature's page. */
export function renderLaneLabels(): void {
  const { shown } = model;
  laneLabels.style.height = `${shown.length * LANE_HEIGHT}px`;
  laneLabels.replaceChildren(...shown.map((s) => el('div', {
    class: `lane-label${s.id === state.selected ? ' selected' : ''}`, 'data-feature': String(s.id),
    title: `${featureLabel(s.id)}: max ${s.max.toFixed(3)}, ${s.activeFrames} active frames. Click to select, double-click for its feature page.`,
  }, featureLabel(s.id))));
}

export function drawOverview(): void {
  const ctx = sizeCanvas(overviewCanvas);
  const { durationS, view, overviewPeaks } = model;
  if (!durationS) return;
  const whole = fit(durationS);
  if (overviewPeaks) paintPeaks(ctx, whole, overviewPeaks.fromS, overviewPeaks.toS, overviewPeaks.peaks, 'rgba(128, 128, 128, 0.8)');
  const x0 = xAt(whole, view.t0S, overviewCanvas.width);
  const x1 = xAt(whole, view.t1S, overviewCanvas.width);
  ctx.fillStyle = 'rgba(55, 148, 255, 0.25)';
  ctx.fillRect(x0, 0, Math.max(2, x1 - x0), overviewCanvas.height);
  ctx.strokeStyle = '#3794ff';
  ctx.strokeRect(x0 + 0.5, 0.5, Math.max(2, x1 - x0) - 1, overviewCanvas.height - 1);
}

/** The playhead and the region shade, placed by time. */
export function placeOverlays(): void {
  const w = trackWidth();
  const { view, playheadS } = model;
  cursor.style.left = `${xAt(view, playheadS, w)}px`;
  cursor.hidden = playheadS < view.t0S || playheadS > view.t1S;
  const region = state.region;
  if (region && region[1] > view.t0S && region[0] < view.t1S) {
    const a = Math.max(0, xAt(view, region[0], w));
    const b = Math.min(w, xAt(view, region[1], w));
    regionShade.style.left = `${a}px`;
    regionShade.style.width = `${Math.max(1, b - a)}px`;
    regionShade.hidden = false;
  } else {
    regionShade.hidden = true;
  }
}

export function drawAll(): void {
  drawSpectrogram();
  drawWaveform();
  drawLanes();
  drawMetrics();
  drawSelected();
  renderAxis(axis, model.view);
  drawOverview();
  placeOverlays();
  renderLaneLabels();
  document.body.dataset.view = `${model.view.t0S.toFixed(2)}-${model.view.t1S.toFixed(2)}`;
}

/** The plot stacked into one PNG: spectrogram with the selected curve, waveform, lanes, metric lanes. */
export async function viewPng(): Promise<ArrayBuffer> {
  const parts = [specCanvas, waveCanvas, lanesCanvas, metricCanvas];
  const out = document.createElement('canvas');
  out.width = specCanvas.width;
  out.height = parts.reduce((a, c) => a + c.height, 0);
  const ctx = out.getContext('2d')!;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, out.width, out.height);
  let y = 0;
  for (const c of parts) {
    ctx.drawImage(c, 0, y);
    if (c === specCanvas) ctx.drawImage(overlay, 0, y);
    y += c.height;
  }
  const blob = await new Promise<Blob>((resolve) => out.toBlob((b) => resolve(b!), 'image/png'));
  return blob.arrayBuffer();
}
