/**
 * This project's side of the backbone benchmark: one real-size random-weight encoder (Whisper-small or
 * HuBERT-base shape) up to one layer, on 30 s of audio, in onnxruntime in this thread. Prints one JSON line:
 * median seconds over runs, peak RSS, and (with --matmul) a large plain MatMul's GFLOP/s as the ceiling.
 * The graph is built into the on-disk graph cache first (external weights, as the product runs it) and then
 * run from there in a fresh process, so the peak memory is that of running, not of building.
 * Usage: node --import tsx bench/backbones.ts build whisper|hubert <layer> <cacheDir>   (prints the model path)
 *        node --import tsx bench/backbones.ts run whisper|hubert <model.onnx> | --matmul
 */
import { cachedGraph } from '../src/engine/onnx/cache.ts';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../src/engine/onnx/graph.ts';
import { buildHubertEncoderGraph, type HubertEncoderConfig } from '../src/engine/onnx/hubert.ts';
import type { Named } from '../src/engine/onnx/layers.ts';
import { buildWhisperEncoderGraph, type WhisperEncoderConfig } from '../src/engine/onnx/whisper.ts';

let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 0.1;
const randomWeights: Named = (_name, shape) => () => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, rand);

async function median(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>, runs: number): Promise<number> {
  await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await session.run(feeds);
    times.push((performance.now() - t) / 1000);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

const [verb, what, arg, cacheDir] = process.argv.slice(2);
if (verb === '--matmul') {
  const n = 3072;
  const g = new GraphBuilder();
  g.node('MatMul', [g.input('a', 'float', [n, n]), g.init('b', { dims: [n, n], data: Float32Array.from({ length: n * n }, rand) })], {}, 'y');
  g.output('y', 'float', [n, n]);
  const s = await ort.InferenceSession.create(g.toBytes());
  const seconds = await median(s, { a: new ort.Tensor('float32', Float32Array.from({ length: n * n }, rand), [n, n]) }, 5);
  console.log(JSON.stringify({ matmulGflops: (2 * n ** 3) / seconds / 1e9 }));
} else if (verb === 'build') {
  const layer = Number(arg);
  const build = () => {
    if (what === 'whisper') {
      const config: WhisperEncoderConfig = { dModel: 768, layers: 12, heads: 12, ffnDim: 3072, melBins: 80, positions: 1500 };
      return buildWhisperEncoderGraph(randomWeights, config, { layers: [layer], tap: 'block' });
    }
    const config: HubertEncoderConfig = {
      convDim: Array(7).fill(512), convKernel: [10, 3, 3, 3, 3, 2, 2], convStride: [5, 2, 2, 2, 2, 2, 2], convBias: false,
      featExtractNorm: 'group', featProjLayerNorm: true, stableLayerNorm: false, layerNormEps: 1e-5, posConvKernel: 128,
      posConvGroups: 16, dModel: 768, heads: 12, ffnDim: 3072, layers: 12,
    };
    const posConvWeight = () => Float32Array.from({ length: 768 * 48 * 128 }, rand);
    return buildHubertEncoderGraph(randomWeights, config, { layers: [layer], tap: 'block', normalizeInput: false, posConvWeight });
  };
  console.log(cachedGraph(cacheDir!, { bench: what, layer }, build).path);
} else {
  const feeds: Record<string, ort.Tensor> = what === 'whisper'
    ? { mel: new ort.Tensor('float32', Float32Array.from({ length: 80 * 3000 }, rand), [1, 80, 3000]) }
    : { wave: new ort.Tensor('float32', Float32Array.from({ length: 480000 }, rand), [1, 480000]) };
  const session = await ort.InferenceSession.create(arg!);
  const seconds = await median(session, feeds, 3);
  console.log(JSON.stringify({ seconds, peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024) }));
}
