/** `audiosae sae`: run an SAE on activations from a .npy file; write codes, reconstruction and metrics. */
import { writeFileAtomic } from '../../engine/io/atomicWrite.ts';
import { CsrNpzWriter } from '../../engine/io/csrNpz.ts';
import { asFloat32Matrix, readNpy, writeNpy } from '../../engine/io/npy.ts';
import { OutputFolder } from '../../engine/io/outputFolder.ts';
import { loadSae, metricsWithFormulas, reconstructionMetrics, runSae, type SaeModeChoice } from '../../engine/sae/index.ts';
import type { ParsedArgs, VerbSpec } from '../args.ts';
import { withRunner } from '../runner.ts';

export const spec: VerbSpec = {
  name: 'sae',
  summary: 'Encode and decode activations with a BatchTopK SAE checkpoint; write codes.npy, recon.npy and metrics.json.',
  positionals: [],
  options: [
    { name: 'sae', value: '<ae.pt>', description: 'SAE state dict saved with torch.save', required: true },
    { name: 'config', value: '<config.json>', description: 'training config to cross-check (default: config.json next to ae.pt, if any)' },
    { name: 'acts', value: '<acts.npy>', description: 'activations, float32 or float64 [frames, d]', required: true },
    { name: 'mode', value: '<mode>', description: 'auto: threshold when stored, else batch top-k', choices: ['auto', 'threshold', 'batch-topk'], default: 'auto' },
    { name: 'out', value: '<dir>', description: 'output folder (created; replaced only if it holds an earlier output)', required: true },
    { name: 'dense-codes', description: 'write the codes as a dense float32 codes.npy [frames, F] instead of codes.npz' },
  ],
  details: `
Outputs: codes.npz (scipy.sparse CSR [frames, F]; scipy.sparse.load_npz) or, with --dense-codes, codes.npy
(float32 [frames, F]), recon.npy (float32 [frames, d]) and metrics.json (the mode that ran, any notice, and each
metric with its definition). The folder appears once every file is written. Batch top-k keeps the k·frames largest activations over
all the frames given, so pass only frames of real audio.`,
};

export async function run(args: ParsedArgs): Promise<void> {
  const saePath = args.options.get('sae')!;
  const actsPath = args.options.get('acts')!;
  const dense = args.flags.has('dense-codes');
  const sae = await loadSae(saePath, args.options.get('config'));
  const acts = asFloat32Matrix(await readNpy(actsPath), actsPath, 'the activations');
  const result = await withRunner((runner) =>
    runSae(runner, sae, acts.data, { mode: args.options.get('mode') as SaeModeChoice, dModel: acts.cols, source: actsPath, dense }),
  );
  const metrics = reconstructionMetrics(acts.data, result.recon, result.sparse, sae.dModel, sae.dictSize);
  if (result.notice) console.error(`note: ${result.notice}`);

  const report = {
    sae: saePath,
    activations: actsPath,
    frames: result.frames,
    dModel: sae.dModel,
    dictSize: sae.dictSize,
    k: sae.k,
    threshold: sae.threshold,
    mode: result.modeUsed,
    notice: result.notice ?? null,
    codes: dense ? { file: 'codes.npy', format: 'dense float32 [frames, F]' } : { file: 'codes.npz', format: 'scipy.sparse CSR [frames, F]: indptr int64, indices int32, data float32' },
    metrics: metricsWithFormulas(metrics),
    aliveFeatures: metrics.aliveFeatures,
    zeroNormFrames: metrics.zeroNormFrames,
  };

  // Everything is computed before anything is written; the folder appears whole or not at all.
  const out = await OutputFolder.create(args.options.get('out')!, ['codes.npz', 'codes.npy', 'recon.npy', 'metrics.json']);
  await out.run(async (folder) => {
    if (dense) {
      await writeNpy(folder.file('codes.npy'), { dtype: 'float32', shape: [result.frames, sae.dictSize], data: result.codes! });
    } else {
      const codes = await CsrNpzWriter.create(folder.file('codes.npz'), sae.dictSize);
      try {
        await codes.append(result.sparse);
        await codes.close();
      } catch (e) {
        await codes.discardScratch();
        throw e;
      }
    }
    await writeNpy(folder.file('recon.npy'), { dtype: 'float32', shape: [result.frames, sae.dModel], data: result.recon });
    await writeFileAtomic(folder.file('metrics.json'), new TextEncoder().encode(`${JSON.stringify(report, null, 2)}\n`));
  });
  console.log(
    `${result.frames} frames, ${result.modeUsed}: L0 ${metrics.l0.toFixed(2)}, FVE ${metrics.fve.toFixed(4)}, ` +
      `normalized L2 ${metrics.normalizedL2.toFixed(4)}, alive ${(100 * metrics.aliveFraction).toFixed(1)}% → ${out.target}`,
  );
}
