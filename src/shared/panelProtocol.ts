/**
 * Messages between a result panel's host side (src/extension/panels/panelHost.ts) and its webview
 * (webview/panels/common/). Generic over the panel's view `V` (what the host sends to draw) and its requests `Q`
 * (what the webview asks for, e.g. another layer); every panel kind declares those two and a validator of `Q`.
 *
 * Handshake: the webview says `ready`; the host answers `view` (again whenever the data changes). Requests,
 * exports and commands carry ids; each gets exactly one `reply` with that id, `ok: false` with a message when
 * the handler threw or the message was rejected, which the webview shows. Exports travel as text (CSV, JSON,
 * SVG) or bytes (PNG); the host asks where to save and writes atomically. Commands are the links to other parts
 * of the product (open a clip at a time, a feature page), from a fixed list, with their argument validated.
 *
 * This file also holds the corpus panels' views (metrics, classification, dead features, top clips, feature
 * map), which the job worker computes (src/engine/jobs/analysis.ts) and the webviews draw.
 */
import type { CorpusMetricsRow } from '../engine/store/corpusMetrics.ts';
import type { ClassificationSummary, FeatureLabel, LayerSummaryRow } from '../engine/interp/classify.ts';

export function assertNever(x: never): never {
  throw new Error(`unexpected message: ${JSON.stringify(x)}`);
}

export const EXPORT_FORMATS = ['csv', 'json', 'png', 'svg'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Commands a panel may execute, with their argument shapes (registered by the audio editor and the sidebar). */
export interface PanelCommandArgs {
  'audioSae.openClipAt': { path: string; time_s: number; feature: number; layer: number };
  'audioSae.showFeaturePage': { feature: number; layer: number; backbone: string };
  'audioSae.findTopClips': { feature: number; layer: number; backbone: string };
}
export type PanelCommand = keyof PanelCommandArgs;
export const PANEL_COMMANDS: readonly PanelCommand[] = ['audioSae.openClipAt', 'audioSae.showFeaturePage', 'audioSae.findTopClips'];

export type PanelToHost<Q> =
  | { type: 'ready' }
  | { type: 'request'; id: number; request: Q }
  | { type: 'export'; id: number; format: ExportFormat; name: string; text?: string; bytes?: ArrayBuffer }
  | { [C in PanelCommand]: { type: 'command'; id: number; command: C; arg: PanelCommandArgs[C] } }[PanelCommand]
  /** Measurements the panel reports (frame times), printed to the output channel. */
  | { type: 'measure'; name: string; values: number[] };

export type HostToPanel<V> =
  | { type: 'view'; view: V }
  | { type: 'loading'; message: string }
  | { type: 'error'; message: string }
  | { type: 'reply'; id: number; ok: true; message?: string }
  | { type: 'reply'; id: number; ok: false; message: string };

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isId = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
const isCount = (x: unknown, max = 1 << 24): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < max;
const SAFE_NAME = /^[\w .,()+-]{1,120}$/;

/** The argument of a panel command, checked; undefined when it does not fit. */
export function parseCommandArg<C extends PanelCommand>(command: C, arg: unknown): PanelCommandArgs[C] | undefined {
  if (!isObject(arg) || !isCount(arg.feature) || !isCount(arg.layer, 256) || (arg.layer as number) < 1) return undefined;
  switch (command) {
    case 'audioSae.openClipAt': {
      const ok = typeof arg.path === 'string' && arg.path.length > 0 && arg.path.length < 4096 && typeof arg.time_s === 'number' && Number.isFinite(arg.time_s) && arg.time_s >= 0;
      return ok ? ({ path: arg.path, time_s: arg.time_s, feature: arg.feature, layer: arg.layer } as PanelCommandArgs[C]) : undefined;
    }
    case 'audioSae.showFeaturePage':
    case 'audioSae.findTopClips':
      return typeof arg.backbone === 'string' && /^[\w.-]{1,80}$/.test(arg.backbone)
        ? ({ feature: arg.feature, layer: arg.layer, backbone: arg.backbone } as PanelCommandArgs[C])
        : undefined;
    default:
      return undefined;
  }
}

/**
 * A message from a panel, validated: envelope, export format and name, command and argument; the request
 * itself by the panel's own `parseRequest`. Undefined when anything does not fit (the host never acts on it).
 */
export function parsePanelMessage<Q>(raw: unknown, parseRequest: (q: unknown) => Q | undefined): PanelToHost<Q> | undefined {
  if (!isObject(raw) || typeof raw.type !== 'string') return undefined;
  switch (raw.type) {
    case 'ready':
      return { type: 'ready' };
    case 'request': {
      const request = isId(raw.id) ? parseRequest(raw.request) : undefined;
      return request === undefined ? undefined : { type: 'request', id: raw.id as number, request };
    }
    case 'export': {
      if (!isId(raw.id) || !EXPORT_FORMATS.includes(raw.format as ExportFormat) || typeof raw.name !== 'string' || !SAFE_NAME.test(raw.name)) return undefined;
      const format = raw.format as ExportFormat;
      if (format === 'png') return raw.bytes instanceof ArrayBuffer ? { type: 'export', id: raw.id, format, name: raw.name, bytes: raw.bytes } : undefined;
      return typeof raw.text === 'string' ? { type: 'export', id: raw.id, format, name: raw.name, text: raw.text } : undefined;
    }
    case 'command': {
      const command = raw.command as PanelCommand;
      if (!isId(raw.id) || !PANEL_COMMANDS.includes(command)) return undefined;
      const arg = parseCommandArg(command, raw.arg);
      return arg ? ({ type: 'command', id: raw.id, command, arg } as PanelToHost<Q>) : undefined;
    }
    case 'measure':
      return typeof raw.name === 'string' && SAFE_NAME.test(raw.name) && Array.isArray(raw.values) && raw.values.length <= 10_000 && raw.values.every((v) => typeof v === 'number' && Number.isFinite(v))
        ? { type: 'measure', name: raw.name, values: raw.values as number[] }
        : undefined;
    default:
      return undefined;
  }
}

// ------------------------------------------------------------------------------------------- the corpus panels

/** Which run a panel shows, as a heading. */
export interface RunHeading {
  store: string;
  runId: string;
  backbone: string;
  sae: string;
  mode: string;
  layers: number[];
  layer: number;
  dictSize: number;
  clips: number;
}

export interface MetricsView {
  kind: 'metrics';
  heading: RunHeading;
  /** The active layer: the corpus row first (domain null), then one per domain. */
  rows: CorpusMetricsRow[];
  /** Every layer of the run (ascending), its corpus row and domain rows: the curves over layers. */
  perLayer: { layer: number; rows: CorpusMetricsRow[] }[];
  /** Metric name → its definition (METRIC_FORMULAS). */
  formulas: Record<string, string>;
}

export interface ClassificationFeature {
  feature: number;
  label: FeatureLabel;
  /** index of the first τ that held; null for unassigned and dead */
  grade: number | null;
  /** the labels it fires under (0..3) */
  firesUnder: number;
}

export interface ClassificationView {
  kind: 'classification';
  heading: RunHeading;
  /** Figure 2: one row per layer. */
  layers: LayerSummaryRow[];
  summary: ClassificationSummary;
  features: ClassificationFeature[];
}

export interface DeadView {
  kind: 'dead';
  heading: RunHeading;
  /** The corpus row first (domain null), then per domain. */
  rows: { domain: string | null; count: number; fraction: number; features: number[] }[];
}

export interface TopClipsView {
  kind: 'topClips';
  heading: RunHeading;
  feature: number;
  rows: { rank: number; clip: string; domain: string; dataset: string | null; max: number; timeS: number; /** time in the file (segment start added) */ fileTimeS: number }[];
}

/** One point of the feature map: a feature's t-SNE coordinates, its label and grade, and its annotation name. */
export interface FeatureMapPoint {
  feature: number;
  x: number;
  y: number;
  label: FeatureLabel;
  grade: number | null;
  name?: string;
}

export interface FeatureMapView {
  kind: 'featureMap';
  heading: RunHeading;
  points: FeatureMapPoint[];
  /** How the map was made (PCA dims, perplexity, iterations …), for the heading. */
  method: string;
}

export type CorpusView = MetricsView | ClassificationView | DeadView | TopClipsView | FeatureMapView;
export type CorpusViewKind = CorpusView['kind'];

/** What a corpus panel can ask for: the same view at another layer (the classification chart's click). */
export type CorpusPanelRequest = { type: 'layer'; layer: number };

export function parseCorpusRequest(q: unknown): CorpusPanelRequest | undefined {
  return isObject(q) && q.type === 'layer' && isCount(q.layer, 256) && (q.layer as number) >= 1 ? { type: 'layer', layer: q.layer as number } : undefined;
}
