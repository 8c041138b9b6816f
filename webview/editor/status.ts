/**
 * The editor's status line as a function of the host's typed activity and the run shown: what it says, whether
 * the busy ring and Cancel show, and what the error box holds. Nothing here remembers an earlier message, so a
 * failure can never leave "Decoding…" or "Preparing…" behind. Pure (unit-tested without a DOM).
 */
import type { Activity, EditorSettings, RunChoice, RunState } from '../../src/shared/editorProtocol.ts';

export interface StatusView {
  text: string;
  busy: boolean;
  /** Cancel applies (a model is being prepared or run). */
  cancellable: boolean;
  /** The error box's text; undefined hides it. */
  error?: string;
  /** The failure was getting a Hub backbone or SAE: offer the bundled demo model and the local-file settings. */
  offerDemo?: RunChoice;
}

type Backbones = EditorSettings['backbones'];

export function runLabel(choice: RunChoice, backbones: Backbones): string {
  return `${backbones.find((b) => b.id === choice.backbone)?.label ?? choice.backbone}, layer ${choice.layer}`;
}

/** The SAE drop-down's label for the backbone's own SAE: bundled for the toy backbones, the authors' otherwise. */
export function ownSaeLabel(backbone: string, backbones: Backbones): string {
  return backbones.find((b) => b.id === backbone)?.demo ? 'Bundled demo SAE' : "Authors' SAE (Hub)";
}

/** The bundled toy backbone of the same family as `choice` (layer clamped to its depth), or undefined if `choice` is one. */
export function demoChoiceFor(choice: RunChoice, backbones: Backbones): RunChoice | undefined {
  const spec = backbones.find((b) => b.id === choice.backbone);
  if (!spec || spec.demo) return undefined;
  const demo = backbones.find((b) => b.demo && b.family === spec.family);
  return demo && { backbone: demo.id, layer: Math.min(choice.layer, demo.layers), sae: 'hub', mode: choice.mode };
}

/** One line summing up a complete run: backbone, layer, SAE, mode, mean L0 against k. */
export function runSummary(run: RunState, backbones: Backbones): string {
  return `${runLabel(run.choice, backbones)} · ${run.saeLabel} · ${run.modeUsed}${run.cached ? ' (cached)' : ''} · mean L0 ${run.meanL0.toFixed(1)} (k ${run.k})`;
}

export function describeActivity(a: Activity, run: RunState | undefined, backbones: Backbones): StatusView {
  switch (a.kind) {
    case 'decoding':
      return { text: 'Decoding…', busy: true, cancellable: false };
    case 'mel':
      return { text: 'Computing the log-mel spectrogram…', busy: true, cancellable: false };
    case 'restricted':
      return { text: 'Restricted mode: trust this workspace to run models on it.', busy: false, cancellable: false };
    case 'preparing':
      return { text: `Preparing ${runLabel(a.choice, backbones)}…`, busy: true, cancellable: true };
    case 'running': {
      const pct = (100 * a.framesDone) / Math.max(1, a.totalFrames);
      return { text: `Running ${runLabel(a.choice, backbones)}: ${pct.toFixed(0)}% of ${(a.totalFrames / 50).toFixed(0)} s`, busy: true, cancellable: true };
    }
    case 'idle':
      return { text: run?.complete ? runSummary(run, backbones) : '', busy: false, cancellable: false };
    case 'cancelled':
      return { text: `Cancelled ${runLabel(a.choice, backbones)}.`, busy: false, cancellable: false };
    case 'failed': {
      const what = a.stage === 'open' ? 'Could not open the clip.' : a.choice
        ? `${a.stage === 'models' ? 'Could not get' : 'Could not run'} ${runLabel(a.choice, backbones)}.`
        : 'The model run failed.';
      const offerDemo = a.stage === 'models' && a.choice ? demoChoiceFor(a.choice, backbones) : undefined;
      return { text: what, busy: false, cancellable: false, error: a.message, offerDemo };
    }
  }
}
