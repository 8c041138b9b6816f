/**
 * The corpus stores a window knows (found in the workspace, or opened by the user), their runs and layers, and
 * the ACTIVE (store, run, layer) that the panels and the sidebar show. No `vscode` import: the extension wires
 * discovery, workspaceState and the active editor to it in stores.ts, and the unit tests drive it directly.
 *
 * Stores are opened READ-ONLY through the engine's CorpusStore and only for as long as they are used: a handle
 * is closed after `idleCloseMs` without use, because DuckDB allows one writing process per file and a
 * read-only handle kept open would stop a CLI `corpus run` from taking the write lock. The other way round,
 * while a CLI (or this window's own corpus job) writes a store, DuckDB refuses even a read-only open
 * ("Conflicting lock"): the store is then listed as `busy` with the writer's PID, keeps the runs it had, and
 * is opened again on the next `refresh` (stores.ts retries busy stores on a timer) — never by copying it.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { AudioSaeError } from '../../engine/errors.ts';
import { listRuns, type RunSummary } from '../../engine/store/runs.ts';
import { CorpusStore } from '../../engine/store/store.ts';

/** How a store came to be known: found under a workspace folder, or opened with "Open Corpus Results…". */
export type StoreSource = 'workspace' | 'opened';

/**
 * - `unread`: known, not opened yet;
 * - `ready`: opened, its runs listed;
 * - `busy`: another process (or this window's corpus job) holds the write lock; `message` says who;
 * - `error`: cannot be read as a corpus store (not DuckDB, another schema version, gone); `message` says why.
 */
export type StoreState = 'unread' | 'ready' | 'busy' | 'error';

export interface StoreEntry {
  /** Absolute file path. */
  readonly path: string;
  readonly sources: ReadonlySet<StoreSource>;
  readonly state: StoreState;
  /** For busy and error: what is wrong and what to do, naming the file. */
  readonly message?: string;
  /** The runs as last read (kept while the store is busy), oldest first. */
  readonly runs: readonly RunSummary[];
  /** True while this window's own corpus job writes the store. */
  readonly writing: boolean;
}

/** What the panels show: one layer of one run of one store. */
export interface ActiveRun {
  storePath: string;
  runId: string;
  layer: number;
}

/** What the active audio editor shows, to which the active run is matched. */
export interface EditorContext {
  backbone: string;
  layer: number;
}

export type RegistryChange =
  | { type: 'stores' }
  | { type: 'active'; active: ActiveRun | undefined };

export interface Disposable {
  dispose(): void;
}

/** A listener registration, call-compatible with vscode.Event. */
export type Listen<T> = (listener: (e: T) => unknown, thisArgs?: unknown, disposables?: Disposable[]) => Disposable;

export interface StoreRegistryOptions {
  /** Opens a store read-only (tests may count opens); the engine's CorpusStore by default. */
  open?: (path: string) => Promise<CorpusStore>;
  /** Idle time after which an open handle is closed. */
  idleCloseMs?: number;
  /** Called with the paths opened by the user whenever they change (stores.ts keeps them in workspaceState). */
  remember?: (openedPaths: string[]) => void | PromiseLike<void>;
}

interface MutableEntry {
  path: string;
  sources: Set<StoreSource>;
  state: StoreState;
  message?: string;
  runs: RunSummary[];
  writing: boolean;
  handle?: Promise<CorpusStore>;
  users: number;
  idle?: ReturnType<typeof setTimeout>;
}

/** A lock conflict (another writer) as opposed to a store that cannot be read at all. */
export function isBusyError(e: unknown): boolean {
  const text = e instanceof Error ? e.message : String(e);
  return /being written by another process|Conflicting lock/i.test(text);
}

/**
 * The run and layer that match what an editor shows: in the preferred store first (the active one), then in
 * every other store in order; among a store's runs the newest. Undefined when no run has that backbone and layer.
 */
export function matchRun(stores: readonly StoreEntry[], editor: EditorContext, preferredStore?: string): ActiveRun | undefined {
  const ordered = [...stores].sort((a, b) => Number(b.path === preferredStore) - Number(a.path === preferredStore));
  for (const s of ordered) {
    const runs = [...s.runs].reverse().filter((r) => r.backbone === editor.backbone && r.layers.includes(editor.layer));
    if (runs.length) return { storePath: s.path, runId: runs[0]!.runId, layer: editor.layer };
  }
  return undefined;
}

/**
 * The active run after the stores changed: kept when it still exists (a missing layer moves to the run's
 * nearest layer); otherwise the newest run of the first store that has one, at its first layer.
 */
export function reconcileActive(stores: readonly StoreEntry[], active: ActiveRun | undefined): ActiveRun | undefined {
  if (active) {
    const store = stores.find((s) => s.path === active.storePath);
    const run = store?.runs.find((r) => r.runId === active.runId);
    if (store && store.state !== 'ready' && store.state !== 'busy') return reconcileActive(stores.filter((s) => s !== store), undefined);
    if (run && run.layers.length) {
      if (run.layers.includes(active.layer)) return active;
      const nearest = [...run.layers].sort((a, b) => Math.abs(a - active.layer) - Math.abs(b - active.layer))[0]!;
      return { ...active, layer: nearest };
    }
  }
  for (const s of stores) {
    const run = [...s.runs].reverse().find((r) => r.layers.length > 0);
    if (run) return { storePath: s.path, runId: run.runId, layer: run.layers[0]! };
  }
  return undefined;
}

const sameActive = (a: ActiveRun | undefined, b: ActiveRun | undefined) =>
  a?.storePath === b?.storePath && a?.runId === b?.runId && a?.layer === b?.layer;

export class StoreRegistry {
  private readonly entries = new Map<string, MutableEntry>();
  private activeRun: ActiveRun | undefined;
  private editor: EditorContext | undefined;
  private readonly listeners = new Set<(e: RegistryChange) => unknown>();
  private readonly openStore: (path: string) => Promise<CorpusStore>;
  private readonly idleCloseMs: number;
  private disposed = false;

  constructor(private readonly options: StoreRegistryOptions = {}) {
    this.openStore = options.open ?? ((path) => CorpusStore.open(path, { readOnly: true }));
    this.idleCloseMs = options.idleCloseMs ?? 5000;
  }

  /** Fires when the list of stores (or a store's state or runs) changes, and when the active run changes. */
  readonly onDidChange: Listen<RegistryChange> = (listener, thisArgs, disposables) => {
    const bound = (e: RegistryChange) => listener.call(thisArgs, e);
    this.listeners.add(bound);
    const d = { dispose: () => void this.listeners.delete(bound) };
    disposables?.push(d);
    return d;
  };

  /** Every known store, in path order. */
  get stores(): readonly StoreEntry[] {
    return [...this.entries.values()].sort((a, b) => a.path.localeCompare(b.path)).map((e) => this.snapshot(e));
  }

  store(path: string): StoreEntry | undefined {
    const e = this.entries.get(path);
    return e && this.snapshot(e);
  }

  get active(): ActiveRun | undefined {
    return this.activeRun;
  }

  /**
   * What a run's stored results depend on beyond its id: its clips done and failed and their fingerprint (""
   * when the run is unknown). A resumed run, or a clip re-run on new content, changes it, so answers kept under
   * the old state are not shown for the new one.
   */
  runState(run: { storePath: string; runId: string }): string {
    const r = this.store(run.storePath)?.runs.find((x) => x.runId === run.runId);
    return r ? `${r.clipsDone}:${r.clipsFailed}:${r.clipsState}` : '';
  }

  /** The active run's summary, when there is one. */
  activeRunSummary(): { store: StoreEntry; run: RunSummary; layer: number } | undefined {
    const a = this.activeRun;
    const store = a && this.store(a.storePath);
    const run = store?.runs.find((r) => r.runId === a!.runId);
    return run ? { store: store!, run, layer: a!.layer } : undefined;
  }

  /** The stores found in the workspace now (replaces the previous list; stores the user opened stay). */
  async setWorkspaceStores(paths: readonly string[]): Promise<void> {
    const wanted = new Set(paths);
    for (const e of [...this.entries.values()]) {
      if (e.sources.has('workspace') && !wanted.has(e.path)) {
        e.sources.delete('workspace');
        if (e.sources.size === 0) this.drop(e);
      }
    }
    const added = paths.filter((p) => {
      const e = this.entries.get(p);
      if (e) return (e.sources.add('workspace'), false);
      this.entries.set(p, this.newEntry(p, 'workspace'));
      return true;
    });
    this.emit({ type: 'stores' });
    this.reconcile();
    await Promise.all(added.map((p) => this.refresh(p)));
  }

  /**
   * A store the user opened ("Open Corpus Results…"): remembered, read, and made active when it has runs and
   * nothing is active yet. Resolves to its entry; a store that cannot be read stays listed with its error.
   */
  async add(path: string): Promise<StoreEntry> {
    const e = this.entries.get(path);
    if (e) e.sources.add('opened');
    else this.entries.set(path, this.newEntry(path, 'opened'));
    await this.options.remember?.(this.openedPaths());
    await this.refresh(path);
    return this.store(path)!;
  }

  /** Forgets a store the user opened (a workspace store stays while it is in the workspace). */
  async forget(path: string): Promise<void> {
    const e = this.entries.get(path);
    if (!e) return;
    e.sources.delete('opened');
    if (e.sources.size === 0) this.drop(e);
    await this.options.remember?.(this.openedPaths());
    this.emit({ type: 'stores' });
    this.reconcile();
  }

  /** The paths the user opened, to remember across reloads. */
  openedPaths(): string[] {
    return [...this.entries.values()].filter((e) => e.sources.has('opened')).map((e) => e.path).sort();
  }

  /** Reads the runs of one store again (or of every store): after a corpus run, when a busy store may be free. */
  async refresh(path?: string): Promise<void> {
    if (path === undefined) {
      await Promise.all([...this.entries.keys()].map((p) => this.refresh(p)));
      return;
    }
    const e = this.entries.get(path);
    if (!e || e.writing) return;
    try {
      const runs = await this.use(e, (conn) => listRuns(conn));
      if (!this.entries.has(path)) return;
      Object.assign(e, { state: 'ready', message: undefined, runs });
    } catch (err) {
      if (!this.entries.has(path)) return;
      e.state = isBusyError(err) ? 'busy' : 'error';
      e.message = err instanceof Error ? err.message : String(err);
      if (e.state === 'error') e.runs = [];
    }
    this.emit({ type: 'stores' });
    this.reconcile();
  }

  /**
   * Runs `fn` on the store's read-only connection (opened if needed, closed after `idleCloseMs` unused). A busy
   * store rejects with an AudioSaeError that names the writer and says to wait; the entry turns busy.
   */
  async withStore<T>(path: string, fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    const e = this.entries.get(path);
    if (!e) throw new AudioSaeError('is not a corpus store known to this window.', path, 'Open it with "AudioSAE: Open Corpus Results…".');
    if (e.writing) throw new AudioSaeError('is being written by a corpus run in this window.', path, 'Wait for the run to finish (or cancel it), then try again.');
    try {
      return await this.use(e, fn);
    } catch (err) {
      if (isBusyError(err) && e.state !== 'busy') {
        Object.assign(e, { state: 'busy', message: err instanceof Error ? err.message : String(err) });
        this.emit({ type: 'stores' });
      }
      throw err;
    }
  }

  /**
   * Closes the store and keeps it closed while this window's corpus job writes it (DuckDB: one process writes a
   * file, and two handles in one process must not mix a writer with readers). The returned function ends the
   * hold and reads the store's runs again; the store is added as known if it was not (a new store).
   */
  async holdForWriting(path: string): Promise<() => Promise<void>> {
    let e = this.entries.get(path);
    if (!e) {
      e = this.newEntry(path, 'opened');
      this.entries.set(path, e);
      await this.options.remember?.(this.openedPaths());
    }
    e.writing = true;
    await this.close(e);
    this.emit({ type: 'stores' });
    const entry = e;
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      entry.writing = false;
      await this.refresh(entry.path);
    };
  }

  /** Makes a run's layer active (the panels switch to it). */
  setActive(active: ActiveRun | undefined): void {
    if (active) {
      const run = this.entries.get(active.storePath)?.runs.find((r) => r.runId === active.runId);
      if (!run) throw new AudioSaeError(`has no run ${active.runId}.`, active.storePath);
      if (!run.layers.includes(active.layer)) throw new AudioSaeError(`run ${active.runId} has no layer ${active.layer}; its layers: ${run.layers.join(', ')}.`, active.storePath);
    }
    this.change(active);
  }

  /**
   * What the active audio editor shows (undefined when none is active). The active run follows it where a run of
   * a known store has that backbone and layer, and stays as it is otherwise.
   */
  followEditor(editor: EditorContext | undefined): void {
    this.editor = editor;
    if (!editor) return;
    const match = matchRun(this.stores, editor, this.activeRun?.storePath);
    if (match) this.change(match);
  }

  dispose(): void {
    this.disposed = true;
    for (const e of this.entries.values()) void this.close(e);
    this.entries.clear();
    this.listeners.clear();
  }

  private newEntry(path: string, source: StoreSource): MutableEntry {
    return { path, sources: new Set([source]), state: 'unread', runs: [], writing: false, users: 0 };
  }

  private snapshot(e: MutableEntry): StoreEntry {
    return { path: e.path, sources: new Set(e.sources), state: e.state, message: e.message, runs: e.runs, writing: e.writing };
  }

  private drop(e: MutableEntry): void {
    void this.close(e);
    this.entries.delete(e.path);
  }

  private async use<T>(e: MutableEntry, fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    if (this.disposed) throw new Error('The store registry was disposed.');
    if (e.idle) clearTimeout(e.idle);
    e.users++;
    try {
      e.handle ??= this.openStore(e.path).catch((err: unknown) => {
        e.handle = undefined;
        throw err;
      });
      const store = await e.handle;
      return await fn(store.connection);
    } finally {
      e.users--;
      if (e.users === 0 && e.handle) {
        e.idle = setTimeout(() => void this.close(e), this.idleCloseMs);
        e.idle.unref?.();
      }
    }
  }

  private async close(e: MutableEntry): Promise<void> {
    if (e.idle) clearTimeout(e.idle);
    e.idle = undefined;
    const handle = e.handle;
    e.handle = undefined;
    const store = await handle?.catch(() => undefined);
    store?.close();
  }

  /** Keeps a still valid active run (a choice the user made stays); otherwise the editor's match, or the newest run. */
  private reconcile(): void {
    const kept = reconcileActive(this.stores, this.activeRun);
    if (kept && sameActive(kept, this.activeRun)) return;
    const editorMatch = this.editor && matchRun(this.stores, this.editor, this.activeRun?.storePath);
    this.change(editorMatch ?? kept);
  }

  private change(active: ActiveRun | undefined): void {
    if (sameActive(active, this.activeRun)) return;
    this.activeRun = active;
    this.emit({ type: 'active', active });
  }

  private emit(e: RegistryChange): void {
    for (const l of this.listeners) l(e);
  }
}
