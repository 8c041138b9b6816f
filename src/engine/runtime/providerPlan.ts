/**
 * The execution-provider decision as pure functions of what was found on the machine (providerFacts.ts): the
 * order `auto` tries the providers in on each platform, what rules one out before trying it, and a one-line
 * explanation of an onnxruntime failure. Kept free of probing so every platform's path can be tested anywhere.
 */
import type { ExecutionProviderChoice } from '../../shared/workerProtocol.ts';

export type ProviderName = Exclude<ExecutionProviderChoice, 'auto'>;

export interface LibraryFact {
  name: string;
  /** The dynamic linker's reason when it cannot load the library; undefined when it loads. */
  error?: string;
}

export interface ProviderFacts {
  platform: string;
  arch: string;
  ortVersion: string;
  /** Where onnxruntime-node's native binaries are (the CUDA provider files must be there too). */
  binaryDir: string;
  /** Execution providers this onnxruntime-node build lists (ort.listSupportedBackends()). */
  listed: string[];
  /** Linux x64 only. */
  cuda?: {
    /** CUDA provider files missing from binaryDir. */
    missingProviderFiles: string[];
    /** The NVIDIA driver's libcuda.so.1. */
    driver: LibraryFact;
    /** The CUDA/cuDNN libraries the provider library links to (from its ELF header, or the known list); probed
     *  only when the driver and the provider files are there. */
    runtime: LibraryFact[];
  };
  /** Linux only (WebGPU runs on Vulkan there). */
  vulkan?: {
    loader: LibraryFact;
    /** Where the loader looks for driver manifests, and the manifests found there. */
    searched: string[];
    drivers: string[];
  };
}

/** The order `auto` tries providers in; CPU last, always. */
export function candidateOrder(platform: string, arch: string): ProviderName[] {
  if (platform === 'linux' && arch === 'x64') return ['cuda', 'webgpu', 'cpu'];
  if (platform === 'linux') return ['webgpu', 'cpu'];
  if (platform === 'win32') return ['dml', 'webgpu', 'cpu'];
  if (platform === 'darwin') return ['coreml', 'webgpu', 'cpu'];
  return ['cpu'];
}

/** What a CUDA/cuDNN library is, for a user who must install it. */
function cudaLibraryRole(lib: string): string {
  if (lib.startsWith('libcudnn')) return `cuDNN ${lib.match(/\.so\.(\d+)/)?.[1] ?? ''}`.trim();
  const major = lib.match(/^libcudart\.so\.(\d+)/)?.[1];
  if (major) return `CUDA ${major} runtime`;
  const m = lib.match(/^lib(cublasLt|cublas|cufft|curand|cusparse|cusolver|nvrtc)/);
  return m ? `CUDA ${m[1]}` : 'CUDA';
}

const basename = (p: string) => p.slice(p.lastIndexOf('/') + 1);

/** Why a provider cannot work here, known without trying it; undefined when it is worth a try. */
export function prerequisiteProblem(name: ProviderName, f: ProviderFacts): string | undefined {
  if (name === 'cpu') return undefined;
  if (name === 'cuda' && !(f.platform === 'linux' && f.arch === 'x64')) return 'the onnxruntime CUDA provider for Node exists for Linux x64 only';
  if (name === 'dml' && f.platform !== 'win32') return 'DirectML exists on Windows only';
  if (name === 'coreml' && f.platform !== 'darwin') return 'CoreML exists on macOS only';
  if (name !== 'cuda' && !f.listed.includes(name)) return `this onnxruntime-node ${f.ortVersion} build has no ${name} provider`;
  if (name === 'cuda' && f.cuda) {
    const c = f.cuda;
    if (c.driver.error) return `no NVIDIA driver: ${c.driver.name} not found`;
    if (c.missingProviderFiles.length) {
      return `the onnxruntime ${f.ortVersion} CUDA provider files are not installed (${c.missingProviderFiles.join(', ')} missing in ${f.binaryDir}; see the README: "Using a GPU")`;
    }
    const missing = c.runtime.filter((l) => l.error);
    if (missing.length) {
      return `${missing.map((l) => `${l.name} (${cudaLibraryRole(l.name)})`).join(', ')} not loadable: ${explainLinkerError(missing[0]!.error!)}`;
    }
  }
  if (name === 'webgpu' && f.platform === 'linux' && f.vulkan) {
    const v = f.vulkan;
    if (v.loader.error) return `no Vulkan loader: ${v.loader.name} not found (Debian/Ubuntu package libvulkan1)`;
    if (!v.drivers.length) return `no Vulkan driver: no ICD manifest in ${v.searched.join(', ')} (a GPU driver installs one, e.g. nvidia_icd.json)`;
  }
  return undefined;
}

/** The dynamic linker's message, shortened: "libx.so.1 not found" or its own words. */
function explainLinkerError(message: string): string {
  const m = message.match(/([^\s:/]+\.so[.\d]*): cannot open shared object file/);
  if (m) return `${m[1]} not found`;
  const sym = message.match(/undefined symbol: ([\w.@]+)/);
  if (sym) return `undefined symbol ${sym[1]} (version mismatch)`;
  const ver = message.match(/version `([^']+)' not found/);
  if (ver) return `needs symbol version ${ver[1]} (version mismatch)`;
  return message;
}

/** One line saying why creating or running a session on a provider failed. */
export function explainFailure(name: ProviderName, raw: string, f: ProviderFacts): string {
  const text = raw.replace(/\s+/g, ' ').trim();
  if (/No supported adapters|Failed to get a WebGPU adapter/i.test(text)) {
    const through = f.platform === 'linux' ? 'Vulkan' : f.platform === 'win32' ? 'D3D12' : f.platform === 'darwin' ? 'Metal' : 'its backends';
    const drivers = f.vulkan?.drivers.length ? ` (Vulkan drivers found: ${f.vulkan.drivers.map(basename).join(', ')})` : '';
    return `no WebGPU adapter: Dawn found no usable GPU through ${through}${drivers}`;
  }
  const load = text.match(/Failed to load library (\S+?) with error: (.*?)(?: \[|$)/);
  if (load) return `cannot load ${basename(load[1]!)}: ${explainLinkerError(load[2]!)}`;
  if (/CUDA driver version is insufficient|cudaErrorInsufficientDriver/i.test(text)) {
    return 'version mismatch: the NVIDIA driver is older than the CUDA runtime the provider was built with (update the driver)';
  }
  if (/no CUDA-capable device|cudaErrorNoDevice/i.test(text)) return 'no CUDA GPU is visible (check the driver and CUDA_VISIBLE_DEVICES)';
  if (/CUDNN_STATUS_|cudnn/i.test(text) && /version|mismatch|incompatible/i.test(text)) return `cuDNN version mismatch: ${text.slice(0, 200)}`;
  if (/undefined symbol|version `/.test(text)) return explainLinkerError(text);
  // onnxruntime prefixes its messages with the source location and the failed check.
  const stripped = text.replace(/^\S*onnxruntime_src\S*:\d+ .*? was false\. /, '').replace(/^\[ONNXRuntimeError\] : \d+ : \w+ : /, '');
  return `${name} failed: ${stripped.slice(0, 240)}`;
}
