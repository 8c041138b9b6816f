/**
 * The window's annotation journals, one per corpus store (`<store>.annotations.jsonl`, see
 * engine/store/annotations.ts for why the journal is the record): opened on first use, with any annotations
 * table the store carries merged in (a store shared without its journal); edits appended at once; and, some
 * seconds after the last edit, mirrored into the store's own table when no other process holds the store. A
 * store held by a CLI run is never waited on: the edits are safe in the journal, and the mirror is tried again
 * after the next edit.
 */
import { AnnotationJournal, annotationsPathFor, mergeStoreAnnotations, mirrorIntoStore, type Annotation, type AnnotationKey, type AnnotationText } from '../../engine/store/annotations.ts';
import { CorpusStore } from '../../engine/store/store.ts';
import type { StoreRegistry } from '../corpus/stores.ts';

const MIRROR_DELAY_MS = 20_000;

export class AnnotationsHub {
  private readonly journals = new Map<string, Promise<AnnotationJournal>>();
  private readonly listeners = new Set<(storePath: string, changed: Annotation[]) => void>();
  private readonly mirrorTimers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Problems worth telling the user once (e.g. a mirror that failed for a reason other than a busy store). */
  onProblem: (message: string) => void = () => undefined;

  constructor(private readonly registry: StoreRegistry) {}

  journal(storePath: string): Promise<AnnotationJournal> {
    let j = this.journals.get(storePath);
    if (!j) {
      j = this.openJournal(storePath);
      j.catch(() => this.journals.delete(storePath));
      this.journals.set(storePath, j);
    }
    return j;
  }

  private async openJournal(storePath: string): Promise<AnnotationJournal> {
    const journal = await AnnotationJournal.open(annotationsPathFor(storePath));
    journal.onChange((changed) => {
      for (const l of this.listeners) l(storePath, changed);
    });
    await this.registry.withStore(storePath, (conn) => mergeStoreAnnotations(conn, journal)).catch(() => undefined); // busy: next time
    await journal.compactIfWorthIt().catch(() => undefined);
    return journal;
  }

  /** Reads what other windows or processes appended (cheap: only the new bytes). */
  async refresh(storePath: string): Promise<AnnotationJournal> {
    const j = await this.journal(storePath);
    await j.refresh();
    return j;
  }

  onDidChange(listener: (storePath: string, changed: Annotation[]) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** Saves an edit (on disk when this resolves) and schedules the store's mirror. */
  async put(storePath: string, key: AnnotationKey, text: AnnotationText): Promise<Annotation> {
    const saved = await (await this.journal(storePath)).put(key, text);
    this.scheduleMirror(storePath);
    return saved;
  }

  private scheduleMirror(storePath: string): void {
    clearTimeout(this.mirrorTimers.get(storePath));
    const t = setTimeout(() => {
      this.mirrorTimers.delete(storePath);
      void this.mirror(storePath);
    }, MIRROR_DELAY_MS);
    t.unref?.();
    this.mirrorTimers.set(storePath, t);
  }

  /** Copies the journal into the store's annotations table if the store is free now; false when it is not. */
  async mirror(storePath: string): Promise<boolean> {
    const entry = this.registry.store(storePath);
    if (!entry || entry.state !== 'ready' || entry.writing) return false;
    const journal = await this.journal(storePath);
    const release = await this.registry.holdForWriting(storePath);
    try {
      const store = await CorpusStore.open(storePath);
      try {
        await mirrorIntoStore(store.connection, journal);
      } finally {
        store.close();
      }
      return true;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (!/being written by another process|Conflicting lock/i.test(message)) this.onProblem(`Annotations are safe in ${journal.path}; copying them into the store failed: ${message}`);
      return false;
    } finally {
      await release();
    }
  }

  dispose(): void {
    for (const t of this.mirrorTimers.values()) clearTimeout(t);
    this.mirrorTimers.clear();
  }
}
