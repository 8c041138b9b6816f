/**
 * The corpus result panels' webview: one bundle for every kind, routed by the view's `kind`. Draws the page
 * frame (title, the run, a layer picker, export buttons, notices) and hands the body to the panel's view.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-table/index.js';
import '@vscode-elements/elements/dist/vscode-table-body/index.js';
import '@vscode-elements/elements/dist/vscode-table-cell/index.js';
import '@vscode-elements/elements/dist/vscode-table-header/index.js';
import '@vscode-elements/elements/dist/vscode-table-header-cell/index.js';
import '@vscode-elements/elements/dist/vscode-table-row/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import './panels.css';
import { assertNever, type CorpusPanelRequest, type CorpusView } from '../../src/shared/panelProtocol.ts';
import { el } from './common/dom.ts';
import { exportBar } from './common/exports.ts';
import { PanelRpc } from './common/rpc.ts';
import { drawClassification } from './views/classification.ts';
import type { PanelContext } from './views/context.ts';
import { drawDead } from './views/dead.ts';
import { drawFeatureMap } from './views/featureMap.ts';
import { drawMetrics } from './views/metrics.ts';
import { drawTopClips } from './views/topClips.ts';

const app = document.getElementById('app')!;
const notice = el('div', { class: 'notice', id: 'notice', role: 'status' });
let current: CorpusView | undefined;

function notify(text: string, error = false): void {
  notice.textContent = text;
  notice.className = error ? 'notice error' : 'notice';
}

const rpc = new PanelRpc<CorpusView, CorpusPanelRequest>((m) => {
  switch (m.type) {
    case 'view':
      current = m.view;
      draw(m.view);
      return;
    case 'loading':
      app.replaceChildren(el('div', { class: 'loading', id: 'loading' }, el('vscode-progress-ring'), m.message));
      return;
    case 'error':
      app.replaceChildren(el('div', { class: 'error-box', id: 'panel-error', role: 'alert' }, m.message));
      return;
    default:
      assertNever(m);
  }
});

const ctx: PanelContext = {
  rpc,
  notify,
  setLayer: (layer) => {
    if (current && layer === current.heading.layer) return;
    rpc.request({ type: 'layer', layer }).catch((e: Error) => notify(e.message, true));
  },
  command: (command, arg) => void rpc.command(command, arg).then((m) => m && notify(m), (e: Error) => notify(e.message, true)),
  render: ({ title, body, exports }) => {
    const h = current!.heading;
    const layer = el('vscode-single-select', { id: 'layer', 'aria-label': 'Layer' }) as HTMLElement & { value: string };
    layer.append(...h.layers.map((l) => el('vscode-option', { value: String(l), ...(l === h.layer ? { selected: '' } : {}) }, `layer ${l}`)));
    layer.addEventListener('change', () => ctx.setLayer(Number(layer.value)));
    const run = el('div', { class: 'run' }, `${h.backbone} · run ${h.runId} · ${h.mode} · ${h.clips} clips · F = ${h.dictSize} · ${h.store}`);
    const header = el('header', {}, el('h2', { id: 'panel-title' }, title), el('div', { class: 'tools' }, h.layers.length > 1 ? layer : '', exportBar(rpc, exports, notify)));
    app.replaceChildren(header, run, notice, ...body);
  },
};

function draw(view: CorpusView): void {
  document.body.dataset.kind = view.kind;
  switch (view.kind) {
    case 'metrics':
      return drawMetrics(view, ctx);
    case 'classification':
      return drawClassification(view, ctx);
    case 'dead':
      return drawDead(view, ctx);
    case 'topClips':
      return drawTopClips(view, ctx);
    case 'featureMap':
      return drawFeatureMap(view, ctx);
    default:
      assertNever(view);
  }
}
