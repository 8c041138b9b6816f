import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { installCudaProvider } from '../../../src/engine/runtime/cudaProvider.ts';
import { makeZip } from '../../helpers/zipWriter.ts';

const cuda = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 31) % 256);
const shared = new TextEncoder().encode('shared provider library');
let url = '';
let broken = false;
const server = createServer((req, res) => {
  if (req.url === '/v3/index.json') {
    return void res.end(JSON.stringify({ resources: [{ '@type': 'SearchQueryService', '@id': 'x' }, { '@type': 'PackageBaseAddress/3.0.0', '@id': `${url}/flat/` }] }));
  }
  if (req.url === '/flat/microsoft.ml.onnxruntime.gpu.linux/1.30.0/microsoft.ml.onnxruntime.gpu.linux.1.30.0.nupkg') {
    const files: Record<string, Uint8Array> = { 'runtimes/linux-x64/native/libonnxruntime_providers_cuda.so': cuda, 'runtimes/win-x64/native/other.dll': shared };
    if (!broken) files['runtimes/linux-x64/native/libonnxruntime_providers_shared.so'] = shared;
    return void res.end(makeZip(files));
  }
  res.writeHead(404).end();
});
before(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => { url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`; resolve(); })));
after(() => server.close());

describe('CUDA provider files', () => {
  it('finds the package through the NuGet index and installs both libraries next to the binding', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'audiosae-ort-'));
    const progress: number[] = [];
    const written = await installCudaProvider({ binaryDir: dir, version: '1.30.0', nugetIndex: `${url}/v3/index.json`, platform: 'linux-x64', onProgress: (b) => progress.push(b) });
    assert.deepEqual(written.map((w) => w.slice(dir.length + 1)), ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so']);
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'libonnxruntime_providers_cuda.so'))), cuda);
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'libonnxruntime_providers_shared.so'))), shared);
    assert.ok(progress.length > 0);
    rmSync(dir, { recursive: true, force: true });
  });

  it('installs nothing when the package lacks a library', async () => {
    broken = true;
    const dir = mkdtempSync(join(tmpdir(), 'audiosae-ort-'));
    await assert.rejects(installCudaProvider({ binaryDir: dir, version: '1.30.0', nugetIndex: `${url}/v3/index.json`, platform: 'linux-x64' }), /lacks runtimes\/linux-x64\/native\/libonnxruntime_providers_shared\.so/);
    assert.deepEqual(readdirSync(dir), []);
    broken = false;
    rmSync(dir, { recursive: true, force: true });
  });

  it('explains an unreachable index and other platforms', async () => {
    await assert.rejects(installCudaProvider({ binaryDir: tmpdir(), version: '1.30.0', nugetIndex: 'http://127.0.0.1:47999/v3/index.json', platform: 'linux-x64' }), /cannot reach 127\.0\.0\.1:47999/);
    await assert.rejects(installCudaProvider({ binaryDir: tmpdir(), version: '1.30.0', platform: 'darwin-arm64' }), /only available for Linux x64/);
  });
});
