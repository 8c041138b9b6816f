/**
 * The data the editor asks the host for: the visible range (`view`), the whole clip's waveform for the
 * overview, the ranking that picks the lanes, the selected region's features and the features under the
 * pointer (`frame`). Each keeps only its latest request in flight; a request the host could not answer is
 * said in the status row (and in `body[data-failed-request]`), never dropped silently.
 */
import type { WebviewMessage } from '../../src/shared/editorProtocol.ts';
import { bars, statusRow, tooltip, trackWidth, tracks } from './layout.ts';
import { drawAll, drawOverview } from './plot.ts';
import { latestOnly, RequestFailed } from './rpc.ts';
import { featureLabel, model, MODEL_FPS, rpc, state } from './state.ts';
import { renderFeatureTable, renderRegion } from './tables.ts';
import { timeAt } from './viewport.ts';

const WHAT: Record<Extract<WebviewMessage, { id: number }>['type'], string> = {
  view: 'get the view', frame: 'get the features under the pointer', rank: 'rank the features', firing: 'find the next firing',
};

/** Says in the status row that a request failed (which one, and the host's reason). */
export function showFailure(e: Error): void {
  const request = e instanceof RequestFailed ? e.request : 'unknown';
  document.body.dataset.failedRequest = request;
  statusRow.notice(`Could not ${WHAT[request as keyof typeof WHAT] ?? request}: ${e.message}`, 'error');
}

/** The features the view needs: the lanes, and the selected one for its curve. */
function wantedFeatures(): number[] {
  const { run, shown } = model;
  if (!run) return [];
  const ids = shown.map((s) => s.id);
  if (state.selected !== undefined && state.selected < run.dictSize && !ids.includes(state.selected)) ids.push(state.selected);
  return ids;
}

export const requestView = latestOnly(async () => {
  if (!model.durationS) return;
  const asked = { ...model.view };
  const r = await rpc.request<Extract<WebviewMessage, { type: 'view' }>>({ type: 'view', t0S: asked.t0S, t1S: asked.t1S, columns: Math.min(8192, trackWidth()), features: wantedFeatures() });
  // A reply computed for the run shown before this one (the switch crossed it in flight): ask again.
  if (model.run && JSON.stringify(r.choice) !== JSON.stringify(model.run.choice)) return requestView();
  model.reply = r;
  drawAll();
}, showFailure);

export const requestRank = latestOnly(async () => {
  const { run } = model;
  if (!run || run.framesDone === 0) return;
  const n = Math.max(1, Math.min(64, Math.round(Number(bars.topField.value)) || 24));
  const by = bars.rankSelect.value === 'total' ? 'total' : 'max';
  const r = await rpc.request<Extract<WebviewMessage, { type: 'rank' }>>({ type: 'rank', fromFrame: 0, toFrame: run.totalFrames, by, n });
  model.shown = r.stats;
  for (const s of r.stats) model.featureMax.set(s.id, s.max);
  renderFeatureTable();
  requestView();
}, showFailure);

export const requestRegion = latestOnly(async () => {
  const region = state.region;
  if (!model.run || !region) return renderRegion(undefined);
  const [a, b] = [Math.floor(region[0] * MODEL_FPS), Math.ceil(region[1] * MODEL_FPS)];
  if (b <= a) return renderRegion(undefined);
  const r = await rpc.request<Extract<WebviewMessage, { type: 'rank' }>>({ type: 'rank', fromFrame: a, toFrame: b, by: bars.rankSelect.value === 'total' ? 'total' : 'max', n: 10 });
  renderRegion(r.stats);
}, showFailure);

/** The overview strip: the whole clip's waveform, with the visible range framed. */
export const requestOverview = latestOnly(async () => {
  if (!model.durationS) return;
  const r = await rpc.request<Extract<WebviewMessage, { type: 'view' }>>({ type: 'view', t0S: 0, t1S: model.durationS, columns: Math.min(2048, trackWidth()), features: [] });
  model.overviewPeaks = { fromS: r.melFromS, toS: r.melToS, peaks: new Float32Array(r.peaks) };
  drawOverview();
}, showFailure);

/** Where the pointer is (client coordinates), for the tooltip. */
export const pointer = { x: 0, y: 0 };
export const timeOf = (clientX: number) => timeAt(model.view, clientX - tracks.getBoundingClientRect().left, trackWidth());

/** The tooltip: time, frame, L0, error and the active features under the pointer; each id links to its page (input.ts). */
export const requestFrame = latestOnly(async () => {
  const { run, durationS } = model;
  if (!run) return;
  const t = timeOf(pointer.x);
  const frame = Math.floor(t * MODEL_FPS);
  if (t < 0 || t >= durationS || frame >= run.framesDone) return void tooltip.setAttribute('hidden', '');
  const f = await rpc.request<Extract<WebviewMessage, { type: 'frame' }>>({ type: 'frame', frame });
  const head = document.createElement('div');
  head.textContent = `${f.timeS.toFixed(2)} s · frame ${f.frame} · L0 ${f.l0} · error ${f.relError.toFixed(3)}`;
  const rows: HTMLElement[] = [head];
  for (let i = 0; i < f.ids.length; i += 4) {
    const row = document.createElement('div');
    f.ids.slice(i, i + 4).forEach((id, j) => {
      const a = document.createElement('a');
      a.href = '#';
      a.dataset.feature = String(id);
      a.textContent = `${featureLabel(id)} ${f.values[i + j]!.toFixed(2)}`;
      row.append(...(j > 0 ? ['  '] : []), a);
    });
    rows.push(row);
  }
  if (f.ids.length === 0) rows.push(Object.assign(document.createElement('div'), { textContent: 'no active features' }));
  rows.push(Object.assign(document.createElement('div'), { className: 'tooltip-hint', textContent: 'Hold Shift to reach the links (feature pages).' }));
  tooltip.replaceChildren(...rows);
  tooltip.style.left = `${Math.min(pointer.x + 12, window.innerWidth - tooltip.offsetWidth - 4)}px`;
  tooltip.style.top = `${pointer.y + 14}px`;
  tooltip.removeAttribute('hidden');
}, showFailure);
