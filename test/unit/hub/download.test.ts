/**
 * The Hub client against a real HTTP server on 127.0.0.1 that answers like the Hub's resolve endpoint:
 * commit/ETag/size headers, a redirect of large files to a "CDN" (on another port, to check the token stays
 * home), range requests, gated and missing repos, transient 5xx, a connection dropped mid-file, a server that
 * ignores Range, a short body and a wrong hash.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { hubDownload, type HubConfig } from '../../../src/engine/hub/index.ts';

const COMMIT = 'a'.repeat(40);
const config = new TextEncoder().encode('{"model_type": "whisper"}');
const weights = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const gitEtag = createHash('sha1').update(config).digest('hex');

interface Log { method: string; url: string; auth?: string; range?: string }
let requests: Log[] = [];
let flakyLeft = 0;
let dropNext = false;
let hub: Server;
let cdn: Server;
let hubUrl = '';
let cdnUrl = '';

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<[Server, string]> {
  const server = createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve([server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`])));
}

/** The CDN: serves blobs by sha256, honours Range (except under /norange), can drop or shorten a response. */
function serveCdn(req: IncomingMessage, res: ServerResponse): void {
  requests.push({ method: req.method!, url: `cdn${req.url}`, auth: req.headers.authorization, range: req.headers.range });
  const body = weights;
  const range = /bytes=(\d+)-/.exec(req.headers.range ?? '');
  if (req.url!.startsWith('/short')) {
    res.writeHead(200, { 'content-length': String(body.length - 10) });
    res.end(body.subarray(0, body.length - 10));
    return;
  }
  if (range && !req.url!.startsWith('/norange')) {
    const start = Number(range[1]);
    res.writeHead(206, { 'content-length': String(body.length - start), 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` });
    res.end(body.subarray(start));
    return;
  }
  res.writeHead(200, { 'content-length': String(body.length) });
  if (dropNext) {
    dropNext = false;
    res.write(body.subarray(0, 100_000), () => res.destroy());
    return;
  }
  res.end(body);
}

function serveHub(req: IncomingMessage, res: ServerResponse): void {
  requests.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, range: req.headers.range });
  const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(req.url!);
  if (!m) return void res.writeHead(404).end();
  const [, repo, , path] = m;
  const lfs = (location: string, etag = sha(weights)): void => void res.writeHead(302, {
    location, 'x-repo-commit': COMMIT, 'x-linked-etag': `"${etag}"`, 'x-linked-size': String(weights.length), etag: '"not-this-one"',
  }).end();
  switch (repo) {
    case 'org/gated': return void res.writeHead(401).end();
    case 'org/down': return void res.writeHead(500).end();
    case 'org/renamed': return void res.writeHead(307, { location: `/org/model/resolve/main/${path}` }).end();
    case 'org/flaky':
      if (flakyLeft-- > 0) return void res.writeHead(503).end();
      return lfs(`${cdnUrl}/blob`);
    case 'org/norange': return lfs(`${cdnUrl}/norange`);
    case 'org/short': return lfs(`${cdnUrl}/short`);
    case 'org/badhash': return lfs(`${cdnUrl}/blob`, sha(new Uint8Array([1, 2, 3])));
    case 'org/model':
      if (path === 'config.json') {
        res.writeHead(200, { 'x-repo-commit': COMMIT, etag: `"${gitEtag}"`, 'content-length': String(config.length) });
        return void res.end(req.method === 'GET' ? config : undefined);
      }
      if (path === 'model.safetensors') return lfs(`${cdnUrl}/blob`);
      return void res.writeHead(404, { 'x-error-code': 'EntryNotFound' }).end();
    default:
      return void res.writeHead(404, { 'x-error-code': 'RepoNotFound' }).end();
  }
}

let cacheDir = '';
const cfg = (extra: Partial<HubConfig> = {}): HubConfig => ({ endpoint: hubUrl, token: 'secret-token', offline: false, cacheDir, ...extra });
const gets = () => requests.filter((r) => r.method === 'GET');

before(async () => {
  [hub, hubUrl] = await listen(serveHub);
  [cdn, cdnUrl] = await listen(serveCdn);
});
after(() => { hub.close(); cdn.close(); });
beforeEach(() => {
  requests = [];
  cacheDir = mkdtempSync(join(tmpdir(), 'audiosae-hub-'));
});

describe('Hub downloads into the Hugging Face cache', () => {
  it('writes blobs, relative snapshot links and refs/main exactly as huggingface_hub lays them out', async () => {
    const path = await hubDownload({ repo: 'org/model', path: 'config.json', config: cfg() });
    const repoDir = join(cacheDir, 'models--org--model');
    assert.equal(path, join(repoDir, 'snapshots', COMMIT, 'config.json'));
    assert.ok(lstatSync(path).isSymbolicLink());
    assert.equal(readlinkSync(path), join('..', '..', 'blobs', gitEtag));
    assert.deepEqual(readFileSync(path), Buffer.from(config));
    assert.equal(readFileSync(join(repoDir, 'refs', 'main'), 'utf8'), COMMIT);
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('follows the CDN redirect, sends the token to the Hub only, checks sha256, and does not download twice', async () => {
    const progress: number[] = [];
    const path = await hubDownload({ repo: 'org/model', path: 'model.safetensors', config: cfg(), onProgress: (p) => progress.push(p.bytes) });
    assert.deepEqual(new Uint8Array(readFileSync(path)), weights);
    assert.equal(readlinkSync(path), join('..', '..', 'blobs', sha(weights)));
    assert.equal(progress.at(-1), weights.length);
    assert.ok(requests.filter((r) => !r.url.startsWith('cdn')).every((r) => r.auth === 'Bearer secret-token'));
    assert.ok(requests.filter((r) => r.url.startsWith('cdn')).every((r) => r.auth === undefined), 'token leaked to the CDN');
    const before = gets().length;
    await hubDownload({ repo: 'org/model', path: 'model.safetensors', config: cfg() });
    assert.equal(gets().length, before, 'downloaded again');
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('resumes a connection dropped mid-file with a Range request', async () => {
    dropNext = true;
    const path = await hubDownload({ repo: 'org/model', path: 'model.safetensors', config: cfg(), retryDelayMs: 1 });
    assert.deepEqual(new Uint8Array(readFileSync(path)), weights);
    const cdnGets = gets().filter((r) => r.url.startsWith('cdn'));
    assert.equal(cdnGets.length, 2);
    assert.equal(cdnGets[1]!.range, 'bytes=100000-');
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('starts over when the server ignores Range', async () => {
    dropNext = true;
    const path = await hubDownload({ repo: 'org/norange', path: 'model.safetensors', config: cfg(), retryDelayMs: 1 });
    assert.deepEqual(new Uint8Array(readFileSync(path)), weights);
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('retries transient 5xx answers', async () => {
    flakyLeft = 2;
    const path = await hubDownload({ repo: 'org/flaky', path: 'model.safetensors', config: cfg(), retryDelayMs: 1 });
    assert.deepEqual(new Uint8Array(readFileSync(path)), weights);
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('follows a relative redirect (renamed repository)', async () => {
    const path = await hubDownload({ repo: 'org/renamed', path: 'config.json', config: cfg() });
    assert.deepEqual(readFileSync(path), Buffer.from(config));
    rmSync(cacheDir, { recursive: true, force: true });
  });

  for (const [label, repo, file, pattern] of [
    ['a gated repository (401)', 'org/gated', 'config.json', /org\/gated\/config\.json: the Hub refused access \(HTTP 401\).*gated or private.*HF_TOKEN/],
    ['a missing repository', 'org/nothing', 'config.json', /the repository "org\/nothing" does not exist/],
    ['a missing file', 'org/model', 'layer_99/ae.pt', /the file "layer_99\/ae\.pt" does not exist in "org\/model"/],
    ['a server that keeps failing (500)', 'org/down', 'config.json', /failed after 3 attempts: HTTP 500/],
    ['a short body', 'org/short', 'model.safetensors', /failed after 3 attempts: received 299990 of 300000 bytes/],
    ['a wrong hash', 'org/badhash', 'model.safetensors', /SHA-256 .* does not match/],
  ] as const) {
    it(`explains ${label} and leaves no file that looks complete`, async () => {
      await assert.rejects(hubDownload({ repo, path: file, config: cfg(), attempts: 3, retryDelayMs: 1 }), pattern);
      const repoDir = join(cacheDir, `models--${repo.replace('/', '--')}`);
      if (existsSync(join(repoDir, 'blobs'))) assert.ok(readdirSync(join(repoDir, 'blobs')).every((f) => f.endsWith('.incomplete')));
      assert.equal(existsSync(join(repoDir, 'snapshots')), false);
      rmSync(cacheDir, { recursive: true, force: true });
    });
  }

  it('offline mode serves cached files and explains uncached ones; an unreachable Hub falls back to the cache', async () => {
    await hubDownload({ repo: 'org/model', path: 'config.json', config: cfg() });
    requests = [];
    const offline = cfg({ offline: true });
    assert.deepEqual(readFileSync(await hubDownload({ repo: 'org/model', path: 'config.json', config: offline })), Buffer.from(config));
    assert.equal(requests.length, 0);
    await assert.rejects(hubDownload({ repo: 'org/model', path: 'model.safetensors', config: offline }), /not in the Hugging Face cache, and offline mode is on/);
    const unreachable = cfg({ endpoint: 'http://127.0.0.1:9' });
    assert.deepEqual(readFileSync(await hubDownload({ repo: 'org/model', path: 'config.json', config: unreachable })), Buffer.from(config));
    await assert.rejects(hubDownload({ repo: 'org/model', path: 'model.safetensors', config: unreachable, attempts: 2, retryDelayMs: 1 }), /cannot reach http:\/\/127\.0\.0\.1:9/);
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('can be cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(hubDownload({ repo: 'org/model', path: 'model.safetensors', config: cfg(), signal: controller.signal }), /cancelled/);
    rmSync(cacheDir, { recursive: true, force: true });
  });
});
