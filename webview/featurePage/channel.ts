/**
 * The Feature page's side of its messages with the host (src/extension/sidebar/protocol.ts): requests carry an
 * id, and every message with that id goes to the request's handler until a final reply (a job's `jobProgress`
 * messages come before its `profile` / `duplicates` / `failed`).
 */
import type { HostToPage, PageToHost } from '../../src/extension/sidebar/protocol.ts';

declare function acquireVsCodeApi(): { postMessage(m: PageToHost): void; getState(): unknown; setState(s: unknown): void };
export const vscode = acquireVsCodeApi();

type Reply = Extract<HostToPage, { id: number }>;
let nextId = 1;
const pending = new Map<number, (m: Reply) => void>();

export function newId(): number {
  return nextId++;
}

export function request(m: PageToHost & { id: number }, onReply: (m: Reply) => void): void {
  pending.set(m.id, onReply);
  vscode.postMessage(m);
}

/** Hands a reply to its request's handler; progress keeps the request open. */
export function dispatchReply(m: Reply): void {
  const handler = pending.get(m.id);
  if (m.type !== 'jobProgress') pending.delete(m.id);
  handler?.(m);
}
