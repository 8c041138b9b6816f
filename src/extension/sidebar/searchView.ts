/**
 * The Feature search view (a webview in the AudioSAE sidebar): the active layer's index goes to the webview
 * once (statistics as typed arrays, for the rows and sparklines), and each keystroke's query comes back here,
 * is validated, filtered by FeatureSearch and answered with the matching ids in order. "Fires in the selection"
 * asks the audio editor for the features that fire in its selected region (command `audioSae.editorSelection`).
 */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { StoreRegistry } from '../corpus/stores.ts';
import type { EditorSelection } from '../editor/session.ts';
import type { LayerCache, LoadedLayer } from './layers.ts';
import { assertNever, type HostToSearch, type SearchLayer, type SearchQueryMessage, type SearchToHost } from './protocol.ts';
import { LABELS, type FeatureQuery, type IndexLabel, type SortKey } from './search.ts';
import { sidebarWebviewHtml, webviewRoot } from './webviewHtml.ts';

export const EDITOR_SELECTION_COMMAND = 'audioSae.editorSelection';
export const ANALYSE_CORPUS_COMMAND = 'audioSae.analyseCorpus';


const finiteOrUndefined = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const range = (v: unknown) => {
  const r = v as { min?: unknown; max?: unknown } | undefined;
  return r && typeof r === 'object' ? { min: finiteOrUndefined(r.min), max: finiteOrUndefined(r.max) } : undefined;
};

/** A webview message checked field by field; undefined when it is not one. */
export function parseSearchMessage(raw: unknown, dictSize: number): SearchToHost | undefined {
  const m = raw as Record<string, unknown> | null;
  if (!m || typeof m !== 'object') return undefined;
  switch (m.type) {
    case 'ready':
    case 'startRun':
      return { type: m.type };
    case 'open':
      return Number.isInteger(m.feature) && (m.feature as number) >= 0 && (m.feature as number) < dictSize ? { type: 'open', feature: m.feature as number } : undefined;
    case 'search': {
      const q = m.query as Record<string, unknown> | null;
      if (!Number.isSafeInteger(m.seq) || !q || typeof q !== 'object') return undefined;
      const sort = q.sort as { key?: unknown; descending?: unknown } | undefined;
      const key = typeof sort?.key === 'string' && /^(feature|frameFreq|audioFreq|maxAct|meanAct|label|grade|domain:.{1,200})$/.test(sort.key) ? (sort.key as SortKey) : 'feature';
      const query: SearchQueryMessage = {
        text: typeof q.text === 'string' ? q.text.slice(0, 1000) : '',
        labels: Array.isArray(q.labels) ? q.labels.filter((l): l is IndexLabel => (LABELS as readonly unknown[]).includes(l)) : [],
        maxGrade: finiteOrUndefined(q.maxGrade),
        frameFreq: range(q.frameFreq),
        maxAct: range(q.maxAct),
        annotatedOnly: q.annotatedOnly === true,
        inSelection: q.inSelection === true,
        sort: { key, descending: sort?.descending === true },
      };
      return { type: 'search', seq: m.seq as number, query };
    }
    default:
      return undefined;
  }
}

function layerMessage(l: LoadedLayer, readOnlyNote: string | undefined): SearchLayer {
  const c = l.search.columns;
  const names: Record<number, string> = {};
  for (let f = 0; f < c.count; f++) {
    const a = l.search.annotationOf(f);
    if (a?.name) names[f] = a.name;
  }
  return {
    storePath: l.storePath, storeName: basename(l.storePath), runId: l.runId, backbone: l.backbone, layer: l.layer, dictSize: l.dictSize,
    readOnlyNote, labelNote: c.labelNote, domains: c.domains, frameFreq: c.frameFreq, audioFreq: c.audioFreq, maxAct: c.maxAct, meanAct: c.meanAct,
    domainFreq: c.domainFreq, label: c.label, grade: c.grade, names,
  };
}

export class FeatureSearchViewProvider implements vscode.WebviewViewProvider {
  static readonly viewType = 'audioSae.featureSearch';
  private view: vscode.WebviewView | undefined;
  private current: LoadedLayer | undefined;
  private loading = 0;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly registry: StoreRegistry,
    private readonly layers: LayerCache,
    private readonly log: (line: string) => void,
  ) {
    registry.onDidChange((e) => {
      if (e.type === 'active' || !this.current) void this.load();
    });
    layers.onDidUpdateAnnotations((l) => {
      if (this.current === l) this.post({ type: 'names', names: layerMessage(l, undefined).names });
    });
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = { enableScripts: true, localResourceRoots: [webviewRoot(this.extensionUri)] };
    view.webview.html = sidebarWebviewHtml(view.webview, this.extensionUri, 'sidebar');
    view.webview.onDidReceiveMessage((raw: unknown) => void this.receive(raw));
    view.onDidDispose(() => (this.view = undefined));
  }

  private post(m: HostToSearch): void {
    void this.view?.webview.postMessage(m);
  }

  /** Reads the active layer (once per layer) and sends it to the webview. */
  async load(): Promise<void> {
    const ticket = ++this.loading;
    const active = this.registry.active;
    if (!active) {
      this.current = undefined;
      const stores = this.registry.stores;
      const busy = stores.find((s) => s.state === 'busy');
      const message = busy ? `${busy.message ?? 'A store is being written by another process.'}` : stores.length ? 'The stores found hold no finished run yet.' : 'No corpus run yet.';
      this.post({ type: 'layer', layer: undefined, message });
      return;
    }
    const store = this.registry.store(active.storePath);
    try {
      const l = await this.layers.get(active);
      if (ticket !== this.loading) return;
      this.current = l;
      this.log(`Feature search: ${l.backbone} layer ${l.layer} of ${basename(l.storePath)} (${l.dictSize} features) indexed in ${l.loadMs.toFixed(0)} ms`);
      const note = store?.state === 'busy' ? `Another process is writing ${basename(active.storePath)}; shown read-only as last read. Annotations are saved beside it and copied in when it is free.` : undefined;
      this.post({ type: 'layer', layer: layerMessage(l, note) });
    } catch (e) {
      if (ticket !== this.loading) return;
      this.current = undefined;
      this.post({ type: 'layer', layer: undefined, message: e instanceof Error ? e.message : String(e) });
    }
  }

  private async receive(raw: unknown): Promise<void> {
    const m = parseSearchMessage(raw, this.current?.dictSize ?? 0);
    if (!m) return;
    switch (m.type) {
      case 'ready':
        return this.load();
      case 'startRun':
        return void vscode.commands.executeCommand(ANALYSE_CORPUS_COMMAND);
      case 'open': {
        const l = this.current;
        if (!l) return;
        return void vscode.commands.executeCommand('audioSae.showFeaturePage', { feature: m.feature, layer: l.layer, backbone: l.backbone, storePath: l.storePath, runId: l.runId });
      }
      case 'search':
        return this.search(m.seq, m.query);
      default:
        return assertNever(m);
    }
  }

  private async search(seq: number, q: SearchQueryMessage): Promise<void> {
    const l = this.current;
    if (!l) return;
    const query: FeatureQuery = { ...q };
    let selectionNote: string | undefined;
    if (q.inSelection) {
      const found = await selectionFeatures(l);
      if ('note' in found) selectionNote = found.note;
      if ('features' in found) {
        query.within = found.features;
        selectionNote = found.summary;
      } else {
        query.within = [];
      }
    }
    const t0 = performance.now();
    const r = l.search.search(query);
    this.post({ type: 'results', seq, features: r.features, problems: r.problems, selectionNote, elapsedMs: performance.now() - t0 });
  }
}

/** The features firing in the audio editor's selection, when the editor has one that matches the layer. */
export async function selectionFeatures(l: { backbone: string; layer: number }): Promise<{ features: number[]; summary: string } | { note: string }> {
  if (!(await vscode.commands.getCommands(true)).includes(EDITOR_SELECTION_COMMAND)) {
    return { note: 'The audio editor does not report its selection in this version.' };
  }
  const sel = (await vscode.commands.executeCommand(EDITOR_SELECTION_COMMAND)) as EditorSelection | undefined;
  if (!sel || !Array.isArray(sel.features)) return { note: 'No region is selected in an audio editor: drag across the spectrogram to select one.' };
  if (sel.backbone !== l.backbone || sel.layer !== l.layer) {
    return { note: `The editor's selection is of ${sel.backbone} layer ${sel.layer}; the search shows ${l.backbone} layer ${l.layer}. Switch one of them.` };
  }
  const features = sel.features.filter((f) => Number.isInteger(f));
  return { features, summary: `${features.length} features fire in ${basename(vscode.Uri.parse(sel.uri).path)} ${sel.start_s.toFixed(2)}–${sel.end_s.toFixed(2)} s` };
}
