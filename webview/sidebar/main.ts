/**
 * The Feature search view's front end: the search box and filters, and the results as a virtualised list (only
 * the rows in view exist in the DOM) with a per-domain frame-frequency sparkline per feature. Each change of
 * the query is sent to the host, which answers with the matching ids in order; the rows are drawn from the
 * layer's columns sent once. Clicking a row opens the feature's page. The query is kept with setState.
 */
import type { HostToSearch, SearchLayer, SearchQueryMessage, SearchToHost } from '../../src/extension/sidebar/protocol.ts';
import './sidebar.css';
import { LABEL_COLOURS } from '../../src/shared/labelColours.ts';

declare function acquireVsCodeApi(): { postMessage(m: SearchToHost): void; getState(): unknown; setState(s: unknown): void };
const vscode = acquireVsCodeApi();

const ROW_PX = 26;
const LABELS = ['speech', 'sounds', 'music', 'unassigned', 'dead', 'none'] as const;
const DOMAIN_COLOURS: Record<string, string> = { speech: LABEL_COLOURS.speech, sounds: LABEL_COLOURS.sounds, music: LABEL_COLOURS.music };
const FALLBACK_COLOURS = ['#5bb07a', '#d65b5b', '#8a8a8a'];

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

interface ViewState {
  text: string;
  labels: string[];
  maxGrade: string;
  freqMin: string;
  freqMax: string;
  actMin: string;
  actMax: string;
  annotatedOnly: boolean;
  inSelection: boolean;
  sortKey: string;
  descending: boolean;
}
const saved = (vscode.getState() as Partial<ViewState> | undefined) ?? {};
const state: ViewState = {
  text: '', labels: [], maxGrade: '', freqMin: '', freqMax: '', actMin: '', actMax: '', annotatedOnly: false, inSelection: false, sortKey: 'feature', descending: false, ...saved,
};

let layer: SearchLayer | undefined;
let results: Int32Array = new Int32Array(0);
let seq = 0;
let shownSeq = 0;

// ------------------------------------------------------------------------------------------------ the DOM
const app = document.getElementById('app')!;
const empty = el('div', { id: 'empty', class: 'empty' });
const emptyText = el('p', { id: 'empty-text' });
const startButton = el('button', { id: 'start-run', type: 'button' }, 'Analyse Corpus…');
empty.append(emptyText, startButton);

const header = el('div', { id: 'layer-info', class: 'info' });
const query = el('input', { id: 'query', type: 'search', placeholder: 'id, 10-40, label:speech, #tag, freq>0.01, words', 'aria-label': 'Search features', spellcheck: 'false' });
const chips = el('div', { class: 'chips', role: 'group', 'aria-label': 'Labels' });
const chipBoxes = new Map<string, HTMLInputElement>();
for (const l of LABELS.slice(0, 5)) {
  const box = el('input', { type: 'checkbox', id: `label-${l}`, 'data-label': l });
  chipBoxes.set(l, box);
  const lab = el('label', { class: `chip label-${l}`, for: `label-${l}` });
  lab.append(box, document.createTextNode(l));
  chips.append(lab);
}
const grade = el('select', { id: 'grade', 'aria-label': 'Grade at most' });
for (const [v, t] of [['', 'any grade'], ['0', 'grade 0'], ['1', 'grade ≤ 1'], ['2', 'grade ≤ 2']]) grade.append(el('option', { value: v! }, t));
const num = (id: string, label: string) => el('input', { id, type: 'number', step: 'any', min: '0', placeholder: label, 'aria-label': label, class: 'num' });
const freqMin = num('freq-min', 'freq ≥');
const freqMax = num('freq-max', 'freq ≤');
const actMin = num('act-min', 'max act ≥');
const actMax = num('act-max', 'max act ≤');
const checkbox = (id: string, text: string) => {
  const box = el('input', { type: 'checkbox', id });
  const lab = el('label', { for: id, class: 'check' });
  lab.append(box, document.createTextNode(text));
  return { box, lab };
};
const annotated = checkbox('annotated-only', 'annotated');
const inSelection = checkbox('in-selection', 'fires in editor selection');
const sortKey = el('select', { id: 'sort', 'aria-label': 'Sort by' });
const sortDir = el('button', { id: 'sort-dir', type: 'button', title: 'Sort direction', 'aria-label': 'Sort direction' });
const filters = el('div', { class: 'filters' });
const row1 = el('div', { class: 'row' });
row1.append(grade, freqMin, freqMax, actMin, actMax);
const row2 = el('div', { class: 'row' });
row2.append(annotated.lab, inSelection.lab);
const row3 = el('div', { class: 'row' });
row3.append(el('span', {}, 'sort'), sortKey, sortDir);
filters.append(chips, row1, row2, row3);
const status = el('div', { id: 'status', class: 'status', role: 'status' });
const note = el('div', { id: 'note', class: 'note' });
const list = el('div', { id: 'results', class: 'list', role: 'listbox', 'aria-label': 'Features', tabindex: '0' });
const spacer = el('div', { class: 'spacer' });
list.append(spacer);
const main = el('div', { id: 'search', class: 'search' });
main.append(header, query, filters, status, note, list);
app.append(empty, main);

function setSortOptions(domains: string[]): void {
  const opts: [string, string][] = [['feature', 'id'], ['frameFreq', 'frame frequency'], ['audioFreq', 'audio frequency'], ['maxAct', 'max activation'], ['meanAct', 'mean activation'], ['label', 'label'], ['grade', 'grade'],
    ...domains.map((d): [string, string] => [`domain:${d}`, `${d} frequency`])];
  sortKey.replaceChildren(...opts.map(([v, t]) => el('option', { value: v }, t)));
  sortKey.value = opts.some(([v]) => v === state.sortKey) ? state.sortKey : 'feature';
}

function restoreControls(): void {
  query.value = state.text;
  for (const [l, b] of chipBoxes) b.checked = state.labels.includes(l);
  grade.value = state.maxGrade;
  freqMin.value = state.freqMin;
  freqMax.value = state.freqMax;
  actMin.value = state.actMin;
  actMax.value = state.actMax;
  annotated.box.checked = state.annotatedOnly;
  inSelection.box.checked = state.inSelection;
  sortDir.textContent = state.descending ? '↓' : '↑';
}

function readControls(): void {
  state.text = query.value;
  state.labels = [...chipBoxes].filter(([, b]) => b.checked).map(([l]) => l);
  state.maxGrade = grade.value;
  state.freqMin = freqMin.value;
  state.freqMax = freqMax.value;
  state.actMin = actMin.value;
  state.actMax = actMax.value;
  state.annotatedOnly = annotated.box.checked;
  state.inSelection = inSelection.box.checked;
  state.sortKey = sortKey.value || 'feature';
  vscode.setState(state);
}

const numOrUndefined = (s: string) => (s.trim() === '' || !Number.isFinite(Number(s)) ? undefined : Number(s));

function send(): void {
  if (!layer) return;
  const q: SearchQueryMessage = {
    text: state.text,
    labels: state.labels as SearchQueryMessage['labels'],
    maxGrade: numOrUndefined(state.maxGrade),
    frameFreq: { min: numOrUndefined(state.freqMin), max: numOrUndefined(state.freqMax) },
    maxAct: { min: numOrUndefined(state.actMin), max: numOrUndefined(state.actMax) },
    annotatedOnly: state.annotatedOnly,
    inSelection: state.inSelection,
    sort: { key: state.sortKey as NonNullable<SearchQueryMessage['sort']>['key'], descending: state.descending },
  };
  vscode.postMessage({ type: 'search', seq: ++seq, query: q });
}

const changed = () => {
  readControls();
  send();
};
for (const input of [query, freqMin, freqMax, actMin, actMax]) input.addEventListener('input', changed);
for (const input of [grade, sortKey, annotated.box, inSelection.box, ...chipBoxes.values()]) input.addEventListener('change', changed);
sortDir.addEventListener('click', () => {
  state.descending = !state.descending;
  sortDir.textContent = state.descending ? '↓' : '↑';
  changed();
});
startButton.addEventListener('click', () => vscode.postMessage({ type: 'startRun' }));

// ----------------------------------------------------------------------------------------- virtual list
const pool: HTMLElement[] = [];

function fmt(v: number): string {
  if (v === 0) return '0';
  if (v >= 100) return v.toFixed(0);
  if (v >= 1) return v.toFixed(2);
  return v.toPrecision(2);
}

function drawSparkline(canvas: HTMLCanvasElement, f: number): void {
  const l = layer!;
  const n = l.domains.length;
  const g = canvas.getContext('2d')!;
  const w = canvas.width;
  const h = canvas.height;
  g.clearRect(0, 0, w, h);
  let max = 0;
  for (let d = 0; d < n; d++) max = Math.max(max, l.domainFreq[f * n + d]!);
  const bw = Math.max(2, Math.floor(w / Math.max(1, n)) - 2);
  for (let d = 0; d < n; d++) {
    const v = l.domainFreq[f * n + d]!;
    const bh = max > 0 ? Math.max(v > 0 ? 1 : 0, Math.round((v / max) * (h - 1))) : 0;
    g.fillStyle = DOMAIN_COLOURS[l.domains[d]!] ?? FALLBACK_COLOURS[d % FALLBACK_COLOURS.length]!;
    g.fillRect(d * (bw + 2), h - bh, bw, bh);
  }
}

function fillRow(row: HTMLElement, f: number): void {
  const l = layer!;
  row.dataset.feature = String(f);
  const name = l.names[f];
  const lab = LABELS[l.label[f]!] ?? 'none';
  const g = l.grade[f]!;
  const [id, label, spark, freq, max] = row.children as unknown as [HTMLElement, HTMLElement, HTMLCanvasElement, HTMLElement, HTMLElement];
  id.textContent = name ? `${f} · ${name}` : String(f);
  id.title = name ? `Feature ${f}: ${name}` : `Feature ${f}`;
  label.textContent = lab === 'none' ? '' : g >= 0 ? `${lab} ${g}` : lab;
  label.className = `badge label-${lab}`;
  freq.textContent = fmt(l.frameFreq[f]!);
  freq.title = `frame frequency ${l.frameFreq[f]}; audio frequency ${l.audioFreq[f]!.toFixed(3)}`;
  max.textContent = fmt(l.maxAct[f]!);
  max.title = `max activation ${l.maxAct[f]}; mean ${l.meanAct[f]!.toFixed(3)}`;
  spark.title = l.domains.map((d, k) => `${d} ${(100 * l.domainFreq[f * l.domains.length + k]!).toFixed(2)} %`).join(', ');
  drawSparkline(spark, f);
}

function newRow(): HTMLElement {
  const row = el('div', { class: 'result', role: 'option' });
  row.append(el('span', { class: 'id' }), el('span', { class: 'badge' }), el('canvas', { class: 'spark', width: '48', height: '16' }), el('span', { class: 'num freq' }), el('span', { class: 'num max' }));
  row.addEventListener('click', () => vscode.postMessage({ type: 'open', feature: Number(row.dataset.feature) }));
  return row;
}

function render(): void {
  spacer.style.height = `${results.length * ROW_PX}px`;
  const first = Math.max(0, Math.floor(list.scrollTop / ROW_PX) - 5);
  const count = Math.min(results.length - first, Math.ceil(list.clientHeight / ROW_PX) + 10);
  while (pool.length < count) {
    const r = newRow();
    pool.push(r);
    list.append(r);
  }
  pool.forEach((row, i) => {
    if (i >= count) {
      row.hidden = true;
      return;
    }
    row.hidden = false;
    row.style.top = `${(first + i) * ROW_PX}px`;
    fillRow(row, results[first + i]!);
  });
}
list.addEventListener('scroll', () => requestAnimationFrame(render));
new ResizeObserver(() => render()).observe(list);

// -------------------------------------------------------------------------------------------- messages
window.addEventListener('message', (ev: MessageEvent<HostToSearch>) => {
  const m = ev.data;
  switch (m.type) {
    case 'layer':
      layer = m.layer;
      empty.hidden = !!layer;
      main.hidden = !layer;
      if (!layer) {
        emptyText.textContent = m.message ?? 'No corpus run yet.';
        return;
      }
      header.textContent = `${layer.backbone} · layer ${layer.layer} · ${layer.storeName} · run ${layer.runId.slice(0, 8)} · ${layer.dictSize} features`;
      header.title = layer.storePath;
      setSortOptions(layer.domains);
      note.textContent = [layer.readOnlyNote, layer.labelNote && `No labels: ${layer.labelNote}`].filter(Boolean).join(' ');
      note.hidden = note.textContent === '';
      list.scrollTop = 0;
      send();
      return;
    case 'results': {
      if (m.seq < shownSeq) return;
      shownSeq = m.seq;
      results = m.features;
      const parts = [`${results.length} of ${layer?.dictSize ?? 0} features`, `${m.elapsedMs.toFixed(1)} ms`];
      if (m.selectionNote) parts.push(m.selectionNote);
      if (m.problems.length) parts.push(`not understood: ${m.problems.join(' ')}`);
      status.textContent = parts.join(' · ');
      status.dataset.count = String(results.length);
      status.dataset.seq = String(m.seq);
      render();
      return;
    }
    case 'names':
      if (layer) layer.names = m.names;
      render();
      return;
    default: {
      const never: never = m;
      throw new Error(`unexpected message ${JSON.stringify(never)}`);
    }
  }
});

restoreControls();
empty.hidden = true;
main.hidden = true;
vscode.postMessage({ type: 'ready' });
