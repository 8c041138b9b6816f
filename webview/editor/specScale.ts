/**
 * The spectrogram's colour scale, anchored to full scale rather than to the clip's own maximum, and what the
 * editor says about a clip's level. Pure functions (unit-tested without a DOM).
 *
 * The values drawn are Whisper's log-mel: log10 of mel-filtered STFT power, floored at the 30 s window's max − 8
 * and mapped by (x + 4) / 4, so one unit is 4 decades of power = 40 dB. A scale relative to the clip's maximum
 * draws a clip that is one value everywhere (digital silence: log10 of the 1e-10 clamp) at the top of the colour
 * map. Here 0 dB is instead what a full-scale sine reaches, so the same sound gets the same colour in every clip
 * and silence is the bottom colour.
 */

/**
 * The largest log10 mel power a full-scale (0 dBFS) sine reaches in its strongest mel band, over 20 Hz–8 kHz:
 * 2.41, at about 560 Hz (periodic Hann of 400 samples: |X| = 100 at the peak bin; Slaney-normalised filters).
 * A 1 kHz sine reaches 2.36, 4 kHz 1.93 (wider filters). test/unit/webview/specScale.test.ts measures it through
 * the engine's log-mel graph.
 */
export const FULL_SCALE_LOG10_MEL = 2.41;
/** The same in Whisper's normalised units ((x + 4) / 4), the values the host sends. */
export const FULL_SCALE_LOG_MEL = (FULL_SCALE_LOG10_MEL + 4) / 4;
const DB_PER_UNIT = 40;

/** A normalised log-mel value in dB relative to a full-scale sine (0 dB; negative below). */
export function logMelToDb(value: number): number {
  return DB_PER_UNIT * (value - FULL_SCALE_LOG_MEL);
}

/**
 * The colour scale as a map from a normalised log-mel value to 0..1 (clamped by the painter): the top sits
 * `ceilingDb` below full scale and the scale spans `rangeDb` down from there.
 */
export function colourScale(ceilingDb: number, rangeDb: number): (value: number) => number {
  const top = FULL_SCALE_LOG_MEL - Math.max(0, ceilingDb) / DB_PER_UNIT;
  const span = Math.max(10, rangeDb) / DB_PER_UNIT;
  return (value) => (value - (top - span)) / span;
}

/** Below this peak a clip is called very quiet (it draws dim on the absolute scale). */
export const QUIET_PEAK_DBFS = -40;

/** The clip's peak |sample| (1 = full scale) in dBFS; −Infinity for digital silence. */
export function peakDbfs(peak: number): number {
  return peak > 0 ? 20 * Math.log10(peak) : -Infinity;
}

/** dB with a true minus sign, to `digits` decimals. */
export function formatDb(db: number, digits = 0): string {
  const text = Math.abs(db).toFixed(digits);
  return db < 0 && Number(text) !== 0 ? `−${text}` : text;
}

/**
 * What to say about the clip's level, or undefined when it is ordinary: digital silence, or a peak below
 * QUIET_PEAK_DBFS with the ceiling that would bring it near the top of the colour scale.
 */
export function levelNote(peak: number): { kind: 'silent' | 'quiet'; text: string } | undefined {
  if (!(peak > 0)) return { kind: 'silent', text: 'Silent clip: every sample is zero (digital silence).' };
  const db = peakDbfs(peak);
  if (db >= QUIET_PEAK_DBFS) return undefined;
  const ceiling = Math.min(100, 10 * Math.floor(-db / 10));
  return { kind: 'quiet', text: `Very quiet: peak ${formatDb(db)} dBFS. The colour scale is absolute (0 dB = full scale); a ceiling of ${ceiling} dB shows more.` };
}
