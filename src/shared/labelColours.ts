/**
 * The colours of the classification labels, the paper's (Figure 2, the t-SNE map): speech red, sounds blue, music
 * green, shared purple, unassigned gray, dead near-black. Shared by the CLI's figures and the webview panels, so a
 * label has one colour everywhere.
 */
export const LABEL_COLOURS = {
  speech: '#d62728', sounds: '#1f77b4', music: '#2ca02c', shared: '#9467bd', unassigned: '#9e9e9e', dead: '#111111',
} as const;

export type ColouredLabel = keyof typeof LABEL_COLOURS;

/** A label's colour with brightness × (1 − 0.2·grade) (grade 0 = the strictest τ held), as #rrggbb. */
export function labelColour(label: string, grade: number | null = null): string {
  const hex = (LABEL_COLOURS as Record<string, string>)[label] ?? LABEL_COLOURS.unassigned;
  const k = Math.max(0, 1 - 0.2 * (grade ?? 0));
  const rgb = [1, 3, 5].map((i) => Math.round(parseInt(hex.slice(i, i + 2), 16) * k));
  return `#${rgb.map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}
