/**
 * The per-frame descriptors of the acoustic profile (src/engine/interp/profile.ts) on signals whose answer is
 * known analytically: a sine's F0, loudness (20·log10(A/√2) dBFS) and low flatness; white noise unvoiced and
 * flat; a tone between silences split into beginning / middle / end thirds with its onset strength at the start;
 * and the description's words for a profile that stands out from its corpus.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeProfile, frameDescriptors, ProfileAccumulator, type FrameDescriptors } from '../../../src/engine/interp/profile.ts';

const SR = 16000;
const sine = (hz: number, seconds: number, amplitude = 0.5) => Float32Array.from({ length: Math.round(seconds * SR) }, (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / SR));

function noise(seconds: number, seed = 7): Float32Array {
  let s = seed;
  return Float32Array.from({ length: Math.round(seconds * SR) }, () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return (s / 2 ** 31 - 0.5) * 0.8;
  });
}

function summary(d: FrameDescriptors, from = 0, to = d.frames) {
  const acc = new ProfileAccumulator();
  for (let t = from; t < to; t++) acc.add(d, t);
  return acc.finish();
}

describe('acoustic profile: frame descriptors', () => {
  it('a 440 Hz sine: F0 440 Hz, voiced, loudness 20·log10(A/√2), centroid near 440 Hz, tonal', () => {
    const d = frameDescriptors(sine(440, 1), 50);
    const s = summary(d, 2, 48); // away from the zero-padded borders
    assert.equal(s.voicedRate, 1);
    assert.ok(Math.abs(s.f0MedianHz - 440) < 2, `F0 ${s.f0MedianHz}`);
    assert.ok(Math.abs(s.loudnessDb - 20 * Math.log10(0.5 / Math.SQRT2)) < 0.3, `loudness ${s.loudnessDb}`);
    assert.ok(Math.abs(s.centroidHz - 440) < 60, `centroid ${s.centroidHz}`);
    assert.ok(s.flatness < 0.01, `flatness ${s.flatness}`);
  });

  it('white noise: unvoiced, flat, centroid near the middle of the band', () => {
    const s = summary(frameDescriptors(noise(1), 50), 2, 48);
    assert.ok(s.voicedRate < 0.1, `voiced ${s.voicedRate}`);
    assert.ok(s.flatness > 0.5, `flatness ${s.flatness}`);
    assert.ok(s.centroidHz > 3000 && s.centroidHz < 5000, `centroid ${s.centroidHz}`);
  });

  it('a tone between silences: silence outside, thirds of the event, the onset strength at its start', () => {
    const x = new Float32Array(SR); // 1 s: silence 0.3 s, tone 0.3 s (frames 15..29), silence
    x.set(sine(300, 0.3), Math.round(0.3 * SR));
    const d = frameDescriptors(x, 50);
    const place = Array.from(d.position);
    assert.equal(place[5], 0, 'silence: outside');
    assert.equal(place[45], 0, 'silence: outside');
    const events = place.map((p, t) => (p > 0 ? t : -1)).filter((t) => t >= 0);
    assert.deepEqual(events, Array.from({ length: events.length }, (_, i) => events[0]! + i), 'one event');
    const third = events.length / 3;
    events.forEach((t, i) => assert.equal(place[t], i + 0.5 < third ? 1 : i + 0.5 > 2 * third ? 3 : 2, `frame ${t}: its third of the event`));
    // The 64 ms window reaches the tone ~1.5 frames early and leaves it ~1.5 late.
    assert.ok(events[0]! >= 12 && events[0]! <= 15 && events.at(-1)! >= 29 && events.at(-1)! <= 32, `event frames ${events[0]}..${events.at(-1)}`);
    const strongest = Array.from(d.onset).indexOf(Math.max(...d.onset));
    assert.ok(strongest >= 12 && strongest <= 16, `onset strength peaks at frame ${strongest}`);
    assert.ok(Number.isNaN(d.centroidHz[2]!) && d.loudnessDb[2] === -120, 'digital silence: no centroid, −120 dB');
  });
});

describe('acoustic profile: description', () => {
  it('names the traits where the feature stands out, its pitch and its main domain', () => {
    const base = { frames: 1000, loudnessDb: -30, voicedRate: 0.35, f0MedianHz: 200, f0MeanHz: 230, centroidHz: 1800, flatness: 0.25, onsetStrength: 2,
      position: { outside: 0.2, beginning: 0.27, middle: 0.27, end: 0.26 } };
    const onsets = { ...base, frames: 80, loudnessDb: -12, voicedRate: 0.9, f0MedianHz: 221.4, flatness: 0.05, position: { outside: 0, beginning: 0.8, middle: 0.15, end: 0.05 } };
    assert.equal(describeProfile(onsets, base, [{ domain: 'speech', share: 0.8 }, { domain: 'music', share: 0.2 }]), 'fires on loud tonal voiced onsets around 221 Hz; 80% in speech');
    const hiss = { ...base, frames: 50, voicedRate: 0.05, flatness: 0.7, centroidHz: 4500, position: { outside: 0.1, beginning: 0.3, middle: 0.3, end: 0.3 } };
    assert.equal(describeProfile(hiss, base, [{ domain: 'sounds', share: 1 }]), 'fires on noisy bright unvoiced sounds; 100% in sounds');
  });
});
