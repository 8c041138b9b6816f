/**
 * The visible time range of the editor and how zoom and pan change it. Pure functions: unit-tested without a
 * browser. Times in seconds; a view never leaves [0, duration] and never gets narrower than MIN_SPAN_S.
 */
export interface Viewport {
  t0S: number;
  t1S: number;
}

/** Ten model frames: the closest zoom that still shows several frames. */
export const MIN_SPAN_S = 0.2;

export function fit(durationS: number): Viewport {
  return { t0S: 0, t1S: Math.max(durationS, 1e-3) };
}

/** A view with the given span kept inside the clip, moved (not shrunk) to fit where possible. */
export function clamp(v: Viewport, durationS: number): Viewport {
  const span = Math.min(Math.max(v.t1S - v.t0S, Math.min(MIN_SPAN_S, durationS)), durationS);
  const t0S = Math.min(Math.max(0, v.t0S), Math.max(0, durationS - span));
  return { t0S, t1S: t0S + span };
}

/** Zooms by `factor` (< 1 zooms in) keeping time `anchorS` at the same place on screen. */
export function zoomAt(v: Viewport, factor: number, anchorS: number, durationS: number): Viewport {
  const span = v.t1S - v.t0S;
  const newSpan = Math.min(durationS, Math.max(Math.min(MIN_SPAN_S, durationS), span * factor));
  const at = (anchorS - v.t0S) / span;
  return clamp({ t0S: anchorS - at * newSpan, t1S: anchorS - at * newSpan + newSpan }, durationS);
}

export function pan(v: Viewport, deltaS: number, durationS: number): Viewport {
  return clamp({ t0S: v.t0S + deltaS, t1S: v.t1S + deltaS }, durationS);
}

/** The view that shows `tS` if it is outside `v`: the next page when playback runs off the right edge. */
export function follow(v: Viewport, tS: number, durationS: number): Viewport {
  if (tS >= v.t0S && tS <= v.t1S) return v;
  const span = v.t1S - v.t0S;
  return clamp({ t0S: tS, t1S: tS + span }, durationS);
}

/** x in [0, width) ↔ seconds. */
export const timeAt = (v: Viewport, x: number, width: number): number => v.t0S + (x / width) * (v.t1S - v.t0S);
export const xAt = (v: Viewport, tS: number, width: number): number => ((tS - v.t0S) / (v.t1S - v.t0S)) * width;

/** Tick spacing (1, 2 or 5 × 10^n seconds) giving about `target` ticks over the view. */
export function tickStep(spanS: number, target = 8): number {
  const raw = spanS / target;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw)!;
}

/** A tick label: seconds, or m:ss past a minute, with as many decimals as the step needs. */
export function formatTime(tS: number, stepS: number): string {
  const decimals = Math.max(0, Math.min(3, -Math.floor(Math.log10(stepS) + 1e-9)));
  if (tS < 60) return `${tS.toFixed(decimals)}s`;
  const h = Math.floor(tS / 3600);
  const m = Math.floor((tS % 3600) / 60);
  const s = (tS % 60).toFixed(decimals).padStart(decimals ? 3 + decimals : 2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}
