/**
 * Playback files: the 16 kHz mono signal the model hears, as 16-bit WAV in the extension's own storage, so the
 * webview's audio element streams it from disk (memory stays bounded for hour-long clips) instead of receiving
 * the clip as one message. Named by content hash and reused; the oldest are removed beyond a size budget.
 */
import { createWriteStream, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import * as vscode from 'vscode';

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
  constructor(readonly root: vscode.Uri) {}

  /** A webview URI for the clip with this content hash, writing the file first if needed. */
  async uriFor(hash: string, samples16k: Float32Array, webview: vscode.Webview): Promise<string> {
    const dir = this.root.fsPath;
    mkdirSync(dir, { recursive: true });
    const path = join(dir, `${hash}.wav`);
    if (!statSync(path, { throwIfNoEntry: false })) {
      const tmp = `${path}.${process.pid}.tmp`;
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
    return webview.asWebviewUri(vscode.Uri.file(path)).toString();
  }

  /** Removes the least recently written files beyond the budget (never `keep`). */
  private prune(keep: string): void {
    const dir = this.root.fsPath;
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
