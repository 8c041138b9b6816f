// The feature-map cache: a map kept on disk is found by a new instance (a reload), a file that is not a map of
// this key is removed and reported missing, the least recently used files go past the limit, and a folder that
// cannot be written keeps maps in memory and says so once.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FeatureMapCache } from '../../../src/extension/corpus/mapCache.ts';
import type { FeatureMapView } from '../../../src/shared/panelProtocol.ts';

const dir = mkdtempSync(join(tmpdir(), 'audiosae-mapcache-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const view = (n: number, method = `t-SNE of ${n}`): FeatureMapView => ({
  kind: 'featureMap', method,
  heading: { store: '/s.duckdb', runId: 'r1', backbone: 'whisper-tiny-random', sae: 'demo', mode: 'threshold', layers: [1], layer: 1, dictSize: 10240, clips: 18 },
  points: Array.from({ length: n }, (_, i) => ({ feature: i, x: i / 3, y: 1 - i / 7, label: i % 2 ? 'speech' : 'unassigned', grade: i % 2 ? 1 : null })),
});
const files = (folder: string) => readdirSync(folder).filter((n) => n.endsWith('.json')).sort();

test('a map kept on disk is found after a reload; another key is not', async () => {
  const folder = join(dir, 'reload');
  const a = new FeatureMapCache(folder);
  const v = view(500);
  await a.set('k1', v);
  v.points[0]!.name = 'added after set'; // names are added to the shown object; the file keeps the map as computed
  assert.equal(await a.get('k1'), v, 'the same window answers from memory');
  const b = new FeatureMapCache(folder);
  assert.deepEqual(await b.get('k1'), view(500));
  assert.equal(await b.get('k2'), undefined);
});

test('a file that is not this key\'s map is removed and reported missing', async () => {
  const folder = join(dir, 'bad');
  await new FeatureMapCache(folder).set('k1', view(3));
  const [name] = files(folder);
  const cases = ['not json {', JSON.stringify({ key: 'other', view: view(3) }), JSON.stringify({ key: 'k1', view: { ...view(3), points: [{ feature: 0, x: null, y: 0, label: 'speech' }] } })];
  for (const text of cases) {
    writeFileSync(join(folder, name!), text);
    assert.equal(await new FeatureMapCache(folder).get('k1'), undefined, text.slice(0, 20));
    assert.deepEqual(files(folder), [], 'removed');
    await new FeatureMapCache(folder).set('k1', view(3));
  }
});

test('past the limit the least recently used files go; a read counts as a use', async () => {
  const folder = join(dir, 'limit');
  const c = new FeatureMapCache(folder, 2);
  await c.set('a', view(3, 'a'));
  const [fa] = files(folder);
  await c.set('b', view(3, 'b'));
  const fb = files(folder).find((n) => n !== fa)!;
  utimesSync(join(folder, fa!), 1000, 1000);
  utimesSync(join(folder, fb), 2000, 2000);
  assert.equal((await new FeatureMapCache(folder, 2).get('a'))?.method, 'a'); // a is read: now the newest
  await c.set('c', view(3, 'c')); // b goes
  assert.equal(files(folder).length, 2);
  const fresh = new FeatureMapCache(folder, 2);
  assert.equal(await fresh.get('b'), undefined);
  assert.equal((await fresh.get('a'))?.method, 'a');
  assert.equal((await fresh.get('c'))?.method, 'c');
});

test('a folder that cannot be written keeps maps in memory and says so once', async () => {
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  const lines: string[] = [];
  const c = new FeatureMapCache(join(file, 'maps'), 24, (l) => void lines.push(l));
  await c.set('k1', view(3));
  await c.set('k2', view(4));
  assert.equal((await c.get('k2'))?.points.length, 4);
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /kept in memory only: .*a-file.maps cannot be written/);
  const memoryOnly = new FeatureMapCache(undefined);
  await memoryOnly.set('k', view(3));
  assert.equal((await memoryOnly.get('k'))?.points.length, 3);
});
