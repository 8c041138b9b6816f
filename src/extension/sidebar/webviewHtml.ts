/**
 * The HTML shell of the sidebar's webviews (the Feature search view and the Feature page): strict CSP with a
 * script nonce, the bundle and its stylesheet from dist/webview, nothing inline.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

export const webviewRoot = (extensionUri: vscode.Uri): vscode.Uri => vscode.Uri.joinPath(extensionUri, 'dist', 'webview');

export function sidebarWebviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, bundle: 'sidebar' | 'featurePage'): string {
  const nonce = randomBytes(16).toString('base64');
  const root = webviewRoot(extensionUri);
  const src = webview.asWebviewUri(vscode.Uri.joinPath(root, `${bundle}.js`));
  const css = webview.asWebviewUri(vscode.Uri.joinPath(root, `${bundle}.css`));
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src ${webview.cspSource} blob: data:; font-src ${webview.cspSource}; style-src ${webview.cspSource}; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${css}"></head>
<body><div id="app"></div><script nonce="${nonce}" src="${src}"></script></body></html>`;
}
