/**
 * Chooses the onnxruntime execution provider. `auto` tries this platform's providers in order (providerPlan.ts:
 * CUDA, WebGPU, CPU on Linux x64; DirectML, WebGPU, CPU on Windows; CoreML, WebGPU, CPU on macOS), each in its
 * own try/catch, and says in one line why each one before the chosen was skipped: a prerequisite found missing
 * on the machine (providerFacts.ts), or the failure of a tiny session created with that provider alone, which
 * must run and give the right answer. An explicit choice that does not work is an error that says why. The
 * same graphs and checks run on every provider; a graph the provider cannot run falls back to the CPU on its
 * own (inProcess.ts).
 */
import * as ort from 'onnxruntime-node';
import { AudioSaeError } from '../errors.ts';
import { GraphBuilder } from '../onnx/graph.ts';
import type { ExecutionProviderChoice } from '../../shared/workerProtocol.ts';
import { gatherProviderFacts } from './providerFacts.ts';
import { candidateOrder, explainFailure, prerequisiteProblem, type ProviderFacts, type ProviderName } from './providerPlan.ts';

export { ortBinaryDir, ortVersion } from './providerFacts.ts';

export interface ProviderChoice {
  name: ProviderName;
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

export function sessionOptionsFor(name: ProviderName): ort.InferenceSession.SessionOptions {
  return { executionProviders: [name] };
}

async function probe(name: ProviderName): Promise<ort.InferenceSession.SessionOptions> {
  const options = sessionOptionsFor(name);
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

const message = (e: unknown) => String((e as Error)?.message ?? e);

/** What each provider needs, for the explicit-choice error. */
const NEEDS: Record<ProviderName, string> = {
  cuda: 'CUDA needs an NVIDIA GPU and driver, CUDA 12 and cuDNN 9 libraries on the library path and the onnxruntime-node CUDA provider files (see the README), or set audioSae.executionProvider to "auto".',
  webgpu: 'WebGPU needs a GPU driver with Vulkan (Linux: the libvulkan1 loader and the driver\'s ICD), D3D12 (Windows) or Metal (macOS); or set audioSae.executionProvider to "auto".',
  dml: 'DirectML needs Windows 10 or later with a DirectX 12 GPU; or set audioSae.executionProvider to "auto".',
  coreml: 'CoreML needs macOS; or set audioSae.executionProvider to "auto".',
  cpu: 'Set audioSae.executionProvider to "auto".',
};

/** Tries one provider: its session options when usable, else the one-line reason. */
export async function tryProvider(name: ProviderName, facts: ProviderFacts): Promise<{ options?: ort.InferenceSession.SessionOptions; why?: string }> {
  const missing = prerequisiteProblem(name, facts);
  if (missing) return { why: missing };
  try {
    return { options: await probe(name) };
  } catch (e) {
    return { why: explainFailure(name, message(e), facts) };
  }
}

export async function chooseProvider(choice: ExecutionProviderChoice, facts: ProviderFacts = gatherProviderFacts()): Promise<ProviderChoice> {
  if (choice !== 'auto') {
    const r = await tryProvider(choice, facts);
    if (r.options) return { name: choice, notes: [`${choice} chosen in settings`], sessionOptions: r.options };
    throw new AudioSaeError(`the "${choice}" execution provider is not usable here: ${r.why}`, undefined, NEEDS[choice]);
  }
  const order = candidateOrder(facts.platform, facts.arch);
  const notes: string[] = [];
  for (const name of order) {
    const r = await tryProvider(name, facts);
    if (r.options) {
      notes.unshift(`auto tried ${order.join(', ')} in that order; ${name} works`);
      return { name, notes, sessionOptions: r.options };
    }
    notes.push(`${name} skipped: ${r.why}`);
  }
  throw new AudioSaeError(`no onnxruntime execution provider works here: ${notes.join('; ')}`);
}
