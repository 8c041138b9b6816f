/**
 * The window's corpus stores (see storeRegistry.ts for what it holds and how stores are opened): wires the
 * registry to VS Code. Stores are found as `*.duckdb` files in the workspace (and followed as they appear,
 * change and go), the ones opened with "Open Corpus Results…" are remembered in workspaceState, busy stores
 * (written by another process) are tried again every few seconds, and the active run follows what the
 * active audio editor shows (the editor reports it with the `audioSae.corpus.editorContext` command).
 *
 * Other parts of the extension get the registry with `storeRegistry()` once `activateStores` ran.
 */
import * as vscode from 'vscode';
import { StoreRegistry, type EditorContext } from './storeRegistry.ts';

export type { ActiveRun, EditorContext, RegistryChange, StoreEntry, StoreState } from './storeRegistry.ts';
export { StoreRegistry } from './storeRegistry.ts';

/** workspaceState key: the store paths opened with "Open Corpus Results…". */
export const OPENED_STORES_KEY = 'audioSae.openedStores';
/** The command an audio editor calls with `{ backbone, layer }` when it shows a run (undefined when it closes). */
export const EDITOR_CONTEXT_COMMAND = 'audioSae.corpus.editorContext';
const STORE_GLOB = '**/*.duckdb';
const EXCLUDE_GLOB = '**/{node_modules,.git}/**';
const BUSY_RETRY_MS = 5000;

let registry: StoreRegistry | undefined;

/** The window's store registry (after activation). */
export function storeRegistry(): StoreRegistry {
  if (!registry) throw new Error('The corpus store registry is not active yet.');
  return registry;
}

function parseEditorContext(arg: unknown): EditorContext | undefined {
  const a = arg as { backbone?: unknown; layer?: unknown } | undefined;
  if (!a || typeof a.backbone !== 'string' || !Number.isInteger(a.layer) || (a.layer as number) < 1) return undefined;
  return { backbone: a.backbone, layer: a.layer as number };
}

export function activateStores(context: vscode.ExtensionContext): StoreRegistry {
  const r = new StoreRegistry({ remember: (paths) => context.workspaceState.update(OPENED_STORES_KEY, paths) });
  registry = r;
  const scan = async () => {
    const found = await vscode.workspace.findFiles(STORE_GLOB, EXCLUDE_GLOB, 500);
    await r.setWorkspaceStores(found.map((u) => u.fsPath));
  };
  // A writer touches the file many times; read it again once it has been quiet for a second.
  const pending = new Map<string, ReturnType<typeof setTimeout>>();
  const refreshSoon = (uri: vscode.Uri) => {
    clearTimeout(pending.get(uri.fsPath));
    pending.set(uri.fsPath, setTimeout(() => (pending.delete(uri.fsPath), void r.refresh(uri.fsPath)), 1000));
  };
  const watcher = vscode.workspace.createFileSystemWatcher(STORE_GLOB);
  const retry = setInterval(() => {
    for (const s of r.stores) if (s.state === 'busy' && !s.writing) void r.refresh(s.path);
  }, BUSY_RETRY_MS);
  context.subscriptions.push(
    watcher,
    watcher.onDidCreate(() => void scan()),
    watcher.onDidDelete(() => void scan()),
    watcher.onDidChange(refreshSoon),
    vscode.workspace.onDidChangeWorkspaceFolders(() => void scan()),
    vscode.commands.registerCommand(EDITOR_CONTEXT_COMMAND, (arg: unknown) => r.followEditor(parseEditorContext(arg))),
    {
      dispose: () => {
        clearInterval(retry);
        for (const t of pending.values()) clearTimeout(t);
        r.dispose();
        if (registry === r) registry = undefined;
      },
    },
  );
  void scan();
  for (const path of context.workspaceState.get<string[]>(OPENED_STORES_KEY) ?? []) void r.add(path);
  return r;
}
