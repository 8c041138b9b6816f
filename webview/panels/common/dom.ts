/** Element helpers for the panel webviews (no framework: a few elements per panel, rebuilt per view). */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Record<string, string>, ...children: (Node | string)[]): HTMLElementTagNameMap[K];
export function el(tag: string, attrs?: Record<string, string>, ...children: (Node | string)[]): HTMLElement;
export function el(tag: string, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

/** A <vscode-button> with a codicon; `onClick` runs on click and on Enter/Space (the element handles keys). */
export function button(text: string, icon: string, onClick: () => void, attrs: Record<string, string> = {}): HTMLElement {
  const b = el('vscode-button', { icon, title: text, 'aria-label': text, secondary: '', ...attrs }, text);
  b.addEventListener('click', onClick);
  return b;
}
