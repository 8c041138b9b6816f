/**
 * `audiosae corpus profile --feature J`: a feature's acoustic profile (src/engine/interp/profile.ts): loudness,
 * F0 and voicing, spectral centroid and flatness, onset strength and place in sound events over the frames where
 * it fires, against the corpus's frames; one line of description and the numbers as CSV, JSON or Parquet.
 */
import { acousticProfile, POSITIONS } from '../../../engine/interp/profile.ts';
import { resolveRunModels } from '../../../engine/interp/clipCodes.ts';
import { numberOption, type ParsedArgs, type VerbSpec } from '../../args.ts';
import { assetPath } from '../../assets.ts';
import { progressLine } from '../../progress.ts';
import { withRunner } from '../../runner.ts';
import { OUTPUT_OPTIONS, STORE_OPTIONS, withRun, writeRows } from './output.ts';
import { RUN_MODEL_OPTIONS } from './windows.ts';

export const spec: VerbSpec = {
  name: 'corpus profile',
  summary: 'A feature\'s acoustic profile: loudness, pitch, voicing, brightness, noisiness, onsets where it fires vs the corpus.',
  positionals: [],
  options: [
    ...STORE_OPTIONS,
    { name: 'feature', value: '<j>', description: 'the feature', numeric: { kind: 'int', min: 0, max: 1_000_000 }, required: true },
    { name: 'clips', value: '<n>', description: 'its top clips by max whose frames are profiled (codes computed again)', numeric: { kind: 'int', min: 1, max: 100_000 }, default: '64' },
    { name: 'baseline-clips', value: '<n>', description: 'clips, spread over the run, whose frames are the corpus side', numeric: { kind: 'int', min: 1, max: 1_000_000 }, default: '100' },
    ...RUN_MODEL_OPTIONS,
    ...OUTPUT_OPTIONS,
  ],
  details: `
Per 20 ms frame (a 64 ms Hann window on the frame's middle): loudness in dBFS, F0 (pitchy's McLeod method;
voiced = clarity >= 0.9, 50-2000 Hz, inside a sound event), spectral centroid and flatness (meyda), onset
strength (positive spectral flux, dB), and the place in a sound event (runs of frames within 30 dB of the
clip's loudest and above -60 dBFS; first third = beginning, last third = end). The feature's side is the frames
of its top --clips clips where its code is non-zero (the codes are computed again with the run's models and
settings); the corpus side is every frame of --baseline-clips clips. The domain shares are of its active frames
over the whole corpus, from the store. Rows: quantity, feature, corpus.`,
};

export async function run(args: ParsedArgs): Promise<void> {
  await withRun(args, async (store, resolved) => {
    const started = performance.now();
    const models = await resolveRunModels(resolved.run, resolved.layer, {
      weights: args.options.get('weights'), sae: args.options.get('sae'), demoModelsDir: assetPath('demo', 'models'),
    });
    const progress = progressLine();
    const p = await withRunner((runner) => acousticProfile(runner, store.connection, {
      runId: resolved.run.runId, layer: resolved.layer, feature: numberOption(args, 'feature')!, models,
      clips: numberOption(args, 'clips'), baselineClips: numberOption(args, 'baseline-clips'),
      onProgress: (what, done, total) => progress.update(`${what}: ${done}/${total}`),
    }));
    progress.done();
    const f = p.firing;
    const c = p.corpus;
    const rows: Record<string, unknown>[] = [
      { quantity: 'frames', unit: '', feature: f.frames, corpus: c.frames },
      { quantity: 'loudness', unit: 'dBFS', feature: f.loudnessDb, corpus: c.loudnessDb },
      { quantity: 'voiced_rate', unit: '', feature: f.voicedRate, corpus: c.voicedRate },
      { quantity: 'f0_median', unit: 'Hz', feature: f.f0MedianHz, corpus: c.f0MedianHz },
      { quantity: 'f0_mean', unit: 'Hz', feature: f.f0MeanHz, corpus: c.f0MeanHz },
      { quantity: 'spectral_centroid', unit: 'Hz', feature: f.centroidHz, corpus: c.centroidHz },
      { quantity: 'spectral_flatness', unit: '', feature: f.flatness, corpus: c.flatness },
      { quantity: 'onset_strength', unit: 'dB', feature: f.onsetStrength, corpus: c.onsetStrength },
      ...POSITIONS.map((pos) => ({ quantity: `event_${pos}`, unit: 'share', feature: f.position[pos], corpus: c.position[pos] })),
      ...p.domains.map((d) => ({ quantity: `domain_${d.domain}`, unit: 'share of active frames', feature: d.share, corpus: null })),
    ];
    for (const note of p.notes) process.stderr.write(`note: ${note}\n`);
    await writeRows(args, rows, {
      feature: p.feature, layer: p.layer, description: `feature ${p.feature} ${p.description}`,
      clips: `${p.clipsProfiled} top clips vs ${p.baselineClips} corpus clips (${((performance.now() - started) / 1000).toFixed(1)} s)`,
    });
  });
}
