/**
 * The audio editor's webview: draws what the host sends for the visible time range (log-mel spectrogram,
 * waveform, the clip's top SAE features as heat-map lanes, L0 and reconstruction-error lanes), aligned by time,
 * and asks for more as the user zooms, pans, hovers and selects. It computes no model output and holds only
 * what is on screen, so an hour-long clip costs no more than a short one.
 *
 * This file takes the host's messages (every type, exhaustively) and starts the handshake; the rest is split
 * by job: state.ts (state), layout.ts (the page), requests.ts (data requests), plot.ts (drawing), tables.ts
 * (tables), input.ts (what the user does).
 */
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { assertNever, dictionaryKey, type HostMessage, type RunState, type SavedView } from '../../src/shared/editorProtocol.ts';
import { el, setOptions, setValue } from './dom.ts';
import { player, showChoice, showMoment } from './input.ts';
import { bars, notes, setFreqAxis, statusRow } from './layout.ts';
import { drawAll, drawSelected, renderLaneLabels } from './plot.ts';
import { requestOverview, requestRank, requestRegion, requestView } from './requests.ts';
import { model, restored, rpc, saveState, state, vscode } from './state.ts';
import { formatDb, levelNote, peakDbfs } from './specScale.ts';
import { describeActivity } from './status.ts';
import { renderFeatureTable } from './tables.ts';
import { clamp, fit } from './viewport.ts';

/** The status row from the host's activity and the run shown (nothing else). */
function showStatus(): void {
  statusRow.show(describeActivity(model.activity, model.run, model.settings?.backbones ?? []), model.activity.kind);
}

/** Takes over what the host remembered of this file (when the webview itself had nothing). */
function applySaved(saved: SavedView): void {
  Object.assign(state, saved);
  state.selectedIn = saved.selected === undefined ? undefined : saved.choice;
  vscode.setState(state);
  if (saved.colormap) setValue(bars.colormapSelect, saved.colormap);
  if (saved.rangeDb !== undefined) bars.rangeField.value = String(saved.rangeDb);
  if (saved.ceilingDb !== undefined) bars.ceilingField.value = String(saved.ceilingDb);
  if (saved.rank) setValue(bars.rankSelect, saved.rank);
  if (saved.topN !== undefined) bars.topField.value = String(saved.topN);
}

function showRun(m: RunState): void {
  const fresh = !model.run || JSON.stringify(model.run.choice) !== JSON.stringify(m.choice);
  model.run = m;
  if (JSON.stringify(model.choice) !== JSON.stringify(m.choice)) {
    model.choice = m.choice;
    showChoice();
  }
  if (fresh) {
    // Another run: its features replace the old ones at once (the spectrogram stays until the next reply).
    model.shown = [];
    model.featureMax.clear();
    model.names = {};
    if (model.reply) model.reply = { ...model.reply, choice: m.choice, featureCols: 0, features: [] };
    // A feature id selected in a run of another dictionary (backbone, layer or SAE) names another feature here.
    if (state.selected !== undefined && (!state.selectedIn || dictionaryKey(state.selectedIn) !== dictionaryKey(m.choice))) {
      state.selected = undefined;
      state.selectedIn = undefined;
      saveState();
    }
    renderFeatureTable();
    drawAll();
  }
  bars.providerBadge.textContent = m.provider.toUpperCase();
  bars.providerBadge.hidden = false;
  notes.replaceChildren(...m.notes.map((n) => el('li', { class: n.level }, n.text)));
  if (m.complete) document.body.dataset.features = `${m.choice.backbone}:${m.choice.layer}`;
  showStatus();
  requestRank();
  requestRegion();
}

let pendingReveal: Extract<HostMessage, { type: 'reveal' }> | undefined;

/** Shows a moment with a feature selected (of the run at `layer`, which the host runs if it is not shown). */
function reveal(timeS: number, feature: number | undefined, layer: number | undefined): void {
  const base = model.run?.choice ?? model.choice;
  if (feature !== undefined && base) {
    state.selected = feature;
    state.selectedIn = { ...base, layer: layer ?? base.layer };
    saveState();
  }
  showMoment(timeS);
  renderFeatureTable();
  renderLaneLabels();
  drawSelected();
}

/** Messages that are not replies (replies go to their requests in rpc.ts). */
function handle(m: Exclude<HostMessage, { id: number }>): void {
  switch (m.type) {
    case 'init':
      if (!restored && m.saved && model.durationS === 0) applySaved(m.saved);
      model.settings = m.settings;
      model.trusted = m.trusted;
      bars.title.textContent = m.fileName;
      setOptions(bars.backboneSelect, m.settings.backbones.map((b) => [b.id, b.label]));
      model.choice = m.settings.choice;
      showChoice();
      for (const c of [bars.backboneSelect, bars.layerSelect, bars.layerDown, bars.layerUp, bars.saeSelect, bars.modeSelect, bars.runButton]) c.toggleAttribute('disabled', !m.trusted);
      document.body.dataset.trusted = String(m.trusted);
      return;
    case 'clip': {
      const first = model.durationS === 0;
      model.durationS = m.durationS;
      document.body.dataset.duration = m.durationS.toFixed(2);
      const peak = m.peak > 0 ? `peak ${formatDb(peakDbfs(m.peak), 1)} dBFS` : 'silent';
      bars.title.title = `${m.durationS.toFixed(2)} s · ${m.sourceRateHz} Hz · ${m.channels} channel${m.channels > 1 ? 's' : ''} · ${peak}`;
      const level = levelNote(m.peak);
      statusRow.setLevel(level);
      document.body.dataset.level = level?.kind ?? 'normal';
      model.melAxis = m.melAxis;
      setFreqAxis(m.melAxis);
      model.view = clamp(first && state.view ? state.view : first ? fit(m.durationS) : model.view, m.durationS);
      model.reply = undefined;
      requestOverview();
      requestView();
      if (pendingReveal) reveal(pendingReveal.timeS, pendingReveal.feature, pendingReveal.layer);
      pendingReveal = undefined;
      return;
    }
    case 'playback':
      player.source = m.uri;
      player.speed = Number(bars.speedSelect.value);
      // A moment shown before the audio arrived (the editor opened at a time): the playhead stays there.
      if (model.playheadS > 0) player.seek(model.playheadS);
      return;
    case 'mel':
      requestView();
      if (m.framesDone === m.melFrames) requestOverview();
      return;
    case 'run':
      return showRun(m);
    case 'activity':
      // A notice is about the situation it was given in: a new kind of activity ends it.
      if (m.activity.kind !== model.activity.kind) statusRow.clearNotice();
      model.activity = m.activity;
      return showStatus();
    case 'featureNames':
      // Names of another layer's (or backbone's) features mean nothing here.
      if (!model.run || m.backbone !== model.run.choice.backbone || m.layer !== model.run.choice.layer) return;
      model.names = m.names;
      document.body.dataset.names = String(Object.keys(m.names).length);
      renderFeatureTable();
      renderLaneLabels();
      return requestRegion();
    case 'reveal':
      // Before the clip (a webview still starting) the move waits for it.
      if (!model.durationS) return void (pendingReveal = m);
      return reveal(m.timeS, m.feature, m.layer);
    case 'notice':
      document.body.dataset.notice = m.level;
      return statusRow.notice(m.text, m.level);
    default:
      return assertNever(m);
  }
}

window.addEventListener('message', (event: MessageEvent<HostMessage>) => {
  const m = event.data;
  if (!rpc.receive(m)) handle(m);
});

vscode.postMessage(state.choice ? { type: 'ready', choice: state.choice } : { type: 'ready' });
