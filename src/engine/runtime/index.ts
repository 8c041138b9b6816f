export type { HostTensor, ModelRunner, ModelSource } from './types.ts';
export { InProcessRunner } from './inProcess.ts';
export { WorkerRunner, type WorkerRunnerOptions } from './workerRunner.ts';
export { chooseProvider, type ProviderChoice } from './providers.ts';
