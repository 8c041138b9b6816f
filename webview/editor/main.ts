/**
 * The audio editor's webview: draws what the host sends for the visible time range (log-mel spectrogram,
 * waveform, the clip's top SAE features as heat-map lanes, L0 and reconstruction-error lanes), aligned by time,
 * and asks for more as the user zooms, pans, hovers and selects. It computes no model output and holds only
 * what is on screen, so an hour-long clip costs no more than a short one.
 */
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { hzToMel } from '../../src/engine/audio/melFilters.ts';
import { colormapLut, type ColormapName } from '../../src/shared/colormaps.ts';
import {
  dictionaryKey, type Activity, type EditorSettings, type FeatureStats, type HostMessage, type RunChoice, type RunState, type SavedView, type ViewReply, type WebviewMessage,
} from '../../src/shared/editorProtocol.ts';
import { button, el, setOptions, setValue } from './dom.ts';
import { paintGrid, paintPeaks, paintTrack, renderAxis } from './draw.ts';
import { Player } from './player.ts';
import { latestOnly, Rpc } from './rpc.ts';
import { colourScale, formatDb, levelNote, peakDbfs } from './specScale.ts';
import { describeActivity, ownSaeLabel } from './status.ts';
import { buildToolbars, StatusRow } from './toolbar.ts';
import { clamp, fit, follow, pan, timeAt, xAt, zoomAt, type Viewport } from './viewport.ts';

declare function acquireVsCodeApi(): { postMessage(m: WebviewMessage): void; getState(): unknown; setState(s: unknown): void };
const vscode = acquireVsCodeApi();
const rpc = new Rpc((m) => vscode.postMessage(m));

/** What survives closing and reopening the editor (VS Code keeps it per editor). */
interface ViewState {
  choice?: RunChoice;
  view?: Viewport;
  /** The selected feature, and the run it was selected in: its id means that feature only in runs of the same dictionary. */
  selected?: number;
  selectedIn?: RunChoice;
  colormap?: ColormapName;
  rangeDb?: number;
  ceilingDb?: number;
  rank?: 'max' | 'total';
  topN?: number;
  region?: [number, number];
  loop?: boolean;
}
const restored = vscode.getState() as ViewState | undefined;
const state: ViewState = restored ?? {};
// Saved by an earlier version, which kept no run with the selection: it was made in the run then shown.
if (state.selected !== undefined && !state.selectedIn) state.selectedIn = state.choice;
/** Saved twice: in the webview (survives hiding and window reloads) and by the host (survives closing). */
let saveTimer: ReturnType<typeof setTimeout> | undefined;
const saveState = () => {
  vscode.setState(state);
  clearTimeout(saveTimer);
  saveTimer = setTimeout(() => {
    const { choice, view: v, colormap, rangeDb, ceilingDb, rank, topN } = state;
    // The host keeps the selection with the choice it belongs to (not one of a run replaced since).
    const selected = choice && state.selectedIn && dictionaryKey(choice) === dictionaryKey(state.selectedIn) ? state.selected : undefined;
    vscode.postMessage({ type: 'saveView', saved: { choice, view: v, selected, colormap, rangeDb, ceilingDb, rank, topN } });
  }, 300);
};

const LANE_HEIGHT = 14;
const SPEC_HEIGHT = 200;
const MODEL_FPS = 50;

let settings: EditorSettings | undefined;
let trusted = true;
let durationS = 0;
let view: Viewport = { t0S: 0, t1S: 1 };
let reply: ViewReply | undefined;
let run: RunState | undefined;
/** What the host is doing; the status line shows this (and the run) alone. */
let activity: Activity = { kind: 'decoding' };
/** The clip's top features by the chosen ranking: one lane each. */
let shown: FeatureStats[] = [];
const featureMax = new Map<number, number>();

// ---- layout ---------------------------------------------------------------------------------------------
const app = document.getElementById('app')!;
const {
  title, backboneSelect, layerSelect, layerDown, layerUp, saeSelect, modeSelect, runButton, cancelButton, providerBadge, modelBar,
  playButton, speedSelect, loopBox, zoomIn, zoomOut, zoomFit, zoomRegion, prevFiring, nextFiring, colormapSelect, rangeField, ceilingField, topField, rankSelect,
  exportSelect, viewBar,
} = buildToolbars({ colormap: state.colormap ?? 'viridis', rangeDb: state.rangeDb ?? 80, ceilingDb: state.ceilingDb ?? 0, topN: state.topN ?? 24, rank: state.rank ?? 'max' });
const statusRow = new StatusRow(runButton, cancelButton, {
  runDemo: (demo) => runChoice(demo),
  openSettings: () => vscode.postMessage({ type: 'openSettings' }),
});
const notes = el('ul', { id: 'notes', class: 'notes' });

// The plot: a gutter of labels beside time-aligned tracks.
const specCanvas = el('canvas', { id: 'spectrogram', height: String(SPEC_HEIGHT) });
const overlay = el('canvas', { id: 'overlay', height: String(SPEC_HEIGHT) });
const waveCanvas = el('canvas', { id: 'waveform', height: '48' });
const lanesCanvas = el('canvas', { id: 'lanes', height: '0' });
const metricCanvas = el('canvas', { id: 'metrics', height: '44' });
const axis = el('div', { class: 'axis', id: 'axis' });
const overviewCanvas = el('canvas', { id: 'overview', height: '28', title: 'The whole clip: click or drag to move the view' });
const cursor = el('div', { id: 'cursor', class: 'cursor' });
const regionShade = el('div', { id: 'region-shade', class: 'region-shade', hidden: '' });
const tracks = el('div', { class: 'tracks', id: 'tracks' });
const specWrap = el('div', { class: 'spec-wrap' });
specWrap.append(specCanvas, overlay);
tracks.append(specWrap, waveCanvas, lanesCanvas, metricCanvas, axis, cursor, regionShade);
const freqLabels = el('div', { class: 'freq-axis', id: 'freq-axis' });
for (const hz of [250, 500, 1000, 2000, 4000, 8000]) {
  const label = el('span', {}, hz >= 1000 ? `${hz / 1000} kHz` : `${hz} Hz`);
  label.style.bottom = `${(100 * hzToMel(hz)) / hzToMel(8000)}%`;
  freqLabels.append(label);
}
const laneLabels = el('div', { class: 'lane-labels', id: 'lane-labels' });
const gutter = el('div', { class: 'gutter' });
gutter.append(freqLabels, el('div', { class: 'wave-label' }, 'wave'), laneLabels, el('div', { class: 'metric-labels' }), el('div', { class: 'axis-label' }));
gutter.querySelector('.metric-labels')!.append(el('span', { class: 'l0' }, 'L0'), el('span', { class: 'err' }, 'error'));
const plot = el('div', { class: 'plot' });
plot.append(gutter, tracks, el('div'), overviewCanvas);
const tooltip = el('div', { id: 'tooltip', class: 'tooltip', hidden: '' });
const featureTable = el('table', { id: 'features', class: 'features' });
const regionBox = el('div', { id: 'region', class: 'region', hidden: '' });
const tables = el('div', { class: 'tables' });
tables.append(featureTable, regionBox);
app.append(modelBar, viewBar, statusRow.row, statusRow.errorBox, statusRow.level, notes, plot, tables, tooltip);

// ---- requests -------------------------------------------------------------------------------------------
const trackWidth = () => Math.max(200, Math.floor(tracks.clientWidth));

/** The features the view needs: the lanes, and the selected one for its curve. */
function wantedFeatures(): number[] {
  if (!run) return [];
  const ids = shown.map((s) => s.id);
  if (state.selected !== undefined && state.selected < run.dictSize && !ids.includes(state.selected)) ids.push(state.selected);
  return ids;
}

const requestView = latestOnly(async () => {
  if (!durationS) return;
  const asked = { ...view };
  const r = await rpc.request<Extract<WebviewMessage, { type: 'view' }>>({ type: 'view', t0S: asked.t0S, t1S: asked.t1S, columns: Math.min(8192, trackWidth()), features: wantedFeatures() });
  // A reply computed for the run shown before this one (the switch crossed it in flight): ask again.
  if (run && JSON.stringify(r.choice) !== JSON.stringify(run.choice)) return requestView();
  reply = r;
  drawAll();
});

const requestRank = latestOnly(async () => {
  if (!run || run.framesDone === 0) return;
  const n = Math.max(1, Math.min(64, Math.round(Number(topField.value)) || 24));
  const by = rankSelect.value === 'total' ? 'total' : 'max';
  const r = await rpc.request<Extract<WebviewMessage, { type: 'rank' }>>({ type: 'rank', fromFrame: 0, toFrame: run.totalFrames, by, n });
  shown = r.stats;
  for (const s of shown) featureMax.set(s.id, s.max);
  renderFeatureTable();
  requestView();
});

const requestRegion = latestOnly(async () => {
  const region = state.region;
  if (!run || !region) return renderRegion(undefined);
  const [a, b] = [Math.floor(region[0] * MODEL_FPS), Math.ceil(region[1] * MODEL_FPS)];
  if (b <= a) return renderRegion(undefined);
  const r = await rpc.request<Extract<WebviewMessage, { type: 'rank' }>>({ type: 'rank', fromFrame: a, toFrame: b, by: rankSelect.value === 'total' ? 'total' : 'max', n: 10 });
  renderRegion(r.stats);
});

// ---- drawing --------------------------------------------------------------------------------------------
function sizeCanvas(c: HTMLCanvasElement, height?: number): CanvasRenderingContext2D {
  const w = trackWidth();
  if (c.width !== w) c.width = w;
  if (height !== undefined && c.height !== height) c.height = height;
  const ctx = c.getContext('2d')!;
  ctx.clearRect(0, 0, c.width, c.height);
  return ctx;
}

function drawSpectrogram(): void {
  const ctx = sizeCanvas(specCanvas);
  if (!reply || reply.melCols === 0) return;
  const mel = new Float32Array(reply.mel);
  const { nMels, melCols } = reply;
  // Absolute: the top of the scale sits a chosen number of dB below full scale, whatever the clip's own maximum.
  const scale = colourScale(Number(ceilingField.value) || 0, Number(rangeField.value) || 80);
  const lut = colormapLut(colormapSelect.value as ColormapName);
  paintGrid(ctx, view, reply.melFromS, reply.melToS, 0, specCanvas.height, nMels, melCols, (r, c) => scale(mel[(nMels - 1 - r) * melCols + c]!), lut);
  specCanvas.dataset.drawn = String(!Number.isNaN(mel[0]));
}

function drawWaveform(): void {
  const ctx = sizeCanvas(waveCanvas);
  if (!reply) return;
  paintPeaks(ctx, view, reply.melFromS, reply.melToS, new Float32Array(reply.peaks), getComputedStyle(document.body).getPropertyValue('--vscode-charts-blue') || '#3794ff');
}

function laneData(id: number): Float32Array | undefined {
  if (!reply || reply.featureCols === 0) return undefined;
  const i = reply.features.indexOf(id);
  return i < 0 ? undefined : new Float32Array(reply.lanes, i * reply.featureCols * 4, reply.featureCols);
}

function drawLanes(): void {
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

function drawSelected(): void {
  const ctx = sizeCanvas(overlay);
  overlay.dataset.selected = state.selected === undefined ? '' : String(state.selected);
  if (state.selected === undefined || !reply) return;
  const values = laneData(state.selected);
  if (!values) return;
  let max = featureMax.get(state.selected) ?? 0;
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

function renderLaneLabels(): void {
  laneLabels.style.height = `${shown.length * LANE_HEIGHT}px`;
  laneLabels.replaceChildren(...shown.map((s) => {
    const label = el('div', { class: `lane-label${s.id === state.selected ? ' selected' : ''}`, 'data-feature': String(s.id), title: `Feature ${s.id}: max ${s.max.toFixed(3)}, ${s.activeFrames} active frames` }, `#${s.id}`);
    label.addEventListener('click', () => selectFeature(s.id));
    return label;
  }));
}

/** The overview strip: the whole clip's waveform, with the visible range framed. */
let overviewPeaks: { fromS: number; toS: number; peaks: Float32Array } | undefined;
const requestOverview = latestOnly(async () => {
  if (!durationS) return;
  const r = await rpc.request<Extract<WebviewMessage, { type: 'view' }>>({ type: 'view', t0S: 0, t1S: durationS, columns: Math.min(2048, trackWidth()), features: [] });
  overviewPeaks = { fromS: r.melFromS, toS: r.melToS, peaks: new Float32Array(r.peaks) };
  drawOverview();
});

function drawOverview(): void {
  const ctx = sizeCanvas(overviewCanvas);
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

function placeOverlays(): void {
  const w = trackWidth();
  cursor.style.left = `${xAt(view, player.currentTimeS, w)}px`;
  cursor.hidden = player.currentTimeS < view.t0S || player.currentTimeS > view.t1S;
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

function drawAll(): void {
  drawSpectrogram();
  drawWaveform();
  drawLanes();
  drawMetrics();
  drawSelected();
  renderAxis(axis, view);
  drawOverview();
  placeOverlays();
  renderLaneLabels();
  document.body.dataset.view = `${view.t0S.toFixed(2)}-${view.t1S.toFixed(2)}`;
}

function setView(next: Viewport): void {
  view = clamp(next, durationS);
  state.view = view;
  saveState();
  drawAll(); // the last reply, placed by time, until the new one arrives
  requestView();
}

// ---- tables ---------------------------------------------------------------------------------------------
function linkButton(what: 'featurePage' | 'topClips', feature: number): HTMLElement {
  const b = button(`${what}-${feature}`, what === 'featurePage' ? `Show the page of feature ${feature}` : `Find the clips where feature ${feature} fires most`,
    what === 'featurePage' ? 'book' : 'search', undefined, true);
  b.classList.add('link');
  b.addEventListener('click', (e) => {
    e.stopPropagation();
    vscode.postMessage({ type: 'link', what, feature });
  });
  return b;
}

function renderFeatureTable(): void {
  featureTable.replaceChildren();
  if (!run || shown.length === 0) return;
  const head = el('tr');
  for (const h of ['feature', 'max', 'time of max', 'active frames', 'total', '']) head.append(el('th', {}, h));
  featureTable.append(head);
  for (const s of shown) {
    const row = el('tr', { 'data-feature': String(s.id), tabindex: '0', class: s.id === state.selected ? 'selected' : '' });
    const at = el('a', { href: '#', title: 'Show this moment' }, `${s.timeOfMaxS.toFixed(2)} s`);
    at.addEventListener('click', (e) => {
      e.preventDefault();
      e.stopPropagation();
      const span = Math.min(view.t1S - view.t0S, 10);
      setView({ t0S: s.timeOfMaxS - span / 2, t1S: s.timeOfMaxS + span / 2 });
      player.seek(s.timeOfMaxS);
    });
    const actions = el('td', { class: 'actions' });
    actions.append(linkButton('featurePage', s.id), linkButton('topClips', s.id));
    const atCell = el('td');
    atCell.append(at);
    row.append(el('td', {}, `#${s.id}`), el('td', {}, s.max.toFixed(3)), atCell, el('td', {}, String(s.activeFrames)), el('td', {}, s.total.toFixed(2)), actions);
    row.addEventListener('click', () => selectFeature(s.id));
    row.addEventListener('keydown', (e) => { if (e.key === 'Enter') selectFeature(s.id); });
    featureTable.append(row);
  }
}

function renderRegion(stats: FeatureStats[] | undefined): void {
  placeOverlays();
  if (!stats || !state.region) return void regionBox.setAttribute('hidden', '');
  const by = rankSelect.value === 'total' ? 'total' : 'max';
  const table = el('table', { class: 'features' });
  const head = el('tr');
  for (const h of ['feature', by, 'active frames']) head.append(el('th', {}, h));
  table.append(head);
  for (const s of stats) {
    const row = el('tr', { 'data-feature': String(s.id) });
    row.append(el('td', {}, `#${s.id}`), el('td', {}, s[by].toFixed(3)), el('td', {}, String(s.activeFrames)));
    row.addEventListener('click', () => selectFeature(s.id));
    table.append(row);
  }
  const [a, b] = state.region;
  regionBox.replaceChildren(el('div', { class: 'region-title' }, `Features in ${a.toFixed(2)}–${b.toFixed(2)} s`), table);
  regionBox.removeAttribute('hidden');
}

function selectFeature(id: number): void {
  state.selected = state.selected === id ? undefined : id;
  state.selectedIn = state.selected === undefined ? undefined : run?.choice;
  saveState();
  renderFeatureTable();
  renderLaneLabels();
  drawSelected();
  if (state.selected !== undefined && !laneData(state.selected)) requestView();
}

// ---- pointer: hover, seek, region, zoom, pan --------------------------------------------------------------
const timeOf = (clientX: number) => timeAt(view, clientX - tracks.getBoundingClientRect().left, trackWidth());

let hoverX = 0;
let hoverY = 0;
const requestFrame = latestOnly(async () => {
  if (!run) return;
  const t = timeOf(hoverX);
  const frame = Math.floor(t * MODEL_FPS);
  if (t < 0 || t >= durationS || frame >= run.framesDone) return void tooltip.setAttribute('hidden', '');
  const f = await rpc.request<Extract<WebviewMessage, { type: 'frame' }>>({ type: 'frame', frame });
  const active = f.ids.map((id, i) => `#${id} ${f.values[i]!.toFixed(2)}`);
  const lines = [`${f.timeS.toFixed(2)} s · frame ${f.frame} · L0 ${f.l0} · error ${f.relError.toFixed(3)}`];
  for (let i = 0; i < active.length; i += 4) lines.push(active.slice(i, i + 4).join('  '));
  if (active.length === 0) lines.push('no active features');
  tooltip.textContent = lines.join('\n');
  tooltip.style.left = `${Math.min(hoverX + 12, window.innerWidth - tooltip.offsetWidth - 4)}px`;
  tooltip.style.top = `${hoverY + 14}px`;
  tooltip.removeAttribute('hidden');
});
tracks.addEventListener('mousemove', (e) => {
  hoverX = e.clientX;
  hoverY = e.clientY;
  requestFrame();
});
tracks.addEventListener('mouseleave', () => tooltip.setAttribute('hidden', ''));

// Ctrl/⌘ + wheel (or a pinch) zooms around the pointer; a horizontal wheel or Shift + wheel pans.
tracks.addEventListener('wheel', (e) => {
  if (!durationS) return;
  if (e.ctrlKey || e.metaKey) {
    e.preventDefault();
    setView(zoomAt(view, Math.exp(e.deltaY * 0.002), timeOf(e.clientX), durationS));
  } else if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
    e.preventDefault();
    const delta = (e.shiftKey ? e.deltaY : e.deltaX) || e.deltaY;
    setView(pan(view, (delta / trackWidth()) * (view.t1S - view.t0S), durationS));
  }
}, { passive: false });

specWrap.addEventListener('click', (e) => {
  if (durationS) player.seek(Math.max(0, Math.min(durationS, timeOf(e.clientX))));
});
lanesCanvas.addEventListener('click', (e) => {
  const s = shown[Math.floor((e.clientY - lanesCanvas.getBoundingClientRect().top) / LANE_HEIGHT)];
  if (s) selectFeature(s.id);
});

// Drag across the waveform to select a region (a click without a drag clears it).
let dragFrom: number | undefined;
waveCanvas.addEventListener('mousedown', (e) => { dragFrom = timeOf(e.clientX); });
window.addEventListener('mouseup', (e) => {
  if (dragFrom === undefined) return;
  const to = Math.max(0, Math.min(durationS, timeOf(e.clientX)));
  const [a, b] = [Math.max(0, Math.min(dragFrom, to)), Math.max(dragFrom, to)];
  dragFrom = undefined;
  state.region = b - a >= 0.04 ? [a, b] : undefined;
  player.loop = state.loop && state.region ? state.region : undefined;
  saveState();
  requestRegion();
});

let overviewDrag = false;
const overviewTo = (clientX: number) => {
  const r = overviewCanvas.getBoundingClientRect();
  const centre = ((clientX - r.left) / r.width) * durationS;
  const span = view.t1S - view.t0S;
  setView({ t0S: centre - span / 2, t1S: centre + span / 2 });
};
overviewCanvas.addEventListener('mousedown', (e) => { overviewDrag = true; overviewTo(e.clientX); });
window.addEventListener('mousemove', (e) => { if (overviewDrag) overviewTo(e.clientX); });
window.addEventListener('mouseup', () => { overviewDrag = false; });

const zoomBy = (factor: number) => setView(zoomAt(view, factor, (view.t0S + view.t1S) / 2, durationS));
zoomIn.addEventListener('click', () => zoomBy(0.5));
zoomOut.addEventListener('click', () => zoomBy(2));
zoomFit.addEventListener('click', () => setView(fit(durationS)));
zoomRegion.addEventListener('click', () => { if (state.region) setView({ t0S: state.region[0], t1S: state.region[1] }); });

/** Moves the view and the playhead to the selected feature's next (or previous) firing. */
async function jumpToFiring(direction: 1 | -1): Promise<void> {
  if (!run || state.selected === undefined || state.selected >= run.dictSize) {
    statusRow.notice('Select a feature first (click a lane or a row).', 'warning');
    return;
  }
  const from = Math.floor(player.currentTimeS * MODEL_FPS);
  const r = await rpc.request<Extract<WebviewMessage, { type: 'firing' }>>({ type: 'firing', feature: state.selected, fromFrame: direction === 1 ? from : Math.max(-1, from), direction });
  if (r.frame < 0) {
    statusRow.notice(`Feature ${state.selected} does not fire ${direction === 1 ? 'after' : 'before'} ${player.currentTimeS.toFixed(2)} s.`);
    return;
  }
  const tS = r.frame / MODEL_FPS;
  const span = view.t1S - view.t0S;
  if (tS < view.t0S || tS > view.t1S) setView({ t0S: tS - span / 4, t1S: tS + (3 * span) / 4 });
  player.seek(tS);
}
prevFiring.addEventListener('click', () => void jumpToFiring(-1));
nextFiring.addEventListener('click', () => void jumpToFiring(1));

// ---- playback -------------------------------------------------------------------------------------------
const player = new Player((tS, playing) => {
  playButton.setAttribute('icon', playing ? 'debug-pause' : 'play');
  playButton.dataset.playing = String(playing);
  if (playing) {
    const next = follow(view, tS, durationS);
    if (next !== view) setView(next);
  }
  placeOverlays();
});
loopBox.checked = Boolean(state.loop);
player.loop = state.loop && state.region ? state.region : undefined;
loopBox.addEventListener('change', () => {
  state.loop = loopBox.checked;
  player.loop = state.loop && state.region ? state.region : undefined;
  saveState();
});
playButton.addEventListener('click', () => player.toggle());
speedSelect.addEventListener('change', () => { player.speed = Number(speedSelect.value); });

window.addEventListener('keydown', (e) => {
  const target = e.target as HTMLElement;
  if (target.closest('vscode-textfield, vscode-single-select, input, select, textarea')) return;
  if (e.code === 'Space') {
    e.preventDefault();
    player.toggle();
  } else if (e.key === '+' || e.key === '=') {
    zoomBy(0.5);
  } else if (e.key === '-') {
    zoomBy(2);
  } else if (e.key === '0') {
    setView(fit(durationS));
  } else if (e.key === 'n' || e.key === 'p') {
    void jumpToFiring(e.key === 'n' ? 1 : -1);
  } else if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
    e.preventDefault();
    setView(pan(view, (e.key === 'ArrowLeft' ? -0.25 : 0.25) * (view.t1S - view.t0S), durationS));
  }
});

// ---- model choice ---------------------------------------------------------------------------------------
/** The run shown or asked for; the selects mirror it (they never are the source of truth). */
let choice: RunChoice | undefined;
const layersOf = (backbone: string) => settings?.backbones.find((b) => b.id === backbone)?.layers ?? 1;

function showChoice(): void {
  if (!choice) return;
  setValue(backboneSelect, choice.backbone);
  setOptions(layerSelect, Array.from({ length: layersOf(choice.backbone) }, (_, i) => [String(i + 1), String(i + 1)]));
  setValue(layerSelect, String(choice.layer));
  // The backbone's own SAE is bundled for the toy backbones and the authors' (from the Hub) for the others.
  const local = settings?.localSae;
  setOptions(saeSelect, [['hub', ownSaeLabel(choice.backbone, settings?.backbones ?? [])], ['local', local ? `Local: ${local}` : 'Local SAE file (set audioSae.saePath)']], local ? [] : ['local']);
  setValue(saeSelect, choice.sae);
  setValue(modeSelect, choice.mode);
}

/** The status row from the host's activity and the run shown (nothing else). */
function showStatus(): void {
  statusRow.show(describeActivity(activity, run, settings?.backbones ?? []), activity.kind);
}

function runChoice(change: Partial<RunChoice>): void {
  if (!trusted || !choice) return;
  const next = { ...choice, ...change };
  next.layer = Math.max(1, Math.min(next.layer, layersOf(next.backbone)));
  choice = next;
  showChoice();
  state.choice = choice;
  saveState();
  vscode.postMessage({ type: 'run', choice });
}

backboneSelect.addEventListener('change', () => { if (choice && backboneSelect.value !== choice.backbone) runChoice({ backbone: backboneSelect.value }); });
layerSelect.addEventListener('change', () => { if (choice && Number(layerSelect.value) !== choice.layer) runChoice({ layer: Number(layerSelect.value) }); });
layerDown.addEventListener('click', () => { if (choice && choice.layer > 1) runChoice({ layer: choice.layer - 1 }); });
layerUp.addEventListener('click', () => { if (choice && choice.layer < layersOf(choice.backbone)) runChoice({ layer: choice.layer + 1 }); });
saeSelect.addEventListener('change', () => { if (choice && saeSelect.value !== choice.sae) runChoice({ sae: saeSelect.value === 'local' ? 'local' : 'hub' }); });
modeSelect.addEventListener('change', () => { if (choice && modeSelect.value !== choice.mode) runChoice({ mode: modeSelect.value as RunChoice['mode'] }); });
runButton.addEventListener('click', () => runChoice({}));
cancelButton.addEventListener('click', () => vscode.postMessage({ type: 'cancel' }));

// ---- view controls --------------------------------------------------------------------------------------
colormapSelect.addEventListener('change', () => { state.colormap = colormapSelect.value as ColormapName; saveState(); drawSpectrogram(); });
const dbChanged = () => { state.rangeDb = Number(rangeField.value); state.ceilingDb = Number(ceilingField.value); saveState(); drawSpectrogram(); };
rangeField.addEventListener('input', dbChanged);
ceilingField.addEventListener('input', dbChanged);
topField.addEventListener('change', () => { state.topN = Number(topField.value); saveState(); requestRank(); });
rankSelect.addEventListener('change', () => { state.rank = rankSelect.value as 'max' | 'total'; saveState(); requestRank(); requestRegion(); });

/** The plot stacked into one PNG: spectrogram with the selected curve, waveform, lanes, metric lanes. */
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
  statusRow.clearNotice();
  if (what.startsWith('intervals') && state.selected === undefined) {
    statusRow.notice('Select a feature first (click a lane or a row).', 'warning');
    return;
  }
  if (what === 'png') vscode.postMessage({ type: 'export', what, png: await viewPng() });
  else vscode.postMessage({ type: 'export', what, feature: state.selected, choice: state.selectedIn });
});

new ResizeObserver(() => {
  drawAll();
  requestView();
  requestOverview();
}).observe(tracks);

/** Takes over what the host remembered of this file (when the webview itself had nothing). */
function applySaved(saved: SavedView): void {
  Object.assign(state, saved);
  state.selectedIn = saved.selected === undefined ? undefined : saved.choice;
  vscode.setState(state);
  if (saved.colormap) setValue(colormapSelect, saved.colormap);
  if (saved.rangeDb !== undefined) rangeField.value = String(saved.rangeDb);
  if (saved.ceilingDb !== undefined) ceilingField.value = String(saved.ceilingDb);
  if (saved.rank) setValue(rankSelect, saved.rank);
  if (saved.topN !== undefined) topField.value = String(saved.topN);
}

// ---- messages from the host -----------------------------------------------------------------------------
function showRun(m: RunState): void {
  const fresh = !run || JSON.stringify(run.choice) !== JSON.stringify(m.choice);
  run = m;
  if (JSON.stringify(choice) !== JSON.stringify(m.choice)) {
    choice = m.choice;
    showChoice();
  }
  if (fresh) {
    // Another run: its features replace the old ones at once (the spectrogram stays until the next reply).
    shown = [];
    featureMax.clear();
    if (reply) reply = { ...reply, choice: m.choice, featureCols: 0, features: [] };
    // A feature id selected in a run of another dictionary (backbone, layer or SAE) names another feature here.
    if (state.selected !== undefined && (!state.selectedIn || dictionaryKey(state.selectedIn) !== dictionaryKey(m.choice))) {
      state.selected = undefined;
      state.selectedIn = undefined;
      saveState();
    }
    renderFeatureTable();
    drawAll();
  }
  providerBadge.textContent = m.provider.toUpperCase();
  providerBadge.hidden = false;
  notes.replaceChildren(...m.notes.map((n) => el('li', {}, n)));
  // The engine's mean-L0-far-from-k note is a warning.
  notes.querySelectorAll('li').forEach((li) => { if (li.textContent?.startsWith('Mean L0')) li.classList.add('warning'); });
  if (m.complete) document.body.dataset.features = `${m.choice.backbone}:${m.choice.layer}`;
  showStatus();
  requestRank();
  requestRegion();
}

window.addEventListener('message', (event: MessageEvent<HostMessage>) => {
  const m = event.data;
  if (rpc.receive(m)) return;
  switch (m.type) {
    case 'init':
      if (!restored && m.saved && durationS === 0) applySaved(m.saved);
      settings = m.settings;
      trusted = m.trusted;
      title.textContent = m.fileName;
      setOptions(backboneSelect, m.settings.backbones.map((b) => [b.id, b.label]));
      choice = m.settings.choice;
      showChoice();
      for (const c of [backboneSelect, layerSelect, layerDown, layerUp, saeSelect, modeSelect, runButton]) c.toggleAttribute('disabled', !m.trusted);
      document.body.dataset.trusted = String(m.trusted);
      break;
    case 'clip': {
      const first = durationS === 0;
      durationS = m.durationS;
      document.body.dataset.duration = durationS.toFixed(2);
      const peak = m.peak > 0 ? `peak ${formatDb(peakDbfs(m.peak), 1)} dBFS` : 'silent';
      title.title = `${m.durationS.toFixed(2)} s · ${m.sourceRateHz} Hz · ${m.channels} channel${m.channels > 1 ? 's' : ''} · ${peak}`;
      const level = levelNote(m.peak);
      statusRow.setLevel(level);
      document.body.dataset.level = level?.kind ?? 'normal';
      view = clamp(first && state.view ? state.view : first ? fit(durationS) : view, durationS);
      reply = undefined;
      requestOverview();
      requestView();
      break;
    }
    case 'playback':
      player.source = m.uri;
      player.speed = Number(speedSelect.value);
      break;
    case 'mel':
      requestView();
      if (m.framesDone === m.melFrames) requestOverview();
      break;
    case 'run':
      showRun(m);
      break;
    case 'activity':
      // A notice is about the situation it was given in: a new kind of activity ends it.
      if (m.activity.kind !== activity.kind) statusRow.clearNotice();
      activity = m.activity;
      showStatus();
      break;
    case 'notice':
      statusRow.notice(m.text, m.level);
      break;
    default:
      break;
  }
});

vscode.postMessage(state.choice ? { type: 'ready', choice: state.choice } : { type: 'ready' });
