/**
 * Looks at this machine for what each execution provider needs (providerPlan.ts decides from the result): which
 * providers the onnxruntime-node build lists, the CUDA provider files and the CUDA/cuDNN/driver libraries they
 * link to, the Vulkan loader and the Vulkan driver manifests Dawn (WebGPU) would use. Libraries are really
 * loaded through the dynamic linker, so the answer is the one onnxruntime will meet.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { CUDA_PROVIDER_FILES } from './cudaProvider.ts';
import { elfNeeded, libraryLoadError } from './nativeLibraries.ts';
import type { LibraryFact, ProviderFacts } from './providerPlan.ts';

/** What onnxruntime 1.2x/1.3x's CUDA 12 provider links to, when its file is not there to ask. */
const CUDA12_RUNTIME = ['libcudart.so.12', 'libcublas.so.12', 'libcublasLt.so.12', 'libcufft.so.11', 'libcurand.so.10', 'libcudnn.so.9'];

/**
 * The folder holding onnxruntime-node's native binaries for this platform, where the CUDA provider
 * libraries must be placed for CUDA to load.
 */
export function ortBinaryDir(): string {
  const pkg = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
  return join(dirname(pkg), 'bin', 'napi-v6', process.platform, process.arch);
}

const fact = (name: string): LibraryFact => ({ name, error: libraryLoadError(name) });

function cudaFacts(binaryDir: string): NonNullable<ProviderFacts['cuda']> {
  const missingProviderFiles = CUDA_PROVIDER_FILES.filter((f) => !existsSync(join(binaryDir, f)));
  const driver = fact('libcuda.so.1');
  // The CUDA/cuDNN libraries (large) are only loaded when CUDA can otherwise run.
  if (driver.error || missingProviderFiles.length) return { missingProviderFiles, driver, runtime: [] };
  let needed = CUDA12_RUNTIME;
  try {
    needed = elfNeeded(join(binaryDir, 'libonnxruntime_providers_cuda.so')).filter((n) => /^lib(cu|nv)/.test(n));
  } catch {
    // An unreadable provider file: keep the known list; onnxruntime will say what is wrong with the file.
  }
  return { missingProviderFiles, driver, runtime: needed.map(fact) };
}

/** The Vulkan loader's driver-manifest search (VK_DRIVER_FILES / VK_ICD_FILENAMES replace it; XDG dirs otherwise). */
export function vulkanDriverSearch(env: NodeJS.ProcessEnv = process.env): { searched: string[]; drivers: string[] } {
  const explicit = env.VK_DRIVER_FILES ?? env.VK_ICD_FILENAMES;
  const roots = explicit
    ? explicit.split(':')
    : [
        ...(env.XDG_CONFIG_DIRS ?? '/etc/xdg').split(':').map((d) => join(d, 'vulkan/icd.d')),
        '/etc/vulkan/icd.d',
        join(env.XDG_DATA_HOME ?? join(homedir(), '.local/share'), 'vulkan/icd.d'),
        ...(env.XDG_DATA_DIRS ?? '/usr/local/share:/usr/share').split(':').map((d) => join(d, 'vulkan/icd.d')),
      ];
  if (env.VK_ADD_DRIVER_FILES) roots.push(...env.VK_ADD_DRIVER_FILES.split(':'));
  const searched = [...new Set(roots.filter(Boolean))];
  const drivers: string[] = [];
  for (const r of searched) {
    if (r.endsWith('.json')) {
      if (existsSync(r)) drivers.push(r);
      continue;
    }
    try {
      for (const n of readdirSync(r).sort()) if (n.endsWith('.json')) drivers.push(join(r, n));
    } catch {
      // A folder that does not exist holds no drivers.
    }
  }
  return { searched, drivers };
}

/** The installed onnxruntime-node version (CUDA provider files must match it exactly). */
export function ortVersion(): string {
  const pkg = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
}

export function gatherProviderFacts(): ProviderFacts {
  const binaryDir = ortBinaryDir();
  const f: ProviderFacts = {
    platform: process.platform,
    arch: process.arch,
    ortVersion: ortVersion(),
    binaryDir,
    listed: ort.listSupportedBackends().map((b) => b.name),
  };
  if (f.platform === 'linux' && f.arch === 'x64') f.cuda = cudaFacts(binaryDir);
  if (f.platform === 'linux') f.vulkan = { loader: fact('libvulkan.so.1'), ...vulkanDriverSearch() };
  return f;
}
