/**
 * The Slaney-style mel filter bank that Whisper uses, as `librosa.filters.mel(sr=16000, n_fft=400, n_mels)`
 * computes it (htk=False, norm="slaney"): mel scale linear below 1 kHz (200/3 Hz per mel) and logarithmic above
 * (27 mels per factor 6.4), triangles between consecutive mel points, each scaled by 2 / (upper − lower Hz) so
 * every filter has unit area. Computed in float64, returned as float32 [nMels, nFft/2 + 1] row-major.
 */
import { N_FFT, SAMPLE_RATE_HZ } from './constants.ts';

const F_SP = 200 / 3;
const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = MIN_LOG_HZ / F_SP; // 15
const LOG_STEP = Math.log(6.4) / 27;

export function hzToMel(hz: number): number {
  return hz >= MIN_LOG_HZ ? MIN_LOG_MEL + Math.log(hz / MIN_LOG_HZ) / LOG_STEP : hz / F_SP;
}

export function melToHz(mel: number): number {
  return mel >= MIN_LOG_MEL ? MIN_LOG_HZ * Math.exp(LOG_STEP * (mel - MIN_LOG_MEL)) : mel * F_SP;
}

const cache = new Map<number, Float32Array>();

export function melFilterBank(nMels: number, sampleRateHz = SAMPLE_RATE_HZ, nFft = N_FFT): Float32Array {
  const key = nMels * 1e9 + sampleRateHz * 1e3 + nFft;
  const hit = cache.get(key);
  if (hit) return hit;
  const bins = nFft / 2 + 1;
  const fftHz = Float64Array.from({ length: bins }, (_, k) => (k * sampleRateHz) / 2 / (bins - 1));
  const maxMel = hzToMel(sampleRateHz / 2);
  const melHz = Float64Array.from({ length: nMels + 2 }, (_, i) => melToHz((maxMel * i) / (nMels + 1)));
  const out = new Float32Array(nMels * bins);
  for (let m = 0; m < nMels; m++) {
    const lo = melHz[m]!;
    const centre = melHz[m + 1]!;
    const hi = melHz[m + 2]!;
    const enorm = 2 / (hi - lo);
    for (let k = 0; k < bins; k++) {
      const lower = (fftHz[k]! - lo) / (centre - lo);
      const upper = (hi - fftHz[k]!) / (hi - centre);
      out[m * bins + k] = Math.max(0, Math.min(lower, upper)) * enorm;
    }
  }
  cache.set(key, out);
  return out;
}
