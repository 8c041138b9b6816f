/**
 * The d3 charts of the panels, drawn into <svg> elements sized by their container: small multiples of line
 * curves over layers, and stacked bars per layer (the paper's Figure 2) with a click per layer.
 */
import { axisBottom, axisLeft, line, scaleBand, scaleLinear, scaleOrdinal, scalePoint, select } from 'd3';

const SVG = 'http://www.w3.org/2000/svg';
export const SERIES_COLOURS = ['#d4d4d4', '#4e9ce6', '#e0a030', '#5cbf6b', '#d0605e', '#b07cd8', '#4ec9b0', '#ce9178'];

export function svgElement(width: number, height: number, label: string): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  return svg;
}

export interface LineSeries {
  name: string;
  points: { x: number; y: number }[];
}

/** One small chart: series over integer x (layers), a title with a tooltip (the formula). */
export function lineChart(o: { title: string; hint?: string; series: LineSeries[]; width: number; height: number; xLabel: string; activeX?: number; onClickX?: (x: number) => void }): SVGSVGElement {
  const m = { top: 22, right: 10, bottom: 28, left: 48 };
  const svg = svgElement(o.width, o.height, o.title);
  const xs = [...new Set(o.series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const ys = o.series.flatMap((s) => s.points.map((p) => p.y));
  const x = scalePoint<number>().domain(xs).range([m.left, o.width - m.right]).padding(0.3);
  const lo = Math.min(...ys), hi = Math.max(...ys);
  const y = scaleLinear().domain(lo === hi ? [lo - 1, hi + 1] : [lo, hi]).nice().range([o.height - m.bottom, m.top]);
  const colour = scaleOrdinal<string, string>().domain(o.series.map((s) => s.name)).range(SERIES_COLOURS);
  const g = select(svg);
  const title = g.append('text').attr('class', 'chart-title').attr('x', m.left).attr('y', 14).text(o.title);
  if (o.hint) title.append('title').text(o.hint);
  g.append('g').attr('class', 'axis').attr('transform', `translate(0,${o.height - m.bottom})`).call(axisBottom(x).tickFormat((v) => String(v)));
  g.append('g').attr('class', 'axis').attr('transform', `translate(${m.left},0)`).call(axisLeft(y).ticks(4).tickFormat((v) => shortNumber(Number(v))));
  if (o.activeX !== undefined && x(o.activeX) !== undefined) {
    g.append('line').attr('class', 'active-x').attr('x1', x(o.activeX)!).attr('x2', x(o.activeX)!).attr('y1', m.top).attr('y2', o.height - m.bottom);
  }
  const path = line<{ x: number; y: number }>().x((p) => x(p.x)!).y((p) => y(p.y));
  for (const s of o.series) {
    g.append('path').attr('fill', 'none').attr('stroke', colour(s.name)).attr('stroke-width', 1.5).attr('d', path(s.points) ?? '');
    g.selectAll(null).data(s.points).enter().append('circle').attr('cx', (p) => x(p.x)!).attr('cy', (p) => y(p.y)).attr('r', 2.5).attr('fill', colour(s.name))
      .append('title').text((p) => `${s.name}, ${o.xLabel} ${p.x}: ${shortNumber(p.y)}`);
  }
  if (o.onClickX) {
    const step = xs.length > 1 ? x(xs[1]!)! - x(xs[0]!)! : o.width;
    g.selectAll(null).data(xs).enter().append('rect').attr('class', 'hit').attr('x', (v) => x(v)! - step / 2).attr('width', step)
      .attr('y', m.top).attr('height', o.height - m.top - m.bottom).attr('fill', 'transparent').on('click', (_e, v) => o.onClickX!(v));
  }
  return svg;
}

export function legend(names: string[], colours: (name: string) => string): HTMLElement {
  const box = document.createElement('div');
  box.className = 'legend';
  for (const n of names) {
    const item = document.createElement('span');
    const swatch = document.createElement('i');
    swatch.style.background = colours(n);
    item.append(swatch, n);
    box.append(item);
  }
  return box;
}

export function shortNumber(v: number): string {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e4 || a < 1e-2) return v.toExponential(1);
  return v.toPrecision(3).replace(/\.?0+$/, '');
}

/** Stacked bars, one per layer; segments from `stackedBars`; clicking a bar calls `onClick(layer)`. */
export function stackedBarChart(o: {
  bars: { layer: number; segments: { segment: string; y0: number; y1: number; count: number }[] }[];
  colours: Record<string, string>;
  width: number;
  height: number;
  activeLayer: number;
  onClick: (layer: number) => void;
}): SVGSVGElement {
  const m = { top: 12, right: 10, bottom: 32, left: 44 };
  const svg = svgElement(o.width, o.height, 'Features per label and layer');
  const x = scaleBand<number>().domain(o.bars.map((b) => b.layer)).range([m.left, o.width - m.right]).padding(0.15);
  const y = scaleLinear().domain([0, 100]).range([o.height - m.bottom, m.top]);
  const g = select(svg);
  g.append('g').attr('class', 'axis').attr('transform', `translate(0,${o.height - m.bottom})`).call(axisBottom(x).tickFormat((v) => String(v)));
  g.append('g').attr('class', 'axis').attr('transform', `translate(${m.left},0)`).call(axisLeft(y).ticks(5).tickFormat((v) => `${v}%`));
  g.append('text').attr('class', 'axis-label').attr('x', (m.left + o.width - m.right) / 2).attr('y', o.height - 2).attr('text-anchor', 'middle').text('layer');
  const bar = g.selectAll(null).data(o.bars).enter().append('g').attr('class', (b) => (b.layer === o.activeLayer ? 'bar active' : 'bar')).attr('data-layer', (b) => b.layer)
    .style('cursor', 'pointer').on('click', (_e, b) => o.onClick(b.layer));
  bar.selectAll('rect').data((b) => b.segments.map((s) => ({ ...s, layer: b.layer }))).enter().append('rect')
    .attr('x', (s) => x(s.layer)!).attr('width', x.bandwidth()).attr('y', (s) => y(s.y1)).attr('height', (s) => Math.max(0, y(s.y0) - y(s.y1)))
    .attr('fill', (s) => o.colours[s.segment] ?? '#888')
    .append('title').text((s) => `layer ${s.layer}: ${s.segment} ${s.count} (${(s.y1 - s.y0).toFixed(1)} %)`);
  g.selectAll('.bar.active').append('rect').attr('class', 'active-outline').attr('x', (b) => x((b as { layer: number }).layer)! - 1).attr('width', x.bandwidth() + 2)
    .attr('y', m.top - 1).attr('height', o.height - m.top - m.bottom + 2).attr('fill', 'none');
  return svg;
}
