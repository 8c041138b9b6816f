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

/**
 * Tensors ready to post with a transfer list: a tensor whose data is a view of part of a larger buffer (a
 * window of a clip, a subarray) is copied into a buffer of its own first, since transferring the parent buffer
 * would detach it (and every other view of it) for the sender. Data that spans its whole buffer is transferred
 * as it is, each buffer once; SharedArrayBuffers are shared, not transferred.
 */
export function forTransfer(tensors: Record<string, HostTensor>): { tensors: Record<string, HostTensor>; transfer: ArrayBuffer[] } {
  const out: Record<string, HostTensor> = {};
  const transfer = new Set<ArrayBuffer>();
  for (const [name, t] of Object.entries(tensors)) {
    const { data } = t;
    if (!(data.buffer instanceof ArrayBuffer)) {
      out[name] = t;
      continue;
    }
    const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
    const own = whole ? data : data.slice();
    out[name] = own === data ? t : { ...t, data: own };
    transfer.add(own.buffer as ArrayBuffer);
  }
  return { tensors: out, transfer: [...transfer] };
}
