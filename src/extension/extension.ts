/**
 * The VS Code side: activation and commands. Thin by design: it asks the engine (in its worker) and shows
 * the answer; it computes nothing itself.
 */
import * as vscode from 'vscode';
import { DEMO_BACKBONES, resolveModels } from '../engine/pipeline/resolve.ts';
import { AudioEditorProvider } from './editor/provider.ts';
import { CorpusCommands } from './corpus/commands.ts';
import { activateStores } from './corpus/stores.ts';
import { activateSidebar } from './sidebar/activate.ts';
import { installCudaProvider } from '../engine/runtime/cudaProvider.ts';
import { ortBinaryDir, ortVersion } from '../engine/runtime/providers.ts';
import { WorkerRunner } from '../engine/runtime/workerRunner.ts';
import type { ExecutionProviderChoice } from '../shared/workerProtocol.ts';

let runner: Promise<WorkerRunner> | undefined;
let output: vscode.OutputChannel | undefined;

/** The engine worker, started on first use with the provider from the settings. */
function engine(): Promise<WorkerRunner> {
  const choice = vscode.workspace.getConfiguration('audioSae').get<ExecutionProviderChoice>('executionProvider', 'auto');
  runner ??= WorkerRunner.create({ executionProvider: choice }).catch((e: unknown) => {
    runner = undefined;
    throw e;
  });
  return runner;
}

async function showEngineInfo(): Promise<void> {
  if (!vscode.workspace.isTrusted) {
    const pick = await vscode.window.showWarningMessage('AudioSAE runs models only in trusted workspaces.', 'Manage Workspace Trust');
    if (pick) await vscode.commands.executeCommand('workbench.trust.manage');
    return;
  }
  try {
    const { provider } = await engine();
    output ??= vscode.window.createOutputChannel('AudioSAE');
    output.appendLine(`Execution provider: ${provider.name}`);
    for (const note of provider.notes) output.appendLine(`  ${note}`);
    void vscode.window.showInformationMessage(`AudioSAE engine ready: onnxruntime on ${provider.name.toUpperCase()}.`);
  } catch (e) {
    void vscode.window.showErrorMessage(`AudioSAE engine failed to start: ${(e as Error).message}`);
  }
}

/**
 * Downloads the configured backbone and its layer's SAE from the Hub (or finds them in the cache), with a
 * cancellable progress notification showing the file, bytes, rate and time left.
 */
async function downloadModels(context: vscode.ExtensionContext): Promise<void> {
  const config = vscode.workspace.getConfiguration('audioSae');
  const backbone = config.get<string>('backbone', 'whisper-small');
  const layer = config.get<number>('layer', 6);
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `AudioSAE: ${backbone} layer ${layer}`, cancellable: true },
    async (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      let shown = 0;
      try {
        const resolved = await resolveModels({
          backbone,
          layer,
          weights: config.get<string>('weightsFolder') || undefined,
          sae: config.get<string>('saePath') || undefined,
          demoModelsDir: vscode.Uri.joinPath(context.extensionUri, 'media', 'demo', 'models').fsPath,
          signal: abort.signal,
          onProgress: (file, p) => {
            const percent = p.total > 0 ? (100 * p.bytes) / p.total : 0;
            const eta = Number.isFinite(p.etaSeconds) ? `, ${Math.round(p.etaSeconds)} s left` : '';
            progress.report({
              message: `${file}: ${(p.bytes / 1e6).toFixed(1)} of ${(p.total / 1e6).toFixed(1)} MB at ${(p.bytesPerSecond / 1e6).toFixed(1)} MB/s${eta}`,
              increment: percent - shown,
            });
            shown = percent >= 100 ? 0 : percent;
          },
        });
        output ??= vscode.window.createOutputChannel('AudioSAE');
        output.appendLine(`${resolved.spec.label} weights: ${resolved.weightsFolder}`);
        output.appendLine(`SAE for layer ${layer}: ${resolved.saePath}`);
        void vscode.window.showInformationMessage(`AudioSAE: ${resolved.spec.label} and its layer ${layer} SAE are ready.`);
      } catch (e) {
        // Without the Hub, say what works offline: local copies, or the bundled demo backbones.
        const demo = DEMO_BACKBONES.some((b) => b.id === backbone);
        const offline = demo ? '' : ' Offline, set "audioSae.weightsFolder" and "audioSae.saePath" to local copies, or "audioSae.backbone" to a bundled demo (whisper-tiny-random, hubert-tiny-random).';
        void vscode.window.showErrorMessage(`AudioSAE: ${(e as Error).message}${offline}`, 'Open Settings').then((pick) => {
          if (pick) void vscode.commands.executeCommand('workbench.action.openSettings', `@ext:${context.extension.id}`);
        });
      }
    },
  );
}

/** With the user's consent, fetches onnxruntime's CUDA provider libraries from NuGet (Linux x64). */
async function installCuda(): Promise<void> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    void vscode.window.showInformationMessage('AudioSAE: the onnxruntime CUDA provider files exist for Linux x64 only. On Windows DirectML and on macOS CoreML need no download.');
    return;
  }
  const version = ortVersion();
  const consent = await vscode.window.showWarningMessage(
    `Download onnxruntime ${version}'s CUDA provider libraries (several hundred MB, from the NuGet package Microsoft.ML.OnnxRuntime.Gpu.Linux) into the extension? ` +
      'They need an NVIDIA driver with CUDA 12 and cuDNN 9 installed separately.',
    { modal: true },
    'Download',
  );
  if (consent !== 'Download') return;
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'AudioSAE: CUDA provider files', cancellable: true },
    async (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      let shown = 0;
      try {
        const files = await installCudaProvider({
          binaryDir: ortBinaryDir(),
          version,
          signal: abort.signal,
          onProgress: (bytes, total) => {
            const percent = total > 0 ? (100 * bytes) / total : 0;
            progress.report({ message: `${(bytes / 1e6).toFixed(0)} of ${(total / 1e6).toFixed(0)} MB`, increment: percent - shown });
            shown = percent;
          },
        });
        // A new engine picks the provider up; "auto" now tries CUDA first.
        const old = runner;
        runner = undefined;
        await (await old?.catch(() => undefined))?.dispose();
        output ??= vscode.window.createOutputChannel('AudioSAE');
        for (const f of files) output.appendLine(`installed ${f}`);
        void vscode.window.showInformationMessage('AudioSAE: CUDA provider files installed. Run "AudioSAE: Show Engine Info" to see which provider runs.');
      } catch (e) {
        void vscode.window.showErrorMessage(`AudioSAE: ${(e as Error).message}`);
      }
    },
  );
}

/**
 * VS Code's own audio preview also claims some audio types (.wav, .mp3, .ogg), which makes VS Code ask which
 * editor to use on every open. Once per type, the extension offers to make AudioSAE the default for every type
 * its editor claims that has no association yet; "Reopen Editor With…" keeps the built-in preview a click away.
 */
async function offerAudioAssociations(context: vscode.ExtensionContext): Promise<void> {
  const key = 'audioSae.offeredAssociations';
  const offered = new Set(context.globalState.get<string[]>(key) ?? []);
  if (context.globalState.get('audioSae.offeredWavAssociation')) offered.add('*.wav'); // offered by earlier versions
  const workbench = vscode.workspace.getConfiguration('workbench');
  const associations = workbench.get<Record<string, string>>('editorAssociations') ?? {};
  const editors = (context.extension.packageJSON as { contributes?: { customEditors?: Array<{ viewType: string; selector: Array<{ filenamePattern: string }> }> } })
    .contributes?.customEditors ?? [];
  const patterns = editors.find((e) => e.viewType === AudioEditorProvider.viewType)?.selector.map((s) => s.filenamePattern) ?? [];
  const open = patterns.filter((p) => !associations[p] && !offered.has(p));
  if (open.length === 0) return;
  await context.globalState.update(key, [...offered, ...open]);
  const types = open.map((p) => p.replace(/^\*/, '')).join(', ');
  const pick = await vscode.window.showInformationMessage(
    `Open audio files (${types}) in the AudioSAE spectrogram editor by default? The built-in audio preview stays available through "Reopen Editor With…".`,
    'Use AudioSAE',
    'Not Now',
  );
  if (pick === 'Use AudioSAE') {
    const now = workbench.get<Record<string, string>>('editorAssociations') ?? {};
    const added = Object.fromEntries(open.filter((p) => !now[p]).map((p) => [p, AudioEditorProvider.viewType]));
    await workbench.update('editorAssociations', { ...now, ...added }, vscode.ConfigurationTarget.Global);
  }
}

export function activate(context: vscode.ExtensionContext): void {
  void offerAudioAssociations(context);
  const registry = activateStores(context);
  const corpus = CorpusCommands.register(context, registry);
  activateSidebar(context, registry, () => corpus.jobs());
  const audioEditors = new AudioEditorProvider(context, engine);
  context.subscriptions.push(
    vscode.window.registerCustomEditorProvider(AudioEditorProvider.viewType, audioEditors, {
      supportsMultipleEditorsPerDocument: true,
    }),
    vscode.commands.registerCommand('audioSae.editorSelection', () => audioEditors.editorSelection()),
    vscode.commands.registerCommand('audioSae.openClipAt', (arg: unknown) => audioEditors.openClipAt(arg)),
    vscode.commands.registerCommand('audioSae.showEngineInfo', showEngineInfo),
    vscode.commands.registerCommand('audioSae.downloadModels', () => downloadModels(context)),
    vscode.commands.registerCommand('audioSae.installCudaProvider', installCuda),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (e.affectsConfiguration('audioSae.executionProvider') && runner) {
        const old = runner;
        runner = undefined;
        await (await old.catch(() => undefined))?.dispose();
      }
    }),
  );
}

export async function deactivate(): Promise<void> {
  output?.dispose();
  await (await runner?.catch(() => undefined))?.dispose();
}
