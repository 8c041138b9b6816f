/**
 * Feature maps once computed (PCA 50 + t-SNE: tens of seconds for 10 240 features), kept by the key of what they
 * depend on (store, run, layer, run state): the last few in memory, and the last few as files in the extension's
 * storage folder, so that a map opened again, in this window or after a reload, is drawn at once. Stores stay
 * untouched (the extension opens them read-only).
 *
 * A file is `<sha256 of the key>.json` holding `{ key, view }`, written atomically; reading it back checks the
 * key and the view's shape, and a file that fails either is removed and computed again. Past `limit` files, the
 * least recently used (by modification time, touched on each read) go. A folder that cannot be written only
 * costs the disk copy: the map is still kept in memory, and the failure is logged once.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../engine/io/atomicWrite.ts';
import type { FeatureMapView } from '../../shared/panelProtocol.ts';
import { Kept } from '../kept.ts';

export class FeatureMapCache {
  private readonly memory: Kept<FeatureMapView>;
  private warned = false;

  /** `folder` undefined: memory only. */
  constructor(private readonly folder: string | undefined, private readonly limit = 24, private readonly log: (line: string) => void = () => {}) {
    this.memory = new Kept(limit);
  }

  async get(key: string): Promise<FeatureMapView | undefined> {
    const inMemory = this.memory.get(key);
    if (inMemory || !this.folder) return inMemory;
    const file = this.file(key);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return undefined; // not kept on disk
    }
    const view = parseKept(text, key);
    if (!view) {
      await rm(file, { force: true }).catch(() => {});
      return undefined;
    }
    const now = new Date();
    await utimes(file, now, now).catch(() => {});
    this.memory.set(key, view);
    return view;
  }

  /** Keeps `view` under `key`. Its text is taken now, so later changes to the object (names) are not written. */
  async set(key: string, view: FeatureMapView): Promise<void> {
    this.memory.set(key, view);
    if (!this.folder) return;
    const text = JSON.stringify({ key, view });
    try {
      await mkdir(this.folder, { recursive: true });
      await writeFileAtomic(this.file(key), new TextEncoder().encode(text));
      await this.prune();
    } catch (e) {
      if (!this.warned) this.log(`Feature maps are kept in memory only: ${this.folder} cannot be written (${(e as Error).message}).`);
      this.warned = true;
    }
  }

  private file(key: string): string {
    return join(this.folder!, `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.json`);
  }

  private async prune(): Promise<void> {
    const names = (await readdir(this.folder!)).filter((n) => /^[0-9a-f]{32}\.json$/.test(n));
    if (names.length <= this.limit) return;
    const dated = await Promise.all(names.map(async (n) => ({ n, t: (await stat(join(this.folder!, n)).catch(() => undefined))?.mtimeMs ?? 0 })));
    dated.sort((a, b) => a.t - b.t);
    for (const { n } of dated.slice(0, dated.length - this.limit)) await rm(join(this.folder!, n), { force: true });
  }
}

/** The view of a kept file when it is one, for this key, with finite points; otherwise undefined. */
function parseKept(text: string, key: string): FeatureMapView | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  const o = raw as { key?: unknown; view?: Partial<FeatureMapView> } | null;
  const v = o?.view;
  if (!o || o.key !== key || !v || v.kind !== 'featureMap' || typeof v.method !== 'string' || !v.heading || !Array.isArray(v.points)) return undefined;
  const ok = v.points.every((p) => p && Number.isInteger(p.feature) && Number.isFinite(p.x) && Number.isFinite(p.y) && typeof p.label === 'string');
  return ok ? (v as FeatureMapView) : undefined;
}
