/**
 * The tables under the plot: the selected feature with its links, the clip's ranked features (with their time
 * of max and the feature-page and top-clips links) and the features of the selected region. Rendering only: rows carry `data-feature` (and
 * links `data-link`, times `data-time`), and input.ts handles clicks on them.
 */
import type { FeatureStats, LinkKind } from '../../src/shared/editorProtocol.ts';
import { button, el } from './dom.ts';
import { bars, featureTable, regionBox, selectedBox } from './layout.ts';
import { placeOverlays } from './plot.ts';
import { featureLabel, model, state } from './state.ts';

function linkButton(what: LinkKind, feature: number): HTMLElement {
  const b = button(`${what}-${feature}`, what === 'featurePage' ? `Show the page of feature ${feature}` : `Find the clips where feature ${feature} fires most`,
    what === 'featurePage' ? 'book' : 'search', undefined, true);
  b.classList.add('link');
  b.dataset.link = what;
  b.dataset.feature = String(feature);
  return b;
}

export function renderFeatureTable(): void {
  renderSelected();
  featureTable.replaceChildren();
  const { run, shown } = model;
  if (!run || shown.length === 0) return;
  const head = el('tr');
  for (const h of ['feature', 'max', 'time of max', 'active frames', 'total', '']) head.append(el('th', {}, h));
  featureTable.append(head);
  for (const s of shown) {
    const row = el('tr', { 'data-feature': String(s.id), tabindex: '0', class: s.id === state.selected ? 'selected' : '' });
    const at = el('a', { href: '#', title: 'Show this moment', 'data-time': String(s.timeOfMaxS) }, `${s.timeOfMaxS.toFixed(2)} s`);
    const actions = el('td', { class: 'actions' });
    actions.append(linkButton('featurePage', s.id), linkButton('topClips', s.id));
    const atCell = el('td');
    atCell.append(at);
    row.append(el('td', { class: 'feature-id' }, featureLabel(s.id)), el('td', {}, s.max.toFixed(3)), atCell, el('td', {}, String(s.activeFrames)), el('td', {}, s.total.toFixed(2)), actions);
    featureTable.append(row);
  }
}

export function renderRegion(stats: FeatureStats[] | undefined): void {
  placeOverlays();
  if (!stats || !state.region) return void regionBox.setAttribute('hidden', '');
  const by = bars.rankSelect.value === 'total' ? 'total' : 'max';
  const table = el('table', { class: 'features' });
  const head = el('tr');
  for (const h of ['feature', by, 'active frames']) head.append(el('th', {}, h));
  table.append(head);
  for (const s of stats) {
    const row = el('tr', { 'data-feature': String(s.id) });
    row.append(el('td', {}, featureLabel(s.id)), el('td', {}, s[by].toFixed(3)), el('td', {}, String(s.activeFrames)));
    table.append(row);
  }
  const [a, b] = state.region;
  regionBox.replaceChildren(el('div', { class: 'region-title' }, `Features in ${a.toFixed(2)}–${b.toFixed(2)} s`), table);
  regionBox.removeAttribute('hidden');
}

/** The selected feature's line: its id and name, "feature page" and "find clips where this fires". */
export function renderSelected(): void {
  const id = state.selected;
  if (id === undefined || !model.run) return void selectedBox.setAttribute('hidden', '');
  const page = linkButton('featurePage', id);
  page.id = 'selected-page';
  page.textContent = 'Feature page';
  page.removeAttribute('icon-only');
  const clips = linkButton('topClips', id);
  clips.id = 'selected-top-clips';
  clips.textContent = 'Find clips where this fires';
  clips.removeAttribute('icon-only');
  selectedBox.replaceChildren(el('span', { class: 'selected-label', 'data-selected': String(id) }, `Selected: ${featureLabel(id)}`), page, clips);
  selectedBox.removeAttribute('hidden');
}
