/**
 * Fetches onnxruntime's CUDA provider libraries for onnxruntime-node, the way its own installer does: the
 * NuGet package Microsoft.ML.OnnxRuntime.Gpu.Linux of the same version (located through the NuGet v3 service
 * index), from which libonnxruntime_providers_cuda.so and libonnxruntime_providers_shared.so are extracted next
 * to the onnxruntime binding. The CUDA 12 and cuDNN 9 runtime libraries themselves must come from NVIDIA.
 * Only on Linux x64; only when the user asked for it.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ZipReader } from '../checkpoints/zip.ts';
import { AudioSaeError } from '../errors.ts';
import { writeBody } from '../io/files.ts';

export const NUGET_INDEX = 'https://api.nuget.org/v3/index.json';
const PACKAGE = 'microsoft.ml.onnxruntime.gpu.linux';
export const CUDA_PROVIDER_FILES = ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'];

export interface CudaInstallOptions {
  /** Where onnxruntime-node's binding lives (see providers.ts ortBinaryDir). */
  binaryDir: string;
  /** onnxruntime-node's version; the provider libraries must match it exactly. */
  version: string;
  nugetIndex?: string;
  signal?: AbortSignal;
  onProgress?: (bytes: number, total: number) => void;
  platform?: string;
}

async function get(url: string, signal?: AbortSignal): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { signal });
  } catch (e) {
    if (signal?.aborted) throw new AudioSaeError('the download was cancelled.');
    throw new AudioSaeError(`cannot reach ${new URL(url).host} (${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}).`, undefined, 'The CUDA provider files come from NuGet; this needs internet access.');
  }
  if (!res.ok) throw new AudioSaeError(`${url} answered HTTP ${res.status}.`);
  return res;
}

/** Downloads and installs the provider libraries; returns the paths written. */
export async function installCudaProvider(o: CudaInstallOptions): Promise<string[]> {
  if ((o.platform ?? `${process.platform}-${process.arch}`) !== 'linux-x64') {
    throw new AudioSaeError('the onnxruntime CUDA provider files are only available for Linux x64.');
  }
  const index = (await (await get(o.nugetIndex ?? NUGET_INDEX, o.signal)).json()) as { resources?: Array<{ '@type': string; '@id': string }> };
  const base = index.resources?.find((r) => r['@type'] === 'PackageBaseAddress/3.0.0')?.['@id'];
  if (!base) throw new AudioSaeError('the NuGet service index lacks a PackageBaseAddress.');
  const version = o.version.toLowerCase();
  const res = await get(`${base}${PACKAGE}/${version}/${PACKAGE}.${version}.nupkg`, o.signal);
  const total = Number(res.headers.get('content-length') ?? 0);

  const nupkg = join(tmpdir(), `audiosae-${randomBytes(6).toString('hex')}.nupkg`);
  const written: string[] = [];
  try {
    const fd = openSync(nupkg, 'w');
    try {
      await writeBody(fd, res.body, (bytes) => o.onProgress?.(bytes, total));
    } finally {
      closeSync(fd);
    }
    const zip = await ZipReader.open(nupkg);
    try {
      // Both files extracted first, then both renamed: never one without the other.
      for (const file of CUDA_PROVIDER_FILES) {
        const entry = zip.entries.get(`runtimes/linux-x64/native/${file}`);
        if (!entry) throw new AudioSaeError(`the NuGet package ${PACKAGE} ${version} lacks runtimes/linux-x64/native/${file}.`);
        await zip.extractTo(entry, join(o.binaryDir, `${file}.partial`), o.signal);
      }
      for (const file of CUDA_PROVIDER_FILES) {
        renameSync(join(o.binaryDir, `${file}.partial`), join(o.binaryDir, file));
        written.push(join(o.binaryDir, file));
      }
    } finally {
      await zip.close();
    }
    return written;
  } catch (e) {
    for (const file of CUDA_PROVIDER_FILES) rmSync(join(o.binaryDir, `${file}.partial`), { force: true });
    if (o.signal?.aborted) throw new AudioSaeError('the download was cancelled.');
    throw e;
  } finally {
    rmSync(nupkg, { force: true });
  }
}
