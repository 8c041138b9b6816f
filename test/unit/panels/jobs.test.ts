// The job worker over its protocol, for real: a corpus run of the bundled toy backbone on a few short clips in a
// worker thread, with progress, a cancel after the first clip, a resume that skips what was stored, a rerun that
// runs only a changed clip; then every corpus panel's view read through analysis jobs, and errors as replies.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { JobClient } from '../../../src/engine/jobs/client.ts';
import type { CorpusRunJob, JobProgress } from '../../../src/shared/jobProtocol.ts';
import { makeWav, pcm16 } from '../../helpers/wavFiles.ts';

const dir = mkdtempSync(join(tmpdir(), 'audiosae-jobs-'));
const client = new JobClient();
after(async () => {
  await client.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function tone(path: string, seconds: number, hz: number, noise = 0): void {
  const x = new Float32Array(seconds * 16000);
  let seed = 7;
  for (let i = 0; i < x.length; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    x[i] = 0.3 * Math.sin((2 * Math.PI * hz * i) / 16000) + noise * (seed / 2147483648 - 0.5);
  }
  writeFileSync(path, makeWav({}, pcm16([x])));
}

const corpus = join(dir, 'corpus');
for (const [domain, hz, noise] of [['speech', 220, 0.05], ['sounds', 900, 0.6], ['music', 440, 0]] as const) {
  mkdirSync(join(corpus, domain), { recursive: true });
  for (let i = 0; i < 2; i++) tone(join(corpus, domain, `${domain}-${i}.wav`), 1, hz * (i + 1), noise);
}
const store = join(dir, 'corpus.duckdb');
const job: CorpusRunJob = {
  kind: 'corpusRun', sources: [corpus], store, backbone: 'whisper-tiny-random', layers: [1, 2, 3], mode: 'auto', tap: 'block',
  normalizeInput: false, maxHubertSeconds: 60, keepFrameCodes: false, executionProvider: 'cpu', demoModelsDir: join(import.meta.dirname, '../../../media/demo/models'),
};

test('a corpus run in the job worker reports progress, stops on cancel, resumes, and reruns only what changed', async () => {
  const abort = new AbortController();
  const seen: JobProgress[] = [];
  const first = client.start(job, {
    signal: abort.signal,
    onProgress: (p) => {
      seen.push(p);
      if (p.kind === 'corpus' && p.progress.clipsDone === 2) abort.abort();
    },
  });
  const s1 = (await first.result).summary;
  assert.equal(s1.cancelled, true);
  assert.ok(s1.processed >= 2 && s1.processed < 6, `processed ${s1.processed}`);
  assert.ok(seen.some((p) => p.kind === 'stage'));
  const corpusProgress = seen.filter((p) => p.kind === 'corpus');
  assert.deepEqual(corpusProgress.map((p) => p.progress.clipsTotal), corpusProgress.map(() => 6));

  const second = await client.start(job).result;
  assert.equal(second.summary.cancelled, false);
  assert.equal(second.summary.runId, s1.runId, 'the same run resumes');
  assert.equal(second.summary.skipped, s1.processed);
  assert.equal(second.summary.processed, 6 - s1.processed);

  tone(join(corpus, 'music', 'music-1.wav'), 1, 660);
  const third = await client.start(job).result;
  assert.deepEqual([third.summary.processed, third.summary.skipped], [1, 5]);
});

test('analysis jobs give every panel its view; bad requests are error replies', async () => {
  const runId = (await client.start(job).result).summary.runId;
  const metrics = (await client.start({ kind: 'analysis', view: 'metrics', store, runId, layer: 2 }).result).view;
  assert.equal(metrics.kind, 'metrics');
  if (metrics.kind !== 'metrics') return;
  assert.deepEqual(metrics.perLayer.map((p) => p.layer), [1, 2, 3]);
  assert.deepEqual(metrics.rows.map((r) => r.domain), [null, 'music', 'sounds', 'speech']);
  assert.equal(metrics.rows[0]!.clips, 6);
  assert.match(metrics.formulas.fve!, /FVE/);

  const cls = (await client.start({ kind: 'analysis', view: 'classification', store, runId, layer: 3 }).result).view;
  assert.equal(cls.kind, 'classification');
  if (cls.kind !== 'classification') return;
  assert.deepEqual(cls.layers.map((l) => l.layer), [1, 2, 3]);
  assert.equal(cls.features.length, 512);
  const l3 = cls.layers[2]!;
  assert.equal(l3.speech + l3.sounds + l3.music + l3.shared + l3.unassigned + l3.dead, 512);

  const dead = (await client.start({ kind: 'analysis', view: 'dead', store, runId, layer: 1 }).result).view;
  assert.equal(dead.kind, 'dead');
  if (dead.kind !== 'dead') return;
  assert.equal(dead.rows[0]!.domain, null);
  assert.equal(dead.rows[0]!.count, dead.rows[0]!.features.length);

  // A feature that fired somewhere: not dead in the corpus.
  const alive = [...Array(512).keys()].find((f) => !dead.rows[0]!.features.includes(f))!;
  const top = (await client.start({ kind: 'analysis', view: 'topClips', store, runId, layer: 1, feature: alive, limit: 3 }).result).view;
  assert.equal(top.kind, 'topClips');
  if (top.kind !== 'topClips') return;
  assert.ok(top.rows.length >= 1 && top.rows.length <= 3);
  assert.deepEqual(top.rows.map((r) => r.rank), top.rows.map((_, i) => i + 1));
  for (let i = 1; i < top.rows.length; i++) assert.ok(top.rows[i - 1]!.max >= top.rows[i]!.max);

  const map = (await client.start({ kind: 'analysis', view: 'featureMap', store, runId, layer: 2, demoModelsDir: job.demoModelsDir }).result).view;
  assert.equal(map.kind, 'featureMap');
  if (map.kind !== 'featureMap') return;
  // Every alive feature of the layer is on the map, once, with its label.
  const at2 = (await client.start({ kind: 'analysis', view: 'classification', store, runId, layer: 2 }).result).view;
  const aliveAt2 = at2.kind === 'classification' ? at2.features.filter((f) => f.label !== 'dead').map((f) => f.feature) : [];
  assert.deepEqual(map.points.map((p) => p.feature).sort((a, b) => a - b), aliveAt2);
  assert.ok(map.points.length >= 3 && map.points.every((p) => Number.isFinite(p.x) && Number.isFinite(p.y)));
  assert.match(map.method, /t-SNE/);
  const deadAt2 = at2.kind === 'classification' ? at2.features.length - aliveAt2.length : -1;
  assert.ok(deadAt2 > 0, 'the toy layer 2 has dead features');
  assert.match(map.method, new RegExp(`of ${aliveAt2.length} alive features' encoder rows \\(PCA 50; ${deadAt2} dead not mapped\\)`));

  await assert.rejects(client.start({ kind: 'analysis', view: 'metrics', store, runId, layer: 9 }).result, /has no layer 9/);
  await assert.rejects(client.start({ kind: 'analysis', view: 'metrics', store, runId: 'nope', layer: 1 }).result, /has no run nope/);
  await assert.rejects(client.start({ ...job, sources: [join(dir, 'missing')] }).result, /missing/);
  assert.equal(client.active, 0);
});
