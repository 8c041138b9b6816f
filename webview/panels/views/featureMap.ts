/**
 * The feature map: every feature's t-SNE point on a canvas, coloured by label. Drag pans, the wheel zooms about
 * the pointer, Shift-drag draws a lasso (its features become the selection; Escape clears), the label boxes
 * filter; hovering shows the feature, its label and grade and its annotation name; a click opens its page.
 * Each redraw is timed (requestAnimationFrame to the end of drawing), shown in the status line and reported
 * to the host when a pan or zoom ends.
 */
import type { FeatureLabel } from '../../../src/engine/interp/classify.ts';
import type { FeatureMapView } from '../../../src/shared/panelProtocol.ts';
import { el } from '../common/dom.ts';
import { exportRows, type Column } from '../common/tableModel.ts';
import { LABEL_COLOURS } from './classificationModel.ts';
import { labelColour } from '../../../src/shared/labelColours.ts';
import type { PanelContext } from './context.ts';
import {
  fitTransform, GRADES, labelCounts, lassoSelect, LABELS, mapData, pan, PointGrid, toMap, toScreen, visibleMask, zoomAt, type MapData, type Transform,
} from './mapModel.ts';

const columns: Column<FeatureMapView['points'][number]>[] = [
  { key: 'feature', title: 'feature', value: (p) => p.feature },
  { key: 'x', title: 'x', value: (p) => p.x },
  { key: 'y', title: 'y', value: (p) => p.y },
  { key: 'label', title: 'label', value: (p) => p.label },
  { key: 'grade', title: 'grade', value: (p) => p.grade },
  { key: 'name', title: 'name', value: (p) => p.name ?? '' },
];

/**
 * The redraws of the current gesture: frame times (ms from the input that asked for a redraw to the end of
 * drawing, so including the wait for the display's next frame) and draw times (the drawing alone).
 */
const frameTimes: number[] = [];
const drawTimes: number[] = [];

export function drawFeatureMap(view: FeatureMapView, ctx: PanelContext): void {
  const h = view.heading;
  const d: MapData = mapData(view.points);
  const grid = new PointGrid(d);
  const labelsOn = new Set<FeatureLabel>(LABELS);
  let selection: Set<number> | undefined;
  let mask = visibleMask(d, labelsOn);
  const canvas = el('canvas', { id: 'feature-map', tabindex: '0', 'aria-label': `Feature map of ${d.n} features` });
  const tooltip = el('div', { class: 'map-tooltip', hidden: '' });
  const status = el('div', { class: 'map-status', id: 'map-status' });
  const wrap = el('div', { class: 'map-wrap' }, canvas, tooltip);
  let t: Transform = { scale: 1, tx: 0, ty: 0 };
  let size = { w: 0, h: 0 };
  let lasso: [number, number][] | undefined;
  let pending = false;
  let hovered = -1;

  const filters = el('div', { class: 'map-filters' });
  // The map holds alive features only, so "dead" has a filter only on a map given dead points.
  const shownLabels = LABELS.filter((l) => l !== 'dead' || labelCounts(d).dead > 0);
  const drawFilters = () => {
    const counts = labelCounts(d, selection ? visibleMask(d, new Set(LABELS), selection) : undefined);
    filters.replaceChildren(...shownLabels.map((l) => {
      const box = el('vscode-checkbox', { label: `${l} (${counts[l]})`, 'data-label': l, ...(labelsOn.has(l) ? { checked: '' } : {}) });
      box.style.setProperty('--swatch', LABEL_COLOURS[l]);
      box.addEventListener('change', () => {
        if (labelsOn.has(l)) labelsOn.delete(l);
        else labelsOn.add(l);
        refilter();
      });
      return box;
    }), ...(selection ? [el('vscode-button', { secondary: '', id: 'clear-lasso' }, `Clear lasso (${selection.size})`)] : []));
    filters.querySelector('#clear-lasso')?.addEventListener('click', () => ((selection = undefined), refilter()));
  };
  const refilter = () => {
    mask = visibleMask(d, labelsOn, selection);
    drawFilters();
    schedule();
  };

  const draw = () => {
    const start = performance.now();
    const dpr = window.devicePixelRatio || 1;
    const g = canvas.getContext('2d')!;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, size.w, size.h);
    const r = Math.max(1.5, Math.min(4, 1.5 * Math.sqrt(t.scale / fitTransform(d, size.w, size.h).scale)));
    // One fill colour per label and grade (brightness × (1 − 0.2·grade)): a few state changes, then one rect per point.
    for (let c = 0; c < d.colourStart.length - 1; c++) {
      const from = d.colourStart[c]!;
      const to = d.colourStart[c + 1]!;
      if (from === to) continue;
      g.fillStyle = labelColour(LABELS[Math.floor(c / GRADES)]!, c % GRADES);
      for (let k = from; k < to; k++) {
        const i = d.byColour[k]!;
        if (!mask[i]) continue;
        const sx = d.x[i]! * t.scale + t.tx;
        const sy = -d.y[i]! * t.scale + t.ty;
        if (sx < -r || sy < -r || sx > size.w + r || sy > size.h + r) continue;
        g.fillRect(sx - r, sy - r, 2 * r, 2 * r);
      }
    }
    if (hovered >= 0) {
      const [sx, sy] = toScreen(t, d.x[hovered]!, d.y[hovered]!);
      g.strokeStyle = getComputedStyle(document.body).color;
      g.lineWidth = 1.5;
      g.strokeRect(sx - r - 2, sy - r - 2, 2 * r + 4, 2 * r + 4);
    }
    if (lasso && lasso.length > 1) {
      g.strokeStyle = getComputedStyle(document.body).color;
      g.setLineDash([4, 3]);
      g.beginPath();
      lasso.forEach(([mx, my], i) => {
        const [sx, sy] = toScreen(t, mx, my);
        if (i === 0) g.moveTo(sx, sy);
        else g.lineTo(sx, sy);
      });
      g.stroke();
      g.setLineDash([]);
    }
    return performance.now() - start;
  };
  const schedule = () => {
    if (pending) return;
    pending = true;
    const asked = performance.now();
    requestAnimationFrame(() => {
      pending = false;
      const drawMs = draw();
      const frameMs = performance.now() - asked;
      frameTimes.push(frameMs);
      drawTimes.push(drawMs);
      status.textContent = `${mask.reduce((a, b) => a + b, 0)} of ${d.n} features shown · last frame ${frameMs.toFixed(1)} ms (draw ${drawMs.toFixed(1)} ms)`;
      status.dataset.drawMs = drawMs.toFixed(3);
    });
  };
  const resize = () => {
    const rect = wrap.getBoundingClientRect();
    const w = Math.max(200, Math.floor(rect.width));
    const hgt = Math.max(200, Math.floor(window.innerHeight - rect.top - 40));
    const first = size.w === 0;
    size = { w, h: hgt };
    const dpr = window.devicePixelRatio || 1;
    canvas.width = w * dpr;
    canvas.height = hgt * dpr;
    canvas.style.width = `${w}px`;
    canvas.style.height = `${hgt}px`;
    if (first) t = fitTransform(d, w, hgt);
    schedule();
  };

  // --- input: pan, zoom, lasso, hover, click
  let drag: { x: number; y: number; moved: boolean; lasso: boolean } | undefined;
  const local = (e: MouseEvent): [number, number] => {
    const rect = canvas.getBoundingClientRect();
    return [e.clientX - rect.left, e.clientY - rect.top];
  };
  const endGesture = () => {
    if (frameTimes.length) {
      ctx.rpc.measure('feature map frame ms', frameTimes.splice(0));
      ctx.rpc.measure('feature map draw ms', drawTimes.splice(0));
    }
  };
  canvas.addEventListener('pointerdown', (e) => {
    const [x, y] = local(e);
    canvas.setPointerCapture(e.pointerId);
    drag = { x, y, moved: false, lasso: e.shiftKey };
    frameTimes.length = drawTimes.length = 0;
    if (e.shiftKey) lasso = [toMap(t, x, y)];
  });
  canvas.addEventListener('pointermove', (e) => {
    const [x, y] = local(e);
    if (drag) {
      if (Math.abs(x - drag.x) + Math.abs(y - drag.y) > 2) drag.moved = true;
      if (drag.lasso) lasso!.push(toMap(t, x, y));
      else t = pan(t, x - drag.x, y - drag.y);
      drag.x = x;
      drag.y = y;
      schedule();
      return;
    }
    const [mx, my] = toMap(t, x, y);
    const i = grid.nearest(mx, my, 8 / t.scale, mask);
    if (i !== hovered) {
      hovered = i;
      schedule();
    }
    if (i < 0) return void tooltip.setAttribute('hidden', '');
    const p = d.points[i]!;
    tooltip.textContent = `feature ${p.feature} · ${p.label}${p.grade === null ? '' : ` (grade ${p.grade})`}${p.name ? ` · ${p.name}` : ''}`;
    tooltip.style.left = `${x + 12}px`;
    tooltip.style.top = `${y + 12}px`;
    tooltip.removeAttribute('hidden');
  });
  canvas.addEventListener('pointerup', (e) => {
    const was = drag;
    drag = undefined;
    if (was?.lasso && lasso) {
      selection = lassoSelect(d, lasso, visibleMask(d, labelsOn));
      lasso = undefined;
      refilter();
    } else if (was && !was.moved && hovered >= 0) {
      ctx.command('audioSae.showFeaturePage', { feature: d.points[hovered]!.feature, layer: h.layer, backbone: h.backbone });
    }
    endGesture();
    void e;
  });
  canvas.addEventListener('wheel', (e) => {
    e.preventDefault();
    const [x, y] = local(e);
    t = zoomAt(t, x, y, Math.exp(-e.deltaY / 300));
    schedule();
  }, { passive: false });
  canvas.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && selection) ((selection = undefined), refilter());
    if (e.key === '0') ((t = fitTransform(d, size.w, size.h)), schedule());
  });
  canvas.addEventListener('pointerleave', () => tooltip.setAttribute('hidden', ''));

  drawFilters();
  const help = el('p', { class: 'hint' }, 'Drag to pan, wheel to zoom, Shift-drag to lasso, 0 to fit; hover for a feature, click to open its page.');
  ctx.render({
    title: `Feature map · layer ${h.layer} · ${view.method}`,
    body: [filters, help, wrap, status],
    exports: {
      name: () => `feature-map-layer-${h.layer}`,
      rows: () => exportRows(view.points.filter((_, i) => mask[i]), columns),
      extra: () => ({ run: h, method: view.method }),
      canvas: () => canvas,
    },
  });
  new ResizeObserver(resize).observe(wrap);
  resize();
}
