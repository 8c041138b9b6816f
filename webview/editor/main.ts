/**
 * The audio editor's webview: draws what the host sends (log-mel spectrogram, waveform, the clip's top SAE
 * features as a heat-map lane per feature, L0 and reconstruction-error lanes), aligned by time; shows the
 * active features of the frame under the pointer; draws a clicked feature's activation curve over the
 * spectrogram; asks the host to rerun when the backbone or layer changes. It computes no model output.
 */
import { hzToMel } from '../../src/engine/audio/melFilters.ts';
import { colormapLut, type ColormapName } from '../../src/shared/colormaps.ts';
import type { EditorSettings, HostMessage, WebviewMessage } from '../../src/shared/editorProtocol.ts';

declare function acquireVsCodeApi(): { postMessage(m: WebviewMessage): void; getState(): unknown; setState(s: unknown): void };
const vscode = acquireVsCodeApi();

interface ViewState { selected?: number; colormap?: ColormapName; backbone?: string; layer?: number; rank?: 'max' | 'total'; topN?: number; floor?: number }

/** One feature's statistics over a range of frames. */
interface FeatureStats { id: number; max: number; timeOfMaxS: number; activeFrames: number; total: number }
const state: ViewState = (vscode.getState() as ViewState | undefined) ?? {};
const saveState = () => vscode.setState(state);

type Features = Extract<HostMessage, { type: 'features' }>;
let durationS = 0;
let settings: EditorSettings | undefined;
let spectrogram: { nMels: number; frames: number; data: Float32Array } | undefined;
let peaks: { perSecond: number; data: Float32Array } | undefined;
let features: (Features & { rowPtrA: Int32Array; indicesA: Int32Array; valuesA: Float32Array; l0A: Float32Array; errA: Float32Array }) | undefined;
/** The features shown as lanes and in the table: the clip's top N by the chosen ranking. */
let shown: FeatureStats[] = [];
let region: [number, number] | undefined; // selected frames [from, to)

const LANE_HEIGHT = 14;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// ---- layout ---------------------------------------------------------------------------------------------
const app = document.getElementById('app')!;
const toolbar = el('div', { class: 'toolbar' });
const title = el('span', { class: 'title' });
const backboneSelect = el('select', { id: 'backbone', 'aria-label': 'Backbone' });
const layerSelect = el('select', { id: 'layer', 'aria-label': 'Layer' });
const colormapSelect = el('select', { id: 'colormap', 'aria-label': 'Colour map' });
for (const c of ['viridis', 'magma', 'inferno', 'gray']) colormapSelect.append(el('option', { value: c }, c));
colormapSelect.value = state.colormap ?? 'viridis';
const rankSelect = el('select', { id: 'rank', 'aria-label': 'Rank features by' });
rankSelect.append(el('option', { value: 'max' }, 'by max'), el('option', { value: 'total' }, 'by total'));
rankSelect.value = state.rank ?? 'max';
const topInput = el('input', { id: 'topN', type: 'number', min: '1', max: '64', value: String(state.topN ?? 24), 'aria-label': 'Features shown' });
const floorInput = el('input', { id: 'floor', type: 'range', min: '0', max: '90', value: String(state.floor ?? 0), 'aria-label': 'Spectrogram floor (% of the dB range hidden)' });
const exportSelect = el('select', { id: 'export', 'aria-label': 'Export' });
for (const [value, label] of [['', 'Export…'], ['codes-npy', 'Codes (.npy)'], ['codes-csv', 'Codes (CSV)'], ['intervals-audacity', 'Selected feature: Audacity labels'], ['intervals-csv', 'Selected feature: intervals (CSV)'], ['png', 'View (PNG)']]) {
  exportSelect.append(el('option', { value: value! }, label));
}
const status = el('span', { id: 'status', class: 'status' });
const cancelButton = el('button', { id: 'cancel', title: 'Stop the model run', hidden: '' }, 'Cancel');
cancelButton.addEventListener('click', () => vscode.postMessage({ type: 'cancel' }));
const playButton = el('button', { id: 'play', title: 'Play / pause (Space)' }, '▶');
const speedSelect = el('select', { id: 'speed', 'aria-label': 'Playback speed' });
for (const r of ['0.5', '0.75', '1', '1.5', '2']) speedSelect.append(el('option', { value: r }, `${r}×`));
speedSelect.value = '1';
const player = new Audio();
toolbar.append(title, playButton, speedSelect, el('label', {}, 'Backbone '), backboneSelect, el('label', {}, 'Layer '), layerSelect, el('label', {}, 'Colours '), colormapSelect, el('label', {}, 'Floor '), floorInput,
  el('label', {}, 'Top '), topInput, rankSelect, exportSelect, status, cancelButton);
const errorBox = el('div', { id: 'error', class: 'error', hidden: '' });
const notes = el('ul', { id: 'notes', class: 'notes' });
const plot = el('div', { class: 'plot' });
const specCanvas = el('canvas', { id: 'spectrogram', height: '200' });
const overlay = el('canvas', { id: 'overlay', height: '200' });
const specWrap = el('div', { class: 'spec-wrap' });
const cursor = el('div', { id: 'cursor', class: 'cursor' });
const freqAxis = el('div', { class: 'freq-axis', id: 'freq-axis' });
// Frequency labels at their mel positions (80 bins over 0–8 kHz, Slaney scale).
for (const hz of [250, 500, 1000, 2000, 4000, 8000]) {
  const label = el('span', {}, hz >= 1000 ? `${hz / 1000} kHz` : `${hz} Hz`);
  label.style.bottom = `${(100 * hzToMel(hz)) / hzToMel(8000)}%`;
  freqAxis.append(label);
}
specWrap.append(specCanvas, overlay, freqAxis);
const waveCanvas = el('canvas', { id: 'waveform', height: '48' });
const lanesCanvas = el('canvas', { id: 'lanes', height: '0' });
const metricCanvas = el('canvas', { id: 'metrics', height: '40' });
const axis = el('div', { class: 'axis', id: 'axis' });
plot.append(specWrap, waveCanvas, lanesCanvas, metricCanvas, axis, cursor);
const tooltip = el('div', { id: 'tooltip', class: 'tooltip', hidden: '' });
const featureList = el('table', { id: 'features', class: 'features' });
const regionBox = el('div', { id: 'region', class: 'region', hidden: '' });
const regionShade = el('div', { id: 'region-shade', class: 'region-shade', hidden: '' });
plot.append(regionShade);
const tables = el('div', { class: 'tables' });
tables.append(featureList, regionBox);
app.append(toolbar, errorBox, notes, plot, tables, tooltip);

// ---- drawing --------------------------------------------------------------------------------------------
function widthOf(canvas: HTMLCanvasElement): number {
  const w = Math.max(200, Math.floor(plot.clientWidth));
  if (canvas.width !== w) canvas.width = w;
  return w;
}

/** Paints a [rows, cols] value grid through a colour lookup table into a canvas, rows top to bottom. */
function paintGrid(canvas: HTMLCanvasElement, rows: number, cols: number, value: (r: number, c: number) => number, lut: Uint8Array): void {
  const ctx = canvas.getContext('2d')!;
  const img = new ImageData(Math.max(1, cols), Math.max(1, rows));
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = Math.max(0, Math.min(255, Math.round(value(r, c) * 255))) * 4;
      img.data.set(lut.subarray(v, v + 4), (r * cols + c) * 4);
    }
  }
  const bitmap = document.createElement('canvas');
  bitmap.width = img.width;
  bitmap.height = img.height;
  bitmap.getContext('2d')!.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
}

function drawSpectrogram(): void {
  if (!spectrogram) return;
  widthOf(specCanvas);
  widthOf(overlay);
  const { nMels, frames, data } = spectrogram;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of data) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  lo += ((hi - lo) * Number(floorInput.value)) / 100;
  const span = hi > lo ? hi - lo : 1;
  paintGrid(specCanvas, nMels, frames, (r, c) => (data[(nMels - 1 - r) * frames + c]! - lo) / span, colormapLut(colormapSelect.value as ColormapName));
  specCanvas.dataset.drawn = 'true';
}

function drawWaveform(): void {
  if (!peaks) return;
  const w = widthOf(waveCanvas);
  const ctx = waveCanvas.getContext('2d')!;
  const h = waveCanvas.height;
  ctx.clearRect(0, 0, w, h);
  ctx.fillStyle = getComputedStyle(document.body).getPropertyValue('--vscode-charts-blue') || '#3794ff';
  const n = peaks.data.length / 2;
  for (let x = 0; x < w; x++) {
    const a = Math.floor((x / w) * n);
    const b = Math.max(a + 1, Math.floor(((x + 1) / w) * n));
    let lo = 0;
    let hi = 0;
    for (let i = a; i < b && i < n; i++) {
      lo = Math.min(lo, peaks.data[2 * i]!);
      hi = Math.max(hi, peaks.data[2 * i + 1]!);
    }
    ctx.fillRect(x, h / 2 - hi * (h / 2), 1, Math.max(1, (hi - lo) * (h / 2)));
  }
}

/** A feature's activation per frame, from the sparse codes. */
function track(id: number): Float32Array {
  const f = features!;
  const out = new Float32Array(f.frames);
  for (let t = 0; t < f.frames; t++) {
    for (let p = f.rowPtrA[t]!; p < f.rowPtrA[t + 1]!; p++) if (f.indicesA[p] === id) out[t] = f.valuesA[p]!;
  }
  return out;
}

/** Statistics of every feature active in frames [from, to), from the sparse codes. */
function featureStats(from: number, to: number): FeatureStats[] {
  const f = features!;
  const stats = new Map<number, FeatureStats>();
  for (let t = from; t < to; t++) {
    for (let p = f.rowPtrA[t]!; p < f.rowPtrA[t + 1]!; p++) {
      const id = f.indicesA[p]!;
      const v = f.valuesA[p]!;
      let s = stats.get(id);
      if (!s) stats.set(id, (s = { id, max: 0, timeOfMaxS: 0, activeFrames: 0, total: 0 }));
      s.activeFrames++;
      s.total += v;
      if (v > s.max) {
        s.max = v;
        s.timeOfMaxS = t / f.framesPerSecond;
      }
    }
  }
  const key = rankSelect.value === 'total' ? 'total' : 'max';
  return [...stats.values()].sort((a, b) => b[key] - a[key] || a.id - b.id);
}

function rank(): void {
  if (!features) return;
  const n = Math.max(1, Math.min(64, Math.round(Number(topInput.value)) || 24));
  shown = featureStats(0, features.frames).slice(0, n);
  renderFeatureList();
  drawLanes();
  renderRegion();
}

function drawLanes(): void {
  if (!features) return;
  const top = shown;
  lanesCanvas.height = top.length * LANE_HEIGHT;
  widthOf(lanesCanvas);
  const tracks = top.map((t) => track(t.id));
  paintGrid(lanesCanvas, top.length * LANE_HEIGHT, features.frames, (r, c) => {
    const lane = Math.floor(r / LANE_HEIGHT);
    return r % LANE_HEIGHT === LANE_HEIGHT - 1 ? 0 : tracks[lane]![c]! / (top[lane]!.max || 1);
  }, colormapLut('magma'));
  lanesCanvas.dataset.lanes = String(top.length);

  const w = widthOf(metricCanvas);
  const ctx = metricCanvas.getContext('2d')!;
  ctx.clearRect(0, 0, w, metricCanvas.height);
  const lane = (data: Float32Array, y0: number, color: string) => {
    let max = 0;
    for (const v of data) max = Math.max(max, v);
    ctx.strokeStyle = color;
    ctx.beginPath();
    data.forEach((v, t) => {
      const x = (t / data.length) * w;
      const y = y0 + 18 - (max > 0 ? (v / max) * 16 : 0);
      if (t === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    });
    ctx.stroke();
  };
  lane(features.l0A, 0, '#e5c07b');
  lane(features.errA, 20, '#e06c75');
}

function drawSelected(): void {
  const ctx = overlay.getContext('2d')!;
  ctx.clearRect(0, 0, overlay.width, overlay.height);
  overlay.dataset.selected = state.selected === undefined ? '' : String(state.selected);
  if (!features || state.selected === undefined) return;
  const values = track(state.selected);
  let max = 0;
  for (const v of values) max = Math.max(max, v);
  const w = overlay.width;
  const h = overlay.height;
  ctx.fillStyle = 'rgba(255, 255, 255, 0.18)';
  values.forEach((v, t) => {
    if (v > 0) ctx.fillRect((t / values.length) * w, 0, Math.max(1, w / values.length), h);
  });
  ctx.strokeStyle = '#ffffff';
  ctx.lineWidth = 2;
  ctx.beginPath();
  values.forEach((v, t) => {
    const x = ((t + 0.5) / values.length) * w;
    const y = h - 4 - (max > 0 ? (v / max) * (h - 8) : 0);
    if (t === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  });
  ctx.stroke();
}

function drawAxis(): void {
  axis.replaceChildren();
  if (!durationS) return;
  const step = durationS > 120 ? 30 : durationS > 30 ? 5 : 1;
  for (let s = 0; s <= durationS; s += step) {
    const tick = el('span', {}, `${s}s`);
    tick.style.left = `${(100 * s) / durationS}%`;
    axis.append(tick);
  }
}

function renderFeatureList(): void {
  featureList.replaceChildren();
  if (!features) return;
  const head = el('tr');
  for (const h of ['feature', 'max', 'time of max', 'active frames']) head.append(el('th', {}, h));
  featureList.append(head);
  for (const t of shown) {
    const row = el('tr', { 'data-feature': String(t.id), tabindex: '0', class: t.id === state.selected ? 'selected' : '' });
    row.append(el('td', {}, `#${t.id}`), el('td', {}, t.max.toFixed(3)), el('td', {}, `${t.timeOfMaxS.toFixed(2)} s`), el('td', {}, String(t.activeFrames)));
    row.addEventListener('click', () => select(t.id));
    row.addEventListener('keydown', (e) => { if (e.key === 'Enter') select(t.id); });
    featureList.append(row);
  }
}

function select(id: number): void {
  state.selected = state.selected === id ? undefined : id;
  saveState();
  renderFeatureList();
  drawSelected();
}

function drawAll(): void {
  drawSpectrogram();
  drawWaveform();
  drawLanes();
  drawSelected();
  drawAxis();
}

// ---- interaction ----------------------------------------------------------------------------------------
function frameAt(clientX: number): number | undefined {
  if (!features) return undefined;
  const rect = plot.getBoundingClientRect();
  const fraction = (clientX - rect.left) / rect.width;
  if (fraction < 0 || fraction >= 1) return undefined;
  return Math.min(features.frames - 1, Math.floor(fraction * features.frames));
}

plot.addEventListener('mousemove', (e) => {
  const t = frameAt(e.clientX);
  if (t === undefined || !features) return void tooltip.setAttribute('hidden', '');
  const f = features;
  const active: string[] = [];
  for (let p = f.rowPtrA[t]!; p < Math.min(f.rowPtrA[t + 1]!, f.rowPtrA[t]! + 8); p++) active.push(`#${f.indicesA[p]} ${f.valuesA[p]!.toFixed(2)}`);
  tooltip.textContent = `${(t / f.framesPerSecond).toFixed(2)} s · frame ${t} · L0 ${f.rowPtrA[t + 1]! - f.rowPtrA[t]!}\n${active.join('  ') || 'no active features'}`;
  tooltip.style.left = `${e.clientX + 12}px`;
  tooltip.style.top = `${e.clientY + 12}px`;
  tooltip.removeAttribute('hidden');
});
plot.addEventListener('mouseleave', () => tooltip.setAttribute('hidden', ''));
lanesCanvas.addEventListener('click', (e) => {
  if (!features) return;
  const lane = Math.floor((e.clientY - lanesCanvas.getBoundingClientRect().top) / LANE_HEIGHT);
  const t = shown[lane];
  if (t) select(t.id);
});

/** Features ranked within the selected region, beside the clip's table. */
function renderRegion(): void {
  if (!features || !region) {
    regionBox.setAttribute('hidden', '');
    regionShade.setAttribute('hidden', '');
    return;
  }
  const [a, b] = region;
  const fps = features.framesPerSecond;
  regionShade.style.left = `${(100 * a) / features.frames}%`;
  regionShade.style.width = `${(100 * (b - a)) / features.frames}%`;
  regionShade.removeAttribute('hidden');
  const table = el('table', { class: 'features' });
  const head = el('tr');
  for (const h of ['feature', rankSelect.value === 'total' ? 'total' : 'max', 'active frames']) head.append(el('th', {}, h));
  table.append(head);
  for (const s of featureStats(a, b).slice(0, 10)) {
    const row = el('tr', { 'data-feature': String(s.id) });
    row.append(el('td', {}, `#${s.id}`), el('td', {}, (rankSelect.value === 'total' ? s.total : s.max).toFixed(3)), el('td', {}, String(s.activeFrames)));
    row.addEventListener('click', () => select(s.id));
    table.append(row);
  }
  regionBox.replaceChildren(el('div', { class: 'region-title' }, `Features in ${(a / fps).toFixed(2)}–${(b / fps).toFixed(2)} s`), table);
  regionBox.removeAttribute('hidden');
}

// Drag across the waveform to select a time region.
let dragFrom: number | undefined;
waveCanvas.addEventListener('mousedown', (e) => { dragFrom = frameAt(e.clientX); });
window.addEventListener('mouseup', (e) => {
  if (dragFrom === undefined || !features) return;
  const to = frameAt(e.clientX) ?? features.frames - 1;
  const [a, b] = [Math.min(dragFrom, to), Math.max(dragFrom, to) + 1];
  dragFrom = undefined;
  region = b - a > 1 ? [a, b] : undefined;
  renderRegion();
});
rankSelect.addEventListener('change', () => { state.rank = rankSelect.value as 'max' | 'total'; saveState(); rank(); });
topInput.addEventListener('change', () => { state.topN = Number(topInput.value); saveState(); rank(); });
floorInput.addEventListener('input', () => { state.floor = Number(floorInput.value); saveState(); drawSpectrogram(); });

/** The lanes stacked into one PNG (spectrogram with the selected curve, waveform, feature and metric lanes). */
async function viewPng(): Promise<ArrayBuffer> {
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

exportSelect.addEventListener('change', async () => {
  const what = exportSelect.value as Extract<WebviewMessage, { type: 'export' }>['what'] | '';
  exportSelect.value = '';
  if (!what) return;
  if (what.startsWith('intervals') && state.selected === undefined) {
    status.textContent = 'Select a feature first (click a lane or a row).';
    return;
  }
  if (what === 'png') vscode.postMessage({ type: 'export', what, png: await viewPng() });
  else vscode.postMessage({ type: 'export', what, feature: state.selected });
});

function fillLayers(): void {
  if (!settings) return;
  const spec = settings.backbones.find((b) => b.id === backboneSelect.value);
  const layers = spec?.layers ?? settings.layers;
  const current = Number(layerSelect.value) || settings.layer;
  layerSelect.replaceChildren(...Array.from({ length: layers }, (_, i) => el('option', { value: String(i + 1) }, String(i + 1))));
  layerSelect.value = String(Math.min(current, layers));
}
const run = () => {
  state.backbone = backboneSelect.value;
  state.layer = Number(layerSelect.value);
  saveState();
  vscode.postMessage({ type: 'run', backbone: state.backbone, layer: state.layer });
};

// ---- playback -------------------------------------------------------------------------------------------
function togglePlay(): void {
  if (!player.src) return;
  if (player.paused) void player.play();
  else player.pause();
}
function moveCursor(): void {
  if (durationS > 0) cursor.style.left = `${(100 * player.currentTime) / durationS}%`;
  if (!player.paused) requestAnimationFrame(moveCursor);
}
player.addEventListener('play', () => { playButton.textContent = '⏸'; moveCursor(); });
player.addEventListener('pause', () => { playButton.textContent = '▶'; moveCursor(); });
playButton.addEventListener('click', togglePlay);
speedSelect.addEventListener('change', () => { player.playbackRate = Number(speedSelect.value); });
window.addEventListener('keydown', (e) => {
  if (e.code === 'Space' && !(e.target instanceof HTMLSelectElement)) {
    e.preventDefault();
    togglePlay();
  }
});
specWrap.addEventListener('click', (e) => {
  const rect = specWrap.getBoundingClientRect();
  if (!durationS) return;
  player.currentTime = Math.max(0, Math.min(durationS, ((e.clientX - rect.left) / rect.width) * durationS));
  moveCursor();
});
backboneSelect.addEventListener('change', () => { fillLayers(); run(); });
layerSelect.addEventListener('change', run);
colormapSelect.addEventListener('change', () => { state.colormap = colormapSelect.value as ColormapName; saveState(); drawSpectrogram(); });
new ResizeObserver(() => drawAll()).observe(plot);

// ---- messages -------------------------------------------------------------------------------------------
window.addEventListener('message', (event: MessageEvent<HostMessage>) => {
  const m = event.data;
  switch (m.type) {
    case 'init':
      settings = m.settings;
      title.textContent = m.fileName;
      errorBox.setAttribute('hidden', '');
      backboneSelect.replaceChildren(...m.settings.backbones.map((b) => el('option', { value: b.id }, b.label)));
      backboneSelect.value = m.settings.backbone;
      layerSelect.value = '';
      fillLayers();
      layerSelect.value = String(m.settings.layer);
      backboneSelect.disabled = layerSelect.disabled = !m.trusted;
      break;
    case 'audio':
      durationS = m.durationS;
      if (player.src) URL.revokeObjectURL(player.src);
      player.src = URL.createObjectURL(new Blob([m.wav], { type: 'audio/wav' }));
      player.playbackRate = Number(speedSelect.value);
      peaks = { perSecond: m.peaksPerSecond, data: new Float32Array(m.peaks) };
      drawWaveform();
      drawAxis();
      break;
    case 'spectrogram':
      spectrogram = { nMels: m.nMels, frames: m.frames, data: new Float32Array(m.data) };
      drawSpectrogram();
      break;
    case 'status':
      status.textContent = m.text;
      status.classList.toggle('busy', m.busy);
      cancelButton.toggleAttribute('hidden', !m.busy || !m.text.startsWith('Running'));
      break;
    case 'features':
      errorBox.setAttribute('hidden', '');
      features = { ...m, rowPtrA: new Int32Array(m.rowPtr), indicesA: new Int32Array(m.indices), valuesA: new Float32Array(m.values), l0A: new Float32Array(m.l0), errA: new Float32Array(m.relError) };
      notes.replaceChildren(...m.notes.map((n) => el('li', {}, n)));
      if (m.meanL0 < m.k / 5 || m.meanL0 > m.k * 5) notes.append(el('li', { class: 'warning' }, `Mean L0 ${m.meanL0.toFixed(1)} is far from k = ${m.k}.`));
      region = undefined;
      rank();
      if (state.selected !== undefined && !shown.some((t) => t.id === state.selected)) state.selected = undefined;
      renderFeatureList();
      drawSelected();
      document.body.dataset.features = `${m.backbone}:${m.layer}`;
      break;
    case 'error':
      errorBox.textContent = m.message;
      errorBox.removeAttribute('hidden');
      status.textContent = '';
      status.classList.remove('busy');
      break;
  }
});

vscode.postMessage(state.backbone && state.layer ? { type: 'ready', backbone: state.backbone, layer: state.layer } : { type: 'ready' });
