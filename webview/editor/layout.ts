/**
 * The editor's page, built once: the toolbars and status row (toolbar.ts), the plot (a gutter of labels beside
 * time-aligned canvases: spectrogram with its overlay, waveform, feature lanes, metric lanes, axis, overview),
 * the tables and the tooltip. Only structure here; what is drawn in it is in plot.ts and tables.ts.
 */
import type { MelAxisTick, RunChoice } from '../../src/shared/editorProtocol.ts';
import { el } from './dom.ts';
import { SPEC_HEIGHT, state, vscode } from './state.ts';
import { buildToolbars, StatusRow } from './toolbar.ts';

const app = document.getElementById('app')!;
export const bars = buildToolbars({ colormap: state.colormap ?? 'viridis', rangeDb: state.rangeDb ?? 80, ceilingDb: state.ceilingDb ?? 0, topN: state.topN ?? 24, rank: state.rank ?? 'max' });

/** Runs another choice (the error box's "run the demo model" button); set by input.ts. */
export const statusActions: { runDemo: (choice: RunChoice) => void } = { runDemo: () => undefined };
export const statusRow = new StatusRow(bars.runButton, bars.cancelButton, {
  runDemo: (demo) => statusActions.runDemo(demo),
  openSettings: () => vscode.postMessage({ type: 'openSettings' }),
});
export const notes = el('ul', { id: 'notes', class: 'notes' });

export const specCanvas = el('canvas', { id: 'spectrogram', height: String(SPEC_HEIGHT) });
export const overlay = el('canvas', { id: 'overlay', height: String(SPEC_HEIGHT) });
export const waveCanvas = el('canvas', { id: 'waveform', height: '48' });
export const lanesCanvas = el('canvas', { id: 'lanes', height: '0' });
export const metricCanvas = el('canvas', { id: 'metrics', height: '44' });
export const axis = el('div', { class: 'axis', id: 'axis' });
export const overviewCanvas = el('canvas', { id: 'overview', height: '28', title: 'The whole clip: click or drag to move the view' });
export const cursor = el('div', { id: 'cursor', class: 'cursor' });
export const regionShade = el('div', { id: 'region-shade', class: 'region-shade', hidden: '' });
export const tracks = el('div', { class: 'tracks', id: 'tracks' });
export const specWrap = el('div', { class: 'spec-wrap' });
specWrap.append(specCanvas, overlay);
tracks.append(specWrap, waveCanvas, lanesCanvas, metricCanvas, axis, cursor, regionShade);
const freqLabels = el('div', { class: 'freq-axis', id: 'freq-axis' });
export const laneLabels = el('div', { class: 'lane-labels', id: 'lane-labels' });
const gutter = el('div', { class: 'gutter' });
gutter.append(freqLabels, el('div', { class: 'wave-label' }, 'wave'), laneLabels, el('div', { class: 'metric-labels' }), el('div', { class: 'axis-label' }));
gutter.querySelector('.metric-labels')!.append(el('span', { class: 'l0' }, 'L0'), el('span', { class: 'err' }, 'error'));
const plot = el('div', { class: 'plot' });
plot.append(gutter, tracks, el('div'), overviewCanvas);
export const tooltip = el('div', { id: 'tooltip', class: 'tooltip', hidden: '' });
export const featureTable = el('table', { id: 'features', class: 'features' });
export const regionBox = el('div', { id: 'region', class: 'region', hidden: '' });
/** The selected feature, with its links (its page, the clips where it fires). */
export const selectedBox = el('div', { id: 'selected-feature', class: 'selected-feature', hidden: '' });
const tables = el('div', { class: 'tables' });
tables.append(featureTable, regionBox);
app.append(bars.modelBar, bars.viewBar, statusRow.row, statusRow.errorBox, statusRow.level, notes, plot, selectedBox, tables, tooltip);

/** The frequency labels beside the spectrogram, where the host says they sit on the mel axis. */
export function setFreqAxis(ticks: MelAxisTick[]): void {
  freqLabels.replaceChildren(...ticks.map((t) => {
    const label = el('span', {}, t.label);
    label.style.bottom = `${100 * t.fraction}%`;
    return label;
  }));
}

export const trackWidth = () => Math.max(200, Math.floor(tracks.clientWidth));
