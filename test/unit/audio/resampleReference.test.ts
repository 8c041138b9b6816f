/**
 * The project's resamplers against an independent one: scipy's polyphase resampler (fixtures made by
 * test/reference/make_resample.py) on signals band-limited below 7 kHz, at the rates audio files come in; and
 * a 10 kHz tone, above 16 kHz's Nyquist frequency, which must come out removed.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resample } from '../../../src/engine/audio/index.ts';
import { InProcessRunner } from '../../../src/engine/runtime/inProcess.ts';
import { assertRelativeL2, fixture } from '../../helpers/compare.ts';

const dir = fixture('resample');
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Record<string, { in: number; ref: number }>;
const f32 = (name: string) => {
  const b = readFileSync(join(dir, name));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
/** Away from the clip's edges, where the two filters see different amounts of zero padding. */
const EDGE = 80;
const interior = (x: Float32Array) => x.subarray(EDGE, x.length - EDGE);

let runner: InProcessRunner;
before(() => { runner = new InProcessRunner(); });
after(() => runner.dispose());

describe('resampling to 16 kHz against scipy.signal.resample_poly', () => {
  for (const rate of Object.keys(manifest).map(Number)) {
    for (const which of ['graph', 'libsamplerate'] as const) {
      it(`${rate} Hz (${which}): same length, within 1e-4 relative L2 in the passband`, async () => {
        const ref = f32(`${rate}.ref.f32`);
        const ours = await resample(f32(`${rate}.in.f32`), rate, 16000, which === 'graph' ? runner : undefined);
        assert.equal(ours.length, ref.length);
        const err = assertRelativeL2(interior(ours), interior(ref), 1e-4, `${rate} Hz ${which}`);
        console.log(`${rate} Hz → 16 kHz (${which}): relative L2 ${err.toExponential(2)} vs scipy`);
      });
    }
  }
  for (const rate of [22050, 44100, 48000, 96000]) {
    it(`${rate} Hz: a 10 kHz tone is removed (≥ 80 dB down)`, async () => {
      const tone = f32(`alias.${rate}.f32`);
      const out = interior(await resample(tone, rate, 16000, runner));
      let rms = 0;
      for (const v of out) rms += v * v;
      const db = 10 * Math.log10(rms / out.length / (0.5 ** 2 / 2));
      assert.ok(db <= -80, `${rate} Hz: the 10 kHz tone comes out at ${db.toFixed(1)} dB`);
    });
  }
});
