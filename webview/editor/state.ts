/**
 * The editor webview's state, in one place: what survives closing and reopening the editor (`state`, saved in
 * the webview and by the host) and what the host has told it in this session (`model`: settings, the clip,
 * the run shown, the latest view reply, the feature lanes). The other files read and write these; none keeps
 * state of its own beyond what it draws.
 */
import type { ColormapName } from '../../src/shared/colormaps.ts';
import {
  dictionaryKey, type Activity, type EditorSettings, type FeatureStats, type MelAxisTick, type RunChoice, type RunState, type ViewReply, type WebviewMessage,
} from '../../src/shared/editorProtocol.ts';
import { Rpc } from './rpc.ts';
import type { Viewport } from './viewport.ts';

declare function acquireVsCodeApi(): { postMessage(m: WebviewMessage): void; getState(): unknown; setState(s: unknown): void };
export const vscode = acquireVsCodeApi();
export const rpc = new Rpc((m) => vscode.postMessage(m));

export const LANE_HEIGHT = 14;
export const SPEC_HEIGHT = 200;
export const MODEL_FPS = 50;

/** What survives closing and reopening the editor (VS Code keeps it per editor). */
export interface ViewState {
  choice?: RunChoice;
  view?: Viewport;
  /** The selected feature, and the run it was selected in: its id means that feature only in runs of the same dictionary. */
  selected?: number;
  selectedIn?: RunChoice;
  colormap?: ColormapName;
  rangeDb?: number;
  ceilingDb?: number;
  rank?: 'max' | 'total';
  topN?: number;
  region?: [number, number];
  loop?: boolean;
}

export const restored = vscode.getState() as ViewState | undefined;
export const state: ViewState = restored ?? {};
// Saved by an earlier version, which kept no run with the selection: it was made in the run then shown.
if (state.selected !== undefined && !state.selectedIn) state.selectedIn = state.choice;

/** Saved twice: in the webview (survives hiding and window reloads) and by the host (survives closing). */
let saveTimer: ReturnType<typeof setTimeout> | undefined;
export function saveState(): void {
  vscode.setState(state);
  clearTimeout(saveTimer);
  saveTimer = setTimeout(() => {
    const { choice, view: v, colormap, rangeDb, ceilingDb, rank, topN } = state;
    // The host keeps the selection with the choice it belongs to (not one of a run replaced since).
    const selected = choice && state.selectedIn && dictionaryKey(choice) === dictionaryKey(state.selectedIn) ? state.selected : undefined;
    vscode.postMessage({ type: 'saveView', saved: { choice, view: v, selected, colormap, rangeDb, ceilingDb, rank, topN } });
  }, 300);
}

/** What the host has said in this session, and what the webview derived from it. */
export const model = {
  settings: undefined as EditorSettings | undefined,
  trusted: true,
  durationS: 0,
  melAxis: [] as MelAxisTick[],
  view: { t0S: 0, t1S: 1 } as Viewport,
  reply: undefined as ViewReply | undefined,
  run: undefined as RunState | undefined,
  /** The run shown or asked for; the selects mirror it (they never are the source of truth). */
  choice: undefined as RunChoice | undefined,
  /** What the host is doing; the status line shows this (and the run) alone. */
  activity: { kind: 'decoding' } as Activity,
  /** The clip's top features by the chosen ranking: one lane each. */
  shown: [] as FeatureStats[],
  featureMax: new Map<number, number>(),
  /** Names users gave features (annotations), for the run's backbone and layer. */
  names: {} as Record<number, string>,
  /** The playhead, in seconds. */
  playheadS: 0,
  overviewPeaks: undefined as { fromS: number; toS: number; peaks: Float32Array } | undefined,
};

export const layersOf = (backbone: string) => model.settings?.backbones.find((b) => b.id === backbone)?.layers ?? 1;

/** "#12" or "#12 vowel onset" when the feature has a name. */
export function featureLabel(id: number): string {
  const name = model.names[id];
  return name ? `#${id} ${name}` : `#${id}`;
}
