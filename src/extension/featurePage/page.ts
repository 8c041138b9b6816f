/**
 * The Feature page: a webview panel beside the editor for one feature of one layer of a run (command
 * `audioSae.showFeaturePage` with `{ feature, layer, backbone }`, optionally `storePath` and `runId`; the search
 * view, the audio editor and the map panel call it). It shows the statistics per domain, label and grade, the
 * histogram of the per-clip max, the top clips (play a snippet around the max, decoded here and played in the
 * panel; open the clip in the audio editor at that time with the feature selected), the nearest features by
 * decoder cosine, the receptive field, the acoustic profile and the duplicates (jobs.ts: in the job worker, with
 * progress and cancel), and the annotation editor (each debounced edit is saved to the store's journal before the
 * panel is told "saved"). One panel is reused; it shows the latest feature asked for.
 */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { matchRun } from '../corpus/storeRegistry.ts';
import type { ActiveRun, StoreRegistry } from '../corpus/stores.ts';
import type { AnnotationsHub } from '../sidebar/annotationsHub.ts';
import type { LayerCache } from '../sidebar/layers.ts';
import { assertNever, type AnnotationData, type FeaturePageData, type HostToPage, type PageToHost } from '../sidebar/protocol.ts';
import { LABELS } from '../sidebar/search.ts';
import { receptiveField } from '../../engine/interp/receptiveField.ts';
import { WorkerRunner } from '../../engine/runtime/workerRunner.ts';
import type { ExecutionProviderChoice } from '../../shared/workerProtocol.ts';
import { sidebarWebviewHtml, webviewRoot } from '../sidebar/webviewHtml.ts';
import type { JobClient } from '../../engine/jobs/client.ts';
import { audioSnippet, DecoderDirections, featureStatsData, saeFileOf, type FeatureStatsData } from './data.ts';
import { FeatureJobs, type FeatureJobTarget } from './jobs.ts';

export const SHOW_FEATURE_PAGE_COMMAND = 'audioSae.showFeaturePage';
export const OPEN_CLIP_AT_COMMAND = 'audioSae.openClipAt';
const PROFILE_NEEDS_TRUST = 'The acoustic profile runs the models: trust the workspace first.';

export interface FeaturePageArgs {
  feature: number;
  layer: number;
  backbone: string;
  storePath?: string;
  runId?: string;
}

export function parseFeaturePageArgs(arg: unknown): FeaturePageArgs | undefined {
  const a = arg as Record<string, unknown> | null | undefined;
  if (!a || typeof a !== 'object') return undefined;
  if (!Number.isInteger(a.feature) || (a.feature as number) < 0 || !Number.isInteger(a.layer) || (a.layer as number) < 1 || typeof a.backbone !== 'string') return undefined;
  return {
    feature: a.feature as number, layer: a.layer as number, backbone: a.backbone,
    storePath: typeof a.storePath === 'string' ? a.storePath : undefined, runId: typeof a.runId === 'string' ? a.runId : undefined,
  };
}

/** The run a page is about: the one named, else the active run when it matches, else any known run that matches. */
export function resolvePageRun(registry: StoreRegistry, a: FeaturePageArgs): ActiveRun | undefined {
  if (a.storePath && a.runId) return { storePath: a.storePath, runId: a.runId, layer: a.layer };
  const active = registry.activeRunSummary();
  if (active && active.run.backbone === a.backbone && active.run.layers.includes(a.layer)) return { storePath: active.store.path, runId: active.run.runId, layer: a.layer };
  return matchRun(registry.stores, { backbone: a.backbone, layer: a.layer }, registry.active?.storePath);
}

function parsePageMessage(raw: unknown): PageToHost | undefined {
  const m = raw as Record<string, unknown> | null;
  if (!m || typeof m !== 'object') return undefined;
  const id = Number.isSafeInteger(m.id) ? (m.id as number) : undefined;
  switch (m.type) {
    case 'ready':
      return { type: 'ready' };
    case 'play':
    case 'openAt':
      return id !== undefined && Number.isInteger(m.rank) && (m.rank as number) >= 1 && (m.rank as number) <= 1000 ? { type: m.type, id, rank: m.rank as number } : undefined;
    case 'annotate':
      if (id === undefined || typeof m.name !== 'string' || typeof m.notes !== 'string' || !Array.isArray(m.tags) || !m.tags.every((t) => typeof t === 'string')) return undefined;
      return { type: 'annotate', id, name: m.name, notes: m.notes, tags: m.tags as string[] };
    case 'openFeature':
      return Number.isInteger(m.feature) && (m.feature as number) >= 0 ? { type: 'openFeature', feature: m.feature as number } : undefined;
    case 'receptiveField':
    case 'profile':
    case 'duplicates':
    case 'cancelJob':
      return id !== undefined ? { type: m.type, id } : undefined;
    default:
      return undefined;
  }
}

export class FeaturePages {
  private panel: vscode.WebviewPanel | undefined;
  private ready = false;
  private latest: HostToPage | undefined;
  private shown: { run: ActiveRun; stats: FeatureStatsData } | undefined;
  private readonly decoders = new Map<string, Promise<DecoderDirections>>();
  /** A worker of its own for the log-mel windows of receptive fields (started on first use). */
  private runner: Promise<WorkerRunner> | undefined;
  private loadTicket = 0;
  private readonly jobs: FeatureJobs;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly registry: StoreRegistry,
    private readonly layers: LayerCache,
    private readonly annotations: AnnotationsHub,
    private readonly log: (line: string) => void,
    jobClient: () => JobClient,
  ) {
    this.jobs = new FeatureJobs({
      jobs: jobClient,
      demoModelsDir: this.demoModelsDir(),
      executionProvider: () => vscode.workspace.getConfiguration('audioSae').get<ExecutionProviderChoice>('executionProvider', 'auto'),
      post: (m) => this.post(m),
      log,
    });
    annotations.onDidChange((storePath, changed) => {
      const s = this.shown;
      if (!s || s.run.storePath !== storePath) return;
      const a = changed.find((c) => c.backbone === s.stats.backbone && c.sae === s.stats.sae && c.layer === s.stats.layer && c.feature === s.stats.feature);
      if (a) this.post({ type: 'annotation', annotation: { name: a.name, notes: a.notes, tags: a.tags, updatedAt: a.updatedAt } });
    });
  }

  dispose(): void {
    this.jobs.cancelAll();
    void this.runner?.then((r) => r.dispose(), () => undefined);
    this.runner = undefined;
  }

  async show(args: FeaturePageArgs): Promise<void> {
    const run = resolvePageRun(this.registry, args);
    if (!run) {
      void vscode.window.showWarningMessage(`AudioSAE: no corpus run of ${args.backbone} layer ${args.layer} is known to this window, so feature ${args.feature} has no page yet.`, 'Analyse Corpus…')
        .then((pick) => pick && vscode.commands.executeCommand('audioSae.analyseCorpus'));
      return;
    }
    this.ensurePanel(`Feature ${args.feature} · L${args.layer}`);
    this.jobs.cancelAll();
    const ticket = ++this.loadTicket;
    try {
      const data = await this.load(run, args.feature);
      if (ticket !== this.loadTicket) return;
      this.log(`Feature page: feature ${args.feature} of ${args.backbone} layer ${args.layer} (${basename(run.storePath)}) read in ${data.loadMs.toFixed(0)} ms`);
      this.post({ type: 'page', data });
    } catch (e) {
      if (ticket !== this.loadTicket) return;
      this.post({ type: 'pageFailed', message: e instanceof Error ? e.message : String(e) });
    }
  }

  private ensurePanel(title: string): void {
    if (this.panel) {
      this.panel.title = title;
      this.panel.reveal(vscode.ViewColumn.Beside, true);
      return;
    }
    const panel = vscode.window.createWebviewPanel('audioSae.featurePage', title, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
      enableScripts: true,
      localResourceRoots: [webviewRoot(this.extensionUri)],
    });
    this.panel = panel;
    this.ready = false;
    panel.webview.html = sidebarWebviewHtml(panel.webview, this.extensionUri, 'featurePage');
    panel.webview.onDidReceiveMessage((raw: unknown) => void this.receive(raw));
    panel.onDidDispose(() => {
      if (this.panel === panel) {
        this.panel = undefined;
        this.shown = undefined;
        this.latest = undefined;
        this.jobs.cancelAll();
      }
    });
  }

  private post(m: HostToPage): void {
    if (m.type === 'page' || m.type === 'pageFailed') this.latest = m;
    if (m.type === 'annotation' && this.latest?.type === 'page') this.latest.data.annotation = m.annotation;
    if (this.panel && (this.ready || (m.type !== 'page' && m.type !== 'pageFailed'))) void this.panel.webview.postMessage(m);
  }

  /** Reads everything the page shows. */
  async load(run: ActiveRun, feature: number): Promise<FeaturePageData> {
    const t0 = performance.now();
    const layer = await this.layers.get(run);
    if (feature >= layer.dictSize) throw new Error(`${basename(run.storePath)}: run ${run.runId} has features 0..${layer.dictSize - 1}; ${feature} is not one of them.`);
    const c = layer.search.columns;
    const labels = { label: c.label[feature] === LABELS.indexOf('none') ? null : (LABELS[c.label[feature]!] as Exclude<(typeof LABELS)[number], 'none'>), grade: c.grade[feature]! < 0 ? null : c.grade[feature]!, note: c.labelNote };
    const stats = await this.registry.withStore(run.storePath, (conn) => featureStatsData(conn, run.runId, run.layer, feature, { labels }));
    const journal = await this.annotations.refresh(run.storePath);
    const a = journal.get({ backbone: stats.backbone, sae: stats.sae, layer: stats.layer, feature });
    const annotation: AnnotationData = a ? { name: a.name, notes: a.notes, tags: a.tags, updatedAt: a.updatedAt } : { name: '', notes: '', tags: [], updatedAt: null };
    let nearest: FeaturePageData['nearest'];
    try {
      nearest = { features: (await this.decoder(stats)).nearest(feature, 10) };
    } catch (e) {
      nearest = { note: e instanceof Error ? e.message : String(e) };
    }
    const names: Record<number, string> = {};
    for (const x of journal.list({ backbone: stats.backbone, sae: stats.sae, layer: stats.layer })) if (x.name) names[x.feature] = x.name;
    const entry = this.registry.store(run.storePath);
    this.shown = { run, stats };
    return {
      storePath: run.storePath, stats, names, nearest, annotation, journalPath: journal.path,
      readOnlyNote: entry?.state === 'busy' ? `Another process is writing ${basename(run.storePath)}: shown read-only; annotations are saved beside it (${basename(journal.path)}).` : undefined,
      ...this.jobs.keptFor(this.jobTarget({ run, stats })),
      profileBlocked: vscode.workspace.isTrusted ? undefined : PROFILE_NEEDS_TRUST,
      loadMs: performance.now() - t0,
    };
  }

  private jobTarget(s: { run: ActiveRun; stats: FeatureStatsData }): FeatureJobTarget {
    return { run: s.run, feature: s.stats.feature, runState: this.registry.runState(s.run) };
  }

  private demoModelsDir(): string {
    return vscode.Uri.joinPath(this.extensionUri, 'media', 'demo', 'models').fsPath;
  }

  private decoder(stats: FeatureStatsData): Promise<DecoderDirections> {
    let d = this.decoders.get(stats.sae);
    if (!d) {
      const file = saeFileOf(stats.saeSource, stats.backbone, stats.layer, this.demoModelsDir());
      d = file
        ? DecoderDirections.load(file, stats.sae)
        : Promise.reject(new Error(`The run's SAE (${stats.saeSource}, layer ${stats.layer}) is not on this machine, so decoder cosines cannot be computed.`));
      d.catch(() => this.decoders.delete(stats.sae));
      this.decoders.set(stats.sae, d);
    }
    return d;
  }

  private async receive(raw: unknown): Promise<void> {
    const m = parsePageMessage(raw);
    if (!m) return;
    const s = this.shown;
    const fail = (id: number, e: unknown) => this.post({ type: 'failed', id, message: e instanceof Error ? e.message : String(e) });
    switch (m.type) {
      case 'ready':
        this.ready = true;
        if (this.latest) this.post(this.latest);
        return;
      case 'play': {
        const clip = s?.stats.topClips[m.rank - 1];
        if (!s || !clip) return fail(m.id, new Error('That clip is not on the page any more.'));
        try {
          const snip = await audioSnippet(clip.clip, clip.segmentStartS + clip.timeS);
          this.post({ type: 'snippet', id: m.id, samples: snip.samples, sampleRateHz: snip.sampleRateHz, startS: snip.startS, peakS: snip.peakS });
        } catch (e) {
          fail(m.id, e);
        }
        return;
      }
      case 'openAt': {
        const clip = s?.stats.topClips[m.rank - 1];
        if (!s || !clip) return fail(m.id, new Error('That clip is not on the page any more.'));
        try {
          const arg = { path: clip.clip, time_s: clip.segmentStartS + clip.timeS, feature: s.stats.feature, layer: s.stats.layer };
          if ((await vscode.commands.getCommands(true)).includes(OPEN_CLIP_AT_COMMAND)) {
            await vscode.commands.executeCommand(OPEN_CLIP_AT_COMMAND, arg);
            this.post({ type: 'opened', id: m.id });
          } else {
            // Another group than the page's, so the page stays in view.
            const column = this.panel?.viewColumn === vscode.ViewColumn.One ? vscode.ViewColumn.Two : vscode.ViewColumn.One;
            await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(clip.clip), 'audioSae.audioEditor', column);
            const note = `Opened ${basename(clip.clip)}; this audio editor cannot jump to a time yet (the maximum is at ${arg.time_s.toFixed(2)} s).`;
            void vscode.window.showInformationMessage(`AudioSAE: ${note}`);
            this.post({ type: 'opened', id: m.id, note });
          }
        } catch (e) {
          fail(m.id, e);
        }
        return;
      }
      case 'annotate': {
        if (!s) return fail(m.id, new Error('No feature is shown.'));
        try {
          const key = { backbone: s.stats.backbone, sae: s.stats.sae, layer: s.stats.layer, feature: s.stats.feature };
          const saved = await this.annotations.put(s.run.storePath, key, { name: m.name, notes: m.notes, tags: m.tags });
          const empty = saved.name === '' && saved.notes === '' && saved.tags.length === 0;
          this.post({ type: 'saved', id: m.id, updatedAt: empty ? null : saved.updatedAt });
        } catch (e) {
          fail(m.id, e);
        }
        return;
      }
      case 'receptiveField': {
        if (!s) return fail(m.id, new Error('No feature is shown.'));
        if (!vscode.workspace.isTrusted) return fail(m.id, new Error('The receptive field runs the log-mel front end: trust the workspace first.'));
        try {
          this.runner ??= WorkerRunner.create({ executionProvider: vscode.workspace.getConfiguration('audioSae').get<ExecutionProviderChoice>('executionProvider', 'auto') });
          this.runner.catch(() => (this.runner = undefined));
          const runner = await this.runner;
          const rf = await this.registry.withStore(s.run.storePath, (conn) => receptiveField(runner, conn, { runId: s.run.runId, layer: s.stats.layer, feature: s.stats.feature, clips: 16 }));
          this.post({ type: 'receptiveField', id: m.id, nMels: rf.nMels, windowFrames: rf.windowFrames, centreColumn: rf.centreColumn, mean: rf.mean, windows: rf.picked.length, notes: rf.notes });
        } catch (e) {
          fail(m.id, e);
        }
        return;
      }
      case 'profile':
        if (!s) return fail(m.id, new Error('No feature is shown.'));
        if (!vscode.workspace.isTrusted) return fail(m.id, new Error(PROFILE_NEEDS_TRUST));
        return this.jobs.start('profile', m.id, this.jobTarget(s));
      case 'duplicates':
        if (!s) return fail(m.id, new Error('No feature is shown.'));
        return this.jobs.start('duplicates', m.id, this.jobTarget(s));
      case 'cancelJob':
        return this.jobs.cancel(m.id);
      case 'openFeature':
        if (s && m.feature < s.stats.dictSize) await this.show({ feature: m.feature, layer: s.stats.layer, backbone: s.stats.backbone, storePath: s.run.storePath, runId: s.run.runId });
        return;
      default:
        return assertNever(m);
    }
  }
}
