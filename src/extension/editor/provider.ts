/**
 * The read-only custom editor for audio files: creates the webview (strict CSP, limited resource roots, no
 * retainContextWhenHidden), gives its EditorSession what it needs of VS Code (an EditorHost), validates every
 * message from the webview, and reloads when the file changes on disk or the workspace becomes trusted. It
 * also answers for its editors: the selection of the active one (`audioSae.editorSelection`) and opening a
 * clip at a moment with a feature selected (`audioSae.openClipAt`).
 */
import { randomBytes } from 'node:crypto';
import { basename, isAbsolute, posix } from 'node:path';
import * as vscode from 'vscode';
import type { WorkerRunner } from '../../engine/runtime/workerRunner.ts';
import { parseWebviewMessage, type HostMessage } from '../../shared/editorProtocol.ts';
import { EDITOR_CONTEXT_COMMAND } from '../corpus/stores.ts';
import { PlaybackCache } from './playback.ts';
import { ALL_BACKBONES, EditorSession, parseClipAt, type EditorHost, type EditorSelection, type Run } from './session.ts';

/** The EditorHost of one editor panel: VS Code's webview, settings, file system, dialogs and commands. */
function vscodeHost(context: vscode.ExtensionContext, uri: vscode.Uri, panel: vscode.WebviewPanel, playback: PlaybackCache): EditorHost {
  const savedKey = `audioSae.view:${uri.toString()}`;
  return {
    fileName: basename(uri.path),
    clipUri: uri.toString(),
    demoModelsDir: vscode.Uri.joinPath(context.extensionUri, 'media', 'demo', 'models').fsPath,
    post: (message) => void panel.webview.postMessage(message),
    setting: (key, fallback) => vscode.workspace.getConfiguration('audioSae').get(key, fallback),
    isTrusted: () => vscode.workspace.isTrusted,
    readClip: async () => vscode.workspace.fs.readFile(uri),
    playbackUri: async (hash, samples) => panel.webview.asWebviewUri(vscode.Uri.file(await playback.fileFor(hash, samples))).toString(),
    savedView: () => context.workspaceState.get(savedKey),
    saveView: (saved) => void context.workspaceState.update(savedKey, saved),
    saveTarget: async (name, filters) => {
      const folder = uri.with({ path: posix.dirname(uri.path) });
      const target = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.joinPath(folder, name), filters });
      if (!target) return undefined;
      return target.scheme === 'file'
        ? { name: basename(target.path), fsPath: target.fsPath }
        : { name: basename(target.path), write: async (bytes) => vscode.workspace.fs.writeFile(target, bytes) };
    },
    hasCommand: async (command) => (await vscode.commands.getCommands(true)).includes(command),
    executeCommand: async (command, ...args) => vscode.commands.executeCommand(command, ...args),
    openSettings: () => void vscode.commands.executeCommand('workbench.action.openSettings', `@ext:${context.extension.id}`),
    // Only the active editor leads the sidebar's active run; another one tells it when it becomes active.
    contextChanged: (editorContext) => panel.active && reportContext(editorContext),
  };
}

/** Tells the corpus sidebar which backbone and layer the active audio editor shows (undefined: none). */
function reportContext(editorContext: { backbone: string; layer: number } | undefined): void {
  void vscode.commands.executeCommand(EDITOR_CONTEXT_COMMAND, editorContext).then(undefined, () => undefined);
}

interface AudioDocument extends vscode.CustomDocument {
  readonly uri: vscode.Uri;
}

export class AudioEditorProvider implements vscode.CustomReadonlyEditorProvider<AudioDocument> {
  static readonly viewType = 'audioSae.audioEditor';
  private readonly playback: PlaybackCache;
  private readonly runs = new Map<string, Run>();
  /** The open editors, and the one active last (the sidebar's "fires in selection" asks it). */
  private readonly editors = new Set<{ uri: string; session: EditorSession; panel: vscode.WebviewPanel }>();
  private active: EditorSession | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly engine: () => Promise<WorkerRunner>,
  ) {
    this.playback = new PlaybackCache(vscode.Uri.joinPath(context.globalStorageUri, 'playback').fsPath);
    // A text editor becoming active: no audio editor leads the sidebar's active run any more.
    context.subscriptions.push(vscode.window.onDidChangeActiveTextEditor((e) => e && reportContext(undefined)));
  }

  /** What `audioSae.editorSelection` answers: the region selected in the active audio editor and the features firing there. */
  editorSelection(): EditorSelection | undefined {
    return this.active?.selection();
  }

  /**
   * `audioSae.openClipAt { path, time_s, feature?, layer? }`: opens the clip (absolute, or relative to the first
   * workspace folder) in this editor and shows that moment with the feature selected, at that layer.
   */
  async openClipAt(arg: unknown): Promise<void> {
    const at = parseClipAt(arg);
    if (!at) throw new Error('audioSae.openClipAt takes { path, time_s, feature?, layer? }: a clip path, a time in seconds, a feature id and a layer.');
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const uri = isAbsolute(at.path) || !folder ? vscode.Uri.file(at.path) : vscode.Uri.joinPath(folder, at.path);
    const key = uri.toString();
    const find = () => [...this.editors].reverse().find((e) => e.uri === key && e.panel.active) ?? [...this.editors].reverse().find((e) => e.uri === key);
    // An editor showing the clip now keeps its webview; a hidden one reloads its webview as it is shown again.
    const shown = [...this.editors].find((e) => e.uri === key && e.panel.visible);
    await vscode.commands.executeCommand('vscode.openWith', uri, AudioEditorProvider.viewType, vscode.ViewColumn.One); // the first column: a feature page beside stays
    // The editor resolves as it opens; take the active one of this clip (a new one, or one already open).
    for (let waited = 0; !find() && waited < 10_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
    const editor = find();
    if (!editor) throw new Error(`${at.path}: the audio editor did not open.`);
    await editor.session.reveal({ timeS: at.timeS, feature: at.feature, layer: at.layer }, editor === shown);
  }

  openCustomDocument(uri: vscode.Uri): AudioDocument {
    return { uri, dispose: () => undefined };
  }

  resolveCustomEditor(document: AudioDocument, panel: vscode.WebviewPanel): void {
    const webviewRoot = vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webview');
    const mediaRoot = vscode.Uri.joinPath(this.context.extensionUri, 'media');
    panel.webview.options = { enableScripts: true, localResourceRoots: [webviewRoot, mediaRoot, vscode.Uri.file(this.playback.dir)] };
    panel.webview.html = editorHtml(panel.webview, webviewRoot, mediaRoot);
    const session = new EditorSession(vscodeHost(this.context, document.uri, panel, this.playback), this.engine, this.runs);
    const editor = { uri: document.uri.toString(), session, panel };
    this.editors.add(editor);
    this.active = session;
    const folder = vscode.Uri.joinPath(document.uri, '..');
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, basename(document.uri.path)));
    const subscriptions = [
      watcher,
      watcher.onDidChange(() => void session.load()),
      watcher.onDidCreate(() => void session.load()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => void session.load()),
      panel.onDidChangeViewState(() => {
        if (!panel.active) return;
        this.active = session;
        reportContext(session.editorContext());
        void session.sendFeatureNames(); // annotations may have been named since
      }),
      panel.webview.onDidReceiveMessage((raw: unknown) => {
        const message = parseWebviewMessage(raw, { backbones: ALL_BACKBONES, dictSize: session.dictSize() });
        if (message) return void session.handle(message);
        // Malformed or out-of-range: never acted on; a request with an id gets a failure so the webview moves on.
        const id = (raw as { id?: unknown } | null)?.id;
        if (typeof id === 'number' && Number.isSafeInteger(id)) void panel.webview.postMessage({ type: 'failed', id, request: String((raw as { type?: unknown }).type), message: 'The request was rejected (malformed or out of range).' } satisfies HostMessage);
      }),
    ];
    panel.onDidDispose(() => {
      this.editors.delete(editor);
      if (this.active === session) this.active = undefined;
      if (this.editors.size === 0) reportContext(undefined);
      session.disposed = true;
      session.cancel();
      for (const s of subscriptions) s.dispose();
    });
  }
}

function editorHtml(webview: vscode.Webview, webviewRoot: vscode.Uri, mediaRoot: vscode.Uri): string {
  const nonce = randomBytes(16).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(webviewRoot, 'editor.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(mediaRoot, 'editor.css'));
  const codicons = webview.asWebviewUri(vscode.Uri.joinPath(webviewRoot, 'codicon.css'));
  // The toolbar and status styles bundled with the webview's script (they refine media/editor.css, so they load after it).
  const bundled = webview.asWebviewUri(vscode.Uri.joinPath(webviewRoot, 'editor.css'));
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src ${webview.cspSource} blob: data:; media-src ${webview.cspSource}; font-src ${webview.cspSource}; style-src ${webview.cspSource}; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${codicons}" id="vscode-codicon-stylesheet"><link rel="stylesheet" href="${style}"><link rel="stylesheet" href="${bundled}"></head>
<body><div id="app"></div><script nonce="${nonce}" src="${script}"></script></body></html>`;
}
