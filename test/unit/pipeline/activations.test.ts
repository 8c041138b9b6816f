import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cachedGraph } from '../../../src/engine/onnx/cache.ts';
import { GraphBuilder } from '../../../src/engine/onnx/graph.ts';
import { openBackbone } from '../../../src/engine/pipeline/backbone.ts';
import { layerActivations } from '../../../src/engine/pipeline/activations.ts';
import { InProcessRunner } from '../../../src/engine/runtime/inProcess.ts';
import { assertRelativeL2, fixture } from '../../helpers/compare.ts';

const f32 = (path: string) => { const b = readFileSync(path); return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)); };
const cacheDir = mkdtempSync(join(tmpdir(), 'audiosae-graphs-'));
let runner: InProcessRunner;
before(() => { runner = new InProcessRunner(); });
after(async () => { await runner.dispose(); rmSync(cacheDir, { recursive: true, force: true }); });

describe('audio → layer activations', () => {
  for (const clip of ['odd_3_37s', 'long_31_3s']) {
    it(`Whisper: ${clip} through log-mel windows and the encoder matches the reference within 1e-4`, async () => {
      const dir = fixture('whisper', 'small-like');
      const backbone = await openBackbone(dir);
      const audio = f32(join(dir, 'clips', `${clip}.f32`));
      const progress: number[] = [];
      const acts = await layerActivations(runner, backbone, audio, { layer: 2, cacheDir, onProgress: (done) => progress.push(done) });
      assert.equal(acts.frames, Math.ceil(audio.length / 320));
      assert.equal(acts.framesPerSecond, 50);
      assertRelativeL2(acts.data, f32(join(dir, 'clips', `${clip}.layer2.f32`)), 1e-4, clip);
      assert.equal(progress.at(-1), acts.frames);
      if (clip === 'long_31_3s') assert.match(acts.notes.join(' '), /2 consecutive 30 s windows/);
    });
  }

  it('HuBERT: whole clip in one pass, then chunks beyond the maximum length (with a note)', async () => {
    const dir = fixture('hubert', 'base-like');
    const backbone = await openBackbone(dir);
    const wave = f32(join(dir, 'inputs', 'long.f32'));
    const whole = await layerActivations(runner, backbone, wave, { layer: 3, cacheDir });
    assertRelativeL2(whole.data, f32(join(dir, 'ref', 'long.layer3.f32')), 1e-4, 'whole clip');
    assert.deepEqual(whole.notes, []);
    const chunked = await layerActivations(runner, backbone, wave, { layer: 3, cacheDir, maxHubertSeconds: 1 });
    assert.equal(chunked.frames, 49 + 49 + 24); // 1 s + 1 s + 0.5 s
    assert.match(chunked.notes.join(' '), /3 chunks of up to 1 s/);
  });

  it('stops between windows when cancelled', async () => {
    const dir = fixture('whisper', 'small-like');
    const backbone = await openBackbone(dir);
    const controller = new AbortController();
    const audio = f32(join(dir, 'clips', 'long_31_3s.f32'));
    const windows: number[] = [];
    await assert.rejects(
      layerActivations(runner, backbone, audio, { layer: 1, cacheDir, signal: controller.signal, onProgress: (done) => { windows.push(done); controller.abort(); } }),
      /cancelled/,
    );
    assert.deepEqual(windows, [1500], 'ran past the cancellation');
  });

  it('rejects layers the model lacks and clips too short for HuBERT', async () => {
    const hubert = await openBackbone(fixture('hubert', 'large-like'));
    await assert.rejects(layerActivations(runner, hubert, new Float32Array(16000), { layer: 4, cacheDir }), /layer 4 does not exist.*1 to 3/);
    await assert.rejects(layerActivations(runner, hubert, new Float32Array(300), { layer: 1, cacheDir }), /too short for HuBERT/);
  });
});

describe('graph cache', () => {
  it('builds once, then reuses the entry', () => {
    const dir = mkdtempSync(join(tmpdir(), 'audiosae-cache-'));
    const build = () => {
      const g = new GraphBuilder();
      const x = g.input('x', 'float', [2048]);
      g.node('Add', [x, g.init('w', { dims: [2048], data: new Float32Array(2048).fill(1) })], {}, 'y');
      g.output('y', 'float', [2048]);
      return g;
    };
    const a = cachedGraph(dir, { k: 1 }, build);
    const b = cachedGraph(dir, { k: 1 }, () => { throw new Error('should not rebuild'); });
    assert.equal(a.built, true);
    assert.equal(b.built, false);
    assert.equal(a.path, b.path);
    assert.deepEqual(readdirSync(join(a.path, '..')).sort(), [basename(a.path), 'tensors']);
    assert.equal(readdirSync(join(a.path, '..', 'tensors')).length, 1, 'the one external tensor');
    // Another graph of the same group sharing the tensor stores it once.
    const c = cachedGraph(dir, { k: 3 }, build, { k: 1 });
    assert.equal(c.built, true);
    assert.notEqual(c.path, a.path);
    assert.equal(readdirSync(join(a.path, '..', 'tensors')).length, 1, 'shared, not copied');
    rmSync(dir, { recursive: true, force: true });
  });

  it('streams lazy weights: each is produced only when written, one at a time', () => {
    const dir = mkdtempSync(join(tmpdir(), 'audiosae-cache-'));
    const events: string[] = [];
    const g = new GraphBuilder();
    let x = g.input('x', 'float', [1024]);
    for (let i = 0; i < 3; i++) {
      x = g.node('Add', [x, g.init(`w${i}`, { dims: [1024], data: () => { events.push(`read w${i}`); return new Float32Array(1024).fill(i); } })]);
    }
    g.node('Identity', [x], {}, 'y');
    g.output('y', 'float', [1024]);
    assert.equal(events.length, 0, 'read while building');
    const chunks = g.toModel({ external: { append: (b) => { events.push(`write ${b.byteLength}`); return { location: 'w.bin', offset: 0 }; } } });
    assert.ok(chunks.length > 0);
    assert.deepEqual(events, ['read w0', 'write 4096', 'read w1', 'write 4096', 'read w2', 'write 4096']);
    rmSync(dir, { recursive: true, force: true });
  });

  it('leaves nothing that looks valid when a build fails', () => {
    const dir = mkdtempSync(join(tmpdir(), 'audiosae-cache-'));
    assert.throws(() => cachedGraph(dir, { k: 2 }, () => { throw new Error('weights folder lacks a tensor'); }), /lacks a tensor/);
    assert.deepEqual(readdirSync(dir).flatMap((g) => readdirSync(join(dir, g)).filter((n) => n !== 'tensors')), [], 'no graph file');
    rmSync(dir, { recursive: true, force: true });
  });
});
