/**
 * A small Hub on 127.0.0.1 serving local files under real repo names, answering like the resolve endpoint:
 * X-Repo-Commit, ETag (git-style for small files; sha256 X-Linked-Etag with an absolute redirect, like the CDN one, for large ones) and sizes.
 * For tests that run the product end to end "from the Hub" without a network.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeHub {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

export async function startFakeHub(repos: Record<string, Record<string, string>>): Promise<FakeHub> {
  const commit = 'c'.repeat(40);
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const blob = /^\/blobs\/([0-9a-f]{64})$/.exec(req.url!);
    if (blob) {
      for (const files of Object.values(repos)) for (const file of Object.values(files)) {
        const body = readFileSync(file);
        if (createHash('sha256').update(body).digest('hex') === blob[1]) return void res.writeHead(200, { 'content-length': String(body.length) }).end(body);
      }
      return void res.writeHead(404).end();
    }
    const m = /^\/(.+?)\/resolve\/[^/]+\/(.+)$/.exec(decodeURIComponent(req.url!));
    const files = m ? repos[m[1]!] : undefined;
    if (!files) return void res.writeHead(404, { 'x-error-code': 'RepoNotFound' }).end();
    const local = files[m![2]!];
    if (!local) return void res.writeHead(404, { 'x-error-code': 'EntryNotFound' }).end();
    const body = readFileSync(local);
    if (body.length > 10_000) {
      const sha = createHash('sha256').update(body).digest('hex');
      return void res.writeHead(302, { location: `http://${req.headers.host}/blobs/${sha}`, 'x-repo-commit': commit, 'x-linked-etag': `"${sha}"`, 'x-linked-size': String(body.length) }).end();
    }
    const etag = createHash('sha1').update(body).digest('hex');
    res.writeHead(200, { 'x-repo-commit': commit, etag: `"${etag}"`, 'content-length': String(body.length) });
    res.end(req.method === 'GET' ? body : undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
