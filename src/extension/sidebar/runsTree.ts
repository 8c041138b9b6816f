/**
 * The Runs view: the corpus stores the window knows, their runs and each run's layers, with the store's state
 * (read, being written by another process and shown read-only as last read, unreadable) and the active layer
 * marked. Clicking a layer makes it active (the search view and the panels follow). With no store at all the
 * view is empty and its welcome text (package.json viewsWelcome) offers "Analyse Corpus…".
 */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { RunSummary } from '../../engine/store/runs.ts';
import type { StoreEntry, StoreRegistry } from '../corpus/stores.ts';

export type RunsNode =
  | { kind: 'store'; store: StoreEntry }
  | { kind: 'run'; store: StoreEntry; run: RunSummary }
  | { kind: 'layer'; store: StoreEntry; run: RunSummary; layer: number };

export const SET_ACTIVE_COMMAND = 'audioSae.sidebar.setActiveLayer';

function storeDescription(s: StoreEntry): string {
  if (s.writing) return 'being written by a corpus run in this window';
  switch (s.state) {
    case 'ready': return `${s.runs.length} run${s.runs.length === 1 ? '' : 's'}`;
    case 'busy': return 'read-only: another process is writing it';
    case 'error': return 'cannot be read';
    case 'unread': return 'reading…';
  }
}

export class RunsTreeProvider implements vscode.TreeDataProvider<RunsNode> {
  private readonly changed = new vscode.EventEmitter<RunsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly registry: StoreRegistry) {
    registry.onDidChange(() => this.changed.fire(undefined));
  }

  getChildren(node?: RunsNode): RunsNode[] {
    if (!node) return this.registry.stores.map((store) => ({ kind: 'store', store }));
    if (node.kind === 'store') return [...node.store.runs].reverse().map((run) => ({ kind: 'run', store: node.store, run }));
    if (node.kind === 'run') return node.run.layers.map((layer) => ({ kind: 'layer', store: node.store, run: node.run, layer }));
    return [];
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    const active = this.registry.active;
    if (node.kind === 'store') {
      const s = node.store;
      // Always expandable: a store is listed before its runs are read, and VS Code keeps an item's first state by id.
      const item = new vscode.TreeItem(basename(s.path), vscode.TreeItemCollapsibleState.Expanded);
      item.description = storeDescription(s);
      item.tooltip = new vscode.MarkdownString(`**${s.path}**\n\n${s.message ?? storeDescription(s)}`);
      item.iconPath = new vscode.ThemeIcon(s.state === 'busy' ? 'lock' : s.state === 'error' ? 'warning' : 'database');
      item.contextValue = `store.${s.state}`;
      item.id = `store:${s.path}`;
      item.accessibilityInformation = { label: `${basename(s.path)}, ${item.description}` };
      return item;
    }
    if (node.kind === 'run') {
      const r = node.run;
      const isActive = active?.storePath === node.store.path && active.runId === r.runId;
      const item = new vscode.TreeItem(`${r.backbone} · ${r.runId.slice(0, 8)}`, vscode.TreeItemCollapsibleState.Expanded);
      const failed = r.clipsFailed ? `, ${r.clipsFailed} failed` : '';
      item.description = `${r.clipsDone} clips${failed} · layers ${r.layers.join(',')} · ${r.mode}`;
      item.tooltip = new vscode.MarkdownString(
        `Run \`${r.runId}\`\n\n- backbone: ${r.backbone}\n- SAE: ${r.sae} (F = ${r.dictSize}, k = ${r.k})\n- mode: ${r.mode}\n- clips: ${r.clipsDone} done${failed}\n` +
          (r.createdAt ? `- created: ${r.createdAt.toISOString().slice(0, 19).replace('T', ' ')}\n` : '') + r.notes.map((n) => `- ${n}\n`).join(''),
      );
      item.iconPath = new vscode.ThemeIcon(isActive ? 'pass-filled' : 'run-all');
      item.id = `run:${node.store.path}:${r.runId}`;
      item.accessibilityInformation = { label: `${r.backbone} run ${r.runId.slice(0, 8)}, ${item.description}${isActive ? ', active' : ''}` };
      return item;
    }
    const isActive = active?.storePath === node.store.path && active.runId === node.run.runId && active.layer === node.layer;
    const item = new vscode.TreeItem(`Layer ${node.layer}`, vscode.TreeItemCollapsibleState.None);
    item.description = isActive ? 'active' : '';
    item.iconPath = new vscode.ThemeIcon(isActive ? 'check' : 'layers');
    item.tooltip = isActive ? 'The active layer: the feature search and the panels show it.' : 'Click to make this layer active.';
    item.command = { command: SET_ACTIVE_COMMAND, title: 'Make Active', arguments: [{ storePath: node.store.path, runId: node.run.runId, layer: node.layer }] };
    item.id = `layer:${node.store.path}:${node.run.runId}:${node.layer}`;
    item.accessibilityInformation = { label: `Layer ${node.layer}${isActive ? ', active' : ''}` };
    return item;
  }
}
