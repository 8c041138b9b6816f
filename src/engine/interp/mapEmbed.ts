/**
 * PCA to `pcaDims`, then t-SNE (tsne.ts) or UMAP (umap-js), for one map request (mapProtocol.ts): the work the
 * map worker (tsneWorker.ts) does, and featureMap's in-process path.
 */
import { UMAP } from 'umap-js';
import type { EmbedRequest, MapWorkerMessage } from './mapProtocol.ts';
import { pca } from './pca.ts';
import { makeRng } from './random.ts';
import { tsne } from './tsne.ts';

/** The embedding of one request; cancelled when req.cancel[0] becomes non-zero. */
export async function embed(req: EmbedRequest, send: (m: MapWorkerMessage) => void): Promise<Extract<MapWorkerMessage, { type: 'done' }>> {
  const stopped = () => Atomics.load(req.cancel, 0) !== 0;
  const t0 = performance.now();
  send({ type: 'progress', stage: 'pca', iteration: 0, total: 1, kl: null });
  const reduced = await pca(req.rows, req.n, req.dim, req.pcaDims, { seed: req.seed });
  const pcaSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  if (req.method === 'tsne') {
    send({ type: 'progress', stage: 'neighbours', iteration: 0, total: 1, kl: null });
    const r = tsne(reduced.projected, req.n, reduced.k, { seed: req.seed, perplexity: req.perplexity }, {
      shouldStop: stopped,
      onProgress: (p) => send({ type: 'progress', stage: 'tsne', iteration: p.iteration, total: p.total, kl: p.kl }),
    });
    return { type: 'done', embedding: r.embedding, kl: r.kl, cancelled: r.cancelled, pcaSeconds, embedSeconds: (performance.now() - t1) / 1000 };
  }
  const rng = makeRng(req.seed);
  const umap = new UMAP({ nComponents: 2, nNeighbors: Math.max(2, Math.min(15, req.n - 1)), random: () => rng.uniform() });
  const vectors = Array.from({ length: req.n }, (_, i) => Array.from(reduced.projected.subarray(i * reduced.k, (i + 1) * reduced.k)));
  const total = umap.initializeFit(vectors);
  let epochs = 0;
  while (epochs < total && !stopped()) {
    epochs = umap.step();
    if (epochs % 25 === 0 || epochs === total) send({ type: 'progress', stage: 'umap', iteration: epochs, total, kl: null });
  }
  const out = umap.getEmbedding();
  const embedding = new Float64Array(2 * req.n);
  out.forEach((p, i) => {
    embedding[2 * i] = p[0]!;
    embedding[2 * i + 1] = p[1]!;
  });
  return { type: 'done', embedding, kl: null, cancelled: epochs < total, pcaSeconds, embedSeconds: (performance.now() - t1) / 1000 };
}

