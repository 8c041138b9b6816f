/**
 * A result panel's host side, for every panel kind (the corpus panels here, the feature page of the sidebar):
 * creates the webview (strict CSP with a nonce, resource roots limited to the bundles and media, no
 * retainContextWhenHidden), answers `ready` with the latest view, validates every message (panelProtocol.ts)
 * before acting, answers each request, export and command with exactly one reply (a failure carries the
 * handler's message, which the webview shows), and saves exports through a save dialog, written atomically.
 *
 * The webview side is webview/panels/common/ (rpc, export buttons); one browser bundle, dist/webview/panels.js,
 * routes to a panel's view by `kind`.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { writeFileAtomic } from '../../engine/io/atomicWrite.ts';
import { assertNever, parsePanelMessage, type ExportFormat, type HostToPanel, type PanelToHost } from '../../shared/panelProtocol.ts';

export interface PanelOptions<Q> {
  /** The webview panel type (one per panel kind, e.g. audioSae.panel.metrics). */
  viewType: string;
  title: string;
  /** The browser bundle in dist/webview (default panels.js). */
  script?: string;
  parseRequest: (q: unknown) => Q | undefined;
  /** Handles a request; usually computes and `show`s a new view. A throw becomes the failed reply's message. */
  onRequest?: (request: Q) => Promise<string | void>;
  /** Where measurements reported by the panel go (the output channel). */
  onMeasure?: (name: string, values: number[]) => void;
  viewColumn?: vscode.ViewColumn;
}

const FILTERS: Record<ExportFormat, Record<string, string[]>> = {
  csv: { CSV: ['csv'] },
  json: { JSON: ['json'] },
  png: { 'PNG image': ['png'] },
  svg: { 'SVG image': ['svg'] },
};

/** Writes an export where the user chose: a local file atomically, any other file system through VS Code. */
export async function saveExport(format: ExportFormat, name: string, bytes: Uint8Array): Promise<vscode.Uri | undefined> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const fileName = name.toLowerCase().endsWith(`.${format}`) ? name : `${name}.${format}`;
  const target = await vscode.window.showSaveDialog({ defaultUri: folder ? vscode.Uri.joinPath(folder, fileName) : undefined, filters: FILTERS[format], saveLabel: 'Export' });
  if (!target) return undefined;
  if (target.scheme === 'file') await writeFileAtomic(target.fsPath, bytes);
  else await vscode.workspace.fs.writeFile(target, bytes);
  return target;
}

export function panelHtml(webview: vscode.Webview, extensionUri: vscode.Uri, script: string): string {
  const nonce = randomBytes(16).toString('base64');
  const root = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
  const src = webview.asWebviewUri(vscode.Uri.joinPath(root, script));
  const css = webview.asWebviewUri(vscode.Uri.joinPath(root, script.replace(/\.js$/, '.css')));
  const codicons = webview.asWebviewUri(vscode.Uri.joinPath(root, 'codicon.css'));
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src ${webview.cspSource} blob: data:; font-src ${webview.cspSource}; style-src ${webview.cspSource}; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${codicons}" id="vscode-codicon-stylesheet"><link rel="stylesheet" href="${css}"></head>
<body><div id="app"></div><script nonce="${nonce}" src="${src}"></script></body></html>`;
}

export class PanelHost<V, Q> {
  readonly panel: vscode.WebviewPanel;
  private latest: HostToPanel<V> | undefined;
  private ready = false;
  disposed = false;

  constructor(
    extensionUri: vscode.Uri,
    private readonly options: PanelOptions<Q>,
  ) {
    const root = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
    this.panel = vscode.window.createWebviewPanel(options.viewType, options.title, options.viewColumn ?? vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [root, vscode.Uri.joinPath(extensionUri, 'media')],
    });
    this.panel.webview.html = panelHtml(this.panel.webview, extensionUri, options.script ?? 'panels.js');
    const sub = this.panel.webview.onDidReceiveMessage((raw: unknown) => void this.receive(raw));
    this.panel.onDidDispose(() => {
      this.disposed = true;
      sub.dispose();
    });
  }

  /** Draws a view (kept, and sent again when the webview reloads). */
  show(view: V): void {
    this.post({ type: 'view', view });
  }

  loading(message: string): void {
    this.post({ type: 'loading', message });
  }

  error(message: string): void {
    this.post({ type: 'error', message });
  }

  reveal(): void {
    this.panel.reveal();
  }

  private post(message: HostToPanel<V>): void {
    if (message.type !== 'reply') this.latest = message;
    if (this.disposed || (!this.ready && message.type !== 'reply')) return;
    void this.panel.webview.postMessage(message);
  }

  private reply(id: number, ok: boolean, message?: string): void {
    if (this.disposed) return;
    void this.panel.webview.postMessage(ok ? { type: 'reply', id, ok: true, message } : { type: 'reply', id, ok: false, message: message ?? 'failed' });
  }

  private async receive(raw: unknown): Promise<void> {
    const message = parsePanelMessage(raw, this.options.parseRequest);
    if (!message) {
      const id = (raw as { id?: unknown } | null)?.id;
      if (typeof id === 'number' && Number.isSafeInteger(id)) this.reply(id, false, 'The request was rejected.');
      return;
    }
    await this.handle(message);
  }

  private async handle(message: PanelToHost<Q>): Promise<void> {
    switch (message.type) {
      case 'ready':
        this.ready = true;
        if (this.latest) void this.panel.webview.postMessage(this.latest);
        return;
      case 'request':
        return this.answer(message.id, async () => (this.options.onRequest ? (await this.options.onRequest(message.request)) || undefined : undefined));
      case 'export':
        return this.answer(message.id, async () => {
          const bytes = message.bytes ? new Uint8Array(message.bytes) : new TextEncoder().encode(message.text ?? '');
          const saved = await saveExport(message.format, message.name, bytes);
          return saved ? `Saved ${vscode.workspace.asRelativePath(saved)}` : 'Export cancelled.';
        });
      case 'command':
        return this.answer(message.id, async () => {
          if (!(await vscode.commands.getCommands(true)).includes(message.command)) throw new Error(`${message.command} is not available in this version yet.`);
          await vscode.commands.executeCommand(message.command, message.arg);
          return undefined;
        });
      case 'measure':
        this.options.onMeasure?.(message.name, message.values);
        return;
      default:
        return assertNever(message);
    }
  }

  private async answer(id: number, work: () => Promise<string | undefined>): Promise<void> {
    try {
      this.reply(id, true, await work());
    } catch (e) {
      this.reply(id, false, e instanceof Error ? e.message : String(e));
    }
  }
}
