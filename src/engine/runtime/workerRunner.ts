/**
 * A ModelRunner whose sessions live in the engine worker (worker.ts). Each request has an id and a timeout;
 * error replies reject the request; if the worker dies or the runner is disposed, every pending request
 * rejects. A feed that owns its whole buffer is transferred, not copied (callers must not reuse it afterwards);
 * a feed that is a view of part of a larger buffer is copied, so the rest of that buffer stays usable.
 */
import { Worker } from 'node:worker_threads';
import { AudioSaeError } from '../errors.ts';
import { forTransfer, type ExecutionProviderChoice, type WorkerReply, type WorkerRequest } from '../../shared/workerProtocol.ts';
import type { HostTensor, ModelRunner, ModelSource } from './types.ts';

type Pending = { resolve: (r: WorkerReply & { type: 'ok' }) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };
type RequestBody = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never;

export interface WorkerRunnerOptions {
  executionProvider?: ExecutionProviderChoice;
  /** Per-request timeout; model loads and runs of long audio can take minutes. */
  timeoutMs?: number;
}

/** Starts the worker from the bundle (dist/engine-worker.cjs) or, when running from source, through tsx. */
function startWorker(): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    const url = new URL('./worker.ts', here).href;
    return new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url)}); });`, { eval: true });
  }
  return new Worker(new URL('./engine-worker.cjs', here));
}

export class WorkerRunner implements ModelRunner {
  private readonly pending = new Map<number, Pending>();
  private readonly loaded = new Set<string>();
  private nextId = 1;
  private dead: Error | undefined;
  private disposed: Promise<void> | undefined;
  provider: { name: string; notes: string[] } = { name: 'unknown', notes: [] };

  private constructor(private readonly worker: Worker, private readonly timeoutMs: number) {
    worker.on('message', (m: WorkerReply) => this.onReply(m));
    worker.on('error', (e) => this.fail(new Error(`the engine worker crashed: ${e.message}`)));
    worker.on('exit', (code) => this.fail(new Error(`the engine worker stopped (exit code ${code})`)));
  }

  static async create(options: WorkerRunnerOptions = {}): Promise<WorkerRunner> {
    const runner = new WorkerRunner(startWorker(), options.timeoutMs ?? 30 * 60_000);
    try {
      // Probing providers can take a while on a cold start, whatever the per-request timeout.
      const r = await runner.request({ type: 'init', executionProvider: options.executionProvider ?? 'auto' }, [], 120_000);
      runner.provider = r.provider!;
    } catch (e) {
      await runner.dispose();
      throw e;
    }
    return runner;
  }

  private onReply(m: WorkerReply): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.type === 'ok') p.resolve(m);
    else p.reject(m.userError ? new AudioSaeError(m.message.replace(m.file ? `${m.file}: ` : '', ''), m.file) : new Error(m.message));
  }

  private fail(error: Error): void {
    this.dead ??= error;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(error);
      this.pending.delete(id);
    }
  }

  private request(body: RequestBody, transfer: ArrayBuffer[] = [], timeoutMs = this.timeoutMs): Promise<WorkerReply & { type: 'ok' }> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`the engine worker did not answer a "${body.type}" request within ${timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`}`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.worker.postMessage({ ...body, id } as WorkerRequest, transfer);
    });
  }

  has(key: string): boolean {
    return this.loaded.has(key);
  }

  async load(key: string, source: () => ModelSource | Promise<ModelSource>): Promise<void> {
    if (this.loaded.has(key)) return;
    const src = await source();
    const r = await this.request({ type: 'load', key, source: src });
    if (r.provider) this.provider = r.provider;
    this.loaded.add(key);
  }

  async run(key: string, feeds: Record<string, HostTensor>, outputNames?: string[]): Promise<Record<string, HostTensor>> {
    const sent = forTransfer(feeds);
    const r = await this.request({ type: 'run', key, feeds: sent.tensors, outputNames }, sent.transfer);
    if (r.provider) this.provider = r.provider;
    return r.outputs!;
  }

  async unload(key: string): Promise<void> {
    this.loaded.delete(key);
    await this.request({ type: 'unload', key });
  }

  /**
   * Rejects every pending request at once, then lets the worker finish the run in progress (onnxruntime cannot
   * be interrupted safely mid-run), release its sessions and exit.
   */
  async dispose(): Promise<void> {
    if (this.disposed) return this.disposed;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    const alive = !this.dead;
    this.fail(new Error('the engine worker was stopped'));
    if (alive) this.worker.postMessage({ type: 'shutdown', id: 0 } satisfies WorkerRequest);
    this.disposed = exited;
    return exited;
  }
}
