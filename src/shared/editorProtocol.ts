/**
 * Messages between the audio editor's host side (src/extension/audioEditor.ts) and its webview
 * (webview/editor). Binary arrays travel as ArrayBuffers with their shapes, never as JSON number arrays.
 */

export interface EditorSettings {
  backbone: string;
  layer: number;
  /** Layers of the chosen backbone, 1..layers. */
  layers: number;
  backbones: Array<{ id: string; label: string; layers: number }>;
}

export type HostMessage =
  | { type: 'init'; fileName: string; trusted: boolean; settings: EditorSettings }
  | {
      type: 'audio';
      durationS: number;
      sourceRateHz: number;
      channels: number;
      peaksPerSecond: number;
      peaks: ArrayBuffer; // float32 [n, 2]: min, max
      /** The clip as 16 kHz mono 16-bit WAV, for playback. */
      wav: ArrayBuffer;
    }
  | { type: 'spectrogram'; nMels: number; frames: number; framesPerSecond: number; data: ArrayBuffer /* float32 [nMels, frames] */ }
  | { type: 'status'; text: string; busy: boolean }
  | {
      type: 'features';
      backbone: string;
      layer: number;
      frames: number;
      framesPerSecond: number;
      dictSize: number;
      k: number;
      mode: string;
      notes: string[];
      /** Sparse codes per frame (CSR), features sorted by value. */
      rowPtr: ArrayBuffer; // int32 [frames + 1]
      indices: ArrayBuffer; // int32 [nnz]
      values: ArrayBuffer; // float32 [nnz]
      l0: ArrayBuffer; // float32 [frames]
      relError: ArrayBuffer; // float32 [frames]: ‖x − x̂‖ / ‖x‖
      meanL0: number;
    }
  | { type: 'error'; message: string };

export const EXPORT_KINDS = ['codes-npy', 'codes-csv', 'intervals-audacity', 'intervals-csv', 'png'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];
/** Largest view image the host accepts from the webview. */
const MAX_PNG_BYTES = 64 * 1024 * 1024;

export type WebviewMessage =
  /** The webview is up; it may name the backbone and layer it showed before (restored view state). */
  | { type: 'ready'; backbone?: string; layer?: number }
  | { type: 'run'; backbone: string; layer: number }
  | { type: 'cancel' }
  /** Save something of the current view; `feature` for firing intervals, `png` for the view image. */
  | { type: 'export'; what: ExportKind; feature?: number; png?: ArrayBuffer };

/** Checks a message from the webview; anything malformed is rejected, never acted on. */
export function parseWebviewMessage(m: unknown, backbones: ReadonlyArray<{ id: string; layers: number }>, dictSize = 0): WebviewMessage | undefined {
  if (typeof m !== 'object' || m === null) return undefined;
  const msg = m as Record<string, unknown>;
  const valid = () => {
    const spec = backbones.find((b) => b.id === msg.backbone);
    const layer = msg.layer;
    return spec && typeof layer === 'number' && Number.isInteger(layer) && layer >= 1 && layer <= spec.layers ? { backbone: spec.id, layer } : undefined;
  };
  if (msg.type === 'ready') {
    const restored = msg.backbone === undefined && msg.layer === undefined ? undefined : valid();
    return restored ? { type: 'ready', ...restored } : { type: 'ready' };
  }
  if (msg.type === 'cancel') return { type: 'cancel' };
  if (msg.type === 'run') {
    const choice = valid();
    return choice ? { type: 'run', ...choice } : undefined;
  }
  if (msg.type === 'export' && EXPORT_KINDS.includes(msg.what as ExportKind)) {
    const what = msg.what as ExportKind;
    if (what.startsWith('intervals')) {
      const f = msg.feature;
      return typeof f === 'number' && Number.isInteger(f) && f >= 0 && f < dictSize ? { type: 'export', what, feature: f } : undefined;
    }
    if (what === 'png') {
      const png = msg.png;
      return png instanceof ArrayBuffer && png.byteLength > 8 && png.byteLength <= MAX_PNG_BYTES ? { type: 'export', what, png } : undefined;
    }
    return { type: 'export', what };
  }
  return undefined;
}
