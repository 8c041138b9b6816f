/**
 * `audiosae corpus label-search --label NAME[=VALUE]` (paper appendix F): the features that detect a label, by
 * the F1 of "feature ≥ t" against it at the best threshold t. Labels from a manifest column (clip level) or
 * Audacity label files next to the clips (frame level; needs a run made with --keep-frame-codes). The engine is
 * src/engine/interp/labelSearch.ts.
 */
import { LABEL_SEARCH_DEFINITION, parseLabel, searchLabel, type LabelLevel, type LabelSource } from '../../../engine/interp/labelSearch.ts';
import { numberOption, type ParsedArgs, type VerbSpec } from '../../args.ts';
import { OUTPUT_OPTIONS, STORE_OPTIONS, withRun, writeRows } from './output.ts';

export const spec: VerbSpec = {
  name: 'corpus label-search',
  summary: 'Features that detect a label (manifest column or Audacity interval labels), by F1 at their best threshold.',
  positionals: [],
  options: [
    ...STORE_OPTIONS,
    { name: 'label', value: '<NAME[=VALUE]>', description: 'a manifest column (NAME=VALUE, or NAME for any true value) or an interval label NAME', required: true },
    { name: 'source', value: '<source>', description: 'metadata (manifest columns) or intervals (<clip>.txt / <clip>.labels.txt label files); default: intervals when there are label files and no =VALUE', choices: ['metadata', 'intervals'] },
    { name: 'level', value: '<level>', description: 'clip (each clip\'s max) or frame (each frame\'s code; needs frame codes); default: frame for intervals, clip for metadata', choices: ['clip', 'frame'] },
    { name: 'min-f1', value: '<f1>', description: 'report features whose best F1 exceeds this', numeric: { kind: 'number', min: 0, max: 1 }, default: '0.5' },
    { name: 'step', value: '<Δt>', description: 'threshold step, from each feature\'s smallest to its largest value', numeric: { kind: 'number', min: 1e-6, max: 1e6 }, default: '0.1' },
    ...OUTPUT_OPTIONS,
  ],
  details: `
Units are clips (a feature's value: its max over the clip) or frames (its code). For every feature active on a
labelled unit, and t from its smallest to its largest value in steps of --step, "value ≥ t" is scored against
the label: F1 = 2·TP / (2·TP + FP + FN). Features with a best F1 above --min-f1 are listed, best first, with
that threshold, precision and recall (paper appendix F).
Manifest labels: --label laughter=1 marks the clips whose column "laughter" is 1; --label laughter marks any
value but empty, 0, false or no. Interval labels: Audacity label files next to the clips (<clip>.txt or
<clip>.labels.txt, "start<TAB>end<TAB>label" in seconds of the file); a frame carries the label when its
midpoint is inside an interval of that name (case-insensitive); only clips with a label file take part.
Columns: feature, f1, threshold, precision, recall, tp, fp, fn.`,
};

export async function run(args: ParsedArgs): Promise<void> {
  await withRun(args, async (store, r) => {
    const result = await searchLabel(store.connection, {
      runId: r.run.runId, layer: r.layer, label: parseLabel(args.options.get('label')!),
      source: args.options.get('source') as LabelSource | undefined, level: args.options.get('level') as LabelLevel | undefined,
      minF1: numberOption(args, 'min-f1'), step: numberOption(args, 'step'),
    });
    await writeRows(args, result.rows as unknown as Record<string, unknown>[], { summary: result.summary, definition: LABEL_SEARCH_DEFINITION });
  });
}
