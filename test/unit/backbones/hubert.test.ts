import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadHubertEncoder } from '../../../src/engine/backbones/hubert.ts';
import { buildHubertEncoderGraph, hubertFrames } from '../../../src/engine/onnx/hubert.ts';
import { actsOutput } from '../../../src/engine/onnx/whisper.ts';
import { InProcessRunner } from '../../../src/engine/runtime/inProcess.ts';
import { assertRelativeL2, fixture } from '../../helpers/compare.ts';

const f32 = (path: string) => { const b = readFileSync(path); return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)); };
let runner: InProcessRunner;
before(() => { runner = new InProcessRunner(); });
after(() => runner.dispose());

async function run(variant: string, layer: number, tap: 'block' | 'final-norm', normalizeInput: boolean, wave: Float32Array) {
  const { config, weights, posConvWeight } = await loadHubertEncoder(fixture('hubert', variant));
  const key = `${variant}-${layer}-${tap}-${normalizeInput}`;
  await runner.load(key, () => ({ key, bytes: buildHubertEncoderGraph(weights, config, { layers: [layer], tap, normalizeInput, posConvWeight }).toBytes() }));
  const out = await runner.run(key, { wave: { type: 'float32', dims: [1, wave.length], data: wave } });
  return { acts: out[actsOutput(layer)]!.data as Float32Array, dims: out[actsOutput(layer)]!.dims, config };
}

describe('HuBERT encoder graph against the transformers forward pass', () => {
  for (const variant of ['base-like', 'large-like']) {
    for (const clip of ['one_second', 'odd_length', 'long']) {
      for (const layer of [1, 2, 3]) {
        it(`${variant}, ${clip}: layer ${layer} within 1e-4 relative`, async () => {
          const wave = f32(join(fixture('hubert', variant), 'inputs', `${clip}.f32`));
          const { acts, dims, config } = await run(variant, layer, 'block', false, wave);
          assert.equal(dims[1], hubertFrames(config, wave.length));
          assertRelativeL2(acts, f32(join(fixture('hubert', variant), 'ref', `${clip}.layer${layer}.f32`)), 1e-4, `${variant} ${clip} ${layer}`);
        });
      }
    }
  }

  it('large-like: the "final-norm" tap adds the encoder LayerNorm after the last block', async () => {
    const wave = f32(join(fixture('hubert', 'large-like'), 'inputs', 'long.f32'));
    const { acts } = await run('large-like', 3, 'final-norm', false, wave);
    assertRelativeL2(acts, f32(join(fixture('hubert', 'large-like'), 'ref', 'long.final.f32')), 1e-4, 'final');
  });

  for (const variant of ['base-like', 'large-like']) {
    it(`${variant}: optional zero-mean unit-variance input normalisation`, async () => {
      const wave = f32(join(fixture('hubert', variant), 'inputs', 'odd_length.f32'));
      const { acts } = await run(variant, 3, 'block', true, wave);
      assertRelativeL2(acts, f32(join(fixture('hubert', variant), 'ref', 'norm.layer3.f32')), 1e-4, 'normalised');
    });
  }

  it('counts frames as floor((samples − 400) / 320) + 1', () => {
    const c = { convKernel: [10, 3, 3, 3, 3, 2, 2], convStride: [5, 2, 2, 2, 2, 2, 2] };
    for (const n of [400, 719, 720, 16000, 21920, 480000]) assert.equal(hubertFrames(c, n), Math.floor((n - 400) / 320) + 1, `${n}`);
  });
});
