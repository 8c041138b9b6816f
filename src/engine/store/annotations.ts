/**
 * User annotations of SAE features (a name, notes, tags), keyed by what a feature *is* — backbone, SAE identity
 * (the sha256 of the layer's ae.pt, `runs.sae_sha256`), layer and feature id — never by run id, so they survive
 * re-runs of a corpus, new runs with other options and shard merges: any run of the same SAE shows them.
 *
 * Where they live (decided): ALWAYS in a journal beside the store, `<store>.annotations.jsonl`, one JSON object
 * per line, each edit appended and fsync'd before it is acknowledged. That file is the record:
 *  - nothing waits on DuckDB's single write lock, so a CLI `corpus run` holding the store never blocks or drops
 *    an edit, and the extension can keep the store open read-only;
 *  - a process killed (kill -9) mid-edit loses at most the edit whose append had not returned; a torn last line
 *    is skipped on reading and the next append starts on a fresh line;
 *  - the last line for a key wins (edits of several windows interleave safely: appends and compaction take a
 *    short lock file, `<journal>.lock`, stale once its owner process is gone).
 * When the store is free, `mirrorIntoStore` copies the journal's current state into an `annotations` table of the
 * store in one transaction (so Python users reading the store see them, and a store copied without its journal
 * still carries them); `mergeStoreAnnotations` reads such a table back into a journal, newer edit winning.
 * Export/import is a JSON document of the same records (`exportJson` / `importJson`, newer edit winning).
 * Clearing name, notes and tags deletes an annotation: the journal keeps a tombstone (so an older copy from a
 * store table or an import does not bring it back).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { closeSync, constants, openSync, readSync, fstatSync } from 'node:fs';
import { link, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { AudioSaeError } from '../errors.ts';
import { processGone, removeStaleSiblings, siblingName, writeFileAtomic } from '../io/atomicWrite.ts';
import { writeFailure } from '../io/files.ts';

/** What an annotation is about. `sae` is the sha256 of the layer's SAE checkpoint. */
export interface AnnotationKey {
  backbone: string;
  sae: string;
  /** 1-based encoder block */
  layer: number;
  feature: number;
}

export interface AnnotationText {
  name: string;
  notes: string;
  tags: string[];
}

export interface Annotation extends AnnotationKey, AnnotationText {
  /** Milliseconds since the epoch; strictly increasing per key within a journal. */
  updatedAt: number;
}

export const ANNOTATIONS_FORMAT = 'audiosae-annotations';
export const ANNOTATIONS_VERSION = 1;
const LIMITS = { name: 200, notes: 20_000, tags: 32, tag: 64 };
const LOCK_STALE_MS = 10_000;
const LOCK_WAIT_MS = 15_000;

export const annotationsPathFor = (storePath: string): string => `${storePath}.annotations.jsonl`;
export const annotationKeyString = (k: AnnotationKey): string => `${k.backbone}\u0000${k.sae}\u0000${k.layer}\u0000${k.feature}`;
const isEmpty = (a: AnnotationText): boolean => a.name === '' && a.notes === '' && a.tags.length === 0;

/** Tags trimmed, without a leading '#', without repeats (first spelling kept), empty ones dropped. */
export function normalizeTags(tags: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const t of tags) {
    const tag = t.trim().replace(/^#+/, '').replace(/\s+/g, '-');
    if (tag === '' || seen.has(tag.toLowerCase())) continue;
    seen.add(tag.toLowerCase());
    out.push(tag);
  }
  return out;
}

function checkKey(k: AnnotationKey, where: string): void {
  const ok = typeof k.backbone === 'string' && k.backbone !== '' && typeof k.sae === 'string' && k.sae !== ''
    && Number.isInteger(k.layer) && k.layer >= 1 && Number.isInteger(k.feature) && k.feature >= 0;
  if (!ok) throw new AudioSaeError(`an annotation needs a backbone, an SAE identity, a layer ≥ 1 and a feature id ≥ 0; got ${JSON.stringify(k)}.`, where);
}

function checkText(t: AnnotationText, where: string): AnnotationText {
  if (typeof t.name !== 'string' || typeof t.notes !== 'string' || !Array.isArray(t.tags) || t.tags.some((x) => typeof x !== 'string')) {
    throw new AudioSaeError('an annotation has a text name, text notes and a list of text tags.', where);
  }
  const tags = normalizeTags(t.tags);
  const name = t.name.trim();
  if (name.length > LIMITS.name) throw new AudioSaeError(`an annotation's name is at most ${LIMITS.name} characters (this one has ${name.length}).`, where);
  if (t.notes.length > LIMITS.notes) throw new AudioSaeError(`an annotation's notes are at most ${LIMITS.notes} characters (these have ${t.notes.length}).`, where);
  if (tags.length > LIMITS.tags || tags.some((x) => x.length > LIMITS.tag)) {
    throw new AudioSaeError(`an annotation has at most ${LIMITS.tags} tags of at most ${LIMITS.tag} characters each.`, where);
  }
  return { name, notes: t.notes, tags };
}

/** A record from a file (journal line, export, store row), or undefined when it is not one. */
function parseRecord(v: unknown): Annotation | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const r = v as Record<string, unknown>;
  const { backbone, sae, layer, feature, name, notes, tags, updatedAt } = r;
  if (typeof backbone !== 'string' || typeof sae !== 'string' || typeof layer !== 'number' || typeof feature !== 'number') return undefined;
  if (typeof name !== 'string' || typeof notes !== 'string' || !Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) return undefined;
  if (typeof updatedAt !== 'number' || !Number.isFinite(updatedAt)) return undefined;
  if (!Number.isInteger(layer) || layer < 1 || !Number.isInteger(feature) || feature < 0 || backbone === '' || sae === '') return undefined;
  return { backbone, sae, layer, feature, name, notes, tags: tags as string[], updatedAt };
}

const recordLine = (a: Annotation): string =>
  `${JSON.stringify({ v: ANNOTATIONS_VERSION, backbone: a.backbone, sae: a.sae, layer: a.layer, feature: a.feature, name: a.name, notes: a.notes, tags: a.tags, updatedAt: a.updatedAt })}\n`;

/**
 * The journal of one store: the current annotations in memory, every edit appended and fsync'd. Edits of this
 * process are applied in call order; `refresh` picks up what other processes appended.
 */
export class AnnotationJournal {
  /** key → latest record, tombstones (empty text) included */
  private readonly records = new Map<string, Annotation>();
  private readonly listeners = new Set<(changed: Annotation[]) => void>();
  private queue: Promise<unknown> = Promise.resolve();
  /** bytes of the file consumed, and its inode (a compaction by another process replaces the file) */
  private offset = 0;
  private inode = -1;
  /** lines that could not be read (a torn last line after a crash, or damage); kept in the file, reported here */
  skippedLines = 0;

  private constructor(readonly path: string) {}

  static async open(path: string): Promise<AnnotationJournal> {
    const j = new AnnotationJournal(path);
    await removeStaleSiblings(j.lockPath, '.tmp'); // lock attempts of killed processes
    await j.refresh();
    return j;
  }

  get lockPath(): string {
    return `${this.path}.lock`;
  }

  /** The live annotation of a feature (undefined when none or deleted). */
  get(key: AnnotationKey): Annotation | undefined {
    const a = this.records.get(annotationKeyString(key));
    return a && !isEmpty(a) ? a : undefined;
  }

  /** Live annotations, optionally of one backbone / SAE / layer, ordered by backbone, SAE, layer, feature. */
  list(filter: Partial<Omit<AnnotationKey, 'feature'>> = {}): Annotation[] {
    return this.all(filter).filter((a) => !isEmpty(a));
  }

  /** Every record, tombstones (deleted annotations, empty text) included. */
  all(filter: Partial<Omit<AnnotationKey, 'feature'>> = {}): Annotation[] {
    const out = [...this.records.values()].filter((a) =>
      (filter.backbone === undefined || a.backbone === filter.backbone) && (filter.sae === undefined || a.sae === filter.sae) && (filter.layer === undefined || a.layer === filter.layer));
    return out.sort((a, b) => (a.backbone < b.backbone ? -1 : a.backbone > b.backbone ? 1 : a.sae < b.sae ? -1 : a.sae > b.sae ? 1 : a.layer - b.layer || a.feature - b.feature));
  }

  /** Called with the records that changed (by this process or, after `refresh`, by others). */
  onChange(listener: (changed: Annotation[]) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /**
   * Sets a feature's annotation (empty name, notes and tags delete it). Resolves once the edit is on disk
   * (appended and fsync'd): an acknowledged edit survives a crash of this process.
   */
  async put(key: AnnotationKey, text: AnnotationText): Promise<Annotation> {
    checkKey(key, this.path);
    const clean = checkText(text, this.path);
    return this.serial(async () => {
      const previous = this.records.get(annotationKeyString(key));
      const record: Annotation = {
        backbone: key.backbone, sae: key.sae, layer: key.layer, feature: key.feature, ...clean,
        updatedAt: Math.max(Date.now(), (previous?.updatedAt ?? 0) + 1),
      };
      await this.append([record]);
      return record;
    });
  }

  /** Reads what was appended since the last read (or the whole file after a compaction elsewhere). */
  refresh(): Promise<Annotation[]> {
    return this.serial(() => this.readNew());
  }

  /**
   * Rewrites the journal as one line per key (tombstones kept), atomically (temp file + rename) under the lock.
   * Returns the lines dropped.
   */
  compact(): Promise<number> {
    return this.serial(() => this.withLock(async () => {
      await this.readNew();
      const before = (await readFile(this.path, 'utf8').catch(() => '')).split('\n').filter((l) => l.trim() !== '').length;
      const lines = this.all().map(recordLine).join('');
      await writeFileAtomic(this.path, new TextEncoder().encode(lines));
      const s = await stat(this.path);
      this.offset = s.size;
      this.inode = s.ino;
      this.skippedLines = 0;
      return before - this.records.size;
    }));
  }

  /** Compacts when at least `minLines` lines and more than twice as many lines as keys (cheap to call on open). */
  async compactIfWorthIt(minLines = 1000): Promise<boolean> {
    const text = await readFile(this.path, 'utf8').catch(() => '');
    let lines = 0;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++;
    if (lines < minLines || lines <= 2 * this.records.size) return false;
    await this.compact();
    return true;
  }

  /** The live annotations (optionally filtered) as a JSON document to share. */
  exportJson(filter: Partial<Omit<AnnotationKey, 'feature'>> = {}): string {
    const annotations = this.list(filter).map(({ backbone, sae, layer, feature, name, notes, tags, updatedAt }) => ({ backbone, sae, layer, feature, name, notes, tags, updatedAt }));
    return `${JSON.stringify({ format: ANNOTATIONS_FORMAT, version: ANNOTATIONS_VERSION, exportedAt: new Date().toISOString(), annotations }, null, 1)}\n`;
  }

  /**
   * Merges a document written by `exportJson` (from `source`, for messages): per feature the newer edit wins;
   * equal or older ones are kept out. Everything taken is appended in one write.
   */
  async importJson(text: string, source: string): Promise<{ added: number; updated: number; unchanged: number }> {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new AudioSaeError(`is not JSON: ${(e as Error).message}.`, source, 'Import a file written by "Export Annotations".');
    }
    const d = doc as Record<string, unknown> | null;
    if (typeof d !== 'object' || d === null || d.format !== ANNOTATIONS_FORMAT || !Array.isArray(d.annotations)) {
      throw new AudioSaeError(`is not an AudioSAE annotations file (expected {"format": "${ANNOTATIONS_FORMAT}", "annotations": [...]}).`, source);
    }
    if (typeof d.version !== 'number' || d.version > ANNOTATIONS_VERSION) {
      throw new AudioSaeError(`has annotations format version ${String(d.version)}; this AudioSAE reads version ${ANNOTATIONS_VERSION}.`, source);
    }
    const records: Annotation[] = [];
    (d.annotations as unknown[]).forEach((raw, i) => {
      const r = parseRecord(raw);
      if (!r) throw new AudioSaeError(`annotation ${i} is not {backbone, sae, layer, feature, name, notes, tags, updatedAt}; nothing was imported.`, source);
      records.push({ ...r, ...checkText(r, source) });
    });
    return this.mergeRecords(records);
  }

  /** Takes the records that are newer than what the journal holds (imports, a store's table). */
  mergeRecords(records: readonly Annotation[]): Promise<{ added: number; updated: number; unchanged: number }> {
    return this.serial(async () => {
      await this.readNew();
      const newest = new Map<string, Annotation>();
      for (const r of records) {
        const k = annotationKeyString(r);
        const held = newest.get(k) ?? this.records.get(k);
        if (!held || r.updatedAt > held.updatedAt) newest.set(k, r);
      }
      let added = 0;
      let updated = 0;
      for (const [k] of newest) {
        if (this.records.has(k) && !isEmpty(this.records.get(k)!)) updated++;
        else added++;
      }
      if (newest.size > 0) await this.append([...newest.values()]);
      return { added, updated, unchanged: records.length - newest.size };
    });
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Appends the records as lines (after a newline if the file ends in a torn line), fsync, then applies them. */
  private async append(records: readonly Annotation[]): Promise<void> {
    await this.withLock(async () => {
      await this.readNew();
      let text = records.map(recordLine).join('');
      let handle;
      try {
        handle = await open(this.path, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT, 0o644);
        const { size } = await handle.stat();
        if (size > 0) {
          const last = Buffer.alloc(1);
          await handle.read(last, 0, 1, size - 1);
          if (last[0] !== 0x0a) text = `\n${text}`;
        }
        const bytes = Buffer.from(text, 'utf8');
        let written = 0;
        while (written < bytes.length) written += (await handle.write(bytes, written, bytes.length - written)).bytesWritten;
        await handle.sync();
      } catch (e) {
        throw writeFailure(e, this.path);
      } finally {
        await handle?.close().catch(() => undefined);
      }
      await this.readNew();
    });
  }

  /** Reads lines after `offset` (whole file when it was replaced or shrank) and applies them; returns changes. */
  private async readNew(): Promise<Annotation[]> {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new AudioSaeError(`cannot be read (${(e as NodeJS.ErrnoException).code}).`, this.path);
    }
    try {
      const s = fstatSync(fd);
      if (s.ino !== this.inode || s.size < this.offset) {
        this.inode = s.ino;
        this.offset = 0;
        this.skippedLines = 0;
      }
      if (s.size === this.offset) return [];
      const buf = Buffer.alloc(s.size - this.offset);
      let got = 0;
      while (got < buf.length) {
        const n = readSync(fd, buf, got, buf.length - got, this.offset + got);
        if (n === 0) break;
        got += n;
      }
      // Only complete lines are consumed; a torn tail is read again once a newline follows it.
      const end = buf.lastIndexOf(0x0a, got - 1);
      if (end < 0) return [];
      const changed: Annotation[] = [];
      for (const line of buf.subarray(0, end).toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        let rec: Annotation | undefined;
        try {
          rec = parseRecord(JSON.parse(line));
        } catch {
          rec = undefined;
        }
        if (!rec) {
          this.skippedLines++;
          continue;
        }
        this.records.set(annotationKeyString(rec), rec);
        changed.push(rec);
      }
      this.offset += end + 1;
      if (changed.length > 0) for (const l of this.listeners) l(changed);
      return changed;
    } finally {
      closeSync(fd);
    }
  }

  /** Runs `work` holding `<journal>.lock` (created exclusively; taken over when its owner is gone or it is stale). */
  private async withLock<T>(work: () => Promise<T>): Promise<T> {
    const started = Date.now();
    for (;;) {
      // The lock file appears with the owner's pid already in it (written to a temporary name, then hard-linked),
      // so a process killed while taking the lock never leaves an empty one behind.
      const tmp = siblingName(this.lockPath, '.tmp');
      let taken = false;
      try {
        await writeFile(tmp, String(process.pid));
        await link(tmp, this.lockPath);
        taken = true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw writeFailure(e, this.lockPath);
      } finally {
        await rm(tmp, { force: true }).catch(() => undefined);
      }
      if (taken) break;
      const owner = Number(await readFile(this.lockPath, 'utf8').catch(() => ''));
      const age = Date.now() - ((await stat(this.lockPath).catch(() => undefined))?.mtimeMs ?? Date.now());
      if ((Number.isSafeInteger(owner) && owner > 0 && processGone(owner)) || age > LOCK_STALE_MS) {
        await rm(this.lockPath, { force: true });
        continue;
      }
      if (Date.now() - started > LOCK_WAIT_MS) {
        throw new AudioSaeError(`is locked by process ${owner || 'unknown'} for more than ${LOCK_WAIT_MS / 1000} s.`, this.lockPath, 'If no AudioSAE is running, delete the .lock file.');
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    try {
      return await work();
    } finally {
      await rm(this.lockPath, { force: true }).catch(() => undefined);
    }
  }
}

// ------------------------------------------------------------------------------------------ the store's table

const STORE_TABLE_SQL = `CREATE TABLE IF NOT EXISTS annotations (
  backbone VARCHAR NOT NULL,
  sae_sha256 VARCHAR NOT NULL,          -- the SAE the feature belongs to (runs.sae_sha256 of the layer)
  layer SMALLINT NOT NULL,
  feature INTEGER NOT NULL,
  name VARCHAR NOT NULL,
  notes VARCHAR NOT NULL,
  tags VARCHAR[] NOT NULL,
  updated_at BIGINT NOT NULL,           -- milliseconds since the epoch
  PRIMARY KEY (backbone, sae_sha256, layer, feature)
)`;

const lit = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/**
 * Makes the store's `annotations` table equal to the journal's state (live annotations and tombstones, the
 * latter as empty rows so that a copy of the store does not resurrect a deleted one), in one transaction.
 * `conn` must be writable (the store is free).
 */
export async function mirrorIntoStore(conn: DuckDBConnection, journal: AnnotationJournal): Promise<number> {
  await journal.refresh();
  const all = journal.all();
  await conn.run(STORE_TABLE_SQL);
  await conn.run('BEGIN TRANSACTION');
  try {
    await conn.run('DELETE FROM annotations');
    for (let i = 0; i < all.length; i += 500) {
      const values = all.slice(i, i + 500).map((a) =>
        `(${lit(a.backbone)}, ${lit(a.sae)}, ${a.layer}, ${a.feature}, ${lit(a.name)}, ${lit(a.notes)}, [${a.tags.map(lit).join(', ')}]::VARCHAR[], ${a.updatedAt})`);
      await conn.run(`INSERT INTO annotations VALUES ${values.join(', ')}`);
    }
    await conn.run('COMMIT');
  } catch (e) {
    await conn.run('ROLLBACK').catch(() => undefined);
    throw e;
  }
  return all.length;
}

/** The store's `annotations` table (empty when the store has none), e.g. of a store copied without its journal. */
export async function readStoreAnnotations(conn: DuckDBConnection): Promise<Annotation[]> {
  const has = await conn.runAndReadAll(`SELECT count(*) FROM information_schema.tables WHERE table_name = 'annotations'`);
  if (Number(has.getRows()[0]?.[0] ?? 0) === 0) return [];
  const reader = await conn.runAndReadAll('SELECT backbone, sae_sha256, layer, feature, name, notes, tags, updated_at FROM annotations');
  return reader.getRowObjectsJS().map((r) => ({
    backbone: String(r.backbone), sae: String(r.sae_sha256), layer: Number(r.layer), feature: Number(r.feature),
    name: String(r.name), notes: String(r.notes), tags: Array.isArray(r.tags) ? r.tags.map(String) : [], updatedAt: Number(r.updated_at),
  }));
}

/** Brings a store's `annotations` table into the journal (newer edit wins per feature). */
export async function mergeStoreAnnotations(conn: DuckDBConnection, journal: AnnotationJournal): Promise<{ added: number; updated: number; unchanged: number }> {
  return journal.mergeRecords(await readStoreAnnotations(conn));
}

/** Writes an export to a file atomically. */
export async function writeAnnotationsExport(path: string, journal: AnnotationJournal, filter: Partial<Omit<AnnotationKey, 'feature'>> = {}): Promise<void> {
  await writeFileAtomic(path, new TextEncoder().encode(journal.exportJson(filter)));
}
