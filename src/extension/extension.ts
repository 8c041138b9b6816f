/**
 * The VS Code side: activation and commands. Thin by design: it asks the engine (in its worker) and shows
 * the answer; it computes nothing itself.
 */
import * as vscode from 'vscode';
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

export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('audioSae.showEngineInfo', showEngineInfo),
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
