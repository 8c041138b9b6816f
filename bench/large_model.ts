/**
 * Builds a Whisper-large-v3-shaped encoder (d 1280, 20 heads, 32 layers, ffn 5120, 128 mel bins; random weights,
 * about 2.5 GB in float32) up to layer 32 into the graph cache, then runs one 30 s window from it, and prints
 * the size written, the peak RSS of building and of running: a check that models over 2 GiB build in bounded
 * memory (external data, tensors streamed one at a time) and that onnxruntime runs them.
 * Usage: node --import tsx bench/large_model.ts build <cacheDir> | run <model.onnx>
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { cachedGraph } from '../src/engine/onnx/cache.ts';
import type { Named } from '../src/engine/onnx/layers.ts';
import { buildWhisperEncoderGraph } from '../src/engine/onnx/whisper.ts';

const [verb, arg] = process.argv.slice(2);
const rss = () => Math.round(process.resourceUsage().maxRSS / 1024);
if (verb === 'build') {
  let seed = 1;
  const weights: Named = (_n, shape) => () => {
    const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < out.length; i++) out[i] = ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 0.05;
    return out;
  };
  const t = performance.now();
  const { path } = cachedGraph(arg!, { bench: 'large-v3-shape' }, () =>
    buildWhisperEncoderGraph(weights, { dModel: 1280, layers: 32, heads: 20, ffnDim: 5120, melBins: 128, positions: 1500 }, { layers: [32], tap: 'block' }));
  const tensors = join(path, '..', 'tensors');
  const bytes = readdirSync(tensors).reduce((a, n) => a + statSync(join(tensors, n)).size, statSync(path).size);
  console.log(JSON.stringify({ path, gigabytes: bytes / 2 ** 30, buildSeconds: (performance.now() - t) / 1000, buildPeakRssMB: rss() }));
} else {
  const t = performance.now();
  const session = await ort.InferenceSession.create(arg!);
  const mel = new ort.Tensor('float32', new Float32Array(128 * 3000).fill(-0.5), [1, 128, 3000]);
  const out = await session.run({ mel });
  console.log(JSON.stringify({ runSeconds: (performance.now() - t) / 1000, dims: out.acts_32!.dims, runPeakRssMB: rss() }));
}
