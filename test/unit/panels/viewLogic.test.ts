// The result panels' view logic without a browser: table filtering and sorting, metric curves over layers,
// the Figure 2 stacks and layer clicks, and the feature map's transform, nearest point, label filter and lasso
// (the nearest point through the grid checked against a scan of every point).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LayerSummaryRow } from '../../../src/engine/interp/classify.ts';
import type { CorpusMetricsRow } from '../../../src/engine/store/corpusMetrics.ts';
import type { FeatureMapPoint, MetricsView } from '../../../src/shared/panelProtocol.ts';
import { parseCorpusRequest, parsePanelMessage } from '../../../src/shared/panelProtocol.ts';
import { rowsToCsv } from '../../../src/shared/rowsText.ts';
import { exportRows, formatNumber, visibleRows, type Column } from '../../../webview/panels/common/tableModel.ts';
import { layerAt, stackedBars } from '../../../webview/panels/views/classificationModel.ts';
import {
  fitTransform, GRADES, inPolygon, labelCounts, lassoSelect, mapData, PointGrid, toMap, toScreen, visibleMask, zoomAt,
} from '../../../webview/panels/views/mapModel.ts';
import { metricColumns, metricCurves } from '../../../webview/panels/views/metricsModel.ts';

interface R { feature: number; label: string; max: number | null }
const cols: Column<R>[] = [
  { key: 'feature', title: 'feature', value: (r) => r.feature, numeric: true },
  { key: 'label', title: 'label', value: (r) => r.label },
  { key: 'max', title: 'max', value: (r) => r.max, numeric: true },
];
const rows: R[] = [
  { feature: 3, label: 'music', max: 2.5 }, { feature: 10, label: 'speech', max: 0.5 }, { feature: 7, label: 'music', max: null }, { feature: 1, label: 'sounds', max: 9 },
];

test('table: words, column:value and column>n filters, stable sorts with empty cells last, export of what is shown', () => {
  assert.deepEqual(visibleRows(rows, cols, { filter: 'music' }).map((r) => r.feature), [3, 7]);
  assert.deepEqual(visibleRows(rows, cols, { filter: 'label:music max>1' }).map((r) => r.feature), [3]);
  assert.deepEqual(visibleRows(rows, cols, { filter: 'max<1' }).map((r) => r.feature), [10]);
  assert.deepEqual(visibleRows(rows, cols, { filter: 'feature:10' }).map((r) => r.feature), [10]);
  assert.deepEqual(visibleRows(rows, cols, { filter: '', sortKey: 'max', descending: true }).map((r) => r.feature), [1, 3, 10, 7]);
  assert.deepEqual(visibleRows(rows, cols, { filter: '', sortKey: 'max' }).map((r) => r.feature), [10, 3, 1, 7]);
  assert.deepEqual(visibleRows(rows, cols, { filter: '', sortKey: 'label' }).map((r) => r.feature), [3, 7, 1, 10]);
  assert.equal(rowsToCsv(exportRows(visibleRows(rows, cols, { filter: 'music' }), cols)), 'feature,label,max\n3,music,2.5\n7,music,\n');
  assert.deepEqual([formatNumber(0.000012345), formatNumber(1.23456), formatNumber(42), formatNumber(12345678.9), formatNumber(15e6)], ['1.234e-5', '1.235', '42', '1.235e+7', '15000000']);
});

const metricRow = (domain: string | null, v: number): CorpusMetricsRow => ({
  domain, clips: 2, frames: 100, zeroNormFrames: 0, aliveFeatures: 10, dictSize: 16,
  l0: v, mse: v, l2: v, normalizedL2: v, nmse: v, fve: v, cosine: v, normRatio: v, aliveFraction: v,
});

test('metrics: a curve per metric over layers, one series per group; none for one layer; formulas as hints', () => {
  const view: MetricsView = {
    kind: 'metrics', heading: { store: 's', runId: 'r', backbone: 'b', sae: 'x', mode: 'threshold', layers: [1, 2], layer: 2, dictSize: 16, clips: 2 },
    rows: [metricRow(null, 2), metricRow('music', 3)],
    perLayer: [{ layer: 1, rows: [metricRow(null, 1), metricRow('music', Number.NaN)] }, { layer: 2, rows: [metricRow(null, 2), metricRow('music', 3)] }],
    formulas: { fve: 'FVE = …' },
  };
  const curves = metricCurves(view);
  assert.equal(curves.length, 9);
  assert.deepEqual(curves[0]!.series.map((s) => s.group), ['corpus', 'music']);
  assert.deepEqual(curves[0]!.series[0]!.points, [{ layer: 1, value: 1 }, { layer: 2, value: 2 }]);
  assert.deepEqual(curves[0]!.series[1]!.points, [{ layer: 2, value: 3 }], 'a NaN is left out, not drawn as 0');
  assert.equal(metricColumns(view).find((c) => c.key === 'fve')!.hint, 'FVE = …');
  assert.deepEqual(metricCurves({ ...view, perLayer: view.perLayer.slice(0, 1) }), []);
});

test('classification: stacked segments partition 100 % per layer; a click position picks its layer', () => {
  const row = (layer: number, c: number[]): LayerSummaryRow => {
    const [speech, sounds, music, shared, unassigned, dead] = c as [number, number, number, number, number, number];
    const pct = (n: number) => (100 * n) / 20;
    return { layer, level: 'frame', features: 20, speech, sounds, music, shared, unassigned, dead, speechPct: pct(speech), soundsPct: pct(sounds), musicPct: pct(music), sharedPct: pct(shared), unassignedPct: pct(unassigned), deadPct: pct(dead) };
  };
  const bars = stackedBars([row(1, [5, 5, 5, 2, 2, 1]), row(2, [10, 0, 0, 0, 0, 10])]);
  assert.deepEqual(bars[0]!.segments.map((s) => [s.segment, s.y0, s.y1]), [['speech', 0, 25], ['sounds', 25, 50], ['music', 50, 75], ['shared', 75, 85], ['unassigned', 85, 95], ['dead', 95, 100]]);
  assert.equal(bars[1]!.segments.at(-1)!.y1, 100);
  assert.deepEqual([layerAt(0, 300, [1, 2, 3]), layerAt(150, 300, [1, 2, 3]), layerAt(299, 300, [1, 2, 3]), layerAt(300, 300, [1, 2, 3])], [1, 2, 3, undefined]);
});

test('feature map: transforms invert, zoom keeps the pointer fixed, the grid finds the nearest visible point, lasso and label filter', () => {
  let seed = 11;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const labels = ['speech', 'sounds', 'music', 'unassigned', 'dead'] as const;
  const points: FeatureMapPoint[] = Array.from({ length: 10240 }, (_, i) => ({ feature: i, x: 40 * rand() - 20, y: 30 * rand() - 5, label: labels[i % 5]!, grade: i % 5 < 3 ? (i >> 3) % 5 : null }));
  const d = mapData(points);
  // The colour buckets hold every point once, each in the bucket of its label and grade, in index order.
  assert.deepEqual([...d.byColour].sort((a, b) => a - b), [...Array(d.n).keys()]);
  for (let c = 0; c + 1 < d.colourStart.length; c++) {
    const bucket = [...d.byColour.subarray(d.colourStart[c]!, d.colourStart[c + 1]!)];
    const want = [...Array(d.n).keys()].filter((i) => d.label[i]! * GRADES + d.grade[i]! === c);
    assert.deepEqual(bucket, want, `colour bucket ${c}`);
  }
  assert.equal([...Array(d.colourStart.length - 1).keys()].filter((c) => d.colourStart[c + 1]! > d.colourStart[c]!).length, 3 * GRADES + 2);
  const t = fitTransform(d, 800, 600);
  const [sx, sy] = toScreen(t, d.bounds.x0, d.bounds.y1);
  assert.ok(sx >= 15.99 && sy >= 15.99, 'the top-left point lies inside the margin');
  const [mx, my] = toMap(t, 123, 456);
  assert.deepEqual(toScreen(t, mx, my).map((v) => Math.round(v * 1e6) / 1e6), [123, 456]);
  const z = zoomAt(t, 200, 300, 3);
  assert.deepEqual(toMap(z, 200, 300).map((v) => v.toFixed(9)), toMap(t, 200, 300).map((v) => v.toFixed(9)));

  const grid = new PointGrid(d);
  const mask = visibleMask(d, new Set(['music', 'dead']));
  for (let q = 0; q < 200; q++) {
    const x = 44 * rand() - 22, y = 34 * rand() - 7, radius = 0.05 + 1.5 * rand();
    let best = -1, bestD = radius * radius;
    for (let i = 0; i < d.n; i++) {
      if (!mask[i]) continue;
      const dd = (d.x[i]! - x) ** 2 + (d.y[i]! - y) ** 2;
      if (dd <= bestD) (bestD = dd), (best = i);
    }
    const got = grid.nearest(x, y, radius, mask);
    assert.equal(got === -1 ? -1 : (d.x[got]! - x) ** 2 + (d.y[got]! - y) ** 2, best === -1 ? -1 : bestD, `query ${q}`);
  }
  assert.deepEqual(labelCounts(d, mask), { speech: 0, sounds: 0, music: 2048, unassigned: 0, dead: 2048 });

  const square: [number, number][] = [[0, 0], [10, 0], [10, 10], [0, 10]];
  assert.ok(inPolygon(5, 5, square) && !inPolygon(11, 5, square));
  const picked = lassoSelect(d, square, mask);
  const expected = points.filter((p, i) => mask[i] && p.x > 0 && p.x < 10 && p.y > 0 && p.y < 10).length;
  assert.equal(picked.size, expected);
  assert.ok([...picked].every((i) => ['music', 'dead'].includes(points[i]!.label)));
  assert.equal(visibleMask(d, new Set(labels), picked).reduce((a, b) => a + b, 0), picked.size);
});

test('panel messages: only well-formed ones pass (ids, export formats and names, known commands with checked arguments)', () => {
  const q = parseCorpusRequest;
  assert.deepEqual(parsePanelMessage({ type: 'request', id: 3, request: { type: 'layer', layer: 2 } }, q), { type: 'request', id: 3, request: { type: 'layer', layer: 2 } });
  assert.equal(parsePanelMessage({ type: 'request', id: 3, request: { type: 'layer', layer: 0 } }, q), undefined);
  assert.equal(parsePanelMessage({ type: 'request', id: -1, request: { type: 'layer', layer: 2 } }, q), undefined);
  assert.equal(parsePanelMessage({ type: 'export', id: 1, format: 'csv', name: '../../etc/passwd', text: 'x' }, q), undefined);
  assert.equal(parsePanelMessage({ type: 'export', id: 1, format: 'exe', name: 'a', text: 'x' }, q), undefined);
  assert.equal(parsePanelMessage({ type: 'export', id: 1, format: 'png', name: 'a', text: 'x' }, q), undefined);
  assert.ok(parsePanelMessage({ type: 'export', id: 1, format: 'png', name: 'map-layer-2', bytes: new ArrayBuffer(4) }, q));
  assert.ok(parsePanelMessage({ type: 'command', id: 2, command: 'audioSae.openClipAt', arg: { path: '/a.wav', time_s: 1.5, feature: 3, layer: 2 } }, q));
  assert.equal(parsePanelMessage({ type: 'command', id: 2, command: 'workbench.action.terminal.new', arg: {} }, q), undefined);
  assert.equal(parsePanelMessage({ type: 'command', id: 2, command: 'audioSae.openClipAt', arg: { path: '/a.wav', time_s: -1, feature: 3, layer: 2 } }, q), undefined);
  assert.equal(parsePanelMessage({ type: 'command', id: 2, command: 'audioSae.showFeaturePage', arg: { feature: 1.5, layer: 2, backbone: 'b' } }, q), undefined);
  assert.equal(parsePanelMessage({ type: 'measure', name: 'frames', values: [1, Number.NaN] }, q), undefined);
  assert.equal(parsePanelMessage('ready', q), undefined);
});
