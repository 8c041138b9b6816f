import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadWhisperEncoder } from '../../../src/engine/backbones/whisper.ts';
import { actsOutput, buildWhisperEncoderGraph } from '../../../src/engine/onnx/whisper.ts';
import { InProcessRunner } from '../../../src/engine/runtime/inProcess.ts';
import { assertRelativeL2, fixture } from '../../helpers/compare.ts';

const f32 = (path: string) => { const b = readFileSync(path); return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)); };
let runner: InProcessRunner;
before(() => { runner = new InProcessRunner(); });
after(() => runner.dispose());

describe('Whisper encoder graph against the openai-whisper forward pass', () => {
  for (const variant of ['small-like', 'v3-like']) {
    const dir = fixture('whisper', variant);
    const inputs = readdirSync(join(dir, 'inputs')).map((f) => f.replace('.f32', ''));
    for (const tap of ['block', 'final-norm'] as const) {
      for (const layer of [1, 2, 3]) {
        if (tap === 'final-norm' && layer !== 3) continue;
        it(`${variant}: layer ${layer} (${tap}) within 1e-4 relative on ${inputs.length} input(s)`, async () => {
          const { config, weights } = await loadWhisperEncoder(dir);
          const key = `${variant}-${layer}-${tap}`;
          await runner.load(key, () => ({ key, bytes: buildWhisperEncoderGraph(weights, config, { layers: [layer], tap }).toBytes() }));
          for (const i of inputs) {
            const mel = f32(join(dir, 'inputs', `${i}.f32`));
            const out = await runner.run(key, { mel: { type: 'float32', dims: [1, config.melBins, 3000], data: mel } });
            const ref = f32(join(dir, 'ref', tap === 'block' ? `${i}.layer${layer}.f32` : `${i}.final.f32`));
            assertRelativeL2(out[actsOutput(layer)]!.data as Float32Array, ref, 1e-4, `${variant} input ${i} layer ${layer}`);
          }
        });
      }
    }
  }

  it('reads float16 weights from pytorch_model.bin the same as from safetensors', async () => {
    const dir = fixture('whisper', 'v3-like');
    const a = await loadWhisperEncoder(dir);
    const { loadHfWeights, namedWeights } = await import('../../../src/engine/backbones/hfWeights.ts');
    const { loadTorchCheckpoint } = await import('../../../src/engine/checkpoints/index.ts');
    const bin = await loadTorchCheckpoint(join(dir, 'pytorch_model.bin'));
    assert.ok(bin.has('model.decoder.layers.0.encoder_attn.k_proj.weight'));
    const fromBin = namedWeights(new Map([...bin].filter(([k]) => k.startsWith('model.encoder.'))), dir);
    assert.deepEqual(fromBin('model.encoder.conv1.weight', [64, 128, 3])(), a.weights('model.encoder.conv1.weight', [64, 128, 3])());
    const onlyEncoder = await loadHfWeights(dir, (k) => k.startsWith('model.encoder.'));
    assert.ok([...onlyEncoder.keys()].every((k) => !k.startsWith('model.decoder.')));
  });

  it('reads sharded safetensors through model.safetensors.index.json', async () => {
    const { config, weights } = await loadWhisperEncoder(fixture('whisper', 'small-like-sharded'));
    await runner.load('sharded', () => ({ key: 'sharded', bytes: buildWhisperEncoderGraph(weights, config, { layers: [3], tap: 'block' }).toBytes() }));
    const dir = fixture('whisper', 'small-like');
    const out = await runner.run('sharded', { mel: { type: 'float32', dims: [1, 80, 3000], data: f32(join(dir, 'inputs', '0.f32')) } });
    assertRelativeL2(out[actsOutput(3)]!.data as Float32Array, f32(join(dir, 'ref', '0.layer3.f32')), 1e-4, 'sharded');
  });

  it('taps several layers in one pass: layers 1, 2 and 3 from one graph each match PyTorch', async () => {
    const dir = fixture('whisper', 'small-like');
    const { config, weights } = await loadWhisperEncoder(dir);
    await runner.load('multi', () => ({ key: 'multi', bytes: buildWhisperEncoderGraph(weights, config, { layers: [3, 1, 2], tap: 'block' }).toBytes() }));
    const out = await runner.run('multi', { mel: { type: 'float32', dims: [1, 80, 3000], data: f32(join(dir, 'inputs', '0.f32')) } });
    for (const layer of [1, 2, 3]) assertRelativeL2(out[actsOutput(layer)]!.data as Float32Array, f32(join(dir, 'ref', `0.layer${layer}.f32`)), 1e-4, `layer ${layer} of one pass`);
  });

  it('names the tensor and both shapes when the weights do not fit the config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'audiosae-whisper-'));
    const config = JSON.parse(readFileSync(join(fixture('whisper', 'small-like'), 'config.json'), 'utf8'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, d_model: 32 }));
    copyFileSync(join(fixture('whisper', 'small-like'), 'model.safetensors'), join(dir, 'model.safetensors'));
    // Checked when the encoder is opened, before any graph is built.
    await assert.rejects(loadWhisperEncoder(dir), /has "model\.encoder\.conv1\.weight" with shape \[64, 80, 3\], expected \[32, 80, 3\]/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a layer the model does not have', async () => {
    const { config, weights } = await loadWhisperEncoder(fixture('whisper', 'small-like'));
    assert.throws(() => buildWhisperEncoderGraph(weights, config, { layers: [4], tap: 'block' }), /layer 4 does not exist: this Whisper encoder has layers 1 to 3/);
    assert.throws(() => buildWhisperEncoderGraph(weights, config, { layers: [0], tap: 'block' }), /layer 0 does not exist/);
  });
});
