/**
 * The feature-map worker: runs one map request (mapProtocol.ts) through mapEmbed.ts off the caller's thread
 * (both embeddings loop for seconds to minutes without yielding), posting its progress and its one answer.
 */
import { parentPort } from 'node:worker_threads';
import { embed } from './mapEmbed.ts';
import type { EmbedRequest, MapWorkerMessage } from './mapProtocol.ts';

const post = (m: MapWorkerMessage, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(m, transfer);

if (parentPort) {
  parentPort.once('message', (req: EmbedRequest) => {
    embed(req, (m) => post(m)).then(
      (done) => post(done, [done.embedding.buffer as ArrayBuffer]),
      (e: unknown) => post({ type: 'error', message: e instanceof Error ? e.message : String(e) }),
    );
  });
}
