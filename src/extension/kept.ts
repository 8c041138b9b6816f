/**
 * Answers kept for a while: a map from key to value that forgets the least recently used past `limit`. The Feature
 * page keeps its profiles and duplicates in one, the corpus panels their feature maps, each keyed by what the
 * answer depends on (store, run, layer, feature, run state), so a key never hands back a stale answer.
 */
export class Kept<V> {
  private readonly values = new Map<string, V>();

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`Kept: limit ${limit} is not a positive whole number`);
  }

  /** The value under `key`, which then counts as just used. */
  get(key: string): V | undefined {
    const v = this.values.get(key);
    if (v !== undefined) this.set(key, v);
    return v;
  }

  set(key: string, value: V): void {
    this.values.delete(key);
    this.values.set(key, value);
    while (this.values.size > this.limit) this.values.delete(this.values.keys().next().value!);
  }

  get size(): number {
    return this.values.size;
  }
}

/** The key of an answer about one layer of one run: the store, run, layer, the run's state and any more parts. */
export function answerKey(run: { storePath: string; runId: string; layer: number }, runState: string, ...more: Array<string | number>): string {
  return [run.storePath, run.runId, run.layer, runState, ...more].join('\n');
}
