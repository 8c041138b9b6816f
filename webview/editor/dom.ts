/** Element creation for the editor webview (no framework: a handful of elements, built once). */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Record<string, string>, text?: string): HTMLElementTagNameMap[K];
export function el(tag: string, attrs?: Record<string, string>, text?: string): HTMLElement;
export function el(tag: string, attrs: Record<string, string> = {}, text?: string): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A <vscode-single-select> with options [value, label]. */
export function select(id: string, label: string, options: Array<[string, string]>, value?: string): HTMLElement & { value: string } {
  const s = el('vscode-single-select', { id, 'aria-label': label }) as HTMLElement & { value: string };
  setOptions(s, options);
  if (value !== undefined) setValue(s, value);
  return s;
}

/**
 * Sets a select's value, again once the element has rendered options that were just replaced (it picks up
 * new <vscode-option> children asynchronously, and a value set before that falls back to the first option).
 */
export function setValue(s: HTMLElement & { value: string }, value: string): void {
  s.value = value;
  void customElements.whenDefined(s.localName).then(() => (s as unknown as { updateComplete?: Promise<unknown> }).updateComplete).then(() => {
    requestAnimationFrame(() => {
      if (s.value !== value) s.value = value;
    });
  });
}

export function setOptions(s: HTMLElement & { value: string }, options: Array<[string, string]>, disabled: string[] = []): void {
  s.replaceChildren(...options.map(([value, label]) => el('vscode-option', { value, ...(disabled.includes(value) ? { disabled: '' } : {}) }, label)));
}

/** A <vscode-button>; icon-only when no text is given. */
export function button(id: string, title: string, icon: string, text?: string, secondary = false): HTMLElement {
  const b = el('vscode-button', { id, title, 'aria-label': title, icon, ...(text ? {} : { 'icon-only': '' }), ...(secondary ? { secondary: '' } : {}) }, text);
  return b;
}

export function numberField(id: string, label: string, value: number, min: number, max: number): HTMLElement & { value: string } {
  return el('vscode-textfield', { id, type: 'number', min: String(min), max: String(max), value: String(value), 'aria-label': label, title: label, class: 'number' }) as HTMLElement & { value: string };
}
