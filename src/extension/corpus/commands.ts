/**
 * The corpus commands of the palette: Analyse Corpus… (quick picks, then a corpus run in the job worker with a
 * cancellable progress notification; the run is remembered in workspaceState until it finishes, so after a
 * cancel or a window reload the window offers to resume it, and the store skips what it has), Open Corpus
 * Results…, and the result panels (metrics, classification, dead features, feature map, top clips of a feature).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as vscode from 'vscode';
import { JobClient } from '../../engine/jobs/client.ts';
import { BACKBONES, type BackboneSpec } from '../../engine/backbones/registry.ts';
import { DEMO_BACKBONES } from '../../engine/pipeline/resolve.ts';
import type { EncoderTap } from '../../engine/onnx/whisper.ts';
import type { SaeModeChoice } from '../../engine/sae/index.ts';
import type { CorpusRunJob } from '../../shared/jobProtocol.ts';
import type { ExecutionProviderChoice } from '../../shared/workerProtocol.ts';
import { CorpusPanels } from './panels.ts';
import { percentDone, progressMessage, summaryMessage } from './runText.ts';
import { matchRun, type ActiveRun, type StoreRegistry } from './storeRegistry.ts';

const PENDING_RUN_KEY = 'audioSae.pendingCorpusRun';
const LAST_STORE_KEY = 'audioSae.lastCorpusStore';
const ALL_BACKBONES: readonly BackboneSpec[] = [...DEMO_BACKBONES, ...BACKBONES];

export const CORPUS_COMMANDS = [
  'audioSae.analyseCorpus', 'audioSae.openCorpusResults', 'audioSae.showReconstructionMetrics', 'audioSae.classifyFeatures',
  'audioSae.showDeadFeatures', 'audioSae.showFeatureMap', 'audioSae.findTopClips',
] as const;

interface PickItem<T> extends vscode.QuickPickItem {
  value: T;
}

/** A folder whose sub-folders hold audio files looks like a corpus (domain sub-folders). */
function looksLikeCorpus(folder: string): boolean {
  try {
    return readdirSync(folder, { withFileTypes: true }).some((d) => d.isDirectory() && !d.name.startsWith('.') && d.name !== 'node_modules');
  } catch {
    return false;
  }
}

export class CorpusCommands implements vscode.Disposable {
  private client: JobClient | undefined;
  private readonly panels: CorpusPanels;
  private readonly output: vscode.OutputChannel;
  private running: Promise<void> | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly registry: StoreRegistry,
  ) {
    this.output = vscode.window.createOutputChannel('AudioSAE Corpus');
    this.panels = new CorpusPanels(context.extensionUri, registry, () => this.jobs(), (line) => this.output.appendLine(line),
      vscode.Uri.joinPath(context.globalStorageUri, 'featureMaps').fsPath);
  }

  static register(context: vscode.ExtensionContext, registry: StoreRegistry): CorpusCommands {
    const c = new CorpusCommands(context, registry);
    context.subscriptions.push(
      c,
      vscode.commands.registerCommand('audioSae.analyseCorpus', (arg?: Partial<CorpusRunJob>) => c.analyse(arg)),
      vscode.commands.registerCommand('audioSae.openCorpusResults', (uri?: vscode.Uri) => c.openResults(uri)),
      vscode.commands.registerCommand('audioSae.showReconstructionMetrics', () => c.showPanel('metrics')),
      vscode.commands.registerCommand('audioSae.classifyFeatures', () => c.showPanel('classification')),
      vscode.commands.registerCommand('audioSae.showDeadFeatures', () => c.showPanel('dead')),
      vscode.commands.registerCommand('audioSae.showFeatureMap', () => c.showPanel('featureMap')),
      vscode.commands.registerCommand('audioSae.findTopClips', (arg?: unknown) => c.findTopClips(arg)),
    );
    void c.offerResume();
    return c;
  }

  jobs(): JobClient {
    return (this.client ??= new JobClient());
  }

  dispose(): void {
    this.panels.dispose();
    this.output.dispose();
    void this.client?.dispose();
  }

  // ------------------------------------------------------------------------------------------ Analyse Corpus…

  private async analyse(preset?: Partial<CorpusRunJob>): Promise<void> {
    if (!vscode.workspace.isTrusted) {
      const pick = await vscode.window.showWarningMessage('AudioSAE runs models only in trusted workspaces.', 'Manage Workspace Trust');
      if (pick) await vscode.commands.executeCommand('workbench.trust.manage');
      return;
    }
    if (this.running) {
      void vscode.window.showInformationMessage('A corpus run is in progress in this window; cancel it from its notification first.');
      return;
    }
    const job = await this.pickJob(preset ?? {});
    if (job) await this.start(job);
  }

  /** The quick picks: corpus, backbone, layers, SAE, mode, store. Undefined when the user backs out. */
  private async pickJob(preset: Partial<CorpusRunJob>): Promise<CorpusRunJob | undefined> {
    const config = vscode.workspace.getConfiguration('audioSae');
    const sources = preset.sources ?? (await this.pickSources());
    if (!sources?.length) return undefined;
    const backboneId = preset.backbone ?? (await this.pickOne<string>('Backbone', ALL_BACKBONES.map((b) => ({
      label: b.id, description: `${b.label}, ${b.layers} layers, d ${b.dModel}`, value: b.id, picked: b.id === config.get('backbone'),
    })), config.get<string>('backbone')));
    const spec = ALL_BACKBONES.find((b) => b.id === backboneId);
    if (!spec) return undefined;
    const layers = preset.layers ?? (await this.pickLayers(spec, config.get<number>('layer', 1)));
    if (!layers?.length) return undefined;
    const saeSetting = config.get<string>('saePath') || '';
    const sae = preset.sae !== undefined ? preset.sae || undefined : await this.pickSae(spec, saeSetting, layers);
    if (sae === null) return undefined;
    const mode = preset.mode ?? (await this.pickOne<SaeModeChoice>('SAE mode', [
      { label: 'auto', description: 'threshold where every layer\'s SAE stores one, batch top-k otherwise', value: 'auto' },
      { label: 'threshold', description: 'pre-activations above the stored threshold', value: 'threshold' },
      { label: 'batch-topk', description: 'the k × frames largest activations over each clip', value: 'batch-topk' },
    ], config.get<SaeModeChoice>('saeMode', 'auto')));
    if (!mode) return undefined;
    const store = preset.store ?? (await this.pickStore(sources));
    if (!store) return undefined;
    return {
      kind: 'corpusRun', sources, store, backbone: spec.id, layers, weights: preset.weights ?? (config.get<string>('weightsFolder') || undefined), sae, mode,
      tap: config.get<EncoderTap>('tap', 'block'), normalizeInput: config.get<boolean>('normalizeInput', false),
      maxHubertSeconds: config.get<number>('maxHubertSeconds', 60), keepFrameCodes: preset.keepFrameCodes ?? false,
      executionProvider: config.get<ExecutionProviderChoice>('executionProvider', 'auto'),
      demoModelsDir: vscode.Uri.joinPath(this.context.extensionUri, 'media', 'demo', 'models').fsPath,
    };
  }

  private async pickOne<T>(title: string, items: PickItem<T>[], preferred?: unknown): Promise<T | undefined> {
    const sorted = [...items].sort((a, b) => Number(b.value === preferred) - Number(a.value === preferred));
    return (await vscode.window.showQuickPick(sorted, { title: `Analyse Corpus: ${title}`, ignoreFocusOut: true }))?.value;
  }

  private async pickSources(): Promise<string[] | undefined> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    const candidates: string[] = [];
    for (const f of folders) {
      if (looksLikeCorpus(f.uri.fsPath)) candidates.push(f.uri.fsPath);
      for (const d of readdirSync(f.uri.fsPath, { withFileTypes: true })) {
        const p = join(f.uri.fsPath, d.name);
        if (d.isDirectory() && !d.name.startsWith('.') && d.name !== 'node_modules' && looksLikeCorpus(p)) candidates.push(p);
      }
    }
    const manifest: PickItem<string> = { label: '$(file) Choose a manifest (CSV or JSONL)…', value: '<manifest>', alwaysShow: true };
    const other: PickItem<string> = { label: '$(folder) Choose another folder…', value: '<folder>', alwaysShow: true };
    const items: PickItem<string>[] = [
      ...candidates.map((p) => ({ label: vscode.workspace.asRelativePath(p, true), description: 'folder of domain sub-folders', value: p })),
      manifest, other,
    ];
    const picked = await vscode.window.showQuickPick(items, {
      title: 'Analyse Corpus: folders (their sub-folders are the domains: speech/, sounds/, music/ …) or a manifest', canPickMany: true, ignoreFocusOut: true,
    });
    if (!picked?.length) return undefined;
    const out = picked.filter((p) => !p.value.startsWith('<')).map((p) => p.value);
    if (picked.includes(manifest)) {
      const uris = await vscode.window.showOpenDialog({ canSelectMany: true, filters: { 'Corpus manifest': ['csv', 'jsonl'] }, title: 'Corpus manifests' });
      out.push(...(uris ?? []).map((u) => u.fsPath));
    }
    if (picked.includes(other)) {
      const uris = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: true, title: 'Corpus folders' });
      out.push(...(uris ?? []).map((u) => u.fsPath));
    }
    return out;
  }

  private async pickLayers(spec: BackboneSpec, preferred: number): Promise<number[] | undefined> {
    const items: PickItem<number>[] = Array.from({ length: spec.layers }, (_, i) => ({ label: `layer ${i + 1}`, value: i + 1, picked: i + 1 === preferred }));
    const picked = await vscode.window.showQuickPick(items, {
      title: `Analyse Corpus: layers of ${spec.id} (one encoder pass serves them all; select all with the box on top)`, canPickMany: true, ignoreFocusOut: true,
    });
    return picked?.map((p) => p.value).sort((a, b) => a - b);
  }

  /** The SAE: undefined = the backbone's own; null = backed out. */
  private async pickSae(spec: BackboneSpec, setting: string, layers: number[]): Promise<string | undefined | null> {
    const demo = DEMO_BACKBONES.includes(spec);
    const items: PickItem<string>[] = [{ label: demo ? 'The bundled demo SAEs' : `The authors' SAEs (${spec.saeRepo}, downloaded once)`, value: '' }];
    if (setting && (layers.length === 1 || !/\.pt$/i.test(setting))) items.push({ label: 'audioSae.saePath', description: setting, value: setting });
    items.push({ label: '$(folder) Choose a folder of layer_<n>/ae.pt…', value: '<folder>' });
    const picked = await vscode.window.showQuickPick(items, { title: 'Analyse Corpus: SAE', ignoreFocusOut: true });
    if (!picked) return null;
    if (picked.value !== '<folder>') return picked.value || undefined;
    const uri = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, title: 'SAE folder (layer_<n>/ae.pt)' });
    return uri?.[0]?.fsPath ?? null;
  }

  private async pickStore(sources: string[]): Promise<string | undefined> {
    const last = this.context.workspaceState.get<string>(LAST_STORE_KEY);
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? dirname(sources[0]!);
    const suggested = last ?? join(folder, `${basename(sources[0]!).replace(/\.(csv|jsonl)$/i, '')}.duckdb`);
    const value = await vscode.window.showInputBox({
      title: 'Analyse Corpus: store (a DuckDB file; created if missing, and a run already in it resumes)', value: suggested, ignoreFocusOut: true,
      validateInput: (v) => (!v.trim() ? 'Name a file.' : existsSync(v) && statSync(v).isDirectory() ? 'That is a folder; name a file in it.' : undefined),
    });
    return value?.trim() || undefined;
  }

  /** Runs the job with a progress notification; remembered until it finishes so a reload can resume it. */
  private async start(job: CorpusRunJob): Promise<void> {
    await this.context.workspaceState.update(PENDING_RUN_KEY, job);
    await this.context.workspaceState.update(LAST_STORE_KEY, job.store);
    const release = await this.registry.holdForWriting(job.store);
    const run = vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `AudioSAE: corpus run (${job.backbone}, layers ${job.layers.join(',')})`, cancellable: true },
      async (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => {
          abort.abort();
          progress.report({ message: 'stopping after the clip in flight…' });
        });
        let shown = 0;
        // How responsive the extension host stays while the worker runs (the editor's requests go through it).
        const lag = monitorEventLoopDelay({ resolution: 10 });
        lag.enable();
        const logLag = () => {
          lag.disable();
          // The histogram holds the times between 10 ms timer ticks: what exceeds 10 ms is the delay.
          const ms = (ns: number) => Math.max(0, ns / 1e6 - 10).toFixed(1);
          this.output.appendLine(`extension host event-loop delay during the run: median ${ms(lag.percentile(50))} ms, p99 ${ms(lag.percentile(99))} ms, max ${ms(lag.max)} ms (${lag.count} samples)`);
        };
        try {
          const { summary } = await this.jobs().start(job, {
            signal: abort.signal,
            onProgress: (p) => {
              if (abort.signal.aborted) return;
              const pct = p.kind === 'corpus' ? percentDone(p.progress) : shown;
              progress.report({ message: progressMessage(p), increment: pct - shown });
              shown = pct;
            },
          }).result;
          logLag();
          for (const note of summary.notes) this.output.appendLine(`note: ${note}`);
          for (const f of summary.failed) this.output.appendLine(`failed: ${f.path}: ${f.error}`);
          this.output.appendLine(summaryMessage(summary));
          if (!summary.cancelled) await this.context.workspaceState.update(PENDING_RUN_KEY, undefined);
          await release();
          if (summary.runId) {
            const layer = job.layers.includes(this.registry.active?.layer ?? -1) ? this.registry.active!.layer : job.layers[0]!;
            if (this.registry.store(job.store)?.runs.some((r) => r.runId === summary.runId)) this.registry.setActive({ storePath: job.store, runId: summary.runId, layer });
          }
          const actions = summary.cancelled ? ['Resume'] : ['Show Metrics', 'Classify Features'];
          if (summary.failed.length) actions.push('Show Failures');
          void vscode.window.showInformationMessage(summaryMessage(summary), ...actions).then((a) => this.after(a, job));
        } catch (e) {
          logLag();
          await release();
          void vscode.window.showErrorMessage(`AudioSAE corpus run: ${(e as Error).message}`, 'Resume').then((a) => this.after(a, job));
        }
      },
    );
    this.running = Promise.resolve(run).finally(() => (this.running = undefined));
    await this.running;
  }

  private after(action: string | undefined, job: CorpusRunJob): void {
    if (action === 'Resume') void this.start(job);
    else if (action === 'Show Metrics') this.panels.show('metrics');
    else if (action === 'Classify Features') this.panels.show('classification');
    else if (action === 'Show Failures') this.output.show(true);
  }

  /** After a window reload (or a run that was stopped): offer to run the remembered job again. */
  private async offerResume(): Promise<void> {
    const job = this.context.workspaceState.get<CorpusRunJob>(PENDING_RUN_KEY);
    if (!job || job.kind !== 'corpusRun' || !vscode.workspace.isTrusted) return;
    const pick = await vscode.window.showInformationMessage(
      `AudioSAE: a corpus run into ${basename(job.store)} did not finish. Resume it? Clips already stored are skipped.`, 'Resume', 'Discard',
    );
    if (pick === 'Resume' && !this.running) await this.start({ ...job, demoModelsDir: vscode.Uri.joinPath(this.context.extensionUri, 'media', 'demo', 'models').fsPath });
    else if (pick === 'Discard') await this.context.workspaceState.update(PENDING_RUN_KEY, undefined);
  }

  // --------------------------------------------------------------------------------------- results and panels

  private async openResults(uri?: vscode.Uri): Promise<void> {
    const target = uri ?? (await vscode.window.showOpenDialog({ filters: { 'Corpus store': ['duckdb'] }, title: 'Open Corpus Results' }))?.[0];
    if (!target) return;
    const entry = await this.registry.add(target.fsPath);
    if (entry.state === 'error' || entry.state === 'busy') {
      void vscode.window.showWarningMessage(`AudioSAE: ${entry.message}`);
      if (entry.state === 'error') return;
    }
    const run = await this.pickRun(target.fsPath);
    if (!run) return;
    this.registry.setActive(run);
    this.panels.show('metrics');
  }

  /** A run and layer of a store: asked when there is more than one. */
  private async pickRun(storePath: string): Promise<ActiveRun | undefined> {
    const runs = this.registry.store(storePath)?.runs ?? [];
    if (runs.length === 0) {
      void vscode.window.showInformationMessage(`AudioSAE: ${basename(storePath)} holds no corpus runs yet. Fill it with "AudioSAE: Analyse Corpus…".`);
      return undefined;
    }
    const items = runs.flatMap((r) => r.layers.map((layer) => ({
      label: `${r.backbone} · layer ${layer}`, description: `run ${r.runId} · ${r.mode} · ${r.clipsDone} clips`, detail: r.sae, value: { storePath, runId: r.runId, layer },
    })));
    if (items.length === 1) return items[0]!.value;
    return (await vscode.window.showQuickPick(items, { title: `Run and layer of ${basename(storePath)}` }))?.value;
  }

  /** The active run, or (with none) the user's pick among the known stores' runs. */
  private async ensureActive(): Promise<ActiveRun | undefined> {
    if (this.registry.active) return this.registry.active;
    await this.registry.refresh();
    if (this.registry.active) return this.registry.active;
    const pick = await vscode.window.showInformationMessage('AudioSAE: no corpus run in this workspace yet.', 'Analyse Corpus…', 'Open Corpus Results…');
    if (pick === 'Analyse Corpus…') void vscode.commands.executeCommand('audioSae.analyseCorpus');
    if (pick === 'Open Corpus Results…') void vscode.commands.executeCommand('audioSae.openCorpusResults');
    return undefined;
  }

  private async showPanel(kind: 'metrics' | 'classification' | 'dead' | 'featureMap'): Promise<void> {
    if (await this.ensureActive()) this.panels.show(kind);
  }

  /**
   * Top clips of a feature: `{ feature, layer, backbone }` from the audio editor (the run is the one with that
   * backbone and layer, in the active store first), or asked for in the active run.
   */
  private async findTopClips(arg?: unknown): Promise<void> {
    const a = (arg ?? {}) as { feature?: unknown; layer?: unknown; backbone?: unknown };
    let run: ActiveRun | undefined;
    if (typeof a.backbone === 'string' && Number.isInteger(a.layer)) {
      run = matchRun(this.registry.stores, { backbone: a.backbone, layer: a.layer as number }, this.registry.active?.storePath);
      if (!run) {
        const pick = await vscode.window.showInformationMessage(`AudioSAE: no corpus run of ${a.backbone} layer ${a.layer} is known to this window.`, 'Analyse Corpus…', 'Open Corpus Results…');
        if (pick) void vscode.commands.executeCommand(pick === 'Analyse Corpus…' ? 'audioSae.analyseCorpus' : 'audioSae.openCorpusResults');
        return;
      }
    } else {
      run = await this.ensureActive();
    }
    if (!run) return;
    const dictSize = this.registry.store(run.storePath)?.runs.find((r) => r.runId === run.runId)?.dictSize ?? 0;
    let feature = Number.isInteger(a.feature) ? (a.feature as number) : undefined;
    if (feature === undefined) {
      const text = await vscode.window.showInputBox({
        title: `Find Top Clips for Feature (layer ${run.layer})`, prompt: `A feature id from 0 to ${dictSize - 1}`,
        validateInput: (v) => (/^\d+$/.test(v.trim()) && Number(v) < dictSize ? undefined : `A whole number from 0 to ${dictSize - 1}.`),
      });
      if (text === undefined) return;
      feature = Number(text.trim());
    }
    if (feature < 0 || feature >= dictSize) {
      void vscode.window.showErrorMessage(`AudioSAE: feature ${feature} is outside 0…${dictSize - 1} of this run.`);
      return;
    }
    this.panels.showTopClips(run, feature);
  }
}
