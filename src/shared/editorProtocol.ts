/**
 * Messages between the audio editor's host side (src/extension/editor) and its webview (webview/editor).
 *
 * Handshake: the webview says `ready`; the host answers `init`, then `clip` once the file is decoded, and
 * `mel` / `run` as the log-mel and a model run progress. What the host is doing travels as one typed `activity`
 * (the webview's status line, busy ring, Cancel and error box are drawn from the latest one alone); outcomes of
 * one-off actions (an export saved, a link not available) travel as `notice`s. The webview *requests* what it
 * draws for the visible range (`view`), the features under the pointer (`frame`) and rankings (`rank`); each
 * request carries an id and gets exactly one reply with that id, or a `failed` reply (also when its handler
 * throws), which the webview shows; a message that is not a request and fails comes back as an error `notice`.
 * Binary arrays travel as ArrayBuffers with their shapes, never as JSON number arrays. Everything from the
 * webview is validated here before the host acts. Both sides switch over every type, ending in `assertNever`.
 */

export const SAE_MODES = ['auto', 'threshold', 'batch-topk'] as const;
export type SaeModeSetting = (typeof SAE_MODES)[number];
export const SAE_SOURCES = ['hub', 'local'] as const;
/**
 * hub: the backbone's own SAE for the layer (the authors' from the Hub; for the bundled toy backbones, the
 * bundled demo SAE); local: the file set in `audioSae.saePath`.
 */
export type SaeSource = (typeof SAE_SOURCES)[number];

/** What a model run is: one cache entry per choice (and clip content). */
export interface RunChoice {
  backbone: string;
  layer: number;
  sae: SaeSource;
  mode: SaeModeSetting;
}

/**
 * Which dictionary a run's feature ids index: the backbone, layer and SAE (not the mode, which only changes how
 * many of the same features are kept). A selected feature means something only in runs with the same key.
 */
export function dictionaryKey(c: RunChoice): string {
  return `${c.backbone}:${c.layer}:${c.sae}`;
}

export interface EditorSettings {
  /** demo: a bundled toy backbone (random weights), whose SAE is bundled too; the others come from the Hub. */
  backbones: Array<{ id: string; label: string; family: 'whisper' | 'hubert'; layers: number; demo: boolean }>;
  choice: RunChoice;
  /** The configured local SAE file's name, if any (the source `local` needs one). */
  localSae?: string;
}

/** One feature's statistics over a range of frames. */
export interface FeatureStats {
  id: number;
  max: number;
  timeOfMaxS: number;
  activeFrames: number;
  total: number;
}

export interface ViewReply {
  type: 'view';
  id: number;
  t0S: number;
  t1S: number;
  nMels: number;
  /** Log-mel columns covering mel frames [melFromS, melToS) of the clip; float32 [nMels, melCols], bin 0 lowest; NaN = not computed yet. */
  melCols: number;
  melFromS: number;
  melToS: number;
  mel: ArrayBuffer;
  /** float32 [melCols, 2]: min, max of the samples under each column. */
  peaks: ArrayBuffer;
  /** The run the feature columns come from (none: no run shown). */
  choice?: RunChoice;
  /** Feature columns covering model frames [featureFromS, featureToS); 0 when no run is shown. */
  featureCols: number;
  featureFromS: number;
  featureToS: number;
  /** The features asked for, one lane each: float32 [features, featureCols], max per column; NaN = not run yet. */
  features: number[];
  lanes: ArrayBuffer;
  l0: ArrayBuffer; // float32 [featureCols]: mean active features per frame
  relError: ArrayBuffer; // float32 [featureCols]: mean ‖x − x̂‖ / ‖x‖
}

export interface RunState {
  type: 'run';
  choice: RunChoice;
  /** Human name of the SAE (e.g. "Egorgij21/Audio-SAE-Whisper-small layer 6" or a file name). */
  saeLabel: string;
  modeUsed: string;
  k: number;
  dictSize: number;
  totalFrames: number;
  framesDone: number;
  framesPerSecond: number;
  complete: boolean;
  cached: boolean;
  meanL0: number;
  notes: RunNote[];
  provider: string;
}

/** A note about a run (a mode fallback, a truncated clip); `warning` for what calls the results into question (mean L0 far from k). */
export interface RunNote {
  text: string;
  level: 'info' | 'warning';
}

/** A label of the spectrogram's frequency axis and its height as a fraction of the mel axis (0 bottom, 1 top). */
export interface MelAxisTick {
  label: string;
  fraction: number;
}

/** What the editor remembers of a file between closing and reopening it (kept per workspace by the host). */
export interface SavedView {
  choice?: RunChoice;
  view?: { t0S: number; t1S: number };
  /** A feature of `choice`'s dictionary (the webview drops it when the dictionary changes). */
  selected?: number;
  colormap?: 'viridis' | 'magma' | 'inferno' | 'gray';
  /** The spectrogram's colour scale: its top `ceilingDb` below full scale, spanning `rangeDb` down from there. */
  rangeDb?: number;
  ceilingDb?: number;
  rank?: 'max' | 'total';
  topN?: number;
}

/**
 * What the host is doing for the editor's clip, as a state: each message replaces the last one, so nothing said
 * about an operation outlives it (a failure replaces "Decoding…" or "Preparing…").
 */
export type Activity =
  | { kind: 'decoding' }
  | { kind: 'mel' }
  /** The clip is shown; models wait for workspace trust. */
  | { kind: 'restricted' }
  /** Finding (or downloading) the backbone and SAE. */
  | { kind: 'preparing'; choice: RunChoice }
  | { kind: 'running'; choice: RunChoice; framesDone: number; totalFrames: number }
  /** Nothing in progress: the run shown, if any, is complete. */
  | { kind: 'idle' }
  | { kind: 'cancelled'; choice: RunChoice }
  /**
   * open: reading or decoding the file; models: getting the backbone or SAE (the Hub, local files); run: the
   * model run itself.
   */
  | { kind: 'failed'; stage: 'open' | 'models' | 'run'; message: string; choice?: RunChoice };

export type HostMessage =
  | { type: 'init'; fileName: string; trusted: boolean; settings: EditorSettings; saved?: SavedView }
  /** peak: the largest |sample| of the 16 kHz clip the model hears (0 for digital silence; 1 = full scale). */
  | { type: 'clip'; durationS: number; sourceRateHz: number; channels: number; peak: number; nMels: number; melFrames: number; melFramesPerSecond: number; melAxis: MelAxisTick[] }
  /** The 16 kHz mono clip the model hears, as a URL the webview's audio element can stream. */
  | { type: 'playback'; uri: string }
  | { type: 'mel'; framesDone: number; melFrames: number }
  | RunState
  | { type: 'activity'; activity: Activity }
  /** Names users gave features of `backbone` layer `layer` (annotations), shown beside their ids. */
  | { type: 'featureNames'; backbone: string; layer: number; names: Record<number, string> }
  /** Show this moment, with this feature (of the run at `layer`) selected: the editor was opened at it. */
  | { type: 'reveal'; timeS: number; feature?: number; layer?: number }
  /** The outcome of a one-off action (an export, a link); shown beside the status until the next action. */
  | { type: 'notice'; text: string; level: NoticeLevel }
  | ViewReply
  | { type: 'frame'; id: number; frame: number; timeS: number; l0: number; relError: number; ids: number[]; values: number[] }
  | { type: 'rank'; id: number; fromFrame: number; toFrame: number; by: 'max' | 'total'; stats: FeatureStats[] }
  /** Where the feature's next (or previous) firing starts; frame −1 when there is none. */
  | { type: 'firing'; id: number; feature: number; frame: number }
  /** The request `id` (of type `request`) could not be answered: rejected, or its handler failed. */
  | { type: 'failed'; id: number; request: string; message: string };

export type NoticeLevel = 'info' | 'warning' | 'error';

export const EXPORT_KINDS = ['codes-npy', 'codes-csv', 'codes-parquet', 'intervals-audacity', 'intervals-csv', 'png'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];
export const LINKS = ['featurePage', 'topClips'] as const;
export type LinkKind = (typeof LINKS)[number];

/** Limits on what the webview may ask for. */
export const LIMITS = { maxColumns: 8192, maxLanes: 64, maxRank: 1000, maxFrameFeatures: 64, maxPngBytes: 64 * 1024 * 1024, maxCeilingDb: 100 };

export type WebviewMessage =
  /** The webview is up; it may name the run it showed before (restored view state). */
  | { type: 'ready'; choice?: RunChoice }
  | { type: 'run'; choice: RunChoice }
  | { type: 'cancel' }
  | { type: 'view'; id: number; t0S: number; t1S: number; columns: number; features: number[] }
  | { type: 'frame'; id: number; frame: number }
  | { type: 'rank'; id: number; fromFrame: number; toFrame: number; by: 'max' | 'total'; n: number }
  | { type: 'firing'; id: number; feature: number; fromFrame: number; direction: 1 | -1 }
  /**
   * Save something of the current run; `feature` for firing intervals, with the run it was selected in (the host
   * refuses it for another run), `png` for the view image.
   */
  | { type: 'export'; what: ExportKind; feature?: number; choice?: RunChoice; png?: ArrayBuffer }
  /** Open the settings where local weights and SAEs are set (after the Hub could not be reached). */
  | { type: 'openSettings' }
  /** Open another part of the product on a feature of the current run. */
  | { type: 'link'; what: LinkKind; feature: number }
  /** Remember the view of this file for the next time it opens. */
  | { type: 'saveView'; saved: SavedView }
  /** The region selected in the editor (none: cleared), for "fires in selection" elsewhere in the product. */
  | { type: 'selection'; startS?: number; endS?: number };

/** What the host knows when it checks a message: the backbones, and the dictionary size of the run shown. */
export interface ValidationContext {
  backbones: ReadonlyArray<{ id: string; layers: number }>;
  dictSize: number;
}

const isInt = (v: unknown, lo: number, hi: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v < 1e7;

function parseChoice(c: unknown, ctx: ValidationContext): RunChoice | undefined {
  if (typeof c !== 'object' || c === null) return undefined;
  const o = c as Record<string, unknown>;
  const spec = ctx.backbones.find((b) => b.id === o.backbone);
  if (!spec || !isInt(o.layer, 1, spec.layers)) return undefined;
  if (!SAE_SOURCES.includes(o.sae as SaeSource) || !SAE_MODES.includes(o.mode as SaeModeSetting)) return undefined;
  return { backbone: spec.id, layer: o.layer, sae: o.sae as SaeSource, mode: o.mode as SaeModeSetting };
}

const COLORMAPS = ['viridis', 'magma', 'inferno', 'gray'] as const;
const isNum = (v: unknown, lo: number, hi: number): v is number => typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi;

/** Keeps the valid fields of a saved view (a stale layer or feature id is dropped, not trusted). */
export function parseSavedView(m: unknown, ctx: ValidationContext, maxFeature = 1 << 20): SavedView {
  if (typeof m !== 'object' || m === null) return {};
  const o = m as Record<string, unknown>;
  const out: SavedView = {};
  const choice = o.choice === undefined ? undefined : parseChoice(o.choice, ctx);
  if (choice) out.choice = choice;
  const v = o.view as Record<string, unknown> | undefined;
  if (v && isTime(v.t0S) && isTime(v.t1S) && v.t1S > v.t0S) out.view = { t0S: v.t0S, t1S: v.t1S };
  if (isInt(o.selected, 0, maxFeature)) out.selected = o.selected;
  if (COLORMAPS.includes(o.colormap as (typeof COLORMAPS)[number])) out.colormap = o.colormap as SavedView['colormap'];
  if (isNum(o.rangeDb, 10, 80)) out.rangeDb = o.rangeDb;
  if (isNum(o.ceilingDb, 0, LIMITS.maxCeilingDb)) out.ceilingDb = o.ceilingDb;
  if (o.rank === 'max' || o.rank === 'total') out.rank = o.rank;
  if (isInt(o.topN, 1, LIMITS.maxLanes)) out.topN = o.topN;
  return out;
}

/** Checks a message from the webview; anything malformed or out of range is rejected (undefined), never acted on. */
export function parseWebviewMessage(m: unknown, ctx: ValidationContext): WebviewMessage | undefined {
  if (typeof m !== 'object' || m === null) return undefined;
  const msg = m as Record<string, unknown>;
  const feature = (v: unknown): v is number => isInt(v, 0, ctx.dictSize - 1);
  switch (msg.type) {
    case 'ready': {
      if (msg.choice === undefined) return { type: 'ready' };
      const choice = parseChoice(msg.choice, ctx);
      return choice ? { type: 'ready', choice } : { type: 'ready' };
    }
    case 'run': {
      const choice = parseChoice(msg.choice, ctx);
      return choice ? { type: 'run', choice } : undefined;
    }
    case 'cancel':
      return { type: 'cancel' };
    case 'view': {
      const { id, t0S, t1S, columns, features } = msg;
      if (!isInt(id, 0, Number.MAX_SAFE_INTEGER) || !isTime(t0S) || !isTime(t1S) || t1S <= t0S || !isInt(columns, 1, LIMITS.maxColumns)) return undefined;
      if (!Array.isArray(features) || features.length > LIMITS.maxLanes || !features.every(feature)) return undefined;
      return { type: 'view', id, t0S, t1S, columns, features: [...features] };
    }
    case 'frame':
      return isInt(msg.id, 0, Number.MAX_SAFE_INTEGER) && isInt(msg.frame, 0, 2 ** 31 - 1) ? { type: 'frame', id: msg.id, frame: msg.frame } : undefined;
    case 'rank': {
      const { id, fromFrame, toFrame, by, n } = msg;
      if (!isInt(id, 0, Number.MAX_SAFE_INTEGER) || !isInt(fromFrame, 0, 2 ** 31 - 1) || !isInt(toFrame, 0, 2 ** 31 - 1) || toFrame <= fromFrame) return undefined;
      if ((by !== 'max' && by !== 'total') || !isInt(n, 1, LIMITS.maxRank)) return undefined;
      return { type: 'rank', id, fromFrame, toFrame, by, n };
    }
    case 'firing': {
      const { id, fromFrame, direction } = msg;
      if (!isInt(id, 0, Number.MAX_SAFE_INTEGER) || !feature(msg.feature) || !isInt(fromFrame, -1, 2 ** 31 - 1) || (direction !== 1 && direction !== -1)) return undefined;
      return { type: 'firing', id, feature: msg.feature, fromFrame, direction };
    }
    case 'export': {
      if (!EXPORT_KINDS.includes(msg.what as ExportKind)) return undefined;
      const what = msg.what as ExportKind;
      if (what.startsWith('intervals')) {
        const choice = parseChoice(msg.choice, ctx);
        return feature(msg.feature) && choice ? { type: 'export', what, feature: msg.feature, choice } : undefined;
      }
      if (what === 'png') {
        const png = msg.png;
        return png instanceof ArrayBuffer && png.byteLength > 8 && png.byteLength <= LIMITS.maxPngBytes ? { type: 'export', what, png } : undefined;
      }
      return { type: 'export', what };
    }
    case 'saveView':
      return { type: 'saveView', saved: parseSavedView(msg.saved, ctx) };
    case 'openSettings':
      return { type: 'openSettings' };
    case 'selection':
      if (msg.startS === undefined && msg.endS === undefined) return { type: 'selection' };
      return isTime(msg.startS) && isTime(msg.endS) && msg.endS > msg.startS ? { type: 'selection', startS: msg.startS, endS: msg.endS } : undefined;
    case 'link':
      return LINKS.includes(msg.what as LinkKind) && feature(msg.feature) ? { type: 'link', what: msg.what as LinkKind, feature: msg.feature } : undefined;
    default:
      return undefined;
  }
}

export function assertNever(x: never): never {
  throw new Error(`unexpected message ${JSON.stringify(x)}`);
}
