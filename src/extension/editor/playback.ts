/**
 * Playback files: the 16 kHz mono signal the model hears, as 16-bit WAV in the extension's own storage, so the
 * webview's audio element streams it from disk (memory stays bounded for hour-long clips) instead of receiving
 * the clip as one message. Named by content hash and reused; the oldest are removed beyond a size budget.
 * Each write goes to a temporary name of its own (process id and random suffix: two editors, or two windows,
 * writing the same clip never share one) and is renamed into place; what a killed writer left is removed.
 * No VS Code imports: the provider turns the path into a webview URI.
 */
import { createWriteStream, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { removeStaleSiblings, siblingName } from '../../engine/io/atomicWrite.ts';

const BUDGET_BYTES = 2 * 1024 ** 3;
const CHUNK_SAMPLES = 1 << 16;

/** The 44-byte header of a 16 kHz mono 16-bit PCM WAV with `samples` samples. */
function wavHeader(samples: number): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + samples * 2, 4);
  h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(16000, 24);
  h.writeUInt32LE(32000, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(samples * 2, 40);
  return h;
}

export class PlaybackCache {
  /** Files being written by this process, by path (a second editor of the same clip waits for the first). */
  private readonly writing = new Map<string, Promise<string>>();

  constructor(readonly dir: string) {}

  /** The playback file of the clip with this content hash, written first if needed. */
  fileFor(hash: string, samples16k: Float32Array): Promise<string> {
    const path = join(this.dir, `${hash}.wav`);
    const pending = this.writing.get(path);
    if (pending) return pending;
    const written = this.write(path, samples16k).finally(() => this.writing.delete(path));
    this.writing.set(path, written);
    return written;
  }

  private async write(path: string, samples16k: Float32Array): Promise<string> {
    mkdirSync(this.dir, { recursive: true });
    if (!statSync(path, { throwIfNoEntry: false })) {
      await removeStaleSiblings(path, '.tmp');
      const tmp = siblingName(path, '.tmp');
      try {
        const out = createWriteStream(tmp);
        out.write(wavHeader(samples16k.length));
        for (let s = 0; s < samples16k.length; s += CHUNK_SAMPLES) {
          const n = Math.min(CHUNK_SAMPLES, samples16k.length - s);
          const pcm = new Int16Array(n); // little-endian on every platform VS Code runs on
          for (let i = 0; i < n; i++) pcm[i] = Math.max(-32768, Math.min(32767, Math.round(samples16k[s + i]! * 32767)));
          if (!out.write(Buffer.from(pcm.buffer))) await once(out, 'drain');
        }
        out.end();
        await once(out, 'close');
        renameSync(tmp, path);
      } catch (e) {
        rmSync(tmp, { force: true });
        throw new Error(`could not write the playback file ${path}: ${(e as Error).message}`);
      }
      this.prune(path);
    }
    return path;
  }

  /** Removes the least recently written files beyond the budget (never `keep`). */
  private prune(keep: string): void {
    const dir = this.dir;
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.wav'))
      .map((f) => ({ path: join(dir, f), ...statSync(join(dir, f)) }))
      .sort((a, b) => b.mtimeMs - a.mtimeMs);
    let total = 0;
    for (const f of files) {
      total += f.size;
      if (total > BUDGET_BYTES && f.path !== keep) rmSync(f.path, { force: true });
    }
  }
}
