/**
 * One open audio editor, host side: reads the file, decodes it, computes the log-mel once (window by window,
 * reused by Whisper models with the same mel bins), runs the chosen backbone layer and SAE in the engine with
 * results streamed per window, and answers the webview's requests for the visible range from its ClipStore.
 * Model runs are cached per (content, backbone, layer, SAE, weights, options). Everything VS Code does for it
 * (posting to the webview, settings, dialogs, commands) goes through an EditorHost, so this file has no
 * `vscode` import and is unit-tested with a plain host (test/unit/extension/session.test.ts).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { decodeAudio, forEachMelWindow, resample, toMono } from '../../engine/audio/index.ts';
import { hzToMel } from '../../engine/audio/melFilters.ts';
import { writeFileAtomic } from '../../engine/io/atomicWrite.ts';
import { writeCodesParquet } from '../../engine/io/parquet.ts';
import { l0Note } from '../../engine/pipeline/clipModels.ts';
import { DEMO_BACKBONES, resolveModels } from '../../engine/pipeline/resolve.ts';
import { streamClipFeatures } from '../../engine/pipeline/stream.ts';
import type { ModelRunner } from '../../engine/runtime/types.ts';
import { BACKBONES } from '../../engine/backbones/registry.ts';
import {
  assertNever, dictionaryKey, parseSavedView, type Activity, type EditorSettings, type ExportKind, type HostMessage, type LinkKind, type MelAxisTick, type NoticeLevel,
  type RunChoice, type RunState, type SavedView, type WebviewMessage,
} from '../../shared/editorProtocol.ts';
import { firingIntervals, type Interval } from '../../engine/sae/sparseCodes.ts';
import { ClipStore, RunCodes } from './clipStore.ts';
import { audacityLabels, codesCsv, codesNpy, intervalsCsv, type Codes } from './exports.ts';

/** Where an export goes: a local path (written atomically here), or a place only the host can write. */
export interface SaveTarget {
  /** The name shown to the user. */
  name: string;
  fsPath?: string;
  write?: (bytes: Uint8Array) => Promise<void>;
}

/** What `audioSae.editorSelection` answers: the selected region of an audio editor and the features firing in it. */
export interface EditorSelection {
  uri: string;
  start_s: number;
  end_s: number;
  backbone: string;
  layer: number;
  features: number[];
}

/** What the session needs from VS Code (the provider implements it; tests use a plain object). */
export interface EditorHost {
  /** The clip's file name and URI (as a string). */
  readonly fileName: string;
  readonly clipUri: string;
  /** The bundled toy models (media/demo/models). */
  readonly demoModelsDir: string;
  post(message: HostMessage): void;
  /** A setting of the `audioSae` section. */
  setting<T>(key: string, fallback: T): T;
  isTrusted(): boolean;
  readClip(): Promise<Uint8Array>;
  /** A URI the webview's audio element can stream the 16 kHz clip from. */
  playbackUri(contentHash: string, samples16k: Float32Array): Promise<string>;
  /** The view remembered for this file (unvalidated), and remembering a new one. */
  savedView(): unknown;
  saveView(saved: SavedView): void;
  /** Asks where to save `name` (beside the clip by default); undefined when the user cancels. */
  saveTarget(name: string, filters: Record<string, string[]>): Promise<SaveTarget | undefined>;
  hasCommand(command: string): Promise<boolean>;
  executeCommand<T>(command: string, ...args: unknown[]): Promise<T>;
  openSettings(): void;
  /**
   * The backbone and layer this editor shows changed (the provider tells the sidebar when the editor is the
   * active one, with the `audioSae.corpus.editorContext` command).
   */
  contextChanged(context: { backbone: string; layer: number }): void;
}

/** Where the frequency axis labels sit: each frequency's height as a fraction of the mel scale up to 8 kHz (80-bin Whisper mel). */
export function melAxis(hzs = [250, 500, 1000, 2000, 4000, 8000]): MelAxisTick[] {
  return hzs.map((hz) => ({ label: hz >= 1000 ? `${hz / 1000} kHz` : `${hz} Hz`, fraction: hzToMel(hz) / hzToMel(8000) }));
}

export const ALL_BACKBONES = [...DEMO_BACKBONES, ...BACKBONES];

/** Names of features from the user's annotations, answered by the feature sidebar. */
export const FEATURE_NAMES_COMMAND = 'audioSae.featureNames';

/** The valid entries of a `audioSae.featureNames` answer: feature ids of the dictionary, names as short one-line strings. */
export function featureNames(raw: unknown, dictSize: number): Record<number, string> {
  const out: Record<number, string> = {};
  if (typeof raw !== 'object' || raw === null) return out;
  for (const [k, v] of Object.entries(raw)) {
    const id = Number(k);
    if (!Number.isInteger(id) || id < 0 || id >= dictSize || typeof v !== 'string') continue;
    const name = v.replace(/\s+/g, ' ').trim().slice(0, 80);
    if (name) out[id] = name;
  }
  return out;
}

/** The arguments of `audioSae.openClipAt`, checked: `{ path, time_s, feature?, layer? }` (undefined if malformed). */
export function parseClipAt(arg: unknown): { path: string; timeS: number; feature?: number; layer?: number } | undefined {
  if (typeof arg !== 'object' || arg === null) return undefined;
  const o = arg as Record<string, unknown>;
  const int = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  if (typeof o.path !== 'string' || !o.path || typeof o.time_s !== 'number' || !Number.isFinite(o.time_s) || o.time_s < 0) return undefined;
  if ((o.feature !== undefined && !int(o.feature)) || (o.layer !== undefined && !(int(o.layer) && (o.layer as number) >= 1))) return undefined;
  return { path: o.path, timeS: o.time_s, feature: o.feature as number | undefined, layer: o.layer as number | undefined };
}

/** The commands (registered by the feature sidebar and the corpus analyses) that the editor's links run. */
export const LINK_COMMANDS: Record<LinkKind, string> = { featurePage: 'audioSae.showFeaturePage', topClips: 'audioSae.findTopClips' };

/** What each message that is not a request asks for, for the error notice when it fails. */
const ACTIONS: Record<Exclude<WebviewMessage, { id: number }>['type'], string> = {
  ready: 'open the clip', run: 'run the model', cancel: 'cancel the run', export: 'export', openSettings: 'open the settings', link: 'follow the link',
  saveView: 'remember the view', selection: 'take the selection',
};
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
  /** A moment to show once the clip is (audioSae.openClipAt). */
  private pendingReveal: { timeS: number; feature?: number; layer?: number } | undefined;
  /** The region selected in the webview, in seconds. */
  private region: [number, number] | undefined;

  constructor(
    private readonly host: EditorHost,
    private readonly engine: () => Promise<ModelRunner>,
    /** Shared by the provider's editors, keyed by clip content and run options; insertion order = least recently shown first. */
    private readonly runs: Map<string, Run>,
  ) {}

  /** The backbone and layer this editor shows (or is about to run), undefined before the webview chose one. */
  editorContext(): { backbone: string; layer: number } | undefined {
    const c = this.choice;
    return c && { backbone: c.backbone, layer: c.layer };
  }

  /** Takes a new choice, and tells the host when its backbone or layer differs from the one before. */
  private setChoice(choice: RunChoice | undefined): void {
    const before = this.choice;
    this.choice = choice;
    if (choice && !this.disposed && (choice.backbone !== before?.backbone || choice.layer !== before.layer)) {
      this.host.contextChanged({ backbone: choice.backbone, layer: choice.layer });
    }
  }

  /** The view remembered for this file in this workspace (validated again: settings may have changed since). */
  private saved(): SavedView {
    return parseSavedView(this.host.savedView(), { backbones: ALL_BACKBONES, dictSize: 0 });
  }

  private post(message: HostMessage): void {
    if (!this.disposed) this.host.post(message);
  }

  private activity(activity: Activity): void {
    this.post({ type: 'activity', activity });
  }

  private notice(text: string, level: NoticeLevel = 'info'): void {
    this.post({ type: 'notice', text, level });
  }

  private get fileName(): string {
    return this.host.fileName;
  }

  /** The dictionary size of the run shown (for validating feature ids), 0 if none. */
  dictSize(): number {
    return this.shown?.codes?.dictSize ?? 0;
  }

  private settings(): EditorSettings {
    const setting = this.host.setting.bind(this.host);
    const spec = ALL_BACKBONES.find((b) => b.id === setting('backbone', '')) ?? BACKBONES[0]!;
    const saePath = setting('saePath', '');
    const choice: RunChoice = this.choice ?? {
      backbone: spec.id,
      layer: Math.min(Math.max(1, setting('layer', 6)), spec.layers),
      sae: saePath ? 'local' : 'hub',
      mode: setting('saeMode', 'auto'),
    };
    return {
      backbones: ALL_BACKBONES.map((b) => ({ id: b.id, label: b.label, family: b.family, layers: b.layers, demo: DEMO_BACKBONES.includes(b) })),
      choice,
      localSae: saePath ? basename(saePath) : undefined,
    };
  }

  /**
   * Acts on a (validated) message from the webview. Whatever goes wrong, the webview hears of it: a request
   * gets a `failed` reply with its id, anything else an error notice.
   */
  async handle(message: WebviewMessage): Promise<void> {
    try {
      await this.dispatch(message);
    } catch (e) {
      const text = e instanceof Error ? e.message : String(e);
      if ('id' in message) this.post({ type: 'failed', id: message.id, request: message.type, message: text });
      else this.notice(`Could not ${ACTIONS[message.type]}: ${text}`, 'error');
    }
  }

  private async dispatch(message: WebviewMessage): Promise<void> {
    this.failForTesting(message.type);
    switch (message.type) {
      case 'ready':
        this.setChoice(this.withRevealLayer(message.choice ?? this.choice ?? this.saved().choice));
        return this.load();
      case 'saveView':
        return this.host.saveView(message.saved);
      case 'run':
        return this.run(message.choice);
      case 'cancel':
        return this.cancel();
      case 'view': {
        if (!this.store) return this.post({ type: 'failed', id: message.id, request: message.type, message: 'The clip is not loaded yet.' });
        const reply = this.store.view(message.t0S, message.t1S, message.columns, this.shown?.codes, message.features);
        return this.post({ type: 'view', id: message.id, choice: this.shown?.choice, ...reply });
      }
      case 'frame': {
        const f = this.shown?.codes?.frame(message.frame, 12);
        if (!f) return this.post({ type: 'failed', id: message.id, request: message.type, message: `Frame ${message.frame} has no features (yet).` });
        return this.post({ type: 'frame', id: message.id, frame: message.frame, timeS: message.frame / 50, ...f });
      }
      case 'rank': {
        const codes = this.shown?.codes;
        if (!codes) return this.post({ type: 'failed', id: message.id, request: message.type, message: 'No model run is shown.' });
        return this.post({ type: 'rank', id: message.id, fromFrame: message.fromFrame, toFrame: message.toFrame, by: message.by, stats: codes.rank(message.fromFrame, message.toFrame, message.by, message.n) });
      }
      case 'firing': {
        const codes = this.shown?.codes;
        if (!codes) return this.post({ type: 'failed', id: message.id, request: message.type, message: 'No model run is shown.' });
        const frame = codes.nextFiring(message.feature, message.fromFrame, message.direction) ?? -1;
        return this.post({ type: 'firing', id: message.id, feature: message.feature, frame });
      }
      case 'export':
        return this.export(message.what, message.feature, message.choice, message.png);
      case 'link':
        return this.link(message.what, message.feature);
      case 'openSettings':
        return this.host.openSettings();
      case 'selection':
        this.region = message.startS === undefined ? undefined : [message.startS, message.endS!];
        return;
      default:
        return assertNever(message);
    }
  }

  /**
   * Makes the handler of the listed message types throw (the hidden setting `audioSae.testing.failRequests`:
   * "rank" for every clip, "rank:clip.wav" for one), so the end-to-end tests can check that a failing handler
   * still answers and the webview says so.
   */
  private failForTesting(type: WebviewMessage['type']): void {
    const fail = this.host.setting<unknown>('testing.failRequests', []);
    if (Array.isArray(fail) && (fail.includes(type) || fail.includes(`${type}:${this.host.fileName}`))) {
      throw new Error(`the ${type} handler failed (audioSae.testing.failRequests lists it)`);
    }
  }

  /** Reads, decodes and shows the file (again after a change on disk), then runs the chosen model if trusted. */
  async load(): Promise<void> {
    const generation = ++this.loading;
    const stale = () => this.disposed || generation !== this.loading;
    this.post({ type: 'init', fileName: this.fileName, trusted: this.host.isTrusted(), settings: this.settings(), saved: this.saved() });
    try {
      this.activity({ kind: 'decoding' });
      const bytes = await this.host.readClip();
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
        peak: store.peak, nMels: store.nMels, melFrames: store.melFrames, melFramesPerSecond: 100, melAxis: melAxis(),
      });
      if (this.pendingReveal) this.post({ type: 'reveal', ...this.pendingReveal });
      this.pendingReveal = undefined;
      void this.host.playbackUri(hash, samples).then((uri) => !stale() && this.post({ type: 'playback', uri }), (e: Error) => {
        this.notice(`Playback unavailable: ${e.message}`, 'warning');
      });
      this.activity({ kind: 'mel' });
      await forEachMelWindow(runner, samples, 80, (_info, w) => {
        if (stale()) return;
        store.addMelWindow(w.data);
        this.post({ type: 'mel', framesDone: store.melDone, melFrames: store.melFrames });
      });
      if (stale()) return;
      if (!this.host.isTrusted()) return this.activity({ kind: 'restricted' });
      this.activity({ kind: 'idle' });
      await this.run(this.settings().choice);
    } catch (e) {
      if (!stale()) this.activity({ kind: 'failed', stage: 'open', message: (e as Error).message });
    }
  }

  /**
   * The cache key of a run: everything that changes its result. The weights folder counts for the backbones
   * that read it (not the bundled demo ones), the SAE file for a local SAE.
   */
  runKey(choice: RunChoice): string {
    const setting = this.host.setting.bind(this.host);
    const options = [setting('tap', 'block'), setting('normalizeInput', false), setting('maxHubertSeconds', 60)];
    const local = choice.sae === 'local' ? setting('saePath', '') : '';
    const weights = DEMO_BACKBONES.some((b) => b.id === choice.backbone) ? '' : setting('weightsFolder', '');
    return JSON.stringify([this.contentHash, choice.backbone, choice.layer, choice.sae, local, weights, choice.mode, ...options]);
  }

  private show(run: Run): void {
    this.shown = run;
    this.runs.delete(run.key);
    this.runs.set(run.key, run);
    this.post(run.state);
    void this.sendFeatureNames();
  }

  /**
   * Sends the names users gave the shown run's features (`audioSae.featureNames`, answered by the feature
   * sidebar from its annotations; {} or no such command when none are open). Names are a help, not a need: a
   * failure to get them leaves the ids alone.
   */
  async sendFeatureNames(): Promise<void> {
    const run = this.shown;
    if (!run || !(await this.host.hasCommand(FEATURE_NAMES_COMMAND))) return;
    const { backbone, layer } = run.choice;
    const raw = await this.host.executeCommand<unknown>(FEATURE_NAMES_COMMAND, { backbone, layer }).catch(() => undefined);
    if (this.shown?.choice.backbone !== backbone || this.shown.choice.layer !== layer) return;
    this.post({ type: 'featureNames', backbone, layer, names: featureNames(raw, run.state.dictSize) });
  }

  /**
   * Shows a moment of the clip with a feature selected (the editor opened at a feature's top clip), running the
   * layer given. `now`: the webview is up and showing this clip, so it moves at once; otherwise (a new editor,
   * or one whose webview reloads as it is shown again) the move waits for its `ready` and goes after the clip.
   */
  async reveal(at: { timeS: number; feature?: number; layer?: number }, now: boolean): Promise<void> {
    this.pendingReveal = at;
    const choice = this.withRevealLayer(this.choice ?? this.settings().choice);
    const layerChanged = choice.layer !== (this.shown?.choice.layer ?? this.choice?.layer);
    this.setChoice(choice);
    if (!now || !this.store) return; // load() sends it after the clip
    this.post({ type: 'reveal', ...at });
    this.pendingReveal = undefined;
    if (layerChanged) await this.run(choice);
  }

  /** `choice` at the layer of the moment to reveal, if there is one (clamped to the backbone's layers). */
  private withRevealLayer<C extends RunChoice | undefined>(choice: C): C {
    const layer = this.pendingReveal?.layer;
    if (!choice || layer === undefined) return choice;
    const spec = ALL_BACKBONES.find((b) => b.id === choice.backbone);
    return { ...choice, layer: Math.max(1, Math.min(layer, spec?.layers ?? layer)) };
  }

  /** Shows a model run on the clip: from the cache, or computed with results streamed per window. */
  async run(choice: RunChoice): Promise<void> {
    const store = this.store;
    if (!store || !this.host.isTrusted()) return;
    this.setChoice(choice);
    const key = this.runKey(choice);
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
      const setting = this.host.setting.bind(this.host);
      const demo = DEMO_BACKBONES.some((b) => b.id === choice.backbone);
      const saePath = setting('saePath', '') || undefined;
      if (choice.sae === 'local' && !saePath) throw new Error('No local SAE file is set: choose one in the setting "audioSae.saePath", or use the authors\' SAE.');
      const resolved = await resolveModels({
        backbone: choice.backbone,
        layer: choice.layer,
        weights: demo ? undefined : setting('weightsFolder', '') || undefined,
        sae: choice.sae === 'local' ? saePath : undefined,
        demoModelsDir: this.host.demoModelsDir,
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
        tap: setting('tap', 'block'),
        mode: choice.mode,
        normalizeInput: setting('normalizeInput', false),
        maxHubertSeconds: setting('maxHubertSeconds', 60),
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
      // The engine's note that mean L0 is far from k is the one warning among the notes.
      const far = l0Note(summary.metrics.l0, summary.sae.k);
      const notes = summary.notes.map((n) => ({ text: n.replace(resolved.saePath, 'The SAE'), level: n === far ? 'warning' as const : 'info' as const }));
      run.state = { ...run.state, framesDone: summary.frames, complete: true, meanL0: summary.metrics.l0, notes };
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

  /**
   * The region selected in this editor and the features that fire in it (of the run shown, by their maximum
   * there), or undefined when nothing is selected or no run is shown.
   */
  selection(): EditorSelection | undefined {
    const run = this.shown;
    if (!this.region || !run?.codes) return undefined;
    const [startS, endS] = this.region;
    const fps = run.codes.framesPerSecond;
    const fired = run.codes.rank(Math.floor(startS * fps), Math.ceil(endS * fps), 'max', run.codes.dictSize);
    return { uri: this.host.clipUri, start_s: startS, end_s: endS, backbone: run.choice.backbone, layer: run.choice.layer, features: fired.map((f) => f.id) };
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
    const target = await this.host.saveTarget(name, filters);
    if (!target) return;
    // A failure to write reaches the webview through handle() as an error notice; readers never see half a file.
    const data = await bytes();
    if (target.fsPath) await writeFileAtomic(target.fsPath, data);
    else await target.write!(data);
    const empty = what.startsWith('codes') && f!.indices.length === 0;
    if (empty) this.notice(`Saved ${target.name}: empty, no feature fires in this run (${what === 'codes-npy' ? 'all codes are zero' : 'no rows'}).`, 'warning');
    else this.notice(`Saved ${target.name}`);
  }

  /**
   * Hands a feature of the run shown to another part of the product through its command: its feature page
   * (`audioSae.showFeaturePage`) or its top clips in the sidebar (`audioSae.findTopClips`), both with
   * `{ feature, layer, backbone }`. Until the part that registers the command is installed, says so.
   */
  private async link(what: LinkKind, feature: number): Promise<void> {
    const run = this.shown;
    if (!run) return this.notice('No model run is shown: its features link to their pages once it has run.', 'warning');
    const command = LINK_COMMANDS[what];
    if (!(await this.host.hasCommand(command))) return this.notice(what === 'featurePage' ? 'the feature page is not installed' : 'finding top clips is not installed');
    await this.host.executeCommand(command, { feature, layer: run.choice.layer, backbone: run.choice.backbone });
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
