/**
 * Real small or read-only file systems for tests: a tmpfs mounted at a fresh folder (root only). Where mounting
 * is not allowed, `mount` answers with the reason, and the test reports itself skipped with it, not passed.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export class Tmpfs {
  private readonly mounts: string[] = [];
  /** Why the last mount failed. */
  skipReason = '';

  constructor(private readonly parent: string) {}

  /** A tmpfs of `size` (e.g. "48k") at `<parent>/<name>`, or undefined where mounting is not allowed. */
  mount(name: string, size: string): string | undefined {
    const at = join(this.parent, name);
    mkdirSync(at);
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', at], { encoding: 'utf8' });
    if (r.status !== 0) {
      this.skipReason = `cannot mount a tmpfs here (${(r.stderr || r.error?.message || '').trim()})`;
      return undefined;
    }
    this.mounts.push(at);
    return at;
  }

  /** Makes a mounted tmpfs read-only. */
  readOnly(at: string): boolean {
    return spawnSync('mount', ['-o', 'remount,ro', at]).status === 0;
  }

  unmountAll(): void {
    for (const m of this.mounts) spawnSync('umount', ['-l', m]);
    this.mounts.length = 0;
  }
}
