/**
 * Downloads one file of a Hub model repository into the Hugging Face cache, the way huggingface_hub does:
 *   1. HEAD <endpoint>/<repo>/resolve/<revision>/<path> (relative redirects followed, the CDN redirect of large
 *      files not) → commit (X-Repo-Commit), ETag (X-Linked-Etag or ETag), size (X-Linked-Size or Content-Length);
 *   2. if blobs/<etag> is there, only the snapshot link and refs/<revision> are written;
 *   3. otherwise GET into blobs/<etag>.incomplete, resuming from its size with a Range request, retrying
 *      dropped connections and 5xx answers; the size and, for sha256 ETags, the hash are checked before the file
 *      is renamed into place, so a truncated file never sits where a complete one is expected; a lock file beside
 *      the blob (io/lock.ts) lets one of several processes sharing the cache download it while the others wait.
 * The token goes only to the endpoint's own origin, never to a host a redirect leads to. With HF_HUB_OFFLINE,
 * or when the Hub cannot be reached, files come from the cache alone.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, openSync, closeSync, renameSync, rmSync, statSync, fsyncSync } from 'node:fs';
import { dirname } from 'node:path';
import { AudioSaeError } from '../errors.ts';
import { writeBody } from '../io/files.ts';
import { withLock } from '../io/lock.ts';
import { blobPath, cachedCommit, linkSnapshot, snapshotPath, writeRef } from './cache.ts';
import { hubConfigFromEnv, type HubConfig } from './config.ts';

export interface HubProgress {
  bytes: number;
  total: number;
  bytesPerSecond: number;
  /** Seconds left at the current rate; NaN before the rate is known. */
  etaSeconds: number;
}

export interface HubDownloadOptions {
  repo: string;
  path: string;
  revision?: string;
  signal?: AbortSignal;
  onProgress?: (p: HubProgress) => void;
  config?: HubConfig;
  /** Attempts for transient failures (5xx, dropped connections). */
  attempts?: number;
  retryDelayMs?: number;
}

interface Metadata {
  commit: string;
  etag: string;
  size: number;
  url: string;
}

class Transient extends Error {}

const normaliseEtag = (etag: string) => etag.replace(/^W\//, '').replace(/"/g, '');

function fileLabel(o: HubDownloadOptions): string {
  return `${o.repo}/${o.path}`;
}

function statusError(status: number, headers: Headers, o: HubDownloadOptions, config: HubConfig): Error {
  const what = fileLabel(o);
  if (status === 401 || status === 403) {
    return new AudioSaeError(
      `the Hub refused access (HTTP ${status}): the repository is gated or private.`,
      what,
      config.token ? 'Check that your HF_TOKEN has access and that you accepted the model licence on its Hub page.' : 'Set HF_TOKEN to a token with access, after accepting the model licence on its Hub page.',
    );
  }
  if (status === 404) {
    const code = headers.get('x-error-code');
    return new AudioSaeError(
      code === 'RepoNotFound' ? `the repository "${o.repo}" does not exist on ${config.endpoint}.` : `the file "${o.path}" does not exist in "${o.repo}" (revision ${o.revision ?? 'main'}).`,
      what,
    );
  }
  if (status >= 500 || status === 429) return new Transient(`HTTP ${status}`);
  return new AudioSaeError(`the Hub answered HTTP ${status}.`, what);
}

/** fetch with redirects followed by hand, dropping the token when a redirect leaves the endpoint's origin. */
async function hubFetch(url: string, init: { method: string; headers: Record<string, string>; signal?: AbortSignal }, config: HubConfig, followAbsolute: boolean): Promise<Response> {
  const origin = new URL(config.endpoint).origin;
  let current = url;
  for (let hop = 0; hop < 10; hop++) {
    const headers = { ...init.headers };
    if (config.token && new URL(current).origin === origin) headers.authorization = `Bearer ${config.token}`;
    const res = await fetch(current, { method: init.method, headers, signal: init.signal, redirect: 'manual' });
    if (res.status < 300 || res.status >= 400 || !res.headers.get('location')) return res;
    const location = res.headers.get('location')!;
    const relative = !/^[a-z]+:\/\//i.test(location);
    if (!relative && !followAbsolute) return res;
    await res.body?.cancel();
    current = new URL(location, current).href;
  }
  throw new AudioSaeError(`too many redirects while fetching ${url}.`);
}

async function metadata(o: HubDownloadOptions, config: HubConfig): Promise<Metadata> {
  const revision = o.revision ?? 'main';
  const url = `${config.endpoint}/${o.repo}/resolve/${encodeURIComponent(revision)}/${o.path.split('/').map(encodeURIComponent).join('/')}`;
  const res = await hubFetch(url, { method: 'HEAD', headers: { 'accept-encoding': 'identity' }, signal: o.signal }, config, false);
  if (res.status >= 400) throw statusError(res.status, res.headers, o, config);
  const commit = res.headers.get('x-repo-commit');
  const etag = res.headers.get('x-linked-etag') ?? res.headers.get('etag');
  const size = Number(res.headers.get('x-linked-size') ?? res.headers.get('content-length'));
  if (!commit || !etag || !Number.isFinite(size)) {
    throw new AudioSaeError('the Hub answered without the commit, ETag or size headers a download needs.', fileLabel(o), `Is HF_ENDPOINT (${config.endpoint}) a Hugging Face Hub?`);
  }
  const location = res.status >= 300 && res.status < 400 ? res.headers.get('location') : null;
  return { commit, etag: normaliseEtag(etag), size, url: location ? new URL(location, url).href : url };
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Downloads into `incomplete`, appending from its current size. Returns when the server has sent everything. */
async function fetchInto(meta: Metadata, incomplete: string, o: HubDownloadOptions, config: HubConfig): Promise<void> {
  let have = existsSync(incomplete) ? statSync(incomplete).size : 0;
  if (have > meta.size) {
    rmSync(incomplete);
    have = 0;
  }
  const headers: Record<string, string> = { 'accept-encoding': 'identity' };
  if (have > 0) headers.range = `bytes=${have}-`;
  const res = await hubFetch(meta.url, { method: 'GET', headers, signal: o.signal }, config, true);
  if (res.status === 416 && have === meta.size) return;
  if (res.status >= 400) throw statusError(res.status, res.headers, o, config);
  if (res.status === 200 && have > 0) have = 0; // the server ignored the range: start over
  const fd = openSync(incomplete, have > 0 ? 'a' : 'w');
  const started = performance.now();
  let received = 0;
  try {
    await writeBody(fd, res.body, (written) => {
      received = written;
      const seconds = (performance.now() - started) / 1000;
      const rate = seconds > 0 ? received / seconds : 0;
      o.onProgress?.({ bytes: have + received, total: meta.size, bytesPerSecond: rate, etaSeconds: rate > 0 ? (meta.size - have - received) / rate : NaN });
    });
    fsyncSync(fd);
  } catch (e) {
    if (o.signal?.aborted) throw e;
    throw new Transient(`the connection dropped after ${have + received} of ${meta.size} bytes (${(e as Error).message})`);
  } finally {
    closeSync(fd);
  }
}

function fromCache(o: HubDownloadOptions, config: HubConfig): string | undefined {
  const commit = cachedCommit(config.cacheDir, o.repo, o.revision ?? 'main');
  if (!commit) return undefined;
  const snapshot = snapshotPath(config.cacheDir, o.repo, commit, o.path);
  return existsSync(snapshot) ? snapshot : undefined;
}

const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((resolve, reject) => {
  const t = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => { clearTimeout(t); reject(signal.reason); }, { once: true });
});

/** The local path of a Hub file (inside snapshots/), downloading it when needed. */
export async function hubDownload(o: HubDownloadOptions): Promise<string> {
  const config = o.config ?? hubConfigFromEnv();
  const revision = o.revision ?? 'main';
  if (config.offline) {
    const cached = fromCache(o, config);
    if (cached) return cached;
    throw new AudioSaeError('is not in the Hugging Face cache, and offline mode is on (HF_HUB_OFFLINE).', fileLabel(o), `Download it on a machine with internet, or unset HF_HUB_OFFLINE. Cache: ${config.cacheDir}`);
  }
  const attempts = o.attempts ?? 4;
  let lastProblem = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      let meta: Metadata;
      try {
        meta = await metadata(o, config);
      } catch (e) {
        if (e instanceof TypeError && !o.signal?.aborted) {
          // The Hub cannot be reached: a cached copy still serves, as in huggingface_hub.
          const cached = fromCache(o, config);
          if (cached) return cached;
          throw new Transient(`cannot reach ${config.endpoint} (${(e as Error & { cause?: Error }).cause?.message ?? e.message})`);
        }
        throw e;
      }
      const blob = blobPath(config.cacheDir, o.repo, meta.etag);
      const snapshot = snapshotPath(config.cacheDir, o.repo, meta.commit, o.path);
      if (!existsSync(blob)) {
        mkdirSync(dirname(blob), { recursive: true });
        // One process per blob downloads (processes sharing the cache wait, then find it there).
        await withLock(blob, async () => {
          if (existsSync(blob)) return;
          const incomplete = `${blob}.incomplete`;
          await fetchInto(meta, incomplete, o, config);
          const size = statSync(incomplete).size;
          if (size !== meta.size) {
            if (size > meta.size) rmSync(incomplete);
            throw new Transient(`received ${size} of ${meta.size} bytes`);
          }
          if (/^[0-9a-f]{64}$/.test(meta.etag)) {
            const digest = await sha256Of(incomplete);
            if (digest !== meta.etag) {
              rmSync(incomplete);
              throw new AudioSaeError(`the downloaded file's SHA-256 (${digest}) does not match the Hub's (${meta.etag}); it was discarded.`, fileLabel(o), 'Try again; if it persists, the mirror or proxy is serving a wrong file.');
            }
          }
          renameSync(incomplete, blob);
        }, { signal: o.signal });
      }
      linkSnapshot(blob, snapshot);
      writeRef(config.cacheDir, o.repo, revision, meta.commit);
      return snapshot;
    } catch (e) {
      if (o.signal?.aborted) throw new AudioSaeError('the download was cancelled.', fileLabel(o));
      if ((e as NodeJS.ErrnoException).code === 'ENOSPC') {
        throw new AudioSaeError('no space left on the device while downloading.', fileLabel(o), `Free disk space in ${config.cacheDir} (or set HF_HUB_CACHE to a larger disk) and try again; the partial download resumes.`);
      }
      if (!(e instanceof Transient)) throw e;
      lastProblem = e.message;
      if (attempt < attempts) await sleep((o.retryDelayMs ?? 500) * 2 ** (attempt - 1), o.signal);
    }
  }
  throw new AudioSaeError(`the download failed after ${attempts} attempts: ${lastProblem}.`, fileLabel(o), 'Check the network (or HF_ENDPOINT) and try again; finished parts are kept and resumed.');
}
