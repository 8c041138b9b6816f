import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { forEachMelWindow } from '../../../src/engine/audio/index.ts';
import { openBackbone } from '../../../src/engine/pipeline/backbone.ts';
import { layerActivations } from '../../../src/engine/pipeline/activations.ts';
import { clipFeatures } from '../../../src/engine/pipeline/features.ts';
import { loadSae, reconstructionMetrics, runSae, type Sae } from '../../../src/engine/sae/index.ts';
import { streamClipFeatures, type FeatureChunk } from '../../../src/engine/pipeline/stream.ts';
import { InProcessRunner } from '../../../src/engine/runtime/inProcess.ts';

const models = join(import.meta.dirname, '../../../media/demo/models/whisper-tiny-random');
const cacheDir = mkdtempSync(join(tmpdir(), 'audiosae-graphs-'));
let runner: InProcessRunner;
before(() => { runner = new InProcessRunner(); });
after(async () => { await runner.dispose(); rmSync(cacheDir, { recursive: true, force: true }); });

// 65 s: three Whisper windows (30 + 30 + 5 s) of tones over noise, deterministic.
const samples = new Float32Array(65 * 16000);
let seed = 7;
for (let i = 0; i < samples.length; i++) {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  samples[i] = 0.3 * Math.sin((2 * Math.PI * (220 + 40 * Math.floor(i / 48000)) * i) / 16000) + 0.05 * (seed / 2 ** 31 - 0.5);
}
const audio = { samples, sourceRateHz: 16000, channels: 1, durationS: 65, name: 'tones.wav' };
const saePath = join(models, 'sae', 'layer_2', 'ae.pt');
const base = { audio, weightsFolder: models, saePath, layer: 2, cacheDir };
/** The demo SAE stores no threshold (batch top-k only); this one gets the smallest value batch top-k keeps. */
let thresholdSae: Sae;
before(async () => {
  const sae = await loadSae(saePath);
  const whole = await clipFeatures(runner, { ...base, mode: 'batch-topk' });
  thresholdSae = { ...sae, threshold: Math.min(...whole.result.sparse.values) };
});

/** Concatenates streamed chunks into one CSR, checking they arrive in order and cover every frame once. */
function gather(chunks: FeatureChunk[]) {
  let frames = 0;
  const rowPtr = [0];
  const indices: number[] = [];
  const values: number[] = [];
  for (const c of chunks) {
    assert.equal(c.startFrame, frames, 'chunks arrive in frame order');
    for (let t = 0; t < c.frames; t++) {
      for (let p = c.sparse.rowPtr[t]!; p < c.sparse.rowPtr[t + 1]!; p++) {
        indices.push(c.sparse.indices[p]!);
        values.push(c.sparse.values[p]!);
      }
      rowPtr.push(indices.length);
    }
    frames += c.frames;
  }
  return { frames, rowPtr, indices, values };
}

function assertSameCodes(a: ReturnType<typeof gather>, b: { frames: number; rowPtr: Int32Array; indices: Int32Array; values: Float32Array }, label: string) {
  assert.equal(a.frames, b.frames, `${label}: frames`);
  assert.deepEqual(a.rowPtr, [...b.rowPtr], `${label}: active features per frame`);
  assert.deepEqual(a.indices, [...b.indices], `${label}: feature ids`);
  let worst = 0;
  a.values.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - b.values[i]!)); });
  assert.ok(worst <= 1e-5, `${label}: values differ by up to ${worst}`);
}

describe('streamed clip features', () => {
  it('threshold mode: per-window chunks equal the whole-clip result, with progress per window', async () => {
    const acts = await layerActivations(runner, await openBackbone(models), samples, { layer: 2, cacheDir });
    const result = await runSae(runner, thresholdSae, acts.data, { mode: 'threshold' });
    const whole = { acts, result, sae: thresholdSae, metrics: reconstructionMetrics(acts.data, result.recon, result.sparse, 64, 512) };
    const chunks: FeatureChunk[] = [];
    let started: { mode: string; totalFrames: number } | undefined;
    const summary = await streamClipFeatures(runner, { ...base, sae: thresholdSae, mode: 'threshold', onStart: (s) => { started = s; }, onChunk: (c) => { chunks.push(c); } });
    assert.equal(started?.mode, 'threshold');
    assert.equal(started?.totalFrames, 3250);
    assert.deepEqual(chunks.map((c) => c.frames), [1500, 1500, 250]);
    assertSameCodes(gather(chunks), whole.result.sparse, 'threshold');
    assert.ok(Math.abs(summary.metrics.l0 - whole.metrics.l0) < 1e-9);
    assert.ok(Math.abs(summary.metrics.fve - whole.metrics.fve) < 1e-6);
    // The per-frame relative error agrees with the reconstruction of the whole-clip run.
    const d = whole.sae.dModel;
    const t = 1600;
    let e2 = 0, x2 = 0;
    for (let i = t * d; i < (t + 1) * d; i++) { e2 += (whole.acts.data[i]! - whole.result.recon[i]!) ** 2; x2 += whole.acts.data[i]! ** 2; }
    assert.ok(Math.abs(chunks[1]!.relError[t - 1500]! - Math.sqrt(e2 / x2)) < 1e-5);
  });

  it('reuses log-mel windows computed for the spectrogram and gets the same codes', async () => {
    const windows: Float32Array[] = [];
    await forEachMelWindow(runner, samples, 80, (_i, w) => { windows.push(w.data); });
    const fresh: FeatureChunk[] = [];
    const reused: FeatureChunk[] = [];
    let asked = 0;
    await streamClipFeatures(runner, { ...base, sae: thresholdSae, mode: 'threshold', onChunk: (c) => { fresh.push(c); } });
    await streamClipFeatures(runner, { ...base, sae: thresholdSae, mode: 'threshold', melWindow: (i) => { asked++; return windows[i]; }, onChunk: (c) => { reused.push(c); } });
    assert.ok(asked >= 3, 'the precomputed windows were used');
    const a = gather(reused);
    const b = gather(fresh);
    assertSameCodes(a, { frames: b.frames, rowPtr: Int32Array.from(b.rowPtr), indices: Int32Array.from(b.indices), values: Float32Array.from(b.values) }, 'reused mel');
  });

  it('batch top-k: the whole clip in one batch up to the limit, per window beyond it (with a note)', async () => {
    const whole = await clipFeatures(runner, { ...base, mode: 'batch-topk' });
    const one: FeatureChunk[] = [];
    const s1 = await streamClipFeatures(runner, { ...base, mode: 'batch-topk', onChunk: (c) => { one.push(c); } });
    assert.equal(one.length, 1);
    assertSameCodes(gather(one), whole.result.sparse, 'batch top-k over the clip');
    assert.ok(!s1.notes.some((n) => /per window/.test(n)));
    const perWindow: FeatureChunk[] = [];
    const s2 = await streamClipFeatures(runner, { ...base, mode: 'batch-topk', batchTopKMaxFrames: 2000, onChunk: (c) => { perWindow.push(c); } });
    assert.deepEqual(perWindow.map((c) => c.frames), [1500, 1500, 250]);
    // Each window keeps exactly k per frame on average.
    for (const c of perWindow) assert.equal(c.sparse.rowPtr[c.frames], s2.sae.k * c.frames);
    assert.match(s2.notes.join(' '), /Batch top-k ran per window/);
  });

  it('HuBERT: chunks stream in order and batch top-k over the clip equals the whole-clip run', async () => {
    const hubert = join(import.meta.dirname, '../../../media/demo/models/hubert-tiny-random');
    const options = { audio, weightsFolder: hubert, saePath: join(hubert, 'sae', 'layer_1', 'ae.pt'), layer: 1, cacheDir, maxHubertSeconds: 20, mode: 'batch-topk' as const };
    const whole = await clipFeatures(runner, options);
    const threshold = { ...(await loadSae(options.saePath)), threshold: Math.min(...whole.result.sparse.values) };
    const batched: FeatureChunk[] = [];
    await streamClipFeatures(runner, { ...options, onChunk: (c) => { batched.push(c); } });
    assertSameCodes(gather(batched), whole.result.sparse, 'HuBERT batch top-k');
    const chunks: FeatureChunk[] = [];
    const summary = await streamClipFeatures(runner, { ...options, sae: threshold, mode: 'threshold', onChunk: (c) => { chunks.push(c); } });
    assert.equal(chunks.length, 4, 'four chunks of up to 20 s');
    assert.equal(gather(chunks).frames, whole.result.frames);
    assert.match(summary.notes.join(' '), /HuBERT ran the clip in 4 chunks/);
  });

  it('names the clip when it is too short for the backbone', async () => {
    const hubert = join(import.meta.dirname, '../../../media/demo/models/hubert-tiny-random');
    const tiny = { ...audio, samples: new Float32Array(100), durationS: 100 / 16000, name: 'click.wav' };
    await assert.rejects(streamClipFeatures(runner, { audio: tiny, weightsFolder: hubert, saePath: join(hubert, 'sae', 'layer_1', 'ae.pt'), layer: 1, cacheDir, onChunk: () => undefined }),
      /^AudioSaeError: click\.wav: the clip is too short for HuBERT/);
  });

  it('stops between windows when cancelled', async () => {
    const controller = new AbortController();
    const chunks: FeatureChunk[] = [];
    await assert.rejects(streamClipFeatures(runner, { ...base, sae: thresholdSae, mode: 'threshold', signal: controller.signal, onChunk: (c) => { chunks.push(c); controller.abort(); } }), /cancelled/);
    assert.equal(chunks.length, 1);
  });
});
