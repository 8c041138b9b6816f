/**
 * Messages between the engine (main thread) and the engine worker that owns the onnxruntime sessions.
 * Every request carries an id; the worker answers each with exactly one `ok` or `error` reply of that id.
 * Tensor data crosses as transferred ArrayBuffers.
 */
import type { HostTensor, ModelSource } from '../engine/runtime/types.ts';

export type ExecutionProviderChoice = 'auto' | 'cuda' | 'dml' | 'coreml' | 'webgpu' | 'cpu';

export type WorkerRequest =
  | { type: 'init'; id: number; executionProvider: ExecutionProviderChoice }
  | { type: 'load'; id: number; key: string; source: ModelSource }
  | { type: 'run'; id: number; key: string; feeds: Record<string, HostTensor>; outputNames?: string[] }
  | { type: 'unload'; id: number; key: string }
  /** Finish the request in progress, release every session and exit (terminating mid-run would abort natively). */
  | { type: 'shutdown'; id: number };

export type WorkerReply =
  | { type: 'ok'; id: number; provider?: { name: string; notes: string[] }; outputs?: Record<string, HostTensor> }
  | { type: 'error'; id: number; message: string; userError: boolean; file?: string };

export function assertNever(x: never): never {
  throw new Error(`unexpected message: ${JSON.stringify(x)}`);
}

/** The ArrayBuffers behind a set of tensors, for a transfer list (each buffer once). */
export function transferablesOf(tensors: Record<string, HostTensor> | undefined): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const t of Object.values(tensors ?? {})) {
    if (t.data.buffer instanceof ArrayBuffer) out.add(t.data.buffer);
  }
  return [...out];
}
