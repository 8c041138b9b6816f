import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { whisperLogMelWindow } from '../../../src/engine/audio/index.ts';
import { InProcessRunner } from '../../../src/engine/runtime/inProcess.ts';
import { colourScale, formatDb, FULL_SCALE_LOG_MEL, levelNote, logMelToDb, peakDbfs } from '../../../webview/editor/specScale.ts';

let runner: InProcessRunner;
before(() => { runner = new InProcessRunner(); });
after(() => runner.dispose());

const sine = (hz: number, amplitude: number, seconds = 2) => Float32Array.from({ length: seconds * 16000 }, (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / 16000));

/** The largest log-mel value over the frames of real audio (the window is padded to 30 s). */
async function peakLogMel(samples: Float32Array): Promise<number> {
  const mel = await whisperLogMelWindow(runner, samples, 80);
  const frames = Math.floor(samples.length / 160);
  let max = -Infinity;
  for (let m = 0; m < mel.nMels; m++) for (let t = 0; t < frames; t++) max = Math.max(max, mel.data[m * mel.frames + t]!);
  return max;
}

describe('the spectrogram colour scale is anchored to full scale (measured through the engine log-mel graph)', () => {
  it('puts a full-scale sine at 0 dB: the strongest band at ~560 Hz, 1 kHz within 2 dB below', async () => {
    let best = -Infinity;
    for (const hz of [500, 530, 560, 590, 620]) best = Math.max(best, await peakLogMel(sine(hz, 1)));
    assert.ok(Math.abs(logMelToDb(best)) < 0.5, `full-scale sine peaks at ${logMelToDb(best).toFixed(2)} dB, not 0`);
    const kHz = logMelToDb(await peakLogMel(sine(1000, 1)));
    assert.ok(kHz < 0 && kHz > -2, `1 kHz full-scale sine at ${kHz.toFixed(2)} dB`);
  });

  it('measures levels in dB below full scale: a −20 dBFS sine reads −20 dB', async () => {
    const full = await peakLogMel(sine(560, 1));
    const quiet = await peakLogMel(sine(560, 0.1));
    assert.ok(Math.abs(logMelToDb(quiet) - logMelToDb(full) + 20) < 0.05, `${logMelToDb(quiet)} vs ${logMelToDb(full)}`);
  });

  it('draws digital silence at the bottom of the scale (it was the top when the scale followed the clip maximum)', async () => {
    const silence = await peakLogMel(new Float32Array(32000));
    assert.ok(Math.abs(silence + 1.5) < 1e-6, `silence at ${silence}, not (log10 1e-10 + 4) / 4 = −1.5`);
    const scale = colourScale(0, 80);
    assert.ok(scale(silence) < 0, `silence maps to ${scale(silence)}`);
    assert.ok(Math.abs(scale(FULL_SCALE_LOG_MEL) - 1) < 1e-9, 'full scale at the top');
    assert.ok(Math.abs(scale(FULL_SCALE_LOG_MEL - 2) - 0) < 1e-9, '80 dB below at the bottom');
    // A 40 dB ceiling moves the top 40 dB down: a −40 dB band is then drawn at the top.
    assert.ok(Math.abs(colourScale(40, 80)(FULL_SCALE_LOG_MEL - 1) - 1) < 1e-9);
  });
});

describe('what the editor says about a clip\'s level', () => {
  it('calls digital silence silent and a peak under −40 dBFS very quiet, with a ceiling that shows it', () => {
    assert.equal(levelNote(0)?.kind, 'silent');
    assert.match(levelNote(0)!.text, /^Silent clip/);
    assert.equal(levelNote(0.5), undefined);
    assert.equal(levelNote(10 ** (-39 / 20)), undefined);
    const quiet = levelNote(10 ** (-52.4 / 20))!;
    assert.equal(quiet.kind, 'quiet');
    assert.match(quiet.text, /^Very quiet: peak −52 dBFS\. .*a ceiling of 50 dB/);
    assert.equal(peakDbfs(0), -Infinity);
    assert.equal(formatDb(-0.04, 1), '0.0');
    assert.equal(formatDb(-3.25, 1), '−3.3');
  });
});
