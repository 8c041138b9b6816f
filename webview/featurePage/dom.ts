/** Small DOM helpers and number formats of the Feature page. */
const SVG = 'http://www.w3.org/2000/svg';

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

export function svg(tag: string, attrs: Record<string, string | number>): SVGElement {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

export const basename = (p: string) => p.split(/[\\/]/).pop() ?? p;
export const pct = (v: number) => `${(100 * v).toFixed(2)} %`;
export const num = (v: number | null) => (v === null ? '–' : Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3));

export function section(title: string, ...children: Node[]): HTMLElement {
  const s = el('section');
  s.append(el('h2', {}, title), ...children);
  return s;
}
