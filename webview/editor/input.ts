/**
 * What the user does in the editor: hover (tooltip), click to seek or select, drag a region, zoom and pan
 * (wheel, keys, overview), playback, the model and view controls, the export menu, and the links to feature
 * pages and top clips (lane labels, tooltip ids, table rows, the selected feature). Every change of view or
 * selection goes through setView / selectFeature here.
 */
import type { ColormapName } from '../../src/shared/colormaps.ts';
import type { LinkKind, RunChoice, WebviewMessage } from '../../src/shared/editorProtocol.ts';
import { setOptions, setValue } from './dom.ts';
import { bars, featureTable, laneLabels, lanesCanvas, overviewCanvas, regionBox, selectedBox, specWrap, statusActions, statusRow, tooltip, trackWidth, tracks, waveCanvas } from './layout.ts';
import { Player } from './player.ts';
import { drawAll, drawSelected, drawSpectrogram, laneData, placeOverlays, renderLaneLabels, viewPng } from './plot.ts';
import { pointer, requestFrame, requestOverview, requestRank, requestRegion, requestView, showFailure, timeOf } from './requests.ts';
import { LANE_HEIGHT, layersOf, model, MODEL_FPS, rpc, saveState, state, vscode } from './state.ts';
import { ownSaeLabel } from './status.ts';
import { renderFeatureTable } from './tables.ts';
import { clamp, fit, follow, pan, zoomAt, type Viewport } from './viewport.ts';

const { playButton, speedSelect, loopBox, zoomIn, zoomOut, zoomFit, zoomRegion, prevFiring, nextFiring, colormapSelect, rangeField, ceilingField, topField, rankSelect, exportSelect } = bars;

export function setView(next: Viewport): void {
  model.view = clamp(next, model.durationS);
  state.view = model.view;
  saveState();
  drawAll(); // the last reply, placed by time, until the new one arrives
  requestView();
}

export function selectFeature(id: number | undefined, toggle = true): void {
  state.selected = toggle && state.selected === id ? undefined : id;
  state.selectedIn = state.selected === undefined ? undefined : model.run?.choice;
  saveState();
  renderFeatureTable();
  renderLaneLabels();
  drawSelected();
  if (state.selected !== undefined && !laneData(state.selected)) requestView();
}

/** Hands a feature of the run shown to another part of the product (its page, its top clips). */
export function followLink(what: LinkKind, feature: number): void {
  vscode.postMessage({ type: 'link', what, feature });
}

/** Shows a moment: the view centred on it (keeping the zoom up to 10 s) and the playhead there. */
export function showMoment(tS: number): void {
  const span = Math.min(model.view.t1S - model.view.t0S, 10);
  setView({ t0S: tS - span / 2, t1S: tS + span / 2 });
  player.seek(tS);
}

// ---- playback -------------------------------------------------------------------------------------------
export const player = new Player((tS, playing) => {
  model.playheadS = tS;
  playButton.setAttribute('icon', playing ? 'debug-pause' : 'play');
  playButton.dataset.playing = String(playing);
  if (playing) {
    const next = follow(model.view, tS, model.durationS);
    if (next !== model.view) setView(next);
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

// ---- links and selection: lane labels, table rows, tooltip ids ------------------------------------------
const featureOf = (e: Event) => {
  const at = (e.target as HTMLElement).closest<HTMLElement>('[data-feature]');
  return at ? Number(at.dataset.feature) : undefined;
};
// A click selects; a second click on the same label soon after (a double-click) opens its feature page. Counted
// here, not with 'dblclick': each click redraws the labels, so the two clicks land on different elements.
let lastLabelClick = { id: -1, atMs: 0 };
laneLabels.addEventListener('click', (e) => {
  const id = featureOf(e);
  if (id === undefined) return;
  const now = performance.now();
  const double = lastLabelClick.id === id && now - lastLabelClick.atMs < 500;
  lastLabelClick = double ? { id: -1, atMs: 0 } : { id, atMs: now };
  if (!double) return selectFeature(id);
  selectFeature(id, false); // a double-click leaves the feature selected
  followLink('featurePage', id);
});
for (const table of [featureTable, regionBox, selectedBox]) {
  table.addEventListener('click', (e) => {
    const target = e.target as HTMLElement;
    const link = target.closest<HTMLElement>('[data-link]');
    if (link) return followLink(link.dataset.link as LinkKind, Number(link.dataset.feature));
    const time = target.closest<HTMLElement>('[data-time]');
    if (time) {
      e.preventDefault();
      return showMoment(Number(time.dataset.time));
    }
    const id = featureOf(e);
    if (id !== undefined) selectFeature(id);
  });
  table.addEventListener('keydown', (e) => { const id = featureOf(e); if (e.key === 'Enter' && id !== undefined) selectFeature(id); });
}
tooltip.addEventListener('click', (e) => {
  e.preventDefault();
  const id = featureOf(e);
  if (id !== undefined) followLink('featurePage', id);
});

// ---- pointer: hover, seek, region, zoom, pan --------------------------------------------------------------
/** While Shift is down the tooltip holds still, so the pointer can reach its links. */
let held = false;
const hold = (on: boolean) => {
  held = on;
  tooltip.classList.toggle('held', on);
};
window.addEventListener('keydown', (e) => { if (e.key === 'Shift' && !tooltip.hidden) hold(true); });
window.addEventListener('keyup', (e) => { if (e.key === 'Shift') hold(false); });
tracks.addEventListener('mousemove', (e) => {
  if (held) return;
  pointer.x = e.clientX;
  pointer.y = e.clientY;
  requestFrame();
});
tracks.addEventListener('mouseleave', (e) => {
  if (!held && !tooltip.contains(e.relatedTarget as Node | null)) tooltip.setAttribute('hidden', '');
});
tooltip.addEventListener('mouseleave', () => { if (!held) tooltip.setAttribute('hidden', ''); });

// Ctrl/⌘ + wheel (or a pinch) zooms around the pointer; a horizontal wheel or Shift + wheel pans.
tracks.addEventListener('wheel', (e) => {
  const { durationS, view } = model;
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
  if (model.durationS) player.seek(Math.max(0, Math.min(model.durationS, timeOf(e.clientX))));
});
lanesCanvas.addEventListener('click', (e) => {
  const s = model.shown[Math.floor((e.clientY - lanesCanvas.getBoundingClientRect().top) / LANE_HEIGHT)];
  if (s) selectFeature(s.id);
});

/** Tells the host the selected region (for "fires in selection"), or that there is none. */
export function sendSelection(): void {
  vscode.postMessage(state.region ? { type: 'selection', startS: state.region[0], endS: state.region[1] } : { type: 'selection' });
}

// Drag across the waveform to select a region (a click without a drag clears it).
let dragFrom: number | undefined;
waveCanvas.addEventListener('mousedown', (e) => { dragFrom = timeOf(e.clientX); });
window.addEventListener('mouseup', (e) => {
  if (dragFrom === undefined) return;
  const to = Math.max(0, Math.min(model.durationS, timeOf(e.clientX)));
  const [a, b] = [Math.max(0, Math.min(dragFrom, to)), Math.max(dragFrom, to)];
  dragFrom = undefined;
  state.region = b - a >= 0.04 ? [a, b] : undefined;
  player.loop = state.loop && state.region ? state.region : undefined;
  saveState();
  sendSelection();
  requestRegion();
});

let overviewDrag = false;
const overviewTo = (clientX: number) => {
  const r = overviewCanvas.getBoundingClientRect();
  const centre = ((clientX - r.left) / r.width) * model.durationS;
  const span = model.view.t1S - model.view.t0S;
  setView({ t0S: centre - span / 2, t1S: centre + span / 2 });
};
overviewCanvas.addEventListener('mousedown', (e) => { overviewDrag = true; overviewTo(e.clientX); });
window.addEventListener('mousemove', (e) => { if (overviewDrag) overviewTo(e.clientX); });
window.addEventListener('mouseup', () => { overviewDrag = false; });

const zoomBy = (factor: number) => setView(zoomAt(model.view, factor, (model.view.t0S + model.view.t1S) / 2, model.durationS));
zoomIn.addEventListener('click', () => zoomBy(0.5));
zoomOut.addEventListener('click', () => zoomBy(2));
zoomFit.addEventListener('click', () => setView(fit(model.durationS)));
zoomRegion.addEventListener('click', () => { if (state.region) setView({ t0S: state.region[0], t1S: state.region[1] }); });

/** Moves the view and the playhead to the selected feature's next (or previous) firing. */
async function jumpToFiring(direction: 1 | -1): Promise<void> {
  const { run } = model;
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
  const { view } = model;
  const span = view.t1S - view.t0S;
  if (tS < view.t0S || tS > view.t1S) setView({ t0S: tS - span / 4, t1S: tS + (3 * span) / 4 });
  player.seek(tS);
}
const jump = (direction: 1 | -1) => void jumpToFiring(direction).catch(showFailure);
prevFiring.addEventListener('click', () => jump(-1));
nextFiring.addEventListener('click', () => jump(1));

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
    setView(fit(model.durationS));
  } else if (e.key === 'n' || e.key === 'p') {
    jump(e.key === 'n' ? 1 : -1);
  } else if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
    e.preventDefault();
    setView(pan(model.view, (e.key === 'ArrowLeft' ? -0.25 : 0.25) * (model.view.t1S - model.view.t0S), model.durationS));
  }
});

// ---- model choice ---------------------------------------------------------------------------------------
const { backboneSelect, layerSelect, layerDown, layerUp, saeSelect, modeSelect, runButton, cancelButton } = bars;

export function showChoice(): void {
  const { choice, settings } = model;
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

export function runChoice(change: Partial<RunChoice>): void {
  if (!model.trusted || !model.choice) return;
  const next = { ...model.choice, ...change };
  next.layer = Math.max(1, Math.min(next.layer, layersOf(next.backbone)));
  model.choice = next;
  showChoice();
  state.choice = next;
  saveState();
  vscode.postMessage({ type: 'run', choice: next });
}
statusActions.runDemo = (demo) => runChoice(demo);

const choice = () => model.choice;
backboneSelect.addEventListener('change', () => { if (choice() && backboneSelect.value !== choice()!.backbone) runChoice({ backbone: backboneSelect.value }); });
layerSelect.addEventListener('change', () => { if (choice() && Number(layerSelect.value) !== choice()!.layer) runChoice({ layer: Number(layerSelect.value) }); });
layerDown.addEventListener('click', () => { const c = choice(); if (c && c.layer > 1) runChoice({ layer: c.layer - 1 }); });
layerUp.addEventListener('click', () => { const c = choice(); if (c && c.layer < layersOf(c.backbone)) runChoice({ layer: c.layer + 1 }); });
saeSelect.addEventListener('change', () => { if (choice() && saeSelect.value !== choice()!.sae) runChoice({ sae: saeSelect.value === 'local' ? 'local' : 'hub' }); });
modeSelect.addEventListener('change', () => { if (choice() && modeSelect.value !== choice()!.mode) runChoice({ mode: modeSelect.value as RunChoice['mode'] }); });
runButton.addEventListener('click', () => runChoice({}));
cancelButton.addEventListener('click', () => vscode.postMessage({ type: 'cancel' }));

// ---- view controls --------------------------------------------------------------------------------------
colormapSelect.addEventListener('change', () => { state.colormap = colormapSelect.value as ColormapName; saveState(); drawSpectrogram(); });
const dbChanged = () => { state.rangeDb = Number(rangeField.value); state.ceilingDb = Number(ceilingField.value); saveState(); drawSpectrogram(); };
rangeField.addEventListener('input', dbChanged);
ceilingField.addEventListener('input', dbChanged);
topField.addEventListener('change', () => { state.topN = Number(topField.value); saveState(); requestRank(); });
rankSelect.addEventListener('change', () => { state.rank = rankSelect.value as 'max' | 'total'; saveState(); requestRank(); requestRegion(); });

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
