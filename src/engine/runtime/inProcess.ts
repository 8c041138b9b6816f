/**
 * A ModelRunner whose onnxruntime sessions live in the calling thread. Used by the worker itself and by
 * tools that own their thread; the extension and the CLI go through the worker instead, because
 * `InferenceSession.run` blocks the thread it runs on.
 *
 * Per-graph fallback: on a GPU provider, a graph whose session cannot be created, or whose first run fails
 * (an operator the provider does not support, a kernel that fails to compile), is loaded again on the CPU and
 * run there, and a note naming the graph and the reason is added to `provider.notes`. `placement` says where
 * each loaded graph runs. A failure after a graph's first successful run is an error, as on the CPU.
 */
import * as ort from 'onnxruntime-node';
import type { HostTensor, ModelRunner, ModelSource } from './types.ts';

const CPU_OPTIONS: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'] };

/**
 * onnxruntime starts a thread per core unless told otherwise; a scheduler's share of a node is what a task may use.
 * AUDIOSAE_THREADS, else Slurm's SLURM_CPUS_PER_TASK, sets the threads per graph; neither set: onnxruntime's choice.
 */
export function threadOptions(env: NodeJS.ProcessEnv = process.env): { intraOpNumThreads?: number } {
  for (const name of ['AUDIOSAE_THREADS', 'SLURM_CPUS_PER_TASK']) {
    const v = Number(env[name]);
    if (Number.isInteger(v) && v >= 1) return { intraOpNumThreads: v };
  }
  return {};
}

/** A graph's key made short enough for a note: cache paths lose their folders, long keys their middle. */
export function graphLabel(key: string): string {
  const short = key.replace(/(?:[^:\s]*\/)+([^/:\s]+\/[^/:\s]+)/g, '…/$1');
  return short.length > 90 ? `${short.slice(0, 60)}…${short.slice(-28)}` : short;
}

const firstLine = (e: unknown) => String((e as Error)?.message ?? e).replace(/\s+/g, ' ').trim().slice(0, 240);

interface Loaded {
  session: ort.InferenceSession;
  source: ModelSource;
  onCpu: boolean;
  /** Set once a run succeeded: from then on a failure is the graph's own error, not a provider's. */
  proven: boolean;
}

export class InProcessRunner implements ModelRunner {
  private readonly sessions = new Map<string, Loaded>();
  private readonly onGpu: boolean;

  constructor(
    readonly provider: { name: string; notes: string[] } = { name: 'cpu', notes: [] },
    private readonly sessionOptions: ort.InferenceSession.SessionOptions = CPU_OPTIONS,
  ) {
    this.onGpu = provider.name !== 'cpu';
  }

  has(key: string): boolean {
    return this.sessions.has(key);
  }

  /** Where each loaded graph runs: the provider's name, or "cpu" for a graph that fell back. */
  placement(): Record<string, string> {
    return Object.fromEntries([...this.sessions].map(([k, s]) => [k, s.onCpu ? 'cpu' : this.provider.name]));
  }

  private static create(src: ModelSource, options: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> {
    const o = { ...options, ...threadOptions() };
    return src.path ? ort.InferenceSession.create(src.path, o) : ort.InferenceSession.create(src.bytes!, o);
  }

  private fallBack(key: string, what: string, e: unknown): void {
    this.provider.notes.push(`${graphLabel(key)}: runs on the CPU (${this.provider.name} ${what}: ${firstLine(e)})`);
  }

  async load(key: string, source: () => ModelSource | Promise<ModelSource>): Promise<void> {
    if (this.sessions.has(key)) return;
    const src = await source();
    if (!this.onGpu) {
      this.sessions.set(key, { session: await InProcessRunner.create(src, this.sessionOptions), source: src, onCpu: true, proven: true });
      return;
    }
    try {
      this.sessions.set(key, { session: await InProcessRunner.create(src, this.sessionOptions), source: src, onCpu: false, proven: false });
    } catch (e) {
      const session = await InProcessRunner.create(src, CPU_OPTIONS); // a graph broken for the CPU too throws here
      this.fallBack(key, 'could not create the session', e);
      this.sessions.set(key, { session, source: src, onCpu: true, proven: true });
    }
  }

  private static async runSession(session: ort.InferenceSession, feeds: Record<string, HostTensor>, outputNames?: string[]): Promise<Record<string, HostTensor>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(t.type, t.data, t.dims);
    const results = outputNames ? await session.run(ortFeeds, outputNames) : await session.run(ortFeeds);
    const out: Record<string, HostTensor> = {};
    for (const [name, t] of Object.entries(results)) {
      out[name] = { type: t.type as HostTensor['type'], dims: [...t.dims], data: t.data as HostTensor['data'] };
    }
    return out;
  }

  async run(key: string, feeds: Record<string, HostTensor>, outputNames?: string[]): Promise<Record<string, HostTensor>> {
    const loaded = this.sessions.get(key);
    if (!loaded) throw new Error(`model ${key} is not loaded`);
    if (loaded.proven) return InProcessRunner.runSession(loaded.session, feeds, outputNames);
    try {
      const out = await InProcessRunner.runSession(loaded.session, feeds, outputNames);
      loaded.proven = true;
      return out;
    } catch (e) {
      const session = await InProcessRunner.create(loaded.source, CPU_OPTIONS);
      let out: Record<string, HostTensor>;
      try {
        out = await InProcessRunner.runSession(session, feeds, outputNames);
      } catch (cpuError) {
        // Fails on the CPU too: the inputs' or the graph's own error, not the provider's; nothing moves.
        await session.release().catch(() => undefined);
        throw cpuError;
      }
      await loaded.session.release().catch(() => undefined);
      Object.assign(loaded, { session, onCpu: true, proven: true });
      this.fallBack(key, 'failed its first run', e);
      return out;
    }
  }

  async unload(key: string): Promise<void> {
    const s = this.sessions.get(key);
    this.sessions.delete(key);
    await s?.session.release();
  }

  async dispose(): Promise<void> {
    for (const key of [...this.sessions.keys()]) await this.unload(key);
  }
}
