/**
 * A ModelRunner whose onnxruntime sessions live in the calling thread. Used by the worker itself and by
 * tools that own their thread; the extension and the CLI go through the worker instead, because
 * `InferenceSession.run` blocks the thread it runs on.
 */
import * as ort from 'onnxruntime-node';
import type { HostTensor, ModelRunner, ModelSource } from './types.ts';

export class InProcessRunner implements ModelRunner {
  private readonly sessions = new Map<string, ort.InferenceSession>();

  constructor(
    readonly provider: { name: string; notes: string[] } = { name: 'cpu', notes: [] },
    private readonly sessionOptions: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'] },
  ) {}

  has(key: string): boolean {
    return this.sessions.has(key);
  }

  async load(key: string, source: () => ModelSource | Promise<ModelSource>): Promise<void> {
    if (this.sessions.has(key)) return;
    const src = await source();
    const session = src.path
      ? await ort.InferenceSession.create(src.path, this.sessionOptions)
      : await ort.InferenceSession.create(src.bytes!, this.sessionOptions);
    this.sessions.set(key, session);
  }

  async run(key: string, feeds: Record<string, HostTensor>, outputNames?: string[]): Promise<Record<string, HostTensor>> {
    const session = this.sessions.get(key);
    if (!session) throw new Error(`model ${key} is not loaded`);
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(t.type, t.data, t.dims);
    const results = outputNames ? await session.run(ortFeeds, outputNames) : await session.run(ortFeeds);
    const out: Record<string, HostTensor> = {};
    for (const [name, t] of Object.entries(results)) {
      out[name] = { type: t.type as HostTensor['type'], dims: [...t.dims], data: t.data as HostTensor['data'] };
    }
    return out;
  }

  async unload(key: string): Promise<void> {
    const s = this.sessions.get(key);
    this.sessions.delete(key);
    await s?.release();
  }

  async dispose(): Promise<void> {
    for (const key of [...this.sessions.keys()]) await this.unload(key);
  }
}
