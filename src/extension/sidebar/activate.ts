/**
 * The AudioSAE sidebar, wired to VS Code: the Runs tree and the Feature search view of the activity-bar
 * container, the Feature page, the annotation journals, and their commands:
 *   audioSae.showFeaturePage   { feature, layer, backbone[, storePath, runId] }; without one, asks for the id
 *                              (palette: "Show Feature Page…") in the active run
 *   audioSae.featureNames      { backbone, layer[, sae] } → Record<number, string> (annotation names)
 *   audioSae.exportAnnotations / importAnnotations   the active store's annotations as JSON
 */
import { writeFileAtomic } from '../../engine/io/atomicWrite.ts';
import type { JobClient } from '../../engine/jobs/client.ts';
import * as vscode from 'vscode';
import type { ActiveRun, StoreRegistry } from '../corpus/stores.ts';
import { FeaturePages, parseFeaturePageArgs, SHOW_FEATURE_PAGE_COMMAND } from '../featurePage/page.ts';
import { AnnotationsHub } from './annotationsHub.ts';
import { LayerCache } from './layers.ts';
import { RunsTreeProvider, SET_ACTIVE_COMMAND } from './runsTree.ts';
import { FeatureSearchViewProvider } from './searchView.ts';

export const FEATURE_NAMES_COMMAND = 'audioSae.featureNames';

/** `jobs`: the window's job worker (shared with the corpus commands), where the feature page's long analyses run. */
export function activateSidebar(context: vscode.ExtensionContext, registry: StoreRegistry, jobs: () => JobClient): void {
  const output = vscode.window.createOutputChannel('AudioSAE Sidebar');
  const log = (line: string) => output.appendLine(line);
  const annotations = new AnnotationsHub(registry);
  annotations.onProblem = (message) => void vscode.window.showWarningMessage(`AudioSAE: ${message}`);
  const layers = new LayerCache(registry, annotations);
  const pages = new FeaturePages(context.extensionUri, registry, layers, annotations, log, jobs);
  const search = new FeatureSearchViewProvider(context.extensionUri, registry, layers, log);
  const tree = vscode.window.createTreeView('audioSae.runs', { treeDataProvider: new RunsTreeProvider(registry), showCollapseAll: true });

  // A store whose runs changed (a corpus run wrote clips, or re-ran one on new content) is indexed again when next shown.
  const seen = new Map<string, string>();
  registry.onDidChange((e) => {
    if (e.type !== 'stores') return;
    for (const s of registry.stores) {
      const sig = s.runs.map((r) => `${r.runId}:${registry.runState({ storePath: s.path, runId: r.runId })}`).join(',');
      if (seen.has(s.path) && seen.get(s.path) !== sig && s.state === 'ready') {
        layers.forget(s.path);
        if (registry.active?.storePath === s.path) void search.load();
      }
      seen.set(s.path, sig);
    }
  });

  const activeOrWarn = (): ActiveRun | undefined => {
    const a = registry.active;
    if (!a) void vscode.window.showInformationMessage('AudioSAE: no corpus run yet. Run "AudioSAE: Analyse Corpus…" or open a store with "Open Corpus Results…".');
    return a;
  };

  context.subscriptions.push(
    output,
    tree,
    { dispose: () => annotations.dispose() },
    pages,
    vscode.window.registerWebviewViewProvider(FeatureSearchViewProvider.viewType, search),
    vscode.commands.registerCommand(SET_ACTIVE_COMMAND, (a: ActiveRun) => registry.setActive(a)),
    vscode.commands.registerCommand(SHOW_FEATURE_PAGE_COMMAND, async (arg?: unknown) => {
      if (arg !== undefined) {
        const args = parseFeaturePageArgs(arg);
        if (!args) throw new Error('audioSae.showFeaturePage takes { feature, layer, backbone }.');
        return pages.show(args);
      }
      const a = activeOrWarn();
      const summary = registry.activeRunSummary();
      if (!a || !summary) return;
      const dict = summary.run.dictSize;
      const text = await vscode.window.showInputBox({
        title: `Show Feature Page (${summary.run.backbone} layer ${a.layer})`,
        prompt: `Feature id, 0 to ${dict - 1}`,
        validateInput: (v) => (/^\d+$/.test(v.trim()) && Number(v) < dict ? undefined : `A feature id from 0 to ${dict - 1}.`),
      });
      if (text === undefined) return;
      return pages.show({ feature: Number(text.trim()), layer: a.layer, backbone: summary.run.backbone, storePath: a.storePath, runId: a.runId });
    }),
    vscode.commands.registerCommand(FEATURE_NAMES_COMMAND, async (arg?: { backbone?: unknown; layer?: unknown; sae?: unknown }) => {
      const names: Record<number, string> = {};
      if (!arg || typeof arg.backbone !== 'string' || !Number.isInteger(arg.layer)) return names;
      for (const store of registry.stores) {
        for (const run of store.runs) {
          if (run.backbone !== arg.backbone || !run.layers.includes(arg.layer as number)) continue;
          const l = await layers.get({ storePath: store.path, runId: run.runId, layer: arg.layer as number }).catch(() => undefined);
          if (!l || (typeof arg.sae === 'string' && arg.sae !== l.sae)) continue;
          const journal = await annotations.refresh(store.path);
          for (const a of journal.list({ backbone: l.backbone, sae: l.sae, layer: l.layer })) if (a.name) names[a.feature] ??= a.name;
        }
      }
      return names;
    }),
    vscode.commands.registerCommand('audioSae.exportAnnotations', async () => {
      const a = activeOrWarn();
      if (!a) return;
      const journal = await annotations.refresh(a.storePath);
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
      const target = await vscode.window.showSaveDialog({ defaultUri: folder && vscode.Uri.joinPath(folder, 'annotations.json'), filters: { JSON: ['json'] }, saveLabel: 'Export' });
      if (!target) return;
      const bytes = new TextEncoder().encode(journal.exportJson());
      if (target.scheme === 'file') await writeFileAtomic(target.fsPath, bytes);
      else await vscode.workspace.fs.writeFile(target, bytes);
      void vscode.window.showInformationMessage(`AudioSAE: ${journal.list().length} annotations exported to ${vscode.workspace.asRelativePath(target)}.`);
    }),
    vscode.commands.registerCommand('audioSae.importAnnotations', async () => {
      const a = activeOrWarn();
      if (!a) return;
      const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { JSON: ['json'] }, openLabel: 'Import' });
      if (!picked?.[0]) return;
      try {
        const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(picked[0]));
        const r = await (await annotations.journal(a.storePath)).importJson(text, picked[0].fsPath);
        void vscode.window.showInformationMessage(`AudioSAE: imported annotations: ${r.added} new, ${r.updated} updated, ${r.unchanged} kept (older or the same).`);
      } catch (e) {
        void vscode.window.showErrorMessage(`AudioSAE: ${e instanceof Error ? e.message : String(e)}`);
      }
    }),
  );
}
