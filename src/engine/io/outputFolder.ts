/**
 * A multi-file output that appears whole or not at all: its files are written into a temporary folder beside
 * the target (`.<name>.<pid>-<hex>.partial`), which replaces the target in one rename once every file is
 * complete. A failed or interrupted run leaves the target as it was; temporary folders of killed runs are
 * removed by the next run. An existing target is replaced only when it is empty or holds nothing but an
 * earlier output of the same kind, so pointing `--out` at a folder of other files never deletes them.
 */
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AudioSaeError } from '../errors.ts';
import { removeStaleSiblings, siblingName } from './atomicWrite.ts';
import { writeFailure } from './files.ts';

/** Temporary folders of outputs in progress, removed if the process is interrupted (see `abortAllOutputs`). */
const inProgress = new Set<string>();

export class OutputFolder {
  private done = false;

  private constructor(
    /** The folder the output becomes. */
    readonly target: string,
    /** Where its files are written until `commit`. */
    readonly partial: string,
    private readonly names: ReadonlySet<string>,
  ) {}

  /**
   * Prepares to write `target`, whose files will be among `names` (an existing target holding anything else
   * is refused). Checks the path before any work starts.
   */
  static async create(target: string, names: readonly string[]): Promise<OutputFolder> {
    const allowed = new Set(names);
    const existing = await stat(target).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw writeFailure(e, target);
    });
    if (existing && !existing.isDirectory()) {
      throw new AudioSaeError('is an existing file; the output is a folder.', target, 'Name a new folder (or an earlier output folder) for --out.');
    }
    if (existing) {
      const foreign = (await readdir(target).catch((e) => { throw writeFailure(e, target); })).filter((n) => !allowed.has(n));
      if (foreign.length) {
        const list = foreign.slice(0, 3).map((n) => `"${n}"`).join(', ') + (foreign.length > 3 ? ` and ${foreign.length - 3} more` : '');
        throw new AudioSaeError(`already holds files that are not an earlier output of this command (${list}); nothing was changed.`, target, 'Name a new folder for --out.');
      }
    }
    try {
      await mkdir(dirname(target), { recursive: true });
    } catch (e) {
      throw writeFailure(e, dirname(target));
    }
    await removeStaleSiblings(target, '.partial');
    const partial = siblingName(target, '.partial');
    try {
      await mkdir(partial);
    } catch (e) {
      throw writeFailure(e, target);
    }
    inProgress.add(partial);
    return new OutputFolder(target, partial, allowed);
  }

  /** Where the output file `name` is written now. */
  file(name: string): string {
    if (!this.names.has(name)) throw new Error(`OutputFolder: "${name}" is not one of the declared outputs`);
    return join(this.partial, name);
  }

  /** Puts the complete output in place of the target (and of an earlier output there). */
  async commit(): Promise<void> {
    if (this.done) throw new Error('OutputFolder: already committed or aborted');
    const old = (await stat(this.target).catch(() => undefined)) ? siblingName(this.target, '.old') : undefined;
    try {
      if (old) await rename(this.target, old);
      try {
        await rename(this.partial, this.target);
      } catch (e) {
        if (old) await rename(old, this.target).catch(() => undefined);
        throw e;
      }
    } catch (e) {
      await this.abort();
      throw writeFailure(e, this.target);
    }
    this.done = true;
    inProgress.delete(this.partial);
    if (old) await rm(old, { recursive: true, force: true }).catch(() => undefined);
  }

  /** Removes everything written so far; the target stays as it was. Never throws. */
  async abort(): Promise<void> {
    this.done = true;
    inProgress.delete(this.partial);
    await rm(this.partial, { recursive: true, force: true }).catch(() => undefined);
  }

  /** Runs `write` with this output, committing it on success and removing it on any failure. */
  async run<T>(write: (out: OutputFolder) => Promise<T>): Promise<T> {
    try {
      const result = await write(this);
      await this.commit();
      return result;
    } catch (e) {
      await this.abort();
      throw this.asTarget(e);
    }
  }

  /** An error about a file in the temporary folder, said about the same file in the target (what the user named). */
  private asTarget(e: unknown): unknown {
    if (!(e instanceof AudioSaeError) || !e.file?.startsWith(this.partial)) return e;
    return new AudioSaeError(e.problem, this.target + e.file.slice(this.partial.length), e.hint);
  }
}

/** Removes the temporary folders of outputs still in progress (for an interrupted process); synchronous. */
export function abortAllOutputs(removeSync: (path: string) => void): void {
  for (const partial of inProgress) {
    try {
      removeSync(partial);
    } catch {
      // best effort: the next run removes what is left
    }
  }
  inProgress.clear();
}
