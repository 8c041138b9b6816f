/**
 * The feature page's data: statistics, histogram and top clips over the fixture store (against the raw tables),
 * nearest features by decoder cosine on the bundled demo SAE (against a float64 pass over decoder.weight's
 * columns, and refusing a file whose sha256 differs from the run's), where a run's SAE file is found, and audio
 * snippets cut from a WAV (exact samples, clamped at the ends).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadSae } from '../../../src/engine/sae/index.ts';
import { featureStats } from '../../../src/engine/store/queries.ts';
import { audioSnippet, DecoderDirections, featureStatsData, histogram, saeFileOf } from '../../../src/extension/featurePage/data.ts';
import { makeWav, pcm16 } from '../../helpers/wavFiles.ts';
import { fixtureStore, loadTables } from '../store/fixtureStore.ts';

const dir = mkdtempSync(join(tmpdir(), 'audiosae-featurepage-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const DEMO = join(import.meta.dirname, '../../../media/demo/models');

describe('feature page data', () => {
  it('histogram: equal bins from 0 to the max, the max in the last bin', () => {
    const h = histogram([0, 0.5, 1, 2, 4], 4);
    assert.deepEqual(h.edges, [0, 1, 2, 3, 4]);
    assert.deepEqual(h.counts, [2, 1, 1, 1]);
    assert.deepEqual(histogram([], 2).counts, [0, 0]);
  });

  it('statistics, histogram and top clips of a feature agree with the raw tables', async () => {
    const t = loadTables();
    const store = await fixtureStore();
    try {
      for (const [layer, feature] of [[3, 20], [6, 5], [6, 39]] as const) {
        const d = await featureStatsData(store.conn, 'fx01', layer, feature, { topN: 5 });
        assert.deepEqual(d.domains, await featureStats(store.conn, 'fx01', layer, { feature, by: 'domain' }));
        const recon = new Set(t.clip_recon.filter((r) => r.layer === layer).map((r) => r.clip_id as number));
        const done = new Map(t.clips.filter((c) => c.status === 'done' && recon.has(c.clip_id as number)).map((c) => [c.clip_id as number, c]));
        const rows = t.clip_features.filter((r) => r.layer === layer && r.feature === feature && done.has(r.clip_id as number));
        assert.equal(d.clipsFired, rows.length);
        assert.equal(d.clipsTotal, done.size);
        assert.equal(d.histogram.counts.reduce((a, b) => a + b, 0), rows.length);
        const expected = [...rows].sort((a, b) => (b.max_act as number) - (a.max_act as number) || (a.clip_id as number) - (b.clip_id as number)).slice(0, 5);
        assert.deepEqual(d.topClips.map((c) => c.clipId), expected.map((r) => r.clip_id));
        for (const c of d.topClips) assert.equal(c.segmentStartS, (done.get(c.clipId)!.start_s as number | null) ?? 0);
        assert.equal(d.sae, (t.run.sae_sha256 as Record<string, string>)[String(layer)]);
        assert.ok(d.label !== null || d.labelNote !== undefined);
      }
      await assert.rejects(() => featureStatsData(store.conn, 'fx01', 3, 40), /features 0\.\.39; 40 is not one of them/);
    } finally {
      store.close();
    }
  });

  it('nearest features by decoder cosine on the demo SAE, and only for the SAE the run used', async () => {
    const file = join(DEMO, 'whisper-tiny-random/sae/layer_2/ae.pt');
    const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
    const dec = await DecoderDirections.load(file, sha);
    const sae = await loadSae(file);
    const F = sae.dictSize;
    const D = sae.dModel;
    const col = (j: number) => Array.from({ length: D }, (_, d) => sae.decoderWeight[d * F + j]!);
    let worst = 0;
    for (const f of [0, 17, F - 1]) {
      const a = col(f);
      const na = Math.hypot(...a);
      const cos = Array.from({ length: F }, (_, j) => {
        const b = col(j);
        return a.reduce((s, v, d) => s + v * b[d]!, 0) / (na * Math.hypot(...b));
      });
      const expected = cos.map((c, j) => [c, j] as const).filter(([, j]) => j !== f).sort((x, y) => y[0] - x[0] || x[1] - y[1]).slice(0, 8);
      const got = dec.nearest(f, 8);
      assert.deepEqual(got.map((g) => g.feature), expected.map((e) => e[1]));
      for (let i = 0; i < 8; i++) worst = Math.max(worst, Math.abs(got[i]!.cosine - expected[i]![0]));
    }
    assert.ok(worst < 1e-5, `cosine off by ${worst}`);
    console.log(`decoder cosine: worst |difference| to the float64 reference ${worst.toExponential(2)}`);
    await assert.rejects(() => DecoderDirections.load(file, '0'.repeat(64)), /is not the SAE this run used/);
  });

  it('finds a run\'s SAE file: a folder of layer_<n>/, a file, or the bundled demo SAE', () => {
    const folder = join(DEMO, 'whisper-tiny-random/sae');
    assert.equal(saeFileOf(folder, 'whisper-tiny-random', 2), join(folder, 'layer_2/ae.pt'));
    assert.equal(saeFileOf(join(folder, 'layer_3/ae.pt'), 'x', 2), join(folder, 'layer_3/ae.pt'));
    assert.equal(saeFileOf('bundled demo SAEs', 'whisper-tiny-random', 1, DEMO), join(folder, 'layer_1/ae.pt'));
    assert.equal(saeFileOf('Egorgij21/Audio-SAE-Whisper-small', 'whisper-small', 6, DEMO), undefined);
  });

  it('cuts 3 s snippets around a time from a WAV, clamped to the file', async () => {
    const n = 5 * 16000;
    const samples = Float32Array.from({ length: n }, (_, i) => ((i % 2000) - 1000) / 2000);
    const path = join(dir, 'ramp.wav');
    writeFileSync(path, makeWav({ rateHz: 16000 }, pcm16([samples])));
    const mid = await audioSnippet(path, 2.5);
    assert.equal(mid.samples.length, 48000);
    assert.equal(mid.startS, 1);
    assert.ok(Math.abs(mid.peakS - 1.5) < 1e-9);
    let worst = 0;
    for (let i = 0; i < mid.samples.length; i++) worst = Math.max(worst, Math.abs(mid.samples[i]! - samples[16000 + i]!));
    assert.ok(worst < 1 / 32767 + 1e-6, `snippet differs from the file by ${worst}`);
    const start = await audioSnippet(path, 0.2);
    assert.equal(start.startS, 0);
    assert.ok(Math.abs(start.peakS - 0.2) < 1e-9);
    const end = await audioSnippet(path, 4.9);
    assert.equal(end.startS, 2);
    assert.equal(end.samples.length, 48000);
  });
});
