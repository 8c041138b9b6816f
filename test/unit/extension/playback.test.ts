import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PlaybackCache } from '../../../src/extension/editor/playback.ts';

const dir = mkdtempSync(join(tmpdir(), 'audiosae-playback-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('playback files', () => {
  it('two editors writing the same clip at once get one whole file, and no temporary file is left', async () => {
    const samples = Float32Array.from({ length: 200_000 }, (_, i) => Math.sin(i / 10) * 0.5);
    // Two caches over one folder: two editor windows of the same extension host (same process id).
    const [a, b] = [new PlaybackCache(dir), new PlaybackCache(dir)];
    const [pa, pb] = await Promise.all([a.fileFor('abc', samples), b.fileFor('abc', samples)]);
    assert.equal(pa, pb);
    const wav = readFileSync(pa);
    assert.equal(wav.length, 44 + 2 * samples.length);
    assert.equal(wav.toString('latin1', 0, 4), 'RIFF');
    assert.equal(wav.readInt16LE(44 + 2 * 10), Math.round(Math.sin(1) * 0.5 * 32767));
    assert.deepEqual(readdirSync(dir), ['abc.wav']);
  });

  it('removes what a killed writer left behind', async () => {
    const gone = spawnSync('true').pid!; // a process id that has exited
    const stale = join(dir, `.def.wav.${gone}-0123456789ab.tmp`);
    writeFileSync(stale, 'half a file');
    await new PlaybackCache(dir).fileFor('def', new Float32Array(100));
    assert.deepEqual(readdirSync(dir).sort(), ['abc.wav', 'def.wav']);
  });
});
