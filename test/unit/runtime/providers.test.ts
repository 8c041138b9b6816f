import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { elfNeeded, libraryLoadError } from '../../../src/engine/runtime/nativeLibraries.ts';
import { gatherProviderFacts, ortBinaryDir, vulkanDriverSearch } from '../../../src/engine/runtime/providerFacts.ts';
import { candidateOrder, explainFailure, prerequisiteProblem, type ProviderFacts } from '../../../src/engine/runtime/providerPlan.ts';
import { chooseProvider } from '../../../src/engine/runtime/providers.ts';

const linuxX64 = process.platform === 'linux' && process.arch === 'x64';
/** What the system's ldconfig cache lists: an independent view of which libraries the dynamic linker finds. */
function ldconfigHas(lib: string): boolean {
  if (process.env.LD_LIBRARY_PATH) return libraryLoadError(lib) === undefined;
  try {
    return execFileSync('ldconfig', ['-p'], { encoding: 'utf8' }).split('\n').some((l) => l.trim().startsWith(`${lib} `));
  } catch {
    return libraryLoadError(lib) === undefined;
  }
}

/** A Linux x64 machine with everything in place, to take parts away from. */
function facts(over: Partial<ProviderFacts> = {}): ProviderFacts {
  return {
    platform: 'linux', arch: 'x64', ortVersion: '1.30.0', binaryDir: '/opt/ort/bin', listed: ['cpu', 'webgpu', 'cuda', 'tensorrt'],
    cuda: {
      missingProviderFiles: [],
      driver: { name: 'libcuda.so.1' },
      runtime: ['libcudart.so.12', 'libcublas.so.12', 'libcublasLt.so.12', 'libcufft.so.11', 'libcurand.so.10', 'libcudnn.so.9'].map((name) => ({ name })),
    },
    vulkan: { loader: { name: 'libvulkan.so.1' }, searched: ['/usr/share/vulkan/icd.d'], drivers: ['/usr/share/vulkan/icd.d/nvidia_icd.json'] },
    ...over,
  };
}
const notFound = (lib: string) => `${lib}: cannot open shared object file: No such file or directory`;

describe('execution providers: the decision on this machine (real probing)', { skip: !linuxX64 && 'the real-probing cases are for Linux x64' }, () => {
  const real = gatherProviderFacts();

  it('the onnxruntime-node Linux binary lists WebGPU and CUDA', () => {
    assert.ok(real.listed.includes('webgpu'), `listed: ${real.listed.join(', ')}`);
    assert.ok(real.listed.includes('cuda') && real.listed.includes('cpu'));
    assert.equal(real.binaryDir, ortBinaryDir());
  });

  it('loads libraries through the dynamic linker, as ldconfig sees them', () => {
    for (const lib of [real.vulkan!.loader, real.cuda!.driver, ...real.cuda!.runtime]) {
      assert.equal(lib.error === undefined, ldconfigHas(lib.name), `${lib.name}: ${lib.error}`);
      if (lib.error) assert.match(lib.error, new RegExp(`${lib.name.replace(/\./g, '\\.')}: cannot open shared object file`));
    }
    assert.equal(libraryLoadError('libc.so.6'), undefined);
    assert.match(libraryLoadError('libaudiosae-none.so.7')!, /libaudiosae-none\.so\.7: cannot open shared object file/);
  });

  it('reads DT_NEEDED as readelf does', (t) => {
    const lib = join(ortBinaryDir(), 'libonnxruntime.so.1');
    let readelf: string;
    try {
      readelf = execFileSync('readelf', ['-d', lib], { encoding: 'utf8' });
    } catch {
      return t.skip('readelf (binutils) is not installed');
    }
    const expected = [...readelf.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
    assert.deepEqual(elfNeeded(lib), expected);
    assert.ok(expected.length > 3);
  });

  it('auto explains every provider it skipped in one line, and the reasons are the real ones', async () => {
    const chosen = await chooseProvider('auto', real);
    const order = candidateOrder('linux', 'x64');
    assert.equal(chosen.notes[0], `auto tried ${order.join(', ')} in that order; ${chosen.name} works`);
    const skipped = order.slice(0, order.indexOf(chosen.name));
    assert.equal(chosen.notes.length, 1 + skipped.length);
    skipped.forEach((name, i) => {
      const note = chosen.notes[1 + i]!;
      assert.ok(!note.includes('\n'), note);
      assert.ok(note.startsWith(`${name} skipped: `), note);
      const known = prerequisiteProblem(name, real);
      if (known) assert.equal(note, `${name} skipped: ${known}`);
    });
    if (!ldconfigHas('libcuda.so.1')) {
      assert.equal(chosen.notes[1], 'cuda skipped: no NVIDIA driver: libcuda.so.1 not found');
    }
    if (!ldconfigHas('libvulkan.so.1') && chosen.name === 'cpu') {
      assert.equal(chosen.notes[2], 'webgpu skipped: no Vulkan loader: libvulkan.so.1 not found (Debian/Ubuntu package libvulkan1)');
    }
  });

  it('an explicit provider that does not work is an error with the same reason', async () => {
    const chosen = await chooseProvider('auto', real);
    for (const name of ['cuda', 'webgpu'] as const) {
      if (chosen.name === name) continue;
      const why = chosen.notes.find((n) => n.startsWith(`${name} skipped: `))!.slice(`${name} skipped: `.length);
      await assert.rejects(chooseProvider(name, real), (e: Error) => e.message.startsWith(`the "${name}" execution provider is not usable here: ${why}`));
    }
    assert.equal((await chooseProvider('cpu', real)).name, 'cpu');
  });

  it('WebGPU with a loader and a driver manifest but no GPU: Dawn\'s real failure, explained', async (t) => {
    if (real.vulkan!.loader.error === undefined) return t.skip('this machine has a Vulkan loader');
    // The facts claim a loader and a driver; onnxruntime then really tries and Dawn finds no adapter.
    const claimed = { ...real, vulkan: { ...real.vulkan!, loader: { name: 'libvulkan.so.1' }, drivers: ['/etc/vulkan/icd.d/some_icd.json'] } };
    await assert.rejects(chooseProvider('webgpu', claimed), /not usable here: no WebGPU adapter: Dawn found no usable GPU through Vulkan \(Vulkan drivers found: some_icd\.json\)/);
  });

  it('finds Vulkan driver manifests where the loader looks', () => {
    const dir = mkdtempSync(join(tmpdir(), 'audiosae-vk-'));
    mkdirSync(join(dir, 'data/vulkan/icd.d'), { recursive: true });
    writeFileSync(join(dir, 'data/vulkan/icd.d/nvidia_icd.json'), '{}');
    writeFileSync(join(dir, 'one.json'), '{}');
    const viaXdg = vulkanDriverSearch({ XDG_DATA_DIRS: join(dir, 'data'), XDG_CONFIG_DIRS: join(dir, 'none'), XDG_DATA_HOME: join(dir, 'none') });
    assert.deepEqual(viaXdg.drivers, [join(dir, 'data/vulkan/icd.d/nvidia_icd.json')]);
    assert.ok(viaXdg.searched.includes('/etc/vulkan/icd.d'));
    assert.deepEqual(vulkanDriverSearch({ VK_DRIVER_FILES: `${join(dir, 'one.json')}:${join(dir, 'missing.json')}` }).drivers, [join(dir, 'one.json')]);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('execution providers: the decision on other machines (given facts)', () => {
  it('tries the platform GPU provider, then WebGPU, then the CPU', () => {
    assert.deepEqual(candidateOrder('linux', 'x64'), ['cuda', 'webgpu', 'cpu']);
    assert.deepEqual(candidateOrder('linux', 'arm64'), ['webgpu', 'cpu']);
    assert.deepEqual(candidateOrder('win32', 'x64'), ['dml', 'webgpu', 'cpu']);
    assert.deepEqual(candidateOrder('darwin', 'arm64'), ['coreml', 'webgpu', 'cpu']);
    assert.deepEqual(candidateOrder('freebsd', 'x64'), ['cpu']);
  });

  it('CUDA: the driver, the provider files, then the CUDA/cuDNN libraries, each named', () => {
    assert.equal(prerequisiteProblem('cuda', facts()), undefined);
    const f = facts();
    f.cuda!.driver.error = notFound('libcuda.so.1');
    f.cuda!.missingProviderFiles = ['libonnxruntime_providers_cuda.so'];
    assert.equal(prerequisiteProblem('cuda', f), 'no NVIDIA driver: libcuda.so.1 not found');
    f.cuda!.driver.error = undefined;
    assert.equal(prerequisiteProblem('cuda', f),
      'the onnxruntime 1.30.0 CUDA provider files are not installed (libonnxruntime_providers_cuda.so missing in /opt/ort/bin; see the README: "Using a GPU")');
    f.cuda!.missingProviderFiles = [];
    f.cuda!.runtime.find((l) => l.name === 'libcudnn.so.9')!.error = notFound('libcudnn.so.9');
    f.cuda!.runtime.find((l) => l.name === 'libcublasLt.so.12')!.error = notFound('libcublasLt.so.12');
    assert.equal(prerequisiteProblem('cuda', f), 'libcublasLt.so.12 (CUDA cublasLt), libcudnn.so.9 (cuDNN 9) not loadable: libcublasLt.so.12 not found');
    const old = facts();
    old.cuda!.runtime[0]!.error = '/usr/lib/libcudart.so.12: undefined symbol: cudaGetDriverEntryPointByVersion, version libcudart.so.12';
    assert.equal(prerequisiteProblem('cuda', old), 'libcudart.so.12 (CUDA 12 runtime) not loadable: undefined symbol cudaGetDriverEntryPointByVersion (version mismatch)');
    assert.equal(prerequisiteProblem('cuda', facts({ platform: 'win32' })), 'the onnxruntime CUDA provider for Node exists for Linux x64 only');
  });

  it('WebGPU: the Vulkan loader, a driver manifest, and a build that has it', () => {
    assert.equal(prerequisiteProblem('webgpu', facts()), undefined);
    const noLoader = facts({ vulkan: { loader: { name: 'libvulkan.so.1', error: notFound('libvulkan.so.1') }, searched: [], drivers: [] } });
    assert.equal(prerequisiteProblem('webgpu', noLoader), 'no Vulkan loader: libvulkan.so.1 not found (Debian/Ubuntu package libvulkan1)');
    const noDriver = facts({ vulkan: { loader: { name: 'libvulkan.so.1' }, searched: ['/etc/vulkan/icd.d', '/usr/share/vulkan/icd.d'], drivers: [] } });
    assert.equal(prerequisiteProblem('webgpu', noDriver), 'no Vulkan driver: no ICD manifest in /etc/vulkan/icd.d, /usr/share/vulkan/icd.d (a GPU driver installs one, e.g. nvidia_icd.json)');
    assert.equal(prerequisiteProblem('webgpu', facts({ listed: ['cpu'] })), 'this onnxruntime-node 1.30.0 build has no webgpu provider');
    // Windows and macOS: no Vulkan facts; WebGPU is tried when the build lists it.
    assert.equal(prerequisiteProblem('webgpu', facts({ platform: 'win32', cuda: undefined, vulkan: undefined, listed: ['cpu', 'dml', 'webgpu'] })), undefined);
  });

  it('DirectML and CoreML only on their platforms', () => {
    assert.equal(prerequisiteProblem('dml', facts({ platform: 'win32', listed: ['cpu', 'dml', 'webgpu'] })), undefined);
    assert.equal(prerequisiteProblem('dml', facts()), 'DirectML exists on Windows only');
    assert.equal(prerequisiteProblem('coreml', facts({ platform: 'darwin', arch: 'arm64', listed: ['cpu', 'coreml'] })), undefined);
    assert.equal(prerequisiteProblem('coreml', facts({ platform: 'win32' })), 'CoreML exists on macOS only');
    assert.equal(prerequisiteProblem('coreml', facts({ platform: 'darwin', listed: ['cpu'] })), 'this onnxruntime-node 1.30.0 build has no coreml provider');
  });

  it('turns onnxruntime\'s failures into one line', () => {
    const f = facts();
    // Messages as onnxruntime-node 1.30 gives them.
    const noAdapter = '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters\n';
    assert.equal(explainFailure('webgpu', noAdapter, f), 'no WebGPU adapter: Dawn found no usable GPU through Vulkan (Vulkan drivers found: nvidia_icd.json)');
    assert.equal(explainFailure('webgpu', noAdapter, facts({ platform: 'win32', vulkan: undefined })), 'no WebGPU adapter: Dawn found no usable GPU through D3D12');
    const load = '/onnxruntime_src/onnxruntime/core/session/provider_bridge_ort.cc:1988 onnxruntime::Provider& onnxruntime::ProviderLibrary::Get() [ONNXRuntimeError] : 1 : FAIL : Failed to load library /opt/ort/bin/libonnxruntime_providers_cuda.so with error: libcudnn.so.9: cannot open shared object file: No such file or directory';
    assert.equal(explainFailure('cuda', load, f), 'cannot load libonnxruntime_providers_cuda.so: libcudnn.so.9 not found');
    assert.match(explainFailure('cuda', 'CUDA failure 35: CUDA driver version is insufficient for CUDA runtime version ; GPU=0', f), /^version mismatch: the NVIDIA driver is older/);
    assert.equal(explainFailure('cuda', 'CUDA failure 100: no CUDA-capable device is detected', f), 'no CUDA GPU is visible (check the driver and CUDA_VISIBLE_DEVICES)');
    const other = explainFailure('dml', '/onnxruntime_src/x.cc:12 void f() ok was false. Something odd\nsecond line', f);
    assert.equal(other, 'dml failed: Something odd second line');
  });

  it('on Windows, DirectML then WebGPU are tried for real and each failure is one line', async () => {
    // The facts say Windows; onnxruntime here really refuses DirectML and finds no WebGPU adapter.
    const win = facts({ platform: 'win32', cuda: undefined, vulkan: undefined, listed: ['cpu', 'dml', 'webgpu'] });
    const chosen = await chooseProvider('auto', win);
    assert.equal(chosen.name, 'cpu');
    assert.equal(chosen.notes[0], 'auto tried dml, webgpu, cpu in that order; cpu works');
    assert.match(chosen.notes[1]!, /^dml skipped: \S/);
    assert.match(chosen.notes[2]!, /^webgpu skipped: /);
    for (const n of chosen.notes) assert.ok(!n.includes('\n'), n);
  });
});
