/**
 * The Hugging Face cache layout, shared with Python's huggingface_hub:
 *   <cache>/models--<org>--<name>/blobs/<etag>                 file contents, named by ETag (sha256 for LFS files)
 *   <cache>/models--<org>--<name>/snapshots/<commit>/<path>    relative symlink to the blob (a copy where links fail)
 *   <cache>/models--<org>--<name>/refs/<revision>              the commit hash a branch or tag pointed to
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

export function repoFolder(cacheDir: string, repo: string): string {
  return join(cacheDir, `models--${repo.replace(/\//g, '--')}`);
}

export function blobPath(cacheDir: string, repo: string, etag: string): string {
  return join(repoFolder(cacheDir, repo), 'blobs', etag);
}

export function snapshotPath(cacheDir: string, repo: string, commit: string, path: string): string {
  return join(repoFolder(cacheDir, repo), 'snapshots', commit, ...path.split('/'));
}

/** The commit a revision points to in the cache, if known. A 40-hex revision is a commit itself. */
export function cachedCommit(cacheDir: string, repo: string, revision: string): string | undefined {
  if (/^[0-9a-f]{40}$/.test(revision)) return revision;
  try {
    return readFileSync(join(repoFolder(cacheDir, repo), 'refs', revision), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export function writeRef(cacheDir: string, repo: string, revision: string, commit: string): void {
  if (revision === commit) return;
  const ref = join(repoFolder(cacheDir, repo), 'refs', revision);
  mkdirSync(dirname(ref), { recursive: true });
  const tmp = uniqueTmp(ref); // processes sharing the cache may write the same ref at once
  writeFileSync(tmp, commit);
  renameSync(tmp, ref);
}

/**
 * Points snapshots/<commit>/<path> at the blob: a relative symlink, or a copy where symlinks are not allowed.
 * Made under a temporary name and renamed over the old one, so processes doing it at once never see it missing.
 */
export function linkSnapshot(blob: string, snapshot: string): void {
  mkdirSync(dirname(snapshot), { recursive: true });
  const tmp = uniqueTmp(snapshot);
  try {
    symlinkSync(relative(dirname(snapshot), blob), tmp);
  } catch {
    copyFileSync(blob, tmp);
  }
  try {
    renameSync(tmp, snapshot);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

function uniqueTmp(path: string): string {
  return `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
}
