/**
 * Chooses the onnxruntime execution provider. `auto` tries, each in its own try/catch, the GPU provider of
 * this platform (CUDA on Linux x64, DirectML on Windows, CoreML on macOS) and then the CPU; a provider counts
 * as usable once a tiny session created with it alone runs and gives the right answer. An explicit choice that
 * does not work is an error that says why. The same graphs and the same checks run on every provider.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { AudioSaeError } from '../errors.ts';
import { GraphBuilder } from '../onnx/graph.ts';
import type { ExecutionProviderChoice } from '../../shared/workerProtocol.ts';

export interface ProviderChoice {
  name: Exclude<ExecutionProviderChoice, 'auto'>;
  notes: string[];
  sessionOptions: ort.InferenceSession.SessionOptions;
}

/** y = 2·x + 1 on four values: enough to prove a provider loads and computes. */
function probeModel(): Uint8Array {
  const g = new GraphBuilder('probe');
  const x = g.input('x', 'float', [4]);
  const y = g.node('Add', [g.node('Mul', [x, g.constFloat(2)]), g.constFloat(1)]);
  g.node('Identity', [y], {}, 'y');
  g.output('y', 'float', [4]);
  return g.toBytes();
}

async function probe(name: ProviderChoice['name']): Promise<ort.InferenceSession.SessionOptions> {
  const options: ort.InferenceSession.SessionOptions = { executionProviders: [name] };
  // Quiet while probing: a missing GPU library is an expected outcome, reported in the notes instead.
  const session = await ort.InferenceSession.create(probeModel(), { ...options, logSeverityLevel: 4 });
  try {
    const r = await session.run({ x: new ort.Tensor('float32', Float32Array.from([0, 1, 2, 3]), [4]) });
    const y = r.y!.data as Float32Array;
    if (![1, 3, 5, 7].every((v, i) => y[i] === v)) throw new Error(`wrong result ${Array.from(y)}`);
  } finally {
    await session.release();
  }
  return options;
}

function platformGpuProviders(): ProviderChoice['name'][] {
  if (process.platform === 'linux' && process.arch === 'x64') return ['cuda'];
  if (process.platform === 'win32') return ['dml'];
  if (process.platform === 'darwin') return ['coreml'];
  return [];
}

/**
 * The folder holding onnxruntime-node's native binaries for this platform, where the CUDA provider
 * libraries must be placed for CUDA to load.
 */
export function ortBinaryDir(): string {
  const pkg = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
  return join(dirname(pkg), 'bin', 'napi-v6', process.platform, process.arch);
}

/** The installed onnxruntime-node version (CUDA provider files must match it exactly). */
export function ortVersion(): string {
  const pkg = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
}

/** Why a provider cannot work here without trying it, or undefined. */
function missingPrerequisite(name: ProviderChoice['name']): string | undefined {
  if (name === 'cuda' && !existsSync(join(ortBinaryDir(), 'libonnxruntime_providers_cuda.so'))) {
    return 'the onnxruntime CUDA provider files are not installed (see the README: "Using an NVIDIA GPU")';
  }
  return undefined;
}

const firstLine = (e: unknown) => String((e as Error)?.message ?? e).split('\n')[0]!.slice(0, 300);

export async function chooseProvider(choice: ExecutionProviderChoice): Promise<ProviderChoice> {
  if (choice !== 'auto') {
    try {
      const missing = missingPrerequisite(choice);
      if (missing) throw new Error(missing);
      return { name: choice, notes: [`${choice} chosen in settings`], sessionOptions: await probe(choice) };
    } catch (e) {
      throw new AudioSaeError(
        `the "${choice}" execution provider is not usable here: ${firstLine(e)}`,
        undefined,
        choice === 'cuda'
          ? 'CUDA needs an NVIDIA GPU with CUDA 12 and cuDNN 9 and the onnxruntime-node CUDA provider files (see the README), or set audioSae.executionProvider to "auto".'
          : 'Set audioSae.executionProvider to "auto" or "cpu".',
      );
    }
  }
  const notes: string[] = [];
  for (const name of platformGpuProviders()) {
    const missing = missingPrerequisite(name);
    if (missing) {
      notes.push(`${name} skipped: ${missing}`);
      continue;
    }
    try {
      return { name, notes, sessionOptions: await probe(name) };
    } catch (e) {
      notes.push(`${name} skipped: ${firstLine(e)}`);
    }
  }
  return { name: 'cpu', notes, sessionOptions: await probe('cpu') };
}
