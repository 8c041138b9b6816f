import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { resample, whisperLogMelWindow } from '../../../src/engine/audio/index.ts';
import { GraphBuilder } from '../../../src/engine/onnx/graph.ts';
import { encoderPass } from '../../../src/engine/pipeline/activations.ts';
import { openBackbone } from '../../../src/engine/pipeline/backbone.ts';
import { InProcessRunner, graphLabel } from '../../../src/engine/runtime/inProcess.ts';
import { gatherProviderFacts } from '../../../src/engine/runtime/providerFacts.ts';
import { tryProvider } from '../../../src/engine/runtime/providers.ts';
import type { HostTensor, ModelRunner } from '../../../src/engine/runtime/types.ts';
import { loadSae, runSae } from '../../../src/engine/sae/index.ts';

const repo = join(import.meta.dirname, '../../..');
const cacheDir = mkdtempSync(join(tmpdir(), 'audiosae-fallback-'));
after(() => rmSync(cacheDir, { recursive: true, force: true }));

/** y = 2·x + 1 over [frames, 3]. */
function affine(): Uint8Array {
  const g = new GraphBuilder('affine');
  const x = g.input('x', 'float', ['frames', 3]);
  g.node('Add', [g.node('Mul', [x, g.constFloat(2)]), g.constFloat(1)], {}, 'y');
  g.output('y', 'float', ['frames', 3]);
  return g.toBytes();
}
const feed = (n: number): Record<string, HostTensor> => ({ x: { type: 'float32', dims: [n, 3], data: Float32Array.from({ length: 3 * n }, (_, i) => i) } });

const webgpuWorks = (await tryProvider('webgpu', gatherProviderFacts())).options !== undefined;

describe('per-graph fallback to the CPU', () => {
  it('a run that fails on the CPU too is the caller\'s error: nothing moves, no note', async () => {
    // A provider-named runner whose sessions load: a first run with a wrong input fails there and on the CPU.
    const runner = new InProcessRunner({ name: 'other', notes: [] }, { executionProviders: ['cpu'] });
    await runner.load('affine', () => ({ key: 'affine', bytes: affine() }));
    await assert.rejects(runner.run('affine', { z: feed(2).x! }), /input|z/i);
    assert.deepEqual(runner.placement(), { affine: 'other' });
    assert.deepEqual(runner.provider.notes, []);
    assert.deepEqual([...((await runner.run('affine', feed(2))).y!.data as Float32Array)], [1, 3, 5, 7, 9, 11]);
    await runner.dispose();
  });

  it('every graph the engine builds falls back on a provider that cannot create sessions, with the CPU\'s results', { skip: webgpuWorks && 'WebGPU works on this machine' }, async () => {
    // WebGPU here has no adapter: every session creation with it really fails.
    const gpu = new InProcessRunner({ name: 'webgpu', notes: [] }, { executionProviders: ['webgpu'] });
    const cpu = new InProcessRunner();
    const tone = Float32Array.from({ length: 44100 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 440 * i) / 44100) + 0.01 * Math.sin(i * 1.7));
    const graphs = async (runner: ModelRunner) => {
      const wave = await resample(tone.slice(), 44100, 16000, runner);
      const mel = await whisperLogMelWindow(runner, wave.slice(), 80);
      const out: Float32Array[] = [wave, mel.data];
      const whisper = await openBackbone(join(repo, 'media/demo/models/whisper-tiny-random'));
      const hubert = await openBackbone(join(repo, 'test/reference/fixtures/hubert/base-like'));
      for (const backbone of [whisper, hubert]) {
        await encoderPass(runner, backbone, wave.slice(), { layers: [1, 3], cacheDir, onChunk: (_s, _n, acts) => { for (const a of acts.values()) out.push(a.slice()); } });
      }
      const sae = await loadSae(join(repo, 'media/demo/models/whisper-tiny-random/sae/layer_2/ae.pt'));
      const acts: Float32Array[] = [];
      await encoderPass(runner, whisper, wave.slice(), { layers: [2], cacheDir, onChunk: (_s, _n, a) => { acts.push(a.get(2)!.slice()); } });
      const codes = await runSae(runner, sae, acts[0]!, { mode: 'batch-topk' });
      out.push(codes.recon, codes.sparse.values);
      return out;
    };
    const onGpu = await graphs(gpu);
    const onCpu = await graphs(cpu);
    assert.equal(onGpu.length, onCpu.length);
    onGpu.forEach((a, i) => assert.deepEqual(a, onCpu[i], `output ${i}`));
    const notes = gpu.provider.notes;
    const kinds = ['resample-44100-16000', 'whisper-logmel-80', 'encoder:', 'sae:'];
    for (const k of kinds) assert.ok(notes.some((n) => n.startsWith(k) || n.includes(k)), `a note for ${k}: ${notes.join(' | ')}`);
    // One note per graph: resampler, log-mel, Whisper taps 1+3, HuBERT taps 1+3, Whisper layer 2, SAE.
    assert.equal(notes.length, 6, notes.join('\n'));
    for (const n of notes) assert.match(n, /: runs on the CPU \(webgpu could not create the session: .*no WebGPU adapter|: runs on the CPU \(webgpu could not create the session: .*adapter/i);
    assert.ok(Object.values(gpu.placement()).every((p) => p === 'cpu'));
    await gpu.dispose();
    await cpu.dispose();
  });

  it('names graphs shortly in notes', () => {
    assert.equal(graphLabel('encoder:/home/u/.cache/audiosae/graphs/ab12cd/model.onnx'), 'encoder:…/ab12cd/model.onnx');
    assert.equal(graphLabel('whisper-logmel-80'), 'whisper-logmel-80');
    assert.ok(graphLabel(`sae:${'x'.repeat(200)}:768x6144:k50:t0.1:threshold`).length <= 90);
  });
});
