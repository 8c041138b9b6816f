import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { melFilterBank, whisperLogMel, windowsOf } from '../../../src/engine/audio/index.ts';
import { InProcessRunner } from '../../../src/engine/runtime/inProcess.ts';
import { assertClose, fixture } from '../../helpers/compare.ts';

const dir = fixture('audio');
const manifest = JSON.parse(readFileSync(`${dir}/manifest.json`, 'utf8')) as Record<string, Record<string, number | number[]>>;
const f32 = (path: string) => { const b = readFileSync(path); return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)); };
const f64 = (path: string) => { const b = readFileSync(path); return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)); };

/** The frames the fixture kept: per window, the frames over real audio plus 3. */
function keptFrames(samples: number): number[] {
  return windowsOf(samples).flatMap((w) => Array.from({ length: Math.min(3000, w.realFrames + 3) }, (_, i) => w.index * 3000 + i));
}

let runner: InProcessRunner;
before(() => { runner = new InProcessRunner(); });
after(() => runner.dispose());

describe('Slaney mel filter bank', () => {
  for (const nMels of [80, 128]) {
    it(`matches the librosa formula for ${nMels} bins (float64 reference)`, () => {
      assertClose(melFilterBank(nMels), f64(`${dir}/filters.${nMels}.f64`), { atol: 1e-9, rtol: 1e-6, what: `filters ${nMels}` });
    });
  }
  it('has unit-area triangles: Σ_k w[m,k] · Δf ≈ 1 for the wide upper filters', () => {
    const w = melFilterBank(80);
    const binHz = 16000 / 400;
    for (let m = 60; m < 79; m++) {
      let sum = 0;
      for (let k = 0; k < 201; k++) sum += w[m * 201 + k]!;
      assert.ok(Math.abs(sum * binHz - 1) < 0.05, `filter ${m}: area ${sum * binHz}`);
    }
  });
});

describe('Whisper log-mel against torch.stft (float64 reference)', () => {
  for (const [name, entry] of Object.entries(manifest)) {
    for (const nMels of [80, 128] as const) {
      const shape = entry[String(nMels)] as number[] | undefined;
      if (!shape) continue;
      it(`${name}, ${nMels} mels: max abs error ≤ 1e-4`, async () => {
        const signal = f32(`${dir}/signals/${name}.f32`);
        const mel = await whisperLogMel(runner, signal, nMels);
        assert.equal(mel.frames, windowsOf(signal.length).length * 3000);
        const kept = keptFrames(signal.length);
        assert.equal(kept.length, shape[1]);
        const ours = new Float32Array(nMels * kept.length);
        for (let m = 0; m < nMels; m++) kept.forEach((t, i) => { ours[m * kept.length + i] = mel.data[m * mel.frames + t]!; });
        assertClose(ours, f32(`${dir}/mel/${name}.${nMels}.f32`), { atol: 1e-4, what: `${name} ${nMels}` });
      });
    }
  }

  it('silence gives the analytic floor (log10(1e-10) + 4) / 4 = −1.5 everywhere', async () => {
    const mel = await whisperLogMel(runner, new Float32Array(16000), 80);
    assertClose(mel.data, new Float32Array(mel.data.length).fill(-1.5), { atol: 1e-6, what: 'silence' });
  });

  it('puts a 1 kHz tone in the mel bins whose filters cover 1 kHz', async () => {
    const n = 16000;
    const tone = Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 1000 * i) / 16000));
    const mel = await whisperLogMel(runner, tone, 80);
    const filters = melFilterBank(80);
    const t = 50; // a frame well inside the tone
    let best = 0;
    for (let m = 1; m < 80; m++) if (mel.data[m * mel.frames + t]! > mel.data[best * mel.frames + t]!) best = m;
    assert.ok(filters[best * 201 + 25]! > 0, `loudest bin ${best} does not cover 1 kHz (DFT bin 25)`);
  });

  it('reports the real frames of each window for long audio', () => {
    const w = windowsOf(Math.round(31.3 * 16000));
    assert.equal(w.length, 2);
    assert.deepEqual(w.map((x) => x.realFrames), [3000, Math.ceil((31.3 * 16000 - 480000) / 160)]);
  });
});
