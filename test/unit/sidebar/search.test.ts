/**
 * The sidebar's feature search: the per-layer columns read from a real store agree with a brute-force pass over
 * the fixture's raw tables; the query language (ids, ranges, labels, grades, numeric filters, annotation words
 * and tags, the editor selection) and every sort order against a naive filter; and the time per keystroke over
 * 10 000 features (printed, with a generous bound so that a slow CI machine does not fail).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyLayer } from '../../../src/engine/store/queries.ts';
import { columnsFromStats, loadLayerIndex } from '../../../src/extension/sidebar/featureIndex.ts';
import { FeatureSearch, LABELS, parseQueryText, type FeatureColumns, type FeatureQuery, type FeatureText } from '../../../src/extension/sidebar/search.ts';
import { fixtureStore, loadTables } from '../store/fixtureStore.ts';

describe('layer index from a store', () => {
  it('matches a brute-force pass over the raw tables, labels from classifyLayer', async () => {
    const t = loadTables();
    const store = await fixtureStore();
    try {
      for (const layer of [3, 6]) {
        const idx = await loadLayerIndex(store.conn, 'fx01', layer);
        assert.equal(idx.sae, (t.run.sae_sha256 as Record<string, string>)[String(layer)]);
        assert.equal(idx.backbone, 'whisper-tiny-random');
        const F = t.run.dict_size as number;
        const recon = new Map(t.clip_recon.filter((r) => r.layer === layer).map((r) => [r.clip_id as number, r.frames as number]));
        const clips = t.clips.filter((c) => c.status === 'done' && recon.has(c.clip_id as number));
        const domainOf = new Map(clips.map((c) => [c.clip_id as number, c.domain as string]));
        const domains = [...new Set(clips.map((c) => c.domain as string))].sort();
        assert.deepEqual(idx.columns.domains, domains);
        const frames = clips.reduce((s, c) => s + recon.get(c.clip_id as number)!, 0);
        const framesBy = new Map(domains.map((d) => [d, clips.filter((c) => c.domain === d).reduce((s, c) => s + recon.get(c.clip_id as number)!, 0)]));
        for (let f = 0; f < F; f++) {
          const rows = t.clip_features.filter((r) => r.layer === layer && r.feature === f && domainOf.has(r.clip_id as number));
          const active = rows.reduce((s, r) => s + (r.active_frames as number), 0);
          const sum = rows.reduce((s, r) => s + (r.sum_act as number), 0);
          const max = rows.reduce((m, r) => Math.max(m, r.max_act as number), 0);
          const c = idx.columns;
          assert.ok(Math.abs(c.frameFreq[f]! - active / frames) < 1e-12, `frameFreq of ${f}`);
          assert.ok(Math.abs(c.audioFreq[f]! - rows.length / clips.length) < 1e-12, `audioFreq of ${f}`);
          assert.ok(Math.abs(c.maxAct[f]! - Math.fround(max)) < 1e-6, `maxAct of ${f}`);
          assert.ok(Math.abs(c.meanAct[f]! - (active > 0 ? sum / active : 0)) < 1e-9, `meanAct of ${f}`);
          domains.forEach((d, k) => {
            const a = rows.filter((r) => domainOf.get(r.clip_id as number) === d).reduce((s, r) => s + (r.active_frames as number), 0);
            assert.ok(Math.abs(c.domainFreq[f * domains.length + k]! - a / framesBy.get(d)!) < 1e-6, `domain ${d} of ${f}`);
          });
        }
        const cls = await classifyLayer(store.conn, 'fx01', layer, { level: 'frame' });
        for (const row of cls.threeWay) {
          assert.equal(LABELS[idx.columns.label[row.feature]!], row.label);
          assert.equal(idx.columns.grade[row.feature], row.grade ?? -1);
        }
      }
    } finally {
      store.close();
    }
  });

  it('without all three domains there are no labels, and a note says why', () => {
    const stats = [0, 1].map((feature) => ({ feature, group: 'speech', frames: 10, activeFrames: feature, frameFreq: feature / 10, clips: 2, activeClips: feature, audioFreq: feature / 2, meanActFrame: feature ? 1 : null, meanActAudio: feature ? 1 : null }));
    const c = columnsFromStats(stats, new Float64Array([0, 2]), 2);
    assert.match(c.labelNote ?? '', /sounds, music are missing/);
    assert.deepEqual([...c.label].map((l) => LABELS[l]), ['none', 'none']);
    assert.equal(c.frameFreq[1], 0.1);
  });
});

/** Deterministic synthetic columns of n features over three domains. */
function synthetic(n: number): FeatureColumns {
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const c: FeatureColumns = {
    count: n, domains: ['music', 'sounds', 'speech'], frameFreq: new Float64Array(n), audioFreq: new Float64Array(n), maxAct: new Float64Array(n),
    meanAct: new Float64Array(n), domainFreq: new Float32Array(3 * n), label: new Uint8Array(n), grade: new Int8Array(n),
  };
  for (let i = 0; i < n; i++) {
    c.frameFreq[i] = Math.round(rnd() * 1000) / 1000;
    c.audioFreq[i] = rnd();
    c.maxAct[i] = Math.round(rnd() * 100) / 10;
    c.meanAct[i] = rnd();
    for (let d = 0; d < 3; d++) c.domainFreq[3 * i + d] = rnd();
    c.label[i] = Math.floor(rnd() * 5);
    c.grade[i] = c.label[i]! < 3 ? Math.floor(rnd() * 3) : -1;
  }
  return c;
}

function annotationsFor(n: number): Map<number, FeatureText> {
  const m = new Map<number, FeatureText>();
  for (let i = 0; i < n; i += 7) m.set(i, { name: i % 2 ? `Vowel onset ${i}` : `Drum hit ${i}`, notes: i % 3 ? 'fires on plosives' : '', tags: i % 5 ? ['speech', 'Phoneme'] : ['music'] });
  return m;
}

/** The same query answered the slow, obvious way. */
function naive(c: FeatureColumns, ann: Map<number, FeatureText>, q: { ids?: [number, number][]; labels?: number[]; maxGrade?: number; freqMin?: number; maxLt?: number; words?: string[]; tag?: string; within?: number[] }): number[] {
  const out: number[] = [];
  for (let i = 0; i < c.count; i++) {
    if (q.ids && !q.ids.some(([a, b]) => i >= a && i <= b)) continue;
    if (q.labels && !q.labels.includes(c.label[i]!)) continue;
    if (q.maxGrade !== undefined && (c.grade[i]! < 0 || c.grade[i]! > q.maxGrade)) continue;
    if (q.freqMin !== undefined && !(c.frameFreq[i]! >= q.freqMin)) continue;
    if (q.maxLt !== undefined && !(c.maxAct[i]! < q.maxLt)) continue;
    if (q.within && !q.within.includes(i)) continue;
    const a = ann.get(i);
    const text = a ? `${a.name}\n${a.notes}\n${a.tags.join(' ')}`.toLowerCase() : '';
    if (q.words && !(a && q.words.every((w) => text.includes(w)))) continue;
    if (q.tag && !(a && a.tags.some((t) => t.toLowerCase().startsWith(q.tag!)))) continue;
    out.push(i);
  }
  return out;
}

describe('queries', () => {
  const N = 2000;
  const c = synthetic(N);
  const ann = annotationsFor(N);
  const s = new FeatureSearch(c, ann);
  const ids = (q: FeatureQuery) => [...s.search(q).features];
  const L = (l: string) => LABELS.indexOf(l as (typeof LABELS)[number]);

  it('parses the query language', () => {
    const p = parseQueryText('12 30-20 #Vow label:speech label:mu grade:1 freq>=0.5 max<3 Onset label:xyz freq>');
    assert.deepEqual(p.ids, [[12, 12], [20, 30]]);
    assert.deepEqual(p.tags, ['vow']);
    assert.deepEqual(p.labels, [L('speech'), L('music')]);
    assert.equal(p.maxGrade, 1);
    assert.deepEqual(p.ranges, [{ field: 'frameFreq', op: '>=', value: 0.5 }, { field: 'maxAct', op: '<', value: 3 }]);
    assert.deepEqual(p.words, ['onset']);
    assert.deepEqual(p.problems, ['label:xyz', 'freq>']);
  });

  it('answers like a naive filter', () => {
    assert.deepEqual(ids({}), naive(c, ann, {}));
    assert.deepEqual(ids({ text: '17' }), [17]);
    assert.deepEqual(ids({ text: '100-120 5' }), naive(c, ann, { ids: [[100, 120], [5, 5]] }));
    assert.deepEqual(ids({ text: 'label:speech' }), naive(c, ann, { labels: [L('speech')] }));
    assert.deepEqual(ids({ labels: ['music', 'dead'] }), naive(c, ann, { labels: [L('music'), L('dead')] }));
    assert.deepEqual(ids({ labels: ['speech'], maxGrade: 0 }), naive(c, ann, { labels: [L('speech')], maxGrade: 0 }));
    assert.deepEqual(ids({ text: 'freq>=0.5 max<3' }), naive(c, ann, { freqMin: 0.5, maxLt: 3 }));
    assert.deepEqual(ids({ frameFreq: { min: 0.5 }, maxAct: { max: 2.9999 } }), naive(c, ann, { freqMin: 0.5, maxLt: 3 }));
    assert.deepEqual(ids({ text: 'vowel plosives' }), naive(c, ann, { words: ['vowel', 'plosives'] }));
    assert.ok(ids({ text: 'vowel plosives' }).length > 10);
    assert.deepEqual(ids({ text: '#phon' }), naive(c, ann, { tag: 'phon' }));
    assert.deepEqual(ids({ text: '#music label:sounds' }), naive(c, ann, { tag: 'music', labels: [L('sounds')] }));
    assert.deepEqual(ids({ annotatedOnly: true }), [...ann.keys()].sort((a, b) => a - b));
    assert.deepEqual(ids({ within: [5, 3, 1999, 7, 40000], text: 'label:speech label:sounds label:music label:unassigned label:dead' }), [3, 5, 7, 1999]);
    assert.deepEqual(ids({ within: [] }), []);
    assert.deepEqual(ids({ text: 'nothing-like-this' }), []);
  });

  it('sorts by any statistic, ties by id', () => {
    for (const key of ['frameFreq', 'maxAct', 'audioFreq', 'meanAct', 'label', 'grade', 'domain:speech'] as const) {
      const up = ids({ sort: { key, descending: false } });
      const value = (i: number) => key === 'domain:speech' ? c.domainFreq[3 * i + 2]! : key === 'grade' ? (c.grade[i]! < 0 ? 99 : c.grade[i]!) : key === 'label' ? c.label[i]! : c[key][i]!;
      for (let k = 1; k < up.length; k++) assert.ok(value(up[k - 1]!) < value(up[k]!) || (value(up[k - 1]!) === value(up[k]!) && up[k - 1]! < up[k]!), `${key} at ${k}`);
      assert.deepEqual(ids({ sort: { key, descending: true } }), [...up].reverse());
    }
    const top = ids({ text: 'label:music', sort: { key: 'maxAct', descending: true } });
    assert.deepEqual([...top].sort((a, b) => a - b), naive(c, ann, { labels: [L('music')] }));
  });

  it('follows annotation edits', () => {
    const s2 = new FeatureSearch(c);
    assert.deepEqual([...s2.search({ text: 'zebra' }).features], []);
    s2.setAnnotation(42, { name: 'Zebra crossing', notes: '', tags: ['street'] });
    assert.deepEqual([...s2.search({ text: 'zebra' }).features], [42]);
    assert.deepEqual([...s2.search({ text: '#str' }).features], [42]);
    s2.setAnnotation(42, { name: '', notes: '', tags: [] });
    assert.deepEqual([...s2.search({ annotatedOnly: true }).features], []);
  });
});

describe('time per keystroke over 10 000 features', () => {
  it('filters as the user types', () => {
    const c = synthetic(10_000);
    const s = new FeatureSearch(c, annotationsFor(10_000));
    const typed = 'label:speech freq>0.1 vowel #phon';
    const sorts = [{ key: 'feature', descending: false }, { key: 'maxAct', descending: true }] as const;
    for (const sort of sorts) s.order(sort.key); // the index: built once per layer and sort key
    const times: number[] = [];
    for (let rep = 0; rep < 5; rep++) {
      for (const sort of sorts) {
        for (let k = 1; k <= typed.length; k++) {
          const t0 = performance.now();
          s.search({ text: typed.slice(0, k), sort });
          times.push(performance.now() - t0);
        }
      }
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    const p99 = times[Math.floor(times.length * 0.99)]!;
    console.log(`feature search, 10 000 features: ${times.length} keystrokes, median ${median.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms, max ${times.at(-1)!.toFixed(3)} ms`);
    assert.ok(median < 16, `median keystroke ${median} ms (one frame is 16 ms)`);
  });
});
