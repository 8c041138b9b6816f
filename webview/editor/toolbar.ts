/**
 * The editor's controls above the plot: the model toolbar, the view toolbar, the status row and the error box,
 * built once. Every label sits in one unbreakable group with its field, so a narrow editor wraps between groups,
 * never between a label and what it names. Showing state in them is done by `StatusRow` (status, notice, busy
 * ring, Cancel, error box) and by the editor itself (the selects).
 */
import './toolbar.css';
import type { NoticeLevel, RunChoice } from '../../src/shared/editorProtocol.ts';
import { button, el, numberField, select } from './dom.ts';
import type { StatusView } from './status.ts';

/** A label and its controls, kept on one line. */
function field(label: string, ...controls: HTMLElement[]): HTMLElement {
  const group = el('span', { class: 'field' });
  group.append(el('label', {}, label), ...controls);
  return group;
}

export interface Initial {
  colormap: string;
  rangeDb: number;
  ceilingDb: number;
  topN: number;
  rank: string;
}

export function buildToolbars(initial: Initial) {
  const title = el('span', { class: 'title', id: 'title' });
  const backboneSelect = select('backbone', 'Backbone', []);
  const layerSelect = select('layer', 'Layer', []);
  const layerDown = button('layer-down', 'Previous layer', 'remove');
  const layerUp = button('layer-up', 'Next layer', 'add');
  const saeSelect = select('sae', 'SAE', []);
  const modeSelect = select('mode', 'SAE mode', [['auto', 'auto'], ['threshold', 'threshold'], ['batch-topk', 'batch top-k']]);
  const runButton = button('run', 'Run the model on this clip', 'play', 'Run');
  const cancelButton = button('cancel', 'Stop preparing or running the model (after its current window)', 'debug-stop', 'Cancel', true);
  cancelButton.hidden = true;
  const providerBadge = el('vscode-badge', { id: 'provider', title: 'Execution provider in use' });
  providerBadge.hidden = true;
  const stepper = el('span', { class: 'stepper' });
  stepper.append(layerDown, layerSelect, layerUp);
  const modelBar = el('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Model' });
  modelBar.append(title, field('Backbone', backboneSelect), field('Layer', stepper), field('SAE', saeSelect), field('Mode', modeSelect), runButton, cancelButton, providerBadge);

  const playButton = button('play', 'Play / pause (Space)', 'play');
  const speedSelect = select('speed', 'Playback speed', ['0.5', '0.75', '1', '1.5', '2'].map((r) => [r, `${r}×`]), '1');
  const loopBox = el('vscode-checkbox', { id: 'loop', label: 'Loop', title: 'Loop the selected region while playing' }) as HTMLElement & { checked: boolean };
  const zoomIn = button('zoom-in', 'Zoom in (+)', 'zoom-in');
  const zoomOut = button('zoom-out', 'Zoom out (−)', 'zoom-out');
  const zoomFit = button('zoom-fit', 'Show the whole clip (0)', 'screen-full');
  const zoomRegion = button('zoom-region', 'Zoom to the selected region', 'selection');
  const prevFiring = button('prev-firing', 'Previous firing of the selected feature (P)', 'arrow-left');
  const nextFiring = button('next-firing', 'Next firing of the selected feature (N)', 'arrow-right');
  const colormapSelect = select('colormap', 'Spectrogram colour map', ['viridis', 'magma', 'inferno', 'gray'].map((c) => [c, c]), initial.colormap);
  colormapSelect.title = 'Spectrogram colour map';
  const rangeField = numberField('range', 'Spectrogram dB range (down from the ceiling)', initial.rangeDb, 10, 80);
  const ceilingField = numberField('ceiling', 'dB below full scale at the top of the colour scale (raise it for quiet clips)', initial.ceilingDb, 0, 100);
  const topField = numberField('topN', 'Feature lanes shown', initial.topN, 1, 64);
  const rankSelect = select('rank', 'Rank features by', [['max', 'by max'], ['total', 'by total']], initial.rank);
  const exportSelect = select('export', 'Export', [['', 'Export…'], ['codes-npy', 'Codes (.npy)'], ['codes-csv', 'Codes (CSV)'], ['codes-parquet', 'Codes (Parquet)'],
    ['intervals-audacity', 'Selected feature: Audacity labels'], ['intervals-csv', 'Selected feature: intervals (CSV)'], ['png', 'View (PNG)']], '');
  const group = (...items: HTMLElement[]) => {
    const g = el('span', { class: 'group' });
    g.append(...items);
    return g;
  };
  const viewBar = el('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'View' });
  viewBar.append(group(playButton, speedSelect, loopBox), el('span', { class: 'sep' }), group(zoomOut, zoomIn, zoomFit, zoomRegion, prevFiring, nextFiring),
    el('span', { class: 'sep' }), colormapSelect, field('dB range', rangeField), field('ceiling −dB', ceilingField), el('span', { class: 'sep' }),
    field('Lanes', topField, rankSelect), exportSelect);

  return {
    title, backboneSelect, layerSelect, layerDown, layerUp, saeSelect, modeSelect, runButton, cancelButton, providerBadge, modelBar,
    playButton, speedSelect, loopBox, zoomIn, zoomOut, zoomFit, zoomRegion, prevFiring, nextFiring, colormapSelect, rangeField, ceilingField, topField, rankSelect,
    exportSelect, viewBar,
  };
}

/**
 * The status row (busy ring, status, notice), Run/Cancel, and the error box. The status part shows exactly the StatusView it
 * is given; the notice (the outcome of the last one-off action) stays until the next notice or until the
 * activity changes kind.
 */
export class StatusRow {
  readonly row = el('div', { class: 'status-row', id: 'status-row' });
  readonly errorBox = el('div', { id: 'error', class: 'error', hidden: '' });
  private readonly ring = el('vscode-progress-ring', { id: 'busy', class: 'ring' });
  private readonly status = el('span', { id: 'status', class: 'status' });
  private readonly noticeEl = el('span', { id: 'notice', class: 'notice' });
  /** A line of its own under the status row: what the editor says about the clip's level. */
  readonly level = el('div', { id: 'level', class: 'level', hidden: '' });

  constructor(
    /** Run and Cancel take turns in one place (Cancel while a model is prepared or run), so the toolbar keeps its width. */
    private readonly runButton: HTMLElement,
    private readonly cancelButton: HTMLElement,
    private readonly actions: { runDemo: (choice: RunChoice) => void; openSettings: () => void },
  ) {
    this.ring.hidden = true;
    this.row.append(this.ring, this.status, this.noticeEl);
  }

  show(v: StatusView, activityKind: string): void {
    this.status.textContent = v.text;
    this.ring.hidden = !v.busy;
    this.cancelButton.hidden = !v.cancellable;
    this.runButton.hidden = v.cancellable;
    document.body.dataset.activity = activityKind;
    if (v.error === undefined) {
      this.errorBox.replaceChildren();
      this.errorBox.setAttribute('hidden', '');
      return;
    }
    const parts: HTMLElement[] = [el('div', { class: 'error-message' }, v.error)];
    if (v.offerDemo) {
      const demo = v.offerDemo;
      parts.push(el('div', { class: 'error-help' },
        'Without the Hugging Face Hub: run the bundled demo model (random weights: it shows the machinery, not findings), or set "audioSae.weightsFolder" to a local ' +
        'copy of the backbone (a Hugging Face folder: config.json + weights) and "audioSae.saePath" to its SAE (an ae.pt, or a folder of layer_<n>/ folders).'));
      const buttons = el('div', { class: 'error-actions' });
      const runDemo = button('run-demo', 'Run the bundled demo model on this clip', 'play', 'Run the bundled demo model');
      runDemo.addEventListener('click', () => this.actions.runDemo(demo));
      const settings = button('open-settings', 'Open the AudioSAE settings', 'settings-gear', 'Open Settings', true);
      settings.addEventListener('click', () => this.actions.openSettings());
      buttons.append(runDemo, settings);
      parts.push(buttons);
    }
    this.errorBox.replaceChildren(...parts);
    this.errorBox.removeAttribute('hidden');
  }

  notice(text: string, level: NoticeLevel = 'info'): void {
    this.noticeEl.textContent = text;
    this.noticeEl.dataset.level = level;
  }

  clearNotice(): void {
    this.notice('');
  }

  /** What the editor says about the clip's level (silence, very quiet), or nothing. */
  setLevel(note: { kind: string; text: string } | undefined): void {
    this.level.textContent = note?.text ?? '';
    this.level.dataset.kind = note?.kind ?? '';
    this.level.hidden = !note;
  }
}
