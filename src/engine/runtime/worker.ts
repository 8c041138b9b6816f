/**
 * The engine worker: owns the onnxruntime sessions so that `InferenceSession.run`, which blocks its thread,
 * never blocks the extension host or the CLI's event loop. Requests are handled one at a time, in order.
 */
import { parentPort } from 'node:worker_threads';
import { isUserError } from '../errors.ts';
import { assertNever, forTransfer, type WorkerReply, type WorkerRequest } from '../../shared/workerProtocol.ts';
import { InProcessRunner } from './inProcess.ts';
import { chooseProvider } from './providers.ts';

if (!parentPort) throw new Error('worker.ts must run in a worker thread');
const port = parentPort;
let runner: InProcessRunner | undefined;
let queue = Promise.resolve();

function reply(message: WorkerReply): void {
  if (message.type !== 'ok' || !message.outputs) return port.postMessage(message);
  const sent = forTransfer(message.outputs);
  port.postMessage({ ...message, outputs: sent.tensors }, sent.transfer);
}

async function handle(req: WorkerRequest): Promise<WorkerReply> {
  switch (req.type) {
    case 'init': {
      const chosen = await chooseProvider(req.executionProvider);
      await runner?.dispose();
      runner = new InProcessRunner({ name: chosen.name, notes: chosen.notes }, chosen.sessionOptions);
      return { type: 'ok', id: req.id, provider: runner.provider };
    }
    // Load and run replies carry the provider too: a graph that fell back to the CPU adds a note.
    case 'load':
      await ready().load(req.key, () => req.source);
      return { type: 'ok', id: req.id, provider: ready().provider };
    case 'run': {
      const notes = ready().provider.notes.length;
      const outputs = await ready().run(req.key, req.feeds, req.outputNames);
      return { type: 'ok', id: req.id, outputs, provider: ready().provider.notes.length !== notes ? ready().provider : undefined };
    }
    case 'unload':
      await ready().unload(req.key);
      return { type: 'ok', id: req.id };
    case 'shutdown':
      await runner?.dispose();
      runner = undefined;
      setImmediate(() => process.exit(0));
      return { type: 'ok', id: req.id };
    default:
      return assertNever(req);
  }
}

function ready(): InProcessRunner {
  if (!runner) throw new Error('engine worker used before init');
  return runner;
}

port.on('message', (req: WorkerRequest) => {
  queue = queue.then(async () => {
    try {
      reply(await handle(req));
    } catch (e) {
      reply({
        type: 'error',
        id: req.id,
        message: e instanceof Error ? e.message : String(e),
        userError: isUserError(e),
        file: isUserError(e) ? e.file : undefined,
      });
    }
  });
});
