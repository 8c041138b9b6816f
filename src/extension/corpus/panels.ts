/**
 * The corpus result panels: one panel per kind (metrics, classification, dead features, feature map) that shows
 * the ACTIVE run and layer of the store registry and follows it, and top-clip panels (one per feature). Each
 * view is computed by an analysis job in the job worker; a panel's layer request (a click on a layer in a chart)
 * makes that layer active, so every open panel moves with it. Feature maps (tens of seconds of t-SNE for
 * 10 240 features) are kept per (store, run, layer, run state) in a FeatureMapCache: showing one again, coming
 * back to its layer or opening it after a reload draws it at once; a resumed run computes it again.
 */
import * as vscode from 'vscode';
import type { JobClient } from '../../engine/jobs/client.ts';
import { parseCorpusRequest, type CorpusPanelRequest, type CorpusView, type CorpusViewKind, type FeatureMapView } from '../../shared/panelProtocol.ts';
import { answerKey } from '../kept.ts';
import { PanelHost } from '../panels/panelHost.ts';
import { FeatureMapCache } from './mapCache.ts';
import type { ActiveRun, StoreRegistry } from './storeRegistry.ts';

const TITLES: Record<CorpusViewKind, string> = {
  metrics: 'Reconstruction Metrics',
  classification: 'Feature Classification',
  dead: 'Dead Features',
  topClips: 'Top Clips',
  featureMap: 'Feature Map',
};

type Host = PanelHost<CorpusView, CorpusPanelRequest>;

interface OpenPanel {
  host: Host;
  kind: CorpusViewKind;
  /** topClips: the feature, and the run it is about (fixed; it does not follow the active run). */
  feature?: number;
  pinned?: ActiveRun;
  generation: number;
}

export class CorpusPanels implements vscode.Disposable {
  private readonly panels = new Set<OpenPanel>();
  private readonly maps: FeatureMapCache;
  private readonly subscription: { dispose(): void };

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly registry: StoreRegistry,
    private readonly jobs: () => JobClient,
    private readonly log: (line: string) => void,
    /** Where computed feature maps are kept as files (the extension's storage); undefined: in memory only. */
    mapFolder: string | undefined,
  ) {
    this.maps = new FeatureMapCache(mapFolder, 24, log);
    this.subscription = registry.onDidChange((e) => {
      if (e.type !== 'active') return;
      for (const p of this.panels) if (!p.pinned) void this.load(p);
    });
  }

  /** Opens (or reveals) the panel of a kind for the active run. */
  show(kind: Exclude<CorpusViewKind, 'topClips'>): void {
    const open = [...this.panels].find((p) => p.kind === kind);
    if (open) {
      open.host.reveal();
      void this.load(open);
      return;
    }
    this.add({ kind });
  }

  /** Opens the top clips of a feature in a run's layer (one panel per feature and run). */
  showTopClips(run: ActiveRun, feature: number): void {
    const open = [...this.panels].find((p) => p.kind === 'topClips' && p.feature === feature && p.pinned?.runId === run.runId && p.pinned.layer === run.layer);
    if (open) return open.host.reveal();
    this.add({ kind: 'topClips', feature, pinned: run });
  }

  dispose(): void {
    this.subscription.dispose();
    for (const p of this.panels) p.host.panel.dispose();
  }

  private add(o: { kind: CorpusViewKind; feature?: number; pinned?: ActiveRun }): void {
    const title = o.kind === 'topClips' ? `Top Clips: feature ${o.feature} (layer ${o.pinned?.layer})` : TITLES[o.kind];
    const panel: OpenPanel = { ...o, generation: 0, host: undefined as unknown as Host };
    panel.host = new PanelHost<CorpusView, CorpusPanelRequest>(this.extensionUri, {
      viewType: `audioSae.panel.${o.kind}`,
      title,
      parseRequest: parseCorpusRequest,
      onRequest: async (q) => this.request(panel, q),
      onMeasure: (name, values) => this.log(`${name}: ${measureLine(values)}`),
    });
    panel.host.panel.onDidDispose(() => this.panels.delete(panel));
    this.panels.add(panel);
    void this.load(panel);
  }

  private async request(panel: OpenPanel, q: CorpusPanelRequest): Promise<string> {
    const run = panel.pinned ?? this.registry.active;
    if (!run) throw new Error('No corpus run is active.');
    if (panel.pinned) {
      panel.pinned = { ...panel.pinned, layer: q.layer };
      await this.load(panel);
    } else {
      this.registry.setActive({ ...run, layer: q.layer }); // every panel that follows the active run reloads
    }
    return `Layer ${q.layer}`;
  }

  /** Annotation names from the feature sidebar (`audioSae.featureNames`), when it answers; the map works without. */
  private async addNames(view: FeatureMapView): Promise<void> {
    if (!(await vscode.commands.getCommands(true)).includes('audioSae.featureNames')) return;
    const raw = await vscode.commands.executeCommand<unknown>('audioSae.featureNames', { backbone: view.heading.backbone, layer: view.heading.layer }).then((r) => r, () => undefined);
    if (!raw || typeof raw !== 'object') return;
    const names = raw as Record<string, unknown>;
    for (const p of view.points) {
      const name = names[String(p.feature)];
      if (typeof name === 'string' && name.length > 0 && name.length <= 200) p.name = name;
      else delete p.name;
    }
  }

  private async load(panel: OpenPanel): Promise<void> {
    const run = panel.pinned ?? this.registry.active;
    const generation = ++panel.generation;
    if (!run) {
      panel.host.error('No corpus run yet: run "AudioSAE: Analyse Corpus…" or open a store with "AudioSAE: Open Corpus Results…".');
      return;
    }
    const mapKey = panel.kind === 'featureMap' ? answerKey(run, this.registry.runState(run)) : undefined;
    try {
      const kept = mapKey === undefined ? undefined : await this.maps.get(mapKey);
      let view: CorpusView;
      if (kept) {
        view = kept;
        this.log(`Feature map of layer ${run.layer} (run ${run.runId}): shown as computed earlier (${kept.method})`);
      } else {
        panel.host.loading(`Reading layer ${run.layer} of run ${run.runId}…`);
        ({ view } = await this.jobs().start({ kind: 'analysis', view: panel.kind, store: run.storePath, runId: run.runId, layer: run.layer, feature: panel.feature,
          demoModelsDir: vscode.Uri.joinPath(this.extensionUri, 'media', 'demo', 'models').fsPath,
        }).result);
        if (mapKey !== undefined && view.kind === 'featureMap') await this.maps.set(mapKey, view);
      }
      // Names follow the annotations as they are now, also on a kept map.
      if (view.kind === 'featureMap') await this.addNames(view);
      if (generation === panel.generation) panel.host.show(view);
    } catch (e) {
      if (generation === panel.generation) panel.host.error((e as Error).message);
    }
  }
}

/** Frame times as one line: count, median, 95th percentile, max (ms). */
export function measureLine(values: readonly number[]): string {
  if (values.length === 0) return 'no samples';
  const s = [...values].sort((a, b) => a - b);
  const q = (f: number) => s[Math.min(s.length - 1, Math.floor(f * s.length))]!;
  return `${s.length} samples, median ${q(0.5).toFixed(2)} ms, p95 ${q(0.95).toFixed(2)} ms, max ${s[s.length - 1]!.toFixed(2)} ms`;
}
