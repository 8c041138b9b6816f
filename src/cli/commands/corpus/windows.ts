/**
 * `audiosae corpus windows --feature J`: a feature's mel receptive field over a corpus run (the engine's
 * src/engine/interp/receptiveField.ts): the mean 1 s log-mel window around its activations in its top clips, its
 * coverage, optionally the individual windows and WAV snippets, and the figure, into one output folder.
 */
import { writeFile } from 'node:fs/promises';
import { AudioSaeError } from '../../../engine/errors.ts';
import { resolveRunModels } from '../../../engine/interp/clipCodes.ts';
import { receptiveField, wav16k, type WindowSelection } from '../../../engine/interp/receptiveField.ts';
import { writeNpy } from '../../../engine/io/npy.ts';
import { OutputFolder } from '../../../engine/io/outputFolder.ts';
import { writeFigure } from '../../../engine/plot/figure.ts';
import { melWindowSvg } from '../../../engine/plot/melWindow.ts';
import { numberOption, type ParsedArgs, type VerbSpec } from '../../args.ts';
import { assetPath } from '../../assets.ts';
import { progressLine } from '../../progress.ts';
import { withRunner } from '../../runner.ts';
import { STORE_OPTIONS, withRun } from './output.ts';

export const RUN_MODEL_OPTIONS: VerbSpec['options'] = [
  { name: 'weights', value: '<dir>', description: 'the backbone folder, if it moved since the run (default: the one the run recorded, else the Hub cache)' },
  { name: 'sae', value: '<path>', description: 'the layer\'s SAE (ae.pt or a folder of layer_<n>/), if it moved since the run; its sha256 must be the run\'s' },
];

export const spec: VerbSpec = {
  name: 'corpus windows',
  summary: 'A feature\'s mel receptive field: the mean log-mel window around its activations in its top clips.',
  positionals: [],
  options: [
    ...STORE_OPTIONS,
    { name: 'feature', value: '<j>', description: 'the feature', numeric: { kind: 'int', min: 0, max: 1_000_000 }, required: true },
    { name: 'clips', value: '<n>', description: 'the clips where it reaches its highest max', numeric: { kind: 'int', min: 1, max: 100_000 }, default: '32' },
    { name: 'window-frames', value: '<n>', description: 'window length in mel frames (100 per second)', numeric: { kind: 'int', min: 2, max: 3000 }, default: '100' },
    { name: 'above', value: '<value>', description: 'a window at every frame whose code exceeds this value, instead of one at each clip\'s arg-max', numeric: { kind: 'number', min: 0, max: 1e9 } },
    { name: 'windows', value: '<n>', description: 'at most this many windows, highest activations first', numeric: { kind: 'int', min: 1, max: 1_000_000 } },
    { name: 'once-per-clip', description: 'with --above: at most one window per clip (its highest frame)' },
    { name: 'no-curve', description: 'read the arg-max frames from the store only: no model runs and no activation curve' },
    { name: 'individual', description: 'also write every window (windows.npy [n, n_mels, frames])' },
    { name: 'audio', description: 'also write each window\'s audio (window_<i>.wav, 16 kHz)' },
    { name: 'figure', value: '<format>', description: 'png or svg', choices: ['png', 'svg'], default: 'png' },
    ...RUN_MODEL_OPTIONS,
    { name: 'out', value: '<folder>', description: 'output folder', required: true },
  ],
  details: `
Windows of --window-frames log-mel frames (100 = 1 s; the backbone's own log-mel, Whisper's 80 bins for HuBERT)
are centred on mel frame 2t of SAE frame t (window column floor(W/2)). By default one window per top clip, at
the arg-max frame the store recorded; --above V takes every frame whose code exceeds V (the codes of the top
clips are computed again with the run's models and settings). Unless --no-curve, the codes are computed and
the feature's mean activation per window column is drawn above the heatmap (curve.npy).
Columns outside a clip are not data: mean.npy [n_mels, frames] averages each column over the windows covering
it (coverage.npy [frames], NaN where none does); windows.npy holds NaN there. windows.csv lists every window.`,
};

export async function run(args: ParsedArgs): Promise<void> {
  const out = args.options.get('out')!;
  const above = numberOption(args, 'above');
  const noCurve = args.flags.has('no-curve');
  if (above !== undefined && noCurve) throw new AudioSaeError('--above needs the codes of every frame, which --no-curve does not compute.', undefined, 'Drop one of them.');
  if (args.flags.has('once-per-clip') && above === undefined) throw new AudioSaeError('--once-per-clip goes with --above (the arg-max mode takes one window per clip already).');
  const selection: WindowSelection = above === undefined ? { kind: 'argmax' } : { kind: 'above', value: above };
  const started = performance.now();
  await withRun(args, async (store, resolved) => {
    const models = noCurve ? undefined : await resolveRunModels(resolved.run, resolved.layer, {
      weights: args.options.get('weights'), sae: args.options.get('sae'), demoModelsDir: assetPath('demo', 'models'),
    });
    const progress = progressLine();
    const rf = await withRunner((runner) => receptiveField(runner, store.connection, {
      runId: resolved.run.runId, layer: resolved.layer, feature: numberOption(args, 'feature')!, clips: numberOption(args, 'clips'),
      windowFrames: numberOption(args, 'window-frames'), selection, maxWindows: numberOption(args, 'windows'), oncePerClip: args.flags.has('once-per-clip'),
      models, keepWindows: args.flags.has('individual'), keepAudio: args.flags.has('audio'),
      onProgress: (done, total) => progress.update(`codes: clip ${done}/${total}`),
    }));
    progress.done();
    const figure = `receptive_field.${args.options.get('figure')}`;
    const wavs = rf.audio?.map((_, i) => `window_${String(i).padStart(3, '0')}.wav`) ?? [];
    const folder = await OutputFolder.create(out, ['mean.npy', 'coverage.npy', 'windows.csv', 'receptive_field.png', 'receptive_field.svg', 'curve.npy', 'windows.npy', ...wavs]);
    await folder.run(async (o) => {
      const W = rf.windowFrames;
      await writeNpy(o.file('mean.npy'), { dtype: 'float32', shape: [rf.nMels, W], data: rf.mean });
      await writeNpy(o.file('coverage.npy'), { dtype: 'int32', shape: [W], data: rf.coverage });
      if (rf.curve) await writeNpy(o.file('curve.npy'), { dtype: 'float32', shape: [W], data: rf.curve });
      if (rf.windows) await writeNpy(o.file('windows.npy'), { dtype: 'float32', shape: [rf.picked.length, rf.nMels, W], data: rf.windows });
      const csv = (s: string) => (/[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
      const lines = ['window,clip_id,clip,domain,start_s,frame,time_s,activation,centre_mel_frame,covered_columns'];
      rf.picked.forEach((p, i) => lines.push([i, p.clipId, csv(p.clip), csv(p.domain), p.startS ?? '', p.frame, p.timeS, p.activation, p.centreMelFrame, p.covered].join(',')));
      await writeFile(o.file('windows.csv'), `${lines.join('\n')}\n`);
      for (const [i, a] of (rf.audio ?? []).entries()) await writeFile(o.file(wavs[i]!), wav16k(a.samples));
      const clips = new Set(rf.picked.map((p) => p.clipId)).size;
      await writeFigure(o.file(figure), melWindowSvg({
        title: `Feature ${rf.feature} · layer ${rf.layer} · receptive field`, nMels: rf.nMels, windowFrames: W, centreColumn: rf.centreColumn,
        mean: rf.mean, coverage: rf.coverage, curve: rf.curve,
        subtitle: `${rf.picked.length} windows from ${clips} clips (${above === undefined ? 'arg-max' : `code > ${above}`}), run ${rf.runId}`,
      }));
    });
    for (const note of rf.notes) process.stderr.write(`note: ${note}\n`);
    const clips = new Set(rf.picked.map((p) => p.clipId)).size;
    process.stdout.write(`feature ${rf.feature}: ${rf.picked.length} windows from ${clips} clips, ${rf.nMels} mel bins × ${rf.windowFrames} frames, ` +
      `coverage ${Math.min(...rf.coverage)}..${Math.max(...rf.coverage)} → ${out} (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
  });
}
