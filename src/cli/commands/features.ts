/**
 * `audiosae features`: activations, SAE codes, reconstruction, metrics and the clip's strongest features,
 * written to a folder that appears whole or not at all. The clip streams through window by window (a WAV file
 * is read from disk piece by piece) and every array is written as it is computed, so memory stays at one
 * 30 s window (Whisper) or chunk (HuBERT) whatever the clip's length.
 */
import { openAudio16kStream, type AudioStream16k } from '../../engine/audio/index.ts';
import { CsrNpzWriter } from '../../engine/io/csrNpz.ts';
import { NpyFileWriter } from '../../engine/io/npyStream.ts';
import { OutputFolder } from '../../engine/io/outputFolder.ts';
import { writeFileAtomic } from '../../engine/io/atomicWrite.ts';
import { streamClipFeatures, type FeatureChunk, type StreamOptions, type StreamSummary } from '../../engine/pipeline/stream.ts';
import type { ModelRunner } from '../../engine/runtime/types.ts';
import { denseRows, FeatureStatsAccumulator, metricsWithFormulas, type SparseCodes } from '../../engine/sae/index.ts';
import { numberOption, type ParsedArgs, type VerbSpec } from '../args.ts';
import { MODEL_OPTIONS, modelChoice, resolveFromArgs } from '../modelOptions.ts';
import { progressLine } from '../progress.ts';
import { withRunner } from '../runner.ts';

const OUTPUTS = ['acts.npy', 'recon.npy', 'codes.npz', 'codes.npy', 'features.json'];
/** Frames densified at a time for --dense-codes (bounds the dense buffer at 256 × F floats). */
const DENSE_ROWS = 256;

export const spec: VerbSpec = {
  name: 'features',
  summary: 'Run a backbone layer and its SAE on an audio file; write activations, codes, metrics and top features.',
  positionals: ['<audio>'],
  options: [
    ...MODEL_OPTIONS,
    { name: 'out', value: '<dir>', description: 'output folder (created; replaced only if it holds an earlier output)', required: true },
    { name: 'top', value: '<n>', description: 'features listed in features.json', numeric: { kind: 'int', min: 1, max: 100_000 }, default: '20' },
    { name: 'dense-codes', description: 'write the codes as a dense float32 codes.npy [frames, F] instead of codes.npz' },
  ],
  details: `
Writes acts.npy (float32 [frames, d]), recon.npy (float32 [frames, d]), the SAE codes as codes.npz (scipy.sparse
CSR [frames, F]: scipy.sparse.load_npz("codes.npz"), or numpy.load) or, with --dense-codes, codes.npy (float32
[frames, F]), and features.json: the models used, the SAE mode that ran, notes, every metric with its
definition, and the clip's strongest features (max activation, time of the max, active frames). The folder
appears once everything is written; an interrupted run leaves no partial output.`,
};

/** Dense rows of a chunk's sparse codes, DENSE_ROWS frames at a time. */
function* denseBlocks(sparse: SparseCodes, dictSize: number): Generator<Float32Array> {
  for (let t0 = 0; t0 < sparse.frames; t0 += DENSE_ROWS) {
    yield denseRows(sparse, dictSize, t0, Math.min(sparse.frames, t0 + DENSE_ROWS));
  }
}

export async function run(args: ParsedArgs): Promise<void> {
  const audioPath = args.positionals[0]!;
  const dense = args.flags.has('dense-codes');
  const choice = modelChoice(args);
  const resolved = await resolveFromArgs(args);
  const out = await OutputFolder.create(args.options.get('out')!, OUTPUTS);
  const progress = progressLine();
  const { summary, audio, stats } = await out.run(async (folder) => {
    const r = await withRunner((runner) => streamToFolder(runner, folder, audioPath, dense, (done, total) => progress.update(`${done}/${total} frames`), {
      weightsFolder: resolved.weightsFolder, saePath: resolved.saePath, ...choice,
    }));
    progress.done();
    const top = r.stats.top(numberOption(args, 'top')!, 50);
    const report = {
      audio: audioPath, durationS: r.audio.durationS, sourceRateHz: r.audio.sourceRateHz, channels: r.audio.channels,
      backbone: resolved.spec.id, weights: resolved.weightsFolder, layer: choice.layer, tap: choice.tap, sae: resolved.saePath,
      dModel: r.summary.sae.dModel, dictSize: r.summary.sae.dictSize, k: r.summary.sae.k,
      frames: r.summary.frames, framesPerSecond: 50, mode: r.summary.modeUsed, notes: r.summary.notes,
      codes: dense ? { file: 'codes.npy', format: 'dense float32 [frames, F]' } : { file: 'codes.npz', format: 'scipy.sparse CSR [frames, F]: indptr int64, indices int32, data float32' },
      metrics: metricsWithFormulas(r.summary.metrics),
      topFeatures: top.map((t) => ({ id: t.id, max: t.maxValue, timeOfMaxS: t.maxTimeS, activeFrames: t.activeFrames })),
    };
    await writeFileAtomic(folder.file('features.json'), new TextEncoder().encode(`${JSON.stringify(report, null, 2)}\n`));
    return r;
  });
  for (const note of summary.notes) console.error(`note: ${note}`);
  const m = summary.metrics;
  console.log(`${resolved.spec.label} layer ${choice.layer}: ${summary.frames} frames (${audio.durationS.toFixed(1)} s), ${summary.modeUsed}, L0 ${m.l0.toFixed(1)}, FVE ${m.fve.toFixed(3)}, ${stats.activeFeatures()} features active → ${out.target}`);
}

/** Streams the clip through the layer and SAE, writing acts, recon and codes into the folder as they come. */
async function streamToFolder(
  runner: ModelRunner,
  folder: OutputFolder,
  audioPath: string,
  dense: boolean,
  onProgress: (done: number, total: number) => void,
  models: Omit<StreamOptions, 'audio' | 'onChunk' | 'onStart'>,
): Promise<{ summary: StreamSummary; audio: AudioStream16k; stats: FeatureStatsAccumulator }> {
  const audio = await openAudio16kStream(audioPath, runner);
  let arrays: NpyFileWriter[] = [];
  let sparseCodes: CsrNpzWriter | undefined;
  let stats: FeatureStatsAccumulator | undefined;
  let totalFrames = 0;
  try {
    const summary = await streamClipFeatures(runner, {
      ...models,
      audio,
      onStart: async ({ sae, totalFrames: n }) => {
        totalFrames = n;
        stats = new FeatureStatsAccumulator(sae.dictSize);
        arrays.push(await NpyFileWriter.create(folder.file('acts.npy'), 'float32', [n, sae.dModel]));
        arrays.push(await NpyFileWriter.create(folder.file('recon.npy'), 'float32', [n, sae.dModel]));
        if (dense) arrays.push(await NpyFileWriter.create(folder.file('codes.npy'), 'float32', [n, sae.dictSize]));
        else sparseCodes = await CsrNpzWriter.create(folder.file('codes.npz'), sae.dictSize);
      },
      onChunk: async (c: FeatureChunk) => {
        const [acts, recon, denseCodes] = arrays;
        await acts!.append(c.acts);
        await recon!.append(c.recon);
        if (denseCodes) for (const block of denseBlocks(c.sparse, stats!.dictSize)) await denseCodes.append(block);
        else await sparseCodes!.append(c.sparse);
        stats!.add(c.startFrame, c.sparse);
        onProgress(c.startFrame + c.frames, totalFrames);
      },
    });
    for (const w of arrays) await w.close();
    arrays = [];
    await sparseCodes?.close();
    sparseCodes = undefined;
    return { summary, audio, stats: stats! };
  } finally {
    for (const w of arrays) await w.abort();
    await sparseCodes?.discardScratch();
    await audio.close();
  }
}
