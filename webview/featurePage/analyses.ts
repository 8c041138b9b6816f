/**
 * The Feature page's computed sections: the receptive field (a request the host answers once), and the acoustic
 * profile and duplicates, which run as jobs in the host's job worker: a button starts one, its progress shows
 * with a Cancel button, and the answer replaces them (a table; duplicates link to their own pages).
 */
import type { DuplicateRow, FeatureDuplicatesView, FeatureProfileView } from '../../src/shared/jobProtocol.ts';
import type { FeaturePageData, HostToPage } from '../../src/extension/sidebar/protocol.ts';
import { newId, request, vscode } from './channel.ts';
import { el, num } from './dom.ts';

// ------------------------------------------------------------------------------------------ receptive field

/** A colour ramp from dark blue through teal to yellow, t in [0, 1]. */
function ramp(t: number): [number, number, number] {
  const stops: [number, number, number][] = [[20, 18, 60], [40, 90, 140], [40, 160, 130], [160, 210, 70], [250, 230, 40]];
  const x = Math.min(0.9999, Math.max(0, t)) * (stops.length - 1);
  const i = Math.floor(x);
  const f = x - i;
  const a = stops[i]!;
  const b = stops[i + 1]!;
  return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])];
}

/** Draws a [rows, cols] row-major matrix (row 0 = lowest mel bin, drawn at the bottom); NaN is transparent. */
function heatmap(canvas: HTMLCanvasElement, data: Float32Array, rows: number, cols: number): void {
  canvas.width = cols;
  canvas.height = rows;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of data) if (Number.isFinite(v)) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
  const img = new ImageData(cols, rows);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = data[r * cols + c]!;
      const o = 4 * ((rows - 1 - r) * cols + c);
      if (!Number.isFinite(v)) continue;
      const [R, G, B] = ramp(hi > lo ? (v - lo) / (hi - lo) : 0.5);
      img.data[o] = R;
      img.data[o + 1] = G;
      img.data[o + 2] = B;
      img.data[o + 3] = 255;
    }
  }
  canvas.getContext('2d')!.putImageData(img, 0, 0);
}

export function receptiveFieldSection(): HTMLElement {
  const box = el('div', { id: 'receptive-field' });
  const button = el('button', { type: 'button', id: 'compute-rf' }, 'Compute');
  const status = el('span', { class: 'muted', id: 'rf-status' }, ' The mean log-mel second around the maximum in each of the top 16 clips.');
  const canvas = el('canvas', { id: 'rf-canvas', class: 'heatmap', hidden: '' });
  button.addEventListener('click', () => {
    button.disabled = true;
    status.textContent = ' Computing…';
    request({ type: 'receptiveField', id: newId() }, (r) => {
      button.disabled = false;
      if (r.type === 'receptiveField') {
        heatmap(canvas, r.mean, r.nMels, r.windowFrames);
        canvas.hidden = false;
        button.hidden = true;
        status.textContent = ` Mean of ${r.windows} windows, ${r.nMels} mel bins × ${r.windowFrames} frames (10 ms each), the maximum at the centre. ${r.notes.join(' ')}`;
        box.dataset.drawn = 'true';
      } else if (r.type === 'failed') {
        status.textContent = ` Not computed: ${r.message}`;
      }
    });
  });
  box.append(canvas, el('br'), button, status);
  return box;
}

// ---------------------------------------------------------------------------------------------------- jobs

interface JobBox<T> {
  /** e.g. 'profile': the box's id, and data-state idle | running | done | failed on it */
  name: 'profile' | 'duplicates';
  startLabel: string;
  intro: string;
  /** Why it cannot start, if it cannot. */
  blocked?: string;
  result: (m: HostToPage) => T | undefined;
  draw: (value: T) => Node[];
}

/** A section body that runs a job: [Start] intro → progress line + [Cancel] → the drawn answer (or the failure and [Start] again). */
function jobBox<T>(spec: JobBox<T>, kept: T | undefined, autoStart: boolean): HTMLElement {
  const box = el('div', { id: spec.name, 'data-state': 'idle' });
  const start = el('button', { type: 'button', id: `${spec.name}-start` }, spec.startLabel);
  const cancel = el('button', { type: 'button', id: `${spec.name}-cancel`, hidden: '' }, 'Cancel');
  const status = el('span', { class: 'muted', id: `${spec.name}-status`, role: 'status' }, ` ${spec.blocked ?? spec.intro}`);
  const out = el('div', { id: `${spec.name}-result` });
  let running: number | undefined;
  const show = (value: T) => {
    out.replaceChildren(...spec.draw(value));
    box.dataset.state = 'done';
    start.hidden = true;
    status.textContent = '';
  };
  const run = () => {
    const id = newId();
    running = id;
    box.dataset.state = 'running';
    start.hidden = true;
    cancel.hidden = false;
    cancel.disabled = false;
    status.textContent = ' Starting…';
    request({ type: spec.name, id }, (m) => {
      if (running !== id) return;
      if (m.type === 'jobProgress') {
        status.textContent = ` ${m.message}…`;
        return;
      }
      running = undefined;
      cancel.hidden = true;
      const value = spec.result(m);
      if (value !== undefined) return show(value);
      box.dataset.state = 'failed';
      start.hidden = false;
      start.textContent = 'Try again';
      status.textContent = m.type === 'failed' ? ` ${m.message === 'Cancelled.' ? 'Cancelled.' : `Not computed: ${m.message}`}` : ' Unexpected reply.';
    });
  };
  start.addEventListener('click', run);
  cancel.addEventListener('click', () => {
    if (running === undefined) return;
    cancel.disabled = true;
    status.textContent = ' Cancelling…';
    vscode.postMessage({ type: 'cancelJob', id: running });
  });
  if (spec.blocked) start.disabled = true;
  box.append(start, cancel, status, out);
  if (kept !== undefined) show(kept);
  else if (autoStart && !spec.blocked) queueMicrotask(run);
  return box;
}

// --------------------------------------------------------------------------------------------------- profile

const QUANTITY: Record<string, string> = {
  frames: 'frames', loudness: 'loudness', voiced_rate: 'voiced frames', f0_median: 'f0 median', f0_mean: 'f0 mean',
  spectral_centroid: 'spectral centroid', spectral_flatness: 'spectral flatness', onset_strength: 'onset strength',
};

function quantityName(q: string): string {
  if (q.startsWith('event_')) return `in an event: ${q.slice(6)}`;
  if (q.startsWith('domain_')) return `domain ${q.slice(7)}`;
  return QUANTITY[q] ?? q;
}

/** A bar for a share in [0, 1], drawn for the feature over the corpus's. */
function shareBars(feature: number | null, corpus: number | null): HTMLElement {
  const wrap = el('span', { class: 'share' });
  for (const [v, cls] of [[feature, 'share-feature'], [corpus, 'share-corpus']] as const) {
    const b = el('span', { class: `share-bar ${cls}` });
    b.style.width = `${Math.round(80 * Math.min(1, Math.max(0, v ?? 0)))}px`;
    wrap.append(b);
  }
  return wrap;
}

function drawProfile(p: FeatureProfileView): Node[] {
  const t = el('table', { id: 'profile-table' });
  const head = el('tr');
  for (const h of ['', 'where it fires', 'corpus', 'unit', '']) head.append(el('th', {}, h));
  t.append(head);
  for (const r of p.rows) {
    const row = el('tr', { 'data-quantity': r.quantity });
    const share = r.unit === 'share' || r.unit === 'share of active frames' || r.quantity === 'voiced_rate';
    const fmt = (v: number | null) => (v === null ? '–' : share ? `${(100 * v).toFixed(1)} %` : num(v));
    row.append(el('td', {}, quantityName(r.quantity)), el('td', {}, fmt(r.feature)), el('td', {}, fmt(r.corpus)), el('td', { class: 'muted' }, share ? '' : r.unit));
    const bars = el('td');
    if (share) bars.append(shareBars(r.feature, r.corpus));
    row.append(bars);
    t.append(row);
  }
  const legend = el('p', { class: 'muted' }, `Over the active frames of its top ${p.clipsProfiled} clips, against ${p.baselineClips} corpus clips; computed in ${p.seconds.toFixed(1)} s. `);
  legend.append(el('span', { class: 'share-bar share-feature legend' }), document.createTextNode(' where it fires  '), el('span', { class: 'share-bar share-corpus legend' }), document.createTextNode(' corpus'));
  const nodes: Node[] = [el('p', { id: 'profile-description' }, p.description), t, legend];
  for (const n of p.notes) nodes.push(el('p', { class: 'muted' }, n));
  return nodes;
}

export function profileSection(p: FeaturePageData): HTMLElement {
  return jobBox<FeatureProfileView>({
    name: 'profile', startLabel: 'Compute acoustic profile',
    intro: 'Loudness, pitch, voicing, spectral shape and onsets where it fires, against the corpus: runs the models again over its top clips.',
    blocked: p.profileBlocked,
    result: (m) => (m.type === 'profile' ? m.profile : undefined),
    draw: drawProfile,
  }, p.profile, false);
}

// ------------------------------------------------------------------------------------------------ duplicates

function duplicateLink(row: DuplicateRow, names: Record<number, string>): HTMLElement {
  const a = el('a', { href: '#', 'data-feature': String(row.feature) }, `${row.feature}${names[row.feature] ? ` · ${names[row.feature]}` : ''}`);
  a.addEventListener('click', (e) => {
    e.preventDefault();
    vscode.postMessage({ type: 'openFeature', feature: row.feature });
  });
  return a;
}

function drawDuplicates(d: FeatureDuplicatesView, names: Record<number, string>): Node[] {
  if (!d.frameCodes) return [el('p', { class: 'muted', id: 'duplicates-note' }, d.note)];
  const summary = `Features of layer ${d.layer} whose active frames overlap its ${d.activeFrames} with IoU > ${d.theta} (computed in ${d.seconds.toFixed(1)} s).`;
  if (d.rows.length === 0) return [el('p', { class: 'muted', id: 'duplicates-note' }, `None: no feature of layer ${d.layer} overlaps its ${d.activeFrames} active frames with IoU > ${d.theta}.`)];
  const t = el('table', { id: 'duplicates-table' });
  const head = el('tr');
  for (const h of ['feature', 'IoU', 'frames in both', 'in either']) head.append(el('th', {}, h));
  t.append(head);
  for (const r of d.rows) {
    const row = el('tr');
    const link = el('td');
    link.append(duplicateLink(r, names));
    row.append(link, el('td', {}, r.iou.toFixed(3)), el('td', {}, String(r.intersect)), el('td', {}, String(r.union)));
    t.append(row);
  }
  return [el('p', { class: 'muted' }, summary), t];
}

export function duplicatesSection(p: FeaturePageData): HTMLElement {
  return jobBox<FeatureDuplicatesView>({
    name: 'duplicates', startLabel: 'Find duplicates',
    intro: 'The features whose active frames overlap this one\'s (IoU > 0.5), from the run\'s kept frame codes.',
    result: (m) => (m.type === 'duplicates' ? m.duplicates : undefined),
    draw: (d) => drawDuplicates(d, p.names),
  }, p.duplicates, true);
}
