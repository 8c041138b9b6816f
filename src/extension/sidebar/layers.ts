/**
 * One search index per (store, run, layer), read once and kept: the search view filters it, the feature page
 * takes a feature's label from it (the labels are defined over the whole layer), and the editor's feature names
 * need the layer's SAE identity. While another process writes a store it cannot be read at all (DuckDB refuses
 * even read-only opens then), so what was read before is served with a note. No `vscode` import.
 */
import type { ActiveRun, StoreRegistry } from '../corpus/stores.ts';
import type { AnnotationsHub } from './annotationsHub.ts';
import { loadLayerIndex, type LayerIndexData } from './featureIndex.ts';
import { FeatureSearch } from './search.ts';

export interface LoadedLayer extends LayerIndexData {
  storePath: string;
  search: FeatureSearch;
  /** ms to read the store and build the index */
  loadMs: number;
}

const keyOf = (a: ActiveRun) => `${a.storePath}\u0000${a.runId}\u0000${a.layer}`;

export class LayerCache {
  private readonly layers = new Map<string, Promise<LoadedLayer>>();
  private readonly updated = new Set<(l: LoadedLayer) => void>();

  constructor(private readonly registry: StoreRegistry, private readonly annotations: AnnotationsHub) {
    annotations.onDidChange((storePath, changed) => {
      for (const p of this.layers.values()) {
        void p.then((l) => {
          if (l.storePath !== storePath) return;
          const mine = changed.filter((a) => a.backbone === l.backbone && a.sae === l.sae && a.layer === l.layer);
          for (const a of mine) l.search.setAnnotation(a.feature, a);
          if (mine.length) for (const u of this.updated) u(l);
        }, () => undefined);
      }
    });
  }

  /** Called after a loaded layer took annotation edits into its search. */
  onDidUpdateAnnotations(listener: (l: LoadedLayer) => void): void {
    this.updated.add(listener);
  }

  get(a: ActiveRun): Promise<LoadedLayer> {
    const key = keyOf(a);
    let p = this.layers.get(key);
    if (!p) {
      p = this.load(a);
      p.catch(() => this.layers.delete(key));
      this.layers.set(key, p);
    }
    return p;
  }

  /** Drops the layers of a store (its runs changed: a corpus run added clips). */
  forget(storePath: string): void {
    for (const k of [...this.layers.keys()]) if (k.startsWith(`${storePath}\u0000`)) this.layers.delete(k);
  }

  private async load(a: ActiveRun): Promise<LoadedLayer> {
    const t0 = performance.now();
    const data = await this.registry.withStore(a.storePath, (conn) => loadLayerIndex(conn, a.runId, a.layer));
    const journal = await this.annotations.journal(a.storePath);
    const search = new FeatureSearch(data.columns, new Map(journal.list({ backbone: data.backbone, sae: data.sae, layer: data.layer }).map((x) => [x.feature, x])));
    return { ...data, storePath: a.storePath, search, loadMs: performance.now() - t0 };
  }
}
