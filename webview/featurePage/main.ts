/**
 * The Feature page's front end: label and grade, statistics per domain, the histogram of the per-clip max, the
 * top clips (play a snippet decoded by the host, through WebAudio; open the clip in the audio editor at the
 * maximum), the nearest features by decoder cosine, the receptive field, acoustic profile and duplicates
 * (analyses.ts), and the annotation editor (saved as you type, debounced; the status says when the host has it
 * on disk).
 */
import type { AnnotationData, FeaturePageData, HostToPage } from '../../src/extension/sidebar/protocol.ts';
import { duplicatesSection, profileSection, receptiveFieldSection } from './analyses.ts';
import { dispatchReply, newId, request, vscode } from './channel.ts';
import { basename, el, num, pct, section, svg } from './dom.ts';
import './featurePage.css';

const SAVE_DEBOUNCE_MS = 400;

const app = document.getElementById('app')!;
let page: FeaturePageData | undefined;
let audio: AudioContext | undefined;
let playing: AudioBufferSourceNode | undefined;

// ----------------------------------------------------------------------------------------- annotation
const nameInput = el('input', { id: 'ann-name', type: 'text', placeholder: 'Name (e.g. "open vowels")', 'aria-label': 'Name', maxlength: '200' });
const tagsInput = el('input', { id: 'ann-tags', type: 'text', placeholder: 'Tags, separated by spaces or commas', 'aria-label': 'Tags' });
const notesInput = el('textarea', { id: 'ann-notes', rows: '4', placeholder: 'Notes', 'aria-label': 'Notes' });
const saveStatus = el('span', { id: 'ann-status', class: 'muted', role: 'status' });
let saveTimer: ReturnType<typeof setTimeout> | undefined;
let editing = 0;

function showAnnotation(a: AnnotationData, force: boolean): void {
  if (!force && (editing > 0 || saveTimer !== undefined)) return; // never overwrite what the user is typing
  nameInput.value = a.name;
  tagsInput.value = a.tags.join(' ');
  notesInput.value = a.notes;
  saveStatus.textContent = a.updatedAt ? `Saved ${new Date(a.updatedAt).toLocaleTimeString()}` : 'Not annotated';
  saveStatus.dataset.state = 'saved';
}

function save(): void {
  saveTimer = undefined;
  const id = newId();
  editing++;
  saveStatus.textContent = 'Saving…';
  saveStatus.dataset.state = 'saving';
  request({ type: 'annotate', id, name: nameInput.value, notes: notesInput.value, tags: tagsInput.value.split(/[\s,]+/).filter(Boolean) }, (r) => {
    editing--;
    if (r.type === 'saved') {
      if (saveTimer !== undefined || editing > 0) return;
      saveStatus.textContent = r.updatedAt ? `Saved ${new Date(r.updatedAt).toLocaleTimeString()}` : 'Annotation removed';
      saveStatus.dataset.state = 'saved';
    } else if (r.type === 'failed') {
      saveStatus.textContent = `Not saved: ${r.message}`;
      saveStatus.dataset.state = 'failed';
    }
  });
}
for (const input of [nameInput, tagsInput, notesInput]) {
  input.addEventListener('input', () => {
    clearTimeout(saveTimer);
    saveStatus.textContent = 'Editing…';
    saveStatus.dataset.state = 'editing';
    saveTimer = setTimeout(save, SAVE_DEBOUNCE_MS);
  });
}

// ------------------------------------------------------------------------------------------- sections
function histogramSvg(p: FeaturePageData): SVGElement {
  const { edges, counts } = p.stats.histogram;
  const W = 360;
  const H = 110;
  const pad = { l: 34, b: 22, t: 6, r: 6 };
  const max = Math.max(1, ...counts);
  const root = svg('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, id: 'histogram', role: 'img', 'aria-label': 'Histogram of the per-clip max activation' });
  const bw = (W - pad.l - pad.r) / counts.length;
  counts.forEach((c, i) => {
    const h = ((H - pad.t - pad.b) * c) / max;
    const r = svg('rect', { x: pad.l + i * bw + 0.5, y: H - pad.b - h, width: Math.max(1, bw - 1), height: h, class: 'bar' });
    const t = svg('title', {});
    t.textContent = `${edges[i]!.toPrecision(3)}–${edges[i + 1]!.toPrecision(3)}: ${c} clips`;
    r.append(t);
    root.append(r);
  });
  const axis = (x: number, y: number, text: string, anchor: string) => {
    const t = svg('text', { x, y, 'text-anchor': anchor, class: 'axis' });
    t.textContent = text;
    root.append(t);
  };
  axis(pad.l, H - 6, '0', 'start');
  axis(W - pad.r, H - 6, edges[edges.length - 1]!.toPrecision(3), 'end');
  axis((W + pad.l) / 2, H - 6, 'max activation in the clip', 'middle');
  axis(pad.l - 4, pad.t + 10, String(max), 'end');
  axis(pad.l - 4, H - pad.b, '0', 'end');
  return root;
}

function statsTable(p: FeaturePageData): HTMLTableElement {
  const t = el('table', { id: 'domain-stats' });
  const head = el('tr');
  for (const h of ['domain', 'frame freq', 'active frames', 'audio freq', 'clips', 'mean act (frame)', 'mean max (clip)']) head.append(el('th', {}, h));
  t.append(head);
  for (const d of p.stats.domains) {
    const r = el('tr');
    for (const v of [d.group ?? '(none)', pct(d.frameFreq), `${d.activeFrames} / ${d.frames}`, pct(d.audioFreq), `${d.activeClips} / ${d.clips}`, num(d.meanActFrame), num(d.meanActAudio)]) r.append(el('td', {}, v));
    t.append(r);
  }
  return t;
}

async function play(rank: number, button: HTMLButtonElement): Promise<void> {
  playing?.stop();
  audio ??= new AudioContext();
  await audio.resume().catch(() => undefined);
  button.textContent = '…';
  const id = newId();
  request({ type: 'play', id, rank }, (r) => {
    if (r.type !== 'snippet') {
      button.textContent = '▶';
      if (r.type === 'failed') button.title = r.message;
      document.body.dataset.playError = r.type === 'failed' ? r.message : 'unexpected reply';
      return;
    }
    const buffer = audio!.createBuffer(1, r.samples.length, r.sampleRateHz);
    buffer.copyToChannel(r.samples as Float32Array<ArrayBuffer>, 0);
    const src = audio!.createBufferSource();
    src.buffer = buffer;
    src.connect(audio!.destination);
    src.onended = () => {
      button.textContent = '▶';
      if (playing === src) {
        playing = undefined;
        document.body.dataset.playing = '';
      }
    };
    playing = src;
    src.start();
    button.textContent = '■';
    document.body.dataset.playing = String(rank);
    document.body.dataset.played = `${rank}:${r.samples.length}:${r.sampleRateHz}:${r.peakS.toFixed(2)}`;
  });
}

function topClips(p: FeaturePageData): HTMLElement {
  if (p.stats.topClips.length === 0) return el('p', { class: 'muted' }, 'It fires in no clip of this run.');
  const t = el('table', { id: 'top-clips' });
  const head = el('tr');
  for (const h of ['#', 'clip', 'domain', 'max', 'at', '', '']) head.append(el('th', {}, h));
  t.append(head);
  for (const c of p.stats.topClips) {
    const r = el('tr', { 'data-rank': String(c.rank) });
    const playButton = el('button', { type: 'button', class: 'play', title: 'Play 3 s around the maximum', 'aria-label': `Play clip ${c.rank}` }, '▶');
    playButton.addEventListener('click', () => void play(c.rank, playButton));
    const open = el('button', { type: 'button', class: 'open-at', title: 'Open in the audio editor at this time, with the feature selected' }, 'Open at time');
    open.addEventListener('click', () => {
      const id = newId();
      request({ type: 'openAt', id, rank: c.rank }, (reply) => {
        const text = reply.type === 'opened' ? reply.note : reply.type === 'failed' ? reply.message : undefined;
        footer.textContent = text ?? '';
      });
    });
    const name = el('td', { class: 'clip', title: c.clip }, basename(c.clip));
    for (const cell of [el('td', {}, String(c.rank)), name, el('td', {}, c.domain), el('td', {}, num(c.max)), el('td', {}, `${(c.segmentStartS + c.timeS).toFixed(2)} s`)]) r.append(cell);
    const a = el('td');
    a.append(playButton);
    const b = el('td');
    b.append(open);
    r.append(a, b);
    t.append(r);
  }
  return t;
}

function nearest(p: FeaturePageData): HTMLElement {
  if ('note' in p.nearest) return el('p', { class: 'muted', id: 'nearest-note' }, p.nearest.note);
  const ul = el('ul', { id: 'nearest', class: 'nearest' });
  for (const n of p.nearest.features) {
    const li = el('li');
    const link = el('a', { href: '#', 'data-feature': String(n.feature) }, `${n.feature}${p.names[n.feature] ? ` · ${p.names[n.feature]}` : ''}`);
    link.addEventListener('click', (e) => {
      e.preventDefault();
      vscode.postMessage({ type: 'openFeature', feature: n.feature });
    });
    li.append(link, document.createTextNode(`  cos ${n.cosine.toFixed(3)}`));
    ul.append(li);
  }
  return ul;
}

const footer = el('p', { id: 'footer', class: 'muted' });

function render(p: FeaturePageData): void {
  page = p;
  const s = p.stats;
  const title = el('h1', { id: 'title' }, `Feature ${s.feature}`);
  const label = s.label ? `${s.label}${s.grade !== null ? ` · grade ${s.grade}` : ''}` : 'no label';
  const badge = el('span', { id: 'label', class: `badge label-${s.label ?? 'none'}` }, label);
  if (s.labelNote) badge.title = s.labelNote;
  const sub = el('p', { class: 'muted' }, `${s.backbone} · layer ${s.layer} · run ${s.runId.slice(0, 8)} · ${basename(p.storePath)} · fires in ${s.clipsFired} of ${s.clipsTotal} clips`);
  const top = el('div', { class: 'head' });
  top.append(title, badge);
  const nodes: Node[] = [top, sub];
  if (p.readOnlyNote) nodes.push(el('p', { class: 'warn' }, p.readOnlyNote));
  const ann = el('div', { class: 'annotation' });
  ann.append(nameInput, tagsInput, notesInput, saveStatus);
  nodes.push(section('Annotation', ann));
  nodes.push(section('Statistics per domain', statsTable(p)));
  nodes.push(section('Per-clip max activation', histogramSvg(p)));
  nodes.push(section('Top clips', topClips(p)));
  nodes.push(section('Nearest features (decoder cosine)', nearest(p)));
  nodes.push(section('Receptive field', receptiveFieldSection()));
  nodes.push(section('Acoustic profile', profileSection(p)));
  nodes.push(section('Duplicates', duplicatesSection(p)));
  footer.textContent = `Read in ${p.loadMs.toFixed(0)} ms. Annotations are kept in ${basename(p.journalPath)}.`;
  nodes.push(footer);
  app.replaceChildren(...nodes);
  clearTimeout(saveTimer);
  saveTimer = undefined;
  showAnnotation(p.annotation, true);
  document.body.dataset.feature = String(s.feature);
  vscode.setState({ feature: s.feature });
}

window.addEventListener('message', (ev: MessageEvent<HostToPage>) => {
  const m = ev.data;
  switch (m.type) {
    case 'page':
      return render(m.data);
    case 'pageFailed':
      app.replaceChildren(el('p', { class: 'warn', id: 'page-error' }, m.message));
      return;
    case 'annotation':
      if (page) page.annotation = m.annotation;
      return showAnnotation(m.annotation, false);
    case 'snippet':
    case 'receptiveField':
    case 'opened':
    case 'saved':
    case 'failed':
    case 'jobProgress':
    case 'profile':
    case 'duplicates':
      return dispatchReply(m);
    default: {
      const never: never = m;
      throw new Error(`unexpected message ${JSON.stringify(never)}`);
    }
  }
});

app.append(el('p', { class: 'muted' }, 'Reading the feature…'));
vscode.postMessage({ type: 'ready' });
