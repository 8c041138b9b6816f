// Kept answers: the least recently used goes past the limit, a read counts as a use, and keys name every part.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { answerKey, Kept } from '../../../src/extension/kept.ts';

test('Kept forgets the least recently used past its limit; get counts as a use', () => {
  const k = new Kept<number>(2);
  k.set('a', 1);
  k.set('b', 2);
  assert.equal(k.get('a'), 1); // a is now the most recent
  k.set('c', 3); // b goes
  assert.equal(k.get('b'), undefined);
  assert.equal(k.get('a'), 1);
  assert.equal(k.get('c'), 3);
  k.set('a', 10); // replaced, not added
  assert.equal(k.size, 2);
  assert.equal(k.get('a'), 10);
  assert.throws(() => new Kept(0), /limit 0/);
});

test('answerKey differs when any part differs', () => {
  const run = { storePath: '/s.duckdb', runId: 'r1', layer: 3 };
  const keys = [
    answerKey(run, '6:0:1'),
    answerKey({ ...run, storePath: '/t.duckdb' }, '6:0:1'),
    answerKey({ ...run, runId: 'r2' }, '6:0:1'),
    answerKey({ ...run, layer: 4 }, '6:0:1'),
    answerKey(run, '7:0:1'),
    answerKey(run, '6:0:1', 12),
    answerKey(run, '6:0:1', 13),
  ];
  assert.equal(new Set(keys).size, keys.length);
  assert.equal(answerKey(run, '6:0:1', 12), answerKey({ ...run }, '6:0:1', 12));
});
