/** The CLI's onnxruntime sessions live in the engine worker; this starts it for one job and always stops it. */
import { WorkerRunner } from '../engine/runtime/workerRunner.ts';
import type { ModelRunner } from '../engine/runtime/types.ts';
import type { ExecutionProviderChoice } from '../shared/workerProtocol.ts';

export async function withRunner<T>(job: (runner: ModelRunner) => Promise<T>): Promise<T> {
  const provider = (process.env.AUDIOSAE_EXECUTION_PROVIDER ?? 'auto') as ExecutionProviderChoice;
  const runner = await WorkerRunner.create({ executionProvider: provider });
  try {
    return await job(runner);
  } finally {
    await runner.dispose();
  }
}
