/**
 * Peak memory of the CLI does not grow with the clip: `features` on 10 minutes and on hours of silent 8 kHz
 * audio (streamed from disk window by window, every output written as it comes) peaks at about the same
 * resident size. Measured as the whole process's peak RSS (the engine worker thread included).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { writeSilentWav } from '../helpers/wavFiles.ts';

const cli = new URL('../../dist/cli.cjs', import.meta.url).pathname;
const peakHook = new URL('../helpers/peakRss.mjs', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'audiosae-memory-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function peakOfFeatures(audio: string, backbone: string, out: string): { peakMb: number; frames: number } {
  const r = spawnSync(process.execPath, ['--import', peakHook, cli, 'features', audio, '--backbone', backbone, '--layer', '2', '--out', out], {
    encoding: 'utf8',
    env: { ...process.env, AUDIOSAE_EXECUTION_PROVIDER: 'cpu', AUDIOSAE_CACHE: join(tmp, 'cache') },
  });
  assert.equal(r.status, 0, r.stderr);
  const kb = Number(/peak_rss_kb=(\d+)/.exec(r.stderr)?.[1]);
  assert.ok(kb > 0, r.stderr);
  return { peakMb: kb / 1024, frames: JSON.parse(readFileSync(join(out, 'features.json'), 'utf8')).frames };
}

describe('memory stays bounded by the window, not the clip', () => {
  for (const [backbone, longMinutes] of [['whisper-tiny-random', 120], ['hubert-tiny-random', 60]] as const) {
    it(`features (${backbone}): 10 min and ${longMinutes} min of audio peak alike`, () => {
      const short = join(tmp, 'short.wav');
      const long = join(tmp, `long-${longMinutes}.wav`);
      writeSilentWav(short, 600, 8000);
      writeSilentWav(long, longMinutes * 60, 8000);
      const a = peakOfFeatures(short, backbone, join(tmp, `${backbone}-short`));
      const b = peakOfFeatures(long, backbone, join(tmp, `${backbone}-long`));
      console.log(`${backbone}: peak RSS ${a.peakMb.toFixed(0)} MB for 10 min (${a.frames} frames), ${b.peakMb.toFixed(0)} MB for ${longMinutes} min (${b.frames} frames)`);
      assert.ok(b.frames >= a.frames * (longMinutes / 10) * 0.99, 'the long clip was fully processed');
      // Holding the clip (samples, activations, codes) would add hundreds of MB per hour; allow 25% + 64 MB of noise.
      assert.ok(b.peakMb <= a.peakMb * 1.25 + 64, `peak grew with the clip: ${a.peakMb.toFixed(0)} MB → ${b.peakMb.toFixed(0)} MB`);
      rmSync(long, { force: true });
    });
  }
});
