/**
 * The host side of the job worker (no `vscode` import: the extension, tests and tools use it alike). Starts the
 * worker on first use (dist/jobs-worker.cjs from the bundle, src/engine/jobs/worker.ts through tsx from source),
 * gives each job an id, routes its progress to the caller, resolves with its result or rejects with its error,
 * and forwards cancellation. If the worker dies, every pending job rejects and the next job starts a new one.
 */
import { Worker } from 'node:worker_threads';
import { AudioSaeError } from '../errors.ts';
import { assertNever, type HostToJob, type JobProgress, type JobResult, type JobSpec, type JobToHost } from '../../shared/jobProtocol.ts';

interface Pending {
  resolve: (r: JobResult) => void;
  reject: (e: Error) => void;
  onProgress?: (p: JobProgress) => void;
}

function startWorker(): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    const url = new URL('./worker.ts', here).href;
    return new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url)}); });`, { eval: true });
  }
  return new Worker(new URL('./jobs-worker.cjs', here));
}

export interface JobHandle<R extends JobResult = JobResult> {
  readonly jobId: number;
  readonly result: Promise<R>;
  cancel(): void;
}

type ResultOf<S extends JobSpec> = Extract<JobResult, { kind: S['kind'] }>;

export class JobClient {
  private worker: Worker | undefined;
  private next = 1;
  private readonly pending = new Map<number, Pending>();

  /** Starts a job; `onProgress` sees its progress messages; `signal` cancels it. */
  start<S extends JobSpec>(spec: S, options: { onProgress?: (p: JobProgress) => void; signal?: AbortSignal } = {}): JobHandle<ResultOf<S>> {
    const worker = this.ensureWorker();
    const jobId = this.next++;
    const result = new Promise<ResultOf<S>>((resolve, reject) => {
      this.pending.set(jobId, { resolve: resolve as (r: JobResult) => void, reject, onProgress: options.onProgress });
    });
    const cancel = () => {
      if (this.pending.has(jobId)) this.post(worker, { type: 'cancel', jobId });
    };
    if (options.signal?.aborted) queueMicrotask(cancel);
    options.signal?.addEventListener('abort', cancel, { once: true });
    worker.ref(); // kept alive while jobs run, let go when idle
    this.post(worker, { type: 'start', jobId, spec });
    return { jobId, result, cancel };
  }

  /** Jobs started and not answered yet. */
  get active(): number {
    return this.pending.size;
  }

  async dispose(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.failAll(new Error('The job worker was stopped.'));
    await w?.terminate();
  }

  private post(worker: Worker, m: HostToJob): void {
    worker.postMessage(m);
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = startWorker();
    w.unref();
    w.on('message', (m: JobToHost) => this.receive(m));
    w.on('error', (e) => this.lost(w, e));
    w.on('exit', (code) => this.lost(w, new Error(`The job worker exited (code ${code}).`)));
    this.worker = w;
    return w;
  }

  private lost(w: Worker, e: Error): void {
    if (this.worker !== w) return;
    this.worker = undefined;
    this.failAll(e);
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private receive(m: JobToHost): void {
    const p = this.pending.get(m.jobId);
    if (!p) return;
    if (m.type !== 'progress' && this.pending.size === 1) this.worker?.unref();
    switch (m.type) {
      case 'progress':
        p.onProgress?.(m.progress);
        return;
      case 'result':
        this.pending.delete(m.jobId);
        p.resolve(m.result);
        return;
      case 'error':
        this.pending.delete(m.jobId);
        p.reject(m.userError ? new AudioSaeError(m.message) : new Error(m.message));
        return;
      default:
        assertNever(m);
    }
  }
}
