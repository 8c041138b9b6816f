/**
 * One open audio editor, host side: reads the file through vscode.workspace.fs, decodes it, computes the
 * log-mel once (window by window, reused by Whisper models with the same mel bins), runs the chosen backbone
 * layer and SAE in the engine worker with results streamed per window, and answers the webview's requests
 * for the visible range from its ClipStore. Model runs are cached per (content, backbone, layer, SAE, options).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, posix } from 'node:path';
import * as vscode from 'vscode';
import { decodeAudio, forEachMelWindow, resample, toMono } from '../../engine/audio/index.ts';
import { writeCodesParquet } from '../../engine/io/parquet.ts';
import { DEMO_BACKBONES, resolveModels } from '../../engine/pipeline/resolve.ts';
import { streamClipFeatures } from '../../engine/pipeline/stream.ts';
import type { WorkerRunner } from '../../engine/runtime/workerRunner.ts';
import { BACKBONES } from '../../engine/backbones/registry.ts';
import {
  dictionaryKey, parseSavedView, type Activity, type EditorSettings, type ExportKind, type HostMessage, type LinkKind, type NoticeLevel, type RunChoice, type RunState,
  type SavedView, type WebviewMessage,
} from '../../shared/editorProtocol.ts';
import { ClipStore, RunCodes } from './clipStore.ts';
import { firingIntervals, type Interval } from '../../engine/sae/sparseCodes.ts';
import { audacityLabels, codesCsv, codesNpy, intervalsCsv, type Codes } from './exports.ts';
import type { PlaybackCache } from './playback.ts';

export const ALL_BACKBONES = [...DEMO_BACKBONES, ...BACKBONES];
/** Finished runs kept across all editors (switching back, or reopening a file, is instant). */
const CACHED_RUNS = 8;

export interface Run {
  key: string;
  choice: RunChoice;
  codes: RunCodes | undefined;
  state: RunState;
}

export class EditorSession {
  disposed = false;
  private store: ClipStore | undefined;
  private contentHash = '';
  private shown: Run | undefined;
  private running: AbortController | undefined;
  private choice: RunChoice | undefined;
  private loading = 0;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly uri: vscode.Uri,
    private readonly panel: vscode.WebviewPanel,
    private readonly engine: () => Promise<WorkerRunner>,
    private readonly playback: PlaybackCache,
    /** Shared by the provider's editors, keyed by clip content and run options; insertion order = least recently shown first. */
    private readonly runs: Map<string, Run>,
  ) {}

  private get savedKey(): string {
    return `audioSae.view:${this.uri.toString()}`;
  }

  /** The view remembered for this file in this workspace (validated again: settings may have changed since). */
  private saved(): SavedView {
    return parseSavedView(this.context.workspaceState.get(this.savedKey), { backbones: ALL_BACKBONES, dictSize: 0 });
  }

  private post(message: HostMessage): void {
    if (!this.disposed) void this.panel.webview.postMessage(message);
  }

  private activity(activity: Activity): void {
    this.post({ type: 'activity', activity });
  }

  private notice(text: string, level: NoticeLevel = 'info'): void {
    this.post({ type: 'notice', text, level });
  }

  private get fileName(): string {
    return basename(this.uri.path);
  }

  /** The dictionary size of the run shown (for validating feature ids), 0 if none. */
  dictSize(): number {
    return this.shown?.codes?.dictSize ?? 0;
  }

  private settings(): EditorSettings {
    const config = vscode.workspace.getConfiguration('audioSae');
    const spec = ALL_BACKBONES.find((b) => b.id === config.get<string>('backbone')) ?? BACKBONES[0]!;
    const saePath = config.get<string>('saePath') || '';
    const choice: RunChoice = this.choice ?? {
      backbone: spec.id,
      layer: Math.min(Math.max(1, config.get<number>('layer', 6)), spec.layers),
      sae: saePath ? 'local' : 'hub',
      mode: config.get('saeMode', 'auto'),
    };
    return {
      backbones: ALL_BACKBONES.map((b) => ({ id: b.id, label: b.label, family: b.family, layers: b.layers, demo: DEMO_BACKBONES.includes(b) })),
      choice,
      localSae: saePath ? basename(saePath) : undefined,
    };
  }

  async handle(message: WebviewMessage): Promise<void> {
    switch (message.type) {
      case 'ready':
        this.choice = message.choice ?? this.choice ?? this.saved().choice;
        return this.load();
      case 'saveView':
        return void this.context.workspaceState.update(this.savedKey, message.saved);
      case 'run':
        return this.run(message.choice);
      case 'cancel':
        return this.cancel();
      case 'view': {
        if (!this.store) return this.post({ type: 'failed', id: message.id, message: 'The clip is not loaded yet.' });
        const reply = this.store.view(message.t0S, message.t1S, message.columns, this.shown?.codes, message.features);
        return this.post({ type: 'view', id: message.id, choice: this.shown?.choice, ...reply });
      }
      case 'frame': {
        const f = this.shown?.codes?.frame(message.frame, 12);
        if (!f) return this.post({ type: 'failed', id: message.id, message: `Frame ${message.frame} has no features (yet).` });
        return this.post({ type: 'frame', id: message.id, frame: message.frame, timeS: message.frame / 50, ...f });
      }
      case 'rank': {
        const codes = this.shown?.codes;
        if (!codes) return this.post({ type: 'failed', id: message.id, message: 'No model run is shown.' });
        return this.post({ type: 'rank', id: message.id, fromFrame: message.fromFrame, toFrame: message.toFrame, by: message.by, stats: codes.rank(message.fromFrame, message.toFrame, message.by, message.n) });
      }
      case 'firing': {
        const codes = this.shown?.codes;
        if (!codes) return this.post({ type: 'failed', id: message.id, message: 'No model run is shown.' });
        const frame = codes.nextFiring(message.feature, message.fromFrame, message.direction) ?? -1;
        return this.post({ type: 'firing', id: message.id, feature: message.feature, frame });
      }
      case 'export':
        return this.export(message.what, message.feature, message.choice, message.png);
      case 'link':
        return this.link(message.what, message.feature);
      case 'openSettings':
        return void vscode.commands.executeCommand('workbench.action.openSettings', `@ext:${this.context.extension.id}`);
    }
  }

  /** Reads, decodes and shows the file (again after a change on disk), then runs the chosen model if trusted. */
  async load(): Promise<void> {
    const generation = ++this.loading;
    const stale = () => this.disposed || generation !== this.loading;
    this.post({ type: 'init', fileName: this.fileName, trusted: vscode.workspace.isTrusted, settings: this.settings(), saved: this.saved() });
    try {
      this.activity({ kind: 'decoding' });
      const bytes = await vscode.workspace.fs.readFile(this.uri);
      const hash = createHash('sha256').update(bytes).digest('hex');
      const decoded = await decodeAudio(bytes, this.fileName);
      const runner = await this.engine();
      const samples = await resample(toMono(decoded.channels), decoded.sampleRateHz, 16000, runner);
      if (stale()) return;
      this.contentHash = hash;
      this.shown = undefined;
      const store = (this.store = new ClipStore(samples));
      this.post({
        type: 'clip', durationS: decoded.channels[0]!.length / decoded.sampleRateHz, sourceRateHz: decoded.sampleRateHz, channels: decoded.sourceChannels ?? decoded.channels.length,
        peak: store.peak, nMels: store.nMels, melFrames: store.melFrames, melFramesPerSecond: 100,
      });
      void this.playback.uriFor(hash, samples, this.panel.webview).then((uri) => !stale() && this.post({ type: 'playback', uri }), (e: Error) => {
        this.notice(`Playback unavailable: ${e.message}`, 'warning');
      });
      this.activity({ kind: 'mel' });
      await forEachMelWindow(runner, samples, 80, (_info, w) => {
        if (stale()) return;
        store.addMelWindow(w.data);
        this.post({ type: 'mel', framesDone: store.melDone, melFrames: store.melFrames });
      });
      if (stale()) return;
      if (!vscode.workspace.isTrusted) return this.activity({ kind: 'restricted' });
      this.activity({ kind: 'idle' });
      await this.run(this.settings().choice);
    } catch (e) {
      if (!stale()) this.activity({ kind: 'failed', stage: 'open', message: (e as Error).message });
    }
  }

  private keyOf(choice: RunChoice): string {
    const config = vscode.workspace.getConfiguration('audioSae');
    const options = [config.get('tap', 'block'), config.get('normalizeInput', false), config.get('maxHubertSeconds', 60)];
    const local = choice.sae === 'local' ? config.get<string>('saePath', '') : '';
    return JSON.stringify([this.contentHash, choice.backbone, choice.layer, choice.sae, local, choice.mode, ...options]);
  }

  private show(run: Run): void {
    this.shown = run;
    this.runs.delete(run.key);
    this.runs.set(run.key, run);
    this.post(run.state);
  }

  /** Shows a model run on the clip: from the cache, or computed with results streamed per window. */
  async run(choice: RunChoice): Promise<void> {
    const store = this.store;
    if (!store || !vscode.workspace.isTrusted) return;
    this.choice = choice;
    const key = this.keyOf(choice);
    const cached = this.runs.get(key);
    if (cached?.state.complete) {
      this.running?.abort();
      this.show({ ...cached, state: { ...cached.state, cached: true } });
      this.activity({ kind: 'idle' });
      return;
    }
    this.running?.abort();
    const running = (this.running = new AbortController());
    const spec = ALL_BACKBONES.find((b) => b.id === choice.backbone)!;
    this.activity({ kind: 'preparing', choice });
    // Getting the models (the Hub, local files) fails differently from running them: the webview offers the
    // bundled demo model and the local-file settings for the first.
    let stage: 'models' | 'run' = 'models';
    try {
      const config = vscode.workspace.getConfiguration('audioSae');
      const demo = DEMO_BACKBONES.some((b) => b.id === choice.backbone);
      const saePath = config.get<string>('saePath') || undefined;
      if (choice.sae === 'local' && !saePath) throw new Error('No local SAE file is set: choose one in the setting "audioSae.saePath", or use the authors\' SAE.');
      const resolved = await resolveModels({
        backbone: choice.backbone,
        layer: choice.layer,
        weights: demo ? undefined : config.get<string>('weightsFolder') || undefined,
        sae: choice.sae === 'local' ? saePath : undefined,
        demoModelsDir: vscode.Uri.joinPath(this.context.extensionUri, 'media', 'demo', 'models').fsPath,
        signal: running.signal,
      });
      stage = 'run';
      const runner = await this.engine();
      const saeLabel = choice.sae === 'local' ? basename(resolved.saePath) : spec.saeRepo ? `${spec.saeRepo} layer ${choice.layer}` : 'bundled demo SAE';
      let run: Run | undefined;
      let lastPost = 0;
      const summary = await streamClipFeatures(runner, {
        audio: { samples: store.samples, sourceRateHz: 16000, channels: 1, durationS: store.durationS, name: this.fileName },
        weightsFolder: resolved.weightsFolder,
        saePath: resolved.saePath,
        layer: choice.layer,
        tap: config.get('tap', 'block'),
        mode: choice.mode,
        normalizeInput: config.get('normalizeInput', false),
        maxHubertSeconds: config.get('maxHubertSeconds', 60),
        melWindow: spec.family === 'whisper' && resolved.spec.melBins === 80 ? (i) => store.melWindow(i) : undefined,
        signal: running.signal,
        onStart: ({ sae, mode, totalFrames }) => {
          const codes = new RunCodes(totalFrames, sae.dictSize);
          run = {
            key, choice, codes,
            state: {
              type: 'run', choice, saeLabel, modeUsed: mode, k: sae.k, dictSize: sae.dictSize, totalFrames, framesDone: 0, framesPerSecond: 50,
              complete: false, cached: false, meanL0: 0, notes: [], provider: runner.provider.name,
            },
          };
          this.show(run);
          this.activity({ kind: 'running', choice, framesDone: 0, totalFrames });
        },
        onChunk: (chunk) => {
          if (!run?.codes) return;
          run.codes.add(chunk);
          run.state = { ...run.state, framesDone: run.codes.framesDone };
          // About one update a second reaches the webview: each makes it rank and fetch the visible range again,
          // and that drawing competes with the model for the CPU.
          if (Date.now() - lastPost > 1000 || run.codes.complete) {
            lastPost = Date.now();
            if (this.shown === run) {
              this.post(run.state);
              this.activity({ kind: 'running', choice, framesDone: run.codes.framesDone, totalFrames: run.codes.totalFrames });
            }
          }
        },
      });
      if (!run) {
        // No window started (cancelled first): say so rather than leave "Preparing…" standing.
        if (this.running === running) this.activity(running.signal.aborted ? { kind: 'cancelled', choice } : { kind: 'idle' });
        return;
      }
      run.state = { ...run.state, framesDone: summary.frames, complete: true, meanL0: summary.metrics.l0, notes: summary.notes.map((n) => n.replace(resolved.saePath, 'The SAE')) };
      while (this.runs.size > CACHED_RUNS) this.runs.delete(this.runs.keys().next().value!);
      if (this.shown === run) {
        this.post(run.state);
        this.activity({ kind: 'idle' });
      }
    } catch (e) {
      this.runs.delete(key);
      // A run replaced by another one says nothing: the new run reports its own activity.
      if (running.signal.aborted) {
        if (this.running === running || !this.running) this.activity({ kind: 'cancelled', choice });
      } else if (this.running === running) {
        this.activity({ kind: 'failed', stage, choice, message: (e as Error).message });
      }
    } finally {
      if (this.running === running) this.running = undefined;
    }
  }

  /** Stops the model run in progress after its current window. */
  cancel(): void {
    this.running?.abort();
  }

  private codes(): Codes | undefined {
    const c = this.shown?.codes;
    if (!c) return undefined;
    const { frames, rowPtr, indices, values } = c.codes;
    return { frames, framesPerSecond: c.framesPerSecond, dictSize: c.dictSize, rowPtr, indices, values };
  }

  /**
   * Writes an export where the user chooses (next to the clip by default). Firing intervals are refused for a
   * feature selected in another run (its id means another feature there) and for a feature that never fires
   * (an empty label track); a codes export of a run where nothing fires is written and said to be empty.
   */
  private async export(what: ExportKind, feature?: number, selectedIn?: RunChoice, png?: ArrayBuffer): Promise<void> {
    const f = this.codes();
    const run = this.shown;
    if (what !== 'png') {
      if (!f || !run) return this.notice('No model run is shown: there is nothing to export yet.', 'warning');
      if (!run.state.complete) return this.notice('The model run is still going: export when it has finished.', 'warning');
    }
    const stem = this.fileName.replace(/\.[^.]+$/, '');
    const tag = run ? `${run.choice.backbone}-l${run.choice.layer}` : 'view';
    const runName = run ? `${run.choice.backbone} layer ${run.choice.layer}` : '';
    let intervals: Interval[] = [];
    if (what.startsWith('intervals')) {
      if (!selectedIn || dictionaryKey(selectedIn) !== dictionaryKey(run!.choice)) {
        return this.notice(`Feature ${feature} was selected in another run (${selectedIn?.backbone} layer ${selectedIn?.layer}); select a feature of ${runName} first.`, 'warning');
      }
      intervals = firingIntervals(f!, feature!, f!.framesPerSecond);
      if (intervals.length === 0) return this.notice(`Feature ${feature} does not fire in this clip at ${runName}: nothing to export.`, 'warning');
    }
    const metadata = () => ({
      clip: this.fileName, backbone: run!.choice.backbone, layer: String(run!.choice.layer), sae: run!.state.saeLabel, mode: run!.state.modeUsed,
      frames_per_second: '50', dict_size: String(f!.dictSize),
    });
    const plan: Record<ExportKind, () => { name: string; filters: Record<string, string[]>; bytes: () => Promise<Uint8Array> | Uint8Array }> = {
      'codes-npy': () => ({ name: `${stem}.${tag}.codes.npy`, filters: { NumPy: ['npy'] }, bytes: () => codesNpy(f!) }),
      'codes-csv': () => ({ name: `${stem}.${tag}.codes.csv`, filters: { CSV: ['csv'] }, bytes: () => codesCsv(f!) }),
      'codes-parquet': () => ({ name: `${stem}.${tag}.codes.parquet`, filters: { Parquet: ['parquet'] }, bytes: () => parquetBytes(f!, metadata()) }),
      'intervals-audacity': () => ({ name: `${stem}.${tag}.feature${feature}.txt`, filters: { 'Audacity labels': ['txt'] }, bytes: () => audacityLabels(intervals, feature!) }),
      'intervals-csv': () => ({ name: `${stem}.${tag}.feature${feature}.csv`, filters: { CSV: ['csv'] }, bytes: () => intervalsCsv(intervals) }),
      png: () => ({ name: `${stem}.${tag}.png`, filters: { PNG: ['png'] }, bytes: () => new Uint8Array(png!) }),
    };
    const { name, filters, bytes } = plan[what]();
    const folder = this.uri.with({ path: posix.dirname(this.uri.path) });
    const target = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.joinPath(folder, name), filters });
    if (!target) return;
    try {
      await vscode.workspace.fs.writeFile(target, await bytes());
      const empty = what.startsWith('codes') && f!.indices.length === 0;
      if (empty) this.notice(`Saved ${basename(target.path)}: empty, no feature fires in this run (${what === 'codes-npy' ? 'all codes are zero' : 'no rows'}).`, 'warning');
      else this.notice(`Saved ${basename(target.path)}`);
    } catch (e) {
      this.notice(`${target.fsPath}: ${(e as Error).message}`, 'error');
    }
  }

  /** Hands a feature of the run shown to another part of the product (feature page, top clips). */
  private async link(what: LinkKind, feature: number): Promise<void> {
    const run = this.shown;
    if (!run) return;
    const command = what === 'featurePage' ? 'audioSae.showFeaturePage' : 'audioSae.findTopClips';
    // The feature sidebar and the corpus analyses register these; until they are installed, say so.
    if (!(await vscode.commands.getCommands(true)).includes(command)) {
      const place = what === 'featurePage' ? 'Feature pages (the feature sidebar)' : 'Top clips across a corpus';
      return this.notice(`${place}: not available in this version yet.`);
    }
    await vscode.commands.executeCommand(command, { backbone: run.choice.backbone, layer: run.choice.layer, sae: run.choice.sae, feature, clip: this.uri.toString() });
  }
}

/** Parquet goes through a local temporary file (DuckDB writes files), then to wherever the user chose. */
async function parquetBytes(codes: Codes, metadata: Record<string, string>): Promise<Uint8Array> {
  const dir = mkdtempSync(join(tmpdir(), 'audiosae-export-'));
  try {
    const path = join(dir, 'codes.parquet');
    await writeCodesParquet(path, codes, metadata);
    return readFileSync(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
