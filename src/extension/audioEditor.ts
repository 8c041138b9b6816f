/**
 * The read-only custom editor for audio files: the host side. It reads the file through vscode.workspace.fs,
 * asks the engine (in its worker) for the log-mel and, in trusted workspaces, for the chosen layer's SAE
 * features, and sends the results to the webview (webview/editor), which draws them. It draws nothing itself.
 */
import { createHash, randomBytes } from 'node:crypto';
import { basename, posix } from 'node:path';
import * as vscode from 'vscode';
import { decodeAudio, resample, toMono, whisperLogMel, type Audio16k } from '../engine/audio/index.ts';
import { BACKBONES } from '../engine/backbones/registry.ts';
import { clipFeatures } from '../engine/pipeline/features.ts';
import { DEMO_BACKBONES, resolveModels } from '../engine/pipeline/resolve.ts';
import type { WorkerRunner } from '../engine/runtime/workerRunner.ts';
import { parseWebviewMessage, type EditorSettings, type ExportKind, type HostMessage } from '../shared/editorProtocol.ts';
import { audacityLabels, codesCsv, codesNpy, firingIntervals, intervalsCsv } from './exports.ts';

const ALL_BACKBONES = [...DEMO_BACKBONES, ...BACKBONES];
const PEAKS_PER_SECOND = 100;

/** 16 kHz mono 16-bit PCM WAV bytes, for the webview's audio element. */
function wav16(samples: Float32Array): ArrayBuffer {
  const out = new ArrayBuffer(44 + samples.length * 2);
  const v = new DataView(out);
  const text = (at: number, s: string) => [...s].forEach((c, i) => v.setUint8(at + i, c.charCodeAt(0)));
  text(0, 'RIFF');
  v.setUint32(4, 36 + samples.length * 2, true);
  text(8, 'WAVEfmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, 1, true);
  v.setUint32(24, 16000, true);
  v.setUint32(28, 32000, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, 16, true);
  text(36, 'data');
  v.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) v.setInt16(44 + 2 * i, Math.max(-32768, Math.min(32767, Math.round(samples[i]! * 32767))), true);
  return out;
}

/** Min and max per 10 ms of 16 kHz audio: [n, 2], all the waveform lane needs (bounded for long files). */
function peaks(samples: Float32Array): Float32Array {
  const step = 16000 / PEAKS_PER_SECOND;
  const n = Math.ceil(samples.length / step);
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let j = i * step; j < Math.min(samples.length, (i + 1) * step); j++) {
      lo = Math.min(lo, samples[j]!);
      hi = Math.max(hi, samples[j]!);
    }
    out[2 * i] = lo;
    out[2 * i + 1] = hi;
  }
  return out;
}

interface AudioDocument extends vscode.CustomDocument {
  readonly uri: vscode.Uri;
}

export class AudioEditorProvider implements vscode.CustomReadonlyEditorProvider<AudioDocument> {
  static readonly viewType = 'audioSae.audioEditor';

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly engine: () => Promise<WorkerRunner>,
  ) {}

  openCustomDocument(uri: vscode.Uri): AudioDocument {
    return { uri, dispose: () => undefined };
  }

  resolveCustomEditor(document: AudioDocument, panel: vscode.WebviewPanel): void {
    const webviewRoot = vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webview');
    const mediaRoot = vscode.Uri.joinPath(this.context.extensionUri, 'media');
    panel.webview.options = { enableScripts: true, localResourceRoots: [webviewRoot, mediaRoot] };
    panel.webview.html = editorHtml(panel.webview, webviewRoot, mediaRoot);
    const session = new EditorSession(this.context, document.uri, panel, this.engine);
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.joinPath(document.uri, '..'), basename(document.uri.path)));
    panel.onDidDispose(() => {
      session.disposed = true;
      watcher.dispose();
    });
    watcher.onDidChange(() => void session.load());
    panel.webview.onDidReceiveMessage((raw: unknown) => {
      const message = parseWebviewMessage(raw, ALL_BACKBONES, session.dictSize());
      if (!message) return; // malformed or out-of-range requests are ignored, never acted on
      if (message.type === 'ready') void session.load(message.backbone, message.layer);
      else if (message.type === 'run') void session.runFeatures(message.backbone, message.layer);
      else if (message.type === 'cancel') session.cancel();
      else void session.export(message.what, message.feature, message.png);
    });
  }
}

function editorHtml(webview: vscode.Webview, webviewRoot: vscode.Uri, mediaRoot: vscode.Uri): string {
  const nonce = randomBytes(16).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(webviewRoot, 'editor.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(mediaRoot, 'editor.css'));
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src ${webview.cspSource} blob: data:; media-src blob:; style-src ${webview.cspSource}; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="stylesheet" href="${style}"></head>
<body><div id="app"></div><script nonce="${nonce}" src="${script}"></script></body></html>`;
}

/** One open editor: the decoded clip, its log-mel, and feature results cached per (content, backbone, layer). */
class EditorSession {
  disposed = false;
  private audio: Audio16k | undefined;
  private contentHash = '';
  private readonly cache = new Map<string, HostMessage>();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly uri: vscode.Uri,
    private readonly panel: vscode.WebviewPanel,
    private readonly engine: () => Promise<WorkerRunner>,
  ) {}

  private post(message: HostMessage): void {
    if (!this.disposed) void this.panel.webview.postMessage(message);
  }

  private settings(): EditorSettings {
    const config = vscode.workspace.getConfiguration('audioSae');
    const backbone = config.get<string>('backbone', 'whisper-small');
    const spec = ALL_BACKBONES.find((b) => b.id === backbone) ?? ALL_BACKBONES[0]!;
    return {
      backbone: spec.id,
      layer: Math.min(config.get<number>('layer', 6), spec.layers),
      layers: spec.layers,
      backbones: ALL_BACKBONES.map((b) => ({ id: b.id, label: b.label, layers: b.layers })),
    };
  }

  private last: { backbone: string; layer: number } | undefined;
  private shown: Extract<HostMessage, { type: 'features' }> | undefined;
  private running: AbortController | undefined;

  /** Stops the model run in progress after its current window. */
  cancel(): void {
    this.running?.abort();
  }

  dictSize(): number {
    return this.shown?.dictSize ?? 0;
  }

  /** Writes an export next to the clip by default, where the user chooses. */
  async export(what: ExportKind, feature?: number, png?: ArrayBuffer): Promise<void> {
    const f = this.shown;
    if (!f && what !== 'png') return;
    const stem = basename(this.uri.path).replace(/\.[^.]+$/, '');
    const tag = f ? `${f.backbone}-l${f.layer}` : 'view';
    const plan: Record<ExportKind, () => { name: string; filters: Record<string, string[]>; bytes: () => Uint8Array }> = {
      'codes-npy': () => ({ name: `${stem}.${tag}.codes.npy`, filters: { NumPy: ['npy'] }, bytes: () => codesNpy(f!) }),
      'codes-csv': () => ({ name: `${stem}.${tag}.codes.csv`, filters: { CSV: ['csv'] }, bytes: () => codesCsv(f!) }),
      'intervals-audacity': () => ({ name: `${stem}.${tag}.feature${feature}.txt`, filters: { 'Audacity labels': ['txt'] }, bytes: () => audacityLabels(firingIntervals(f!, feature!), feature!) }),
      'intervals-csv': () => ({ name: `${stem}.${tag}.feature${feature}.csv`, filters: { CSV: ['csv'] }, bytes: () => intervalsCsv(firingIntervals(f!, feature!)) }),
      png: () => ({ name: `${stem}.${tag}.png`, filters: { PNG: ['png'] }, bytes: () => new Uint8Array(png!) }),
    };
    const { name, filters, bytes } = plan[what]();
    const folder = this.uri.with({ path: posix.dirname(this.uri.path) });
    const target = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.joinPath(folder, name), filters });
    if (!target) return;
    try {
      await vscode.workspace.fs.writeFile(target, bytes());
      this.post({ type: 'status', text: `Saved ${basename(target.path)}`, busy: false });
    } catch (e) {
      this.post({ type: 'error', message: `${target.fsPath}: ${(e as Error).message}` });
    }
  }

  /** Reads and shows the file; runs the model with the restored choice, the last one, or the settings. */
  async load(backbone?: string, layer?: number): Promise<void> {
    const fileName = basename(this.uri.path);
    const settings = this.settings();
    const choice = backbone && layer ? { backbone, layer } : this.last;
    if (choice) {
      settings.backbone = choice.backbone;
      settings.layer = choice.layer;
      settings.layers = ALL_BACKBONES.find((b) => b.id === choice.backbone)?.layers ?? settings.layers;
    }
    this.post({ type: 'init', fileName, trusted: vscode.workspace.isTrusted, settings });
    try {
      this.post({ type: 'status', text: 'Decoding…', busy: true });
      const bytes = await vscode.workspace.fs.readFile(this.uri);
      this.contentHash = createHash('sha256').update(bytes).digest('hex');
      const decoded = await decodeAudio(bytes, fileName);
      const runner = await this.engine();
      const samples = await resample(toMono(decoded.channels), decoded.sampleRateHz, 16000, runner);
      this.audio = { samples, sourceRateHz: decoded.sampleRateHz, channels: decoded.channels.length, durationS: decoded.channels[0]!.length / decoded.sampleRateHz, name: fileName };
      this.post({ type: 'audio', durationS: this.audio.durationS, sourceRateHz: decoded.sampleRateHz, channels: decoded.channels.length, peaksPerSecond: PEAKS_PER_SECOND, peaks: peaks(samples).buffer as ArrayBuffer, wav: wav16(samples) });
      const mel = await whisperLogMel(runner, samples, 80);
      const frames = Math.min(Math.ceil(samples.length / 160), mel.frames);
      const data = new Float32Array(mel.nMels * frames);
      for (let m = 0; m < mel.nMels; m++) data.set(mel.data.subarray(m * mel.frames, m * mel.frames + frames), m * frames);
      this.post({ type: "spectrogram", nMels: mel.nMels, frames, framesPerSecond: 100, data: data.buffer as ArrayBuffer });
      if (!vscode.workspace.isTrusted) {
        this.post({ type: 'status', text: 'Restricted mode: trust this workspace to run models.', busy: false });
        return;
      }
      await this.runFeatures(settings.backbone, settings.layer);
    } catch (e) {
      this.post({ type: 'error', message: (e as Error).message });
    }
  }

  async runFeatures(backbone: string, layer: number): Promise<void> {
    if (!this.audio || !vscode.workspace.isTrusted) return;
    this.last = { backbone, layer };
    const key = `${this.contentHash}:${backbone}:${layer}`;
    const cached = this.cache.get(key);
    if (cached) {
      this.shown = cached as Extract<HostMessage, { type: 'features' }>;
      this.post(cached);
      this.post({ type: 'status', text: `${backbone}, layer ${layer} (cached)`, busy: false });
      return;
    }
    this.post({ type: 'status', text: `Running ${backbone}, layer ${layer}…`, busy: true });
    this.running?.abort();
    const running = (this.running = new AbortController());
    try {
      const config = vscode.workspace.getConfiguration('audioSae');
      const demo = DEMO_BACKBONES.some((b) => b.id === backbone);
      const resolved = await resolveModels({
        backbone,
        layer,
        weights: demo ? undefined : config.get<string>('weightsFolder') || undefined,
        sae: demo ? undefined : config.get<string>('saePath') || undefined,
        demoModelsDir: vscode.Uri.joinPath(this.context.extensionUri, 'media', 'demo', 'models').fsPath,
      });
      const runner = await this.engine();
      const f = await clipFeatures(runner, {
        audio: this.audio,
        weightsFolder: resolved.weightsFolder,
        saePath: resolved.saePath,
        layer,
        tap: config.get('tap', 'block'),
        mode: config.get('saeMode', 'auto'),
        normalizeInput: config.get('normalizeInput', false),
        maxHubertSeconds: config.get('maxHubertSeconds', 60),
        signal: running.signal,
        onProgress: (_stage, done, total) =>
          this.post({ type: 'status', text: `Running ${backbone}, layer ${layer}: ${((100 * done) / Math.max(1, total)).toFixed(0)}% of ${(total / 50).toFixed(0)} s`, busy: true }),
      });
      const { rowPtr, indices, values } = f.result.sparse;
      const l0 = new Float32Array(f.result.frames);
      const relError = new Float32Array(f.result.frames);
      const d = f.sae.dModel;
      for (let t = 0; t < f.result.frames; t++) {
        l0[t] = rowPtr[t + 1]! - rowPtr[t]!;
        let e2 = 0;
        let x2 = 0;
        for (let i = t * d; i < (t + 1) * d; i++) {
          e2 += (f.acts.data[i]! - f.result.recon[i]!) ** 2;
          x2 += f.acts.data[i]! ** 2;
        }
        relError[t] = x2 > 0 ? Math.sqrt(e2 / x2) : 0;
      }
      const message: HostMessage = {
        type: 'features', backbone, layer, frames: f.result.frames, framesPerSecond: f.acts.framesPerSecond, dictSize: f.sae.dictSize,
        k: f.sae.k, mode: f.result.modeUsed, notes: f.notes.map((n) => n.replace(resolved.saePath, 'The SAE')),
        rowPtr: rowPtr.slice().buffer as ArrayBuffer, indices: indices.slice().buffer as ArrayBuffer, values: values.slice().buffer as ArrayBuffer,
        l0: l0.buffer, relError: relError.buffer, meanL0: f.metrics.l0,
      };
      this.cache.set(key, message);
      this.shown = message;
      this.post(message);
      this.post({ type: 'status', text: `${resolved.spec.label}, layer ${layer} · ${f.result.modeUsed} · mean L0 ${f.metrics.l0.toFixed(1)} · ${runner.provider.name.toUpperCase()}`, busy: false });
    } catch (e) {
      if (running.signal.aborted) this.post({ type: 'status', text: `Cancelled ${backbone}, layer ${layer}.`, busy: false });
      else this.post({ type: 'error', message: (e as Error).message });
    } finally {
      if (this.running === running) this.running = undefined;
    }
  }
}
