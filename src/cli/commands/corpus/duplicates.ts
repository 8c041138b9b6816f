/**
 * `audiosae corpus duplicates` and `audiosae corpus coverage` (paper appendix B): features of one SAE that fire on
 * the same frames (IoU > θ), and how much of one SAE another covers (two layers of a run, or two runs over the
 * same clips). Both need a run made with `--keep-frame-codes`. Rows are the pairs; the counts per layer (or per
 * compared pair of SAEs), as the paper's tables give them, come with them (JSON "summary", stderr otherwise), or
 * alone with --summary. The engine is src/engine/interp/cooccurrence.ts.
 */
import { AudioSaeError } from '../../../engine/errors.ts';
import { IOU_DEFINITIONS } from '../../../engine/interp/cooccurrence.ts';
import { coverageBetween, duplicateFeatures, type SaeRef } from '../../../engine/interp/runCooccurrence.ts';
import { describeRun, listRuns, resolveRun, type RunSummary } from '../../../engine/store/queries.ts';
import { CorpusStore } from '../../../engine/store/store.ts';
import { numberOption, type OptionSpec, type ParsedArgs, type VerbSpec } from '../../args.ts';
import { OUTPUT_OPTIONS, STORE_OPTIONS, writeRows } from './output.ts';

const THETA: OptionSpec = { name: 'theta', value: '<θ>', description: 'IoU above which two features count as the same', numeric: { kind: 'number', min: 0, max: 1 }, default: '0.5' };
const SUMMARY: OptionSpec = { name: 'summary', description: 'write the counts (one row per layer or compared pair) instead of the pairs' };
const pct = (x: number) => Math.round(x * 10_000) / 100;

/** A run by id or unique prefix (or the store's only run), whatever its layers; resolveRun's messages otherwise. */
async function pickRun(conn: CorpusStore['connection'], runId: string | undefined): Promise<RunSummary> {
  const runs = await listRuns(conn);
  const exact = runs.find((r) => r.runId === runId);
  const candidates = exact ? [exact] : runs.filter((r) => runId === undefined || r.runId.startsWith(runId));
  return (await resolveRun(conn, exact?.runId ?? runId, candidates.length === 1 ? candidates[0]!.layers[0] : undefined)).run;
}

async function withStore<T>(args: ParsedArgs, use: (store: CorpusStore) => Promise<T>): Promise<T> {
  const store = await CorpusStore.open(args.options.get('store')!, { readOnly: true });
  try {
    return await use(store);
  } finally {
    store.close();
  }
}

async function write(args: ParsedArgs, pairs: Record<string, unknown>[], summary: Record<string, unknown>[], definitions: Record<string, string>): Promise<void> {
  if (args.flags.has('summary')) await writeRows(args, summary, { definitions });
  else await writeRows(args, pairs, { summary, definitions });
}

const duplicates = {
  spec: {
    name: 'corpus duplicates',
    summary: 'Pairs of features of one SAE that fire on the same frames (IoU > θ), and how many features have a duplicate.',
    positionals: [],
    options: [...STORE_OPTIONS.map((o) => (o.name === 'layer' ? { ...o, description: 'one layer (default: every layer of the run)' } : o)), THETA, SUMMARY, ...OUTPUT_OPTIONS],
    details: `
Activations are binarised per frame (active = code ≠ 0). IoU(a, b) = |A ∩ B| / |A ∪ B| over every frame of the
run's clips, A and B the frames where a and b are active. Two features of one SAE with IoU > θ are duplicates;
the summary gives per layer the alive features (active at least once), those with a duplicate and their
share of the alive ones (paper appendix B, Table 4; the denominator, alive features, is inferred), and the
number of pairs. Needs a run made with
\`corpus run --keep-frame-codes\`. Columns: layer, feature_a, feature_b, iou, intersect (frames both), union.
The codes are read a few million at a time into one matrix of counts (2·F² bytes; 75 MB at F = 6 144), so memory
does not grow with the corpus.`,
  } satisfies VerbSpec,
  run: (args: ParsedArgs) => withStore(args, async (store) => {
    const layer = numberOption(args, 'layer');
    const run = await pickRun(store.connection, args.options.get('run'));
    if (layer !== undefined) await resolveRun(store.connection, run.runId, layer); // says which layers exist
    const layers = layer === undefined ? run.layers : [layer];
    process.stderr.write(`${describeRun(run)} · layers ${layers.join(',')}\n`);
    const theta = numberOption(args, 'theta')!;
    const r = await duplicateFeatures(store.connection, run.runId, layers, theta);
    const summary = r.summaries.map((s) => ({ layer: s.layer, frames: s.frames, alive: s.alive, duplicated: s.duplicated, duplicatedPct: pct(s.duplicatedFraction), pairs: s.pairs, theta }));
    await write(args, r.pairs as unknown as Record<string, unknown>[], summary, { iou: IOU_DEFINITIONS.iou, duplicates: IOU_DEFINITIONS.duplicates });
  }),
};

const coverage = {
  spec: {
    name: 'corpus coverage',
    summary: 'How many features of one SAE have a counterpart (IoU > θ) in another: layer → next layer of a run, or two runs over the same clips.',
    positionals: [],
    options: [
      ...STORE_OPTIONS.map((o) => (o.name === 'layer' ? { ...o, description: 'layer of the first SAE (default: every layer of the run)' } : o)),
      { name: 'to-run', value: '<run id>', description: 'the second run (default: the same run)' },
      { name: 'to-layer', value: '<n>', description: 'layer of the second SAE (default: the next layer of the same run; the same layer of another run)', numeric: { kind: 'int', min: 1, max: 64 } },
      THETA, SUMMARY, ...OUTPUT_OPTIONS,
    ],
    details: `
c(A, B) = the fraction of the alive features of A (active at least once) that have some feature of B with
IoU > θ over the same frames; the summary gives both c(A, B) and c(B, A) (paper appendix B, Table 5). Within one run
the frames are the same; across runs clips are matched by content hash and segment, frame by frame. Without
--layer: every layer and the next (one run), or every layer the two runs share (two runs, e.g. SAEs trained
with other seeds). Needs runs made with \`corpus run --keep-frame-codes\`. Columns: run_a, layer_a, run_b,
layer_b, feature_a, feature_b, iou, intersect (frames both), union. Memory: one matrix of counts, 4·F_A·F_B
bytes (151 MB at F = 6 144), and a few million codes at a time, whatever the corpus size.`,
  } satisfies VerbSpec,
  run: (args: ParsedArgs) => withStore(args, async (store) => {
    const conn = store.connection;
    const layer = numberOption(args, 'layer');
    const toLayer = numberOption(args, 'to-layer');
    if (toLayer !== undefined && layer === undefined) throw new AudioSaeError('--to-layer needs --layer (the layer of the first SAE).');
    const a = await pickRun(conn, args.options.get('run'));
    const toRun = args.options.get('to-run');
    const b = toRun === undefined ? a : await pickRun(conn, toRun);
    const same = a.runId === b.runId;
    let comparisons: Array<[SaeRef, SaeRef]>;
    if (layer !== undefined) {
      const other = toLayer ?? (same ? a.layers[a.layers.indexOf(layer) + 1] : layer);
      if (other === undefined) throw new AudioSaeError(`layer ${layer} is the last layer of run ${a.runId}; there is no next layer to compare with.`, store.path, 'Name one with --to-layer.');
      comparisons = [[{ runId: a.runId, layer }, { runId: b.runId, layer: other }]];
    } else if (same) {
      comparisons = a.layers.slice(0, -1).map((l, i) => [{ runId: a.runId, layer: l }, { runId: a.runId, layer: a.layers[i + 1]! }]);
      if (comparisons.length === 0) throw new AudioSaeError(`run ${a.runId} has one layer (${a.layers[0]}); coverage within a run compares a layer with the next.`, store.path, 'Name another run with --to-run, or run more layers.');
    } else {
      const shared = a.layers.filter((l) => b.layers.includes(l));
      if (shared.length === 0) throw new AudioSaeError(`runs ${a.runId} (layers ${a.layers.join(',')}) and ${b.runId} (layers ${b.layers.join(',')}) share no layer.`, store.path, 'Name the layers with --layer and --to-layer.');
      comparisons = shared.map((l) => [{ runId: a.runId, layer: l }, { runId: b.runId, layer: l }]);
    }
    for (const [x, y] of comparisons) {
      await resolveRun(conn, x.runId, x.layer); // each says which layers exist
      await resolveRun(conn, y.runId, y.layer);
    }
    process.stderr.write(`${describeRun(a)}${same ? '' : ` vs ${describeRun(b)}`} · ${comparisons.map(([x, y]) => `${x.layer}→${y.layer}`).join(', ')}\n`);
    const theta = numberOption(args, 'theta')!;
    const pairs: Record<string, unknown>[] = [];
    const summary: Record<string, unknown>[] = [];
    for (const [x, y] of comparisons) {
      const r = await coverageBetween(conn, x, y, theta);
      const s = r.summary;
      summary.push({
        runA: x.runId, layerA: x.layer, runB: y.runId, layerB: y.layer, clips: s.clips, frames: s.frames,
        aliveA: s.aliveA, coveredA: s.coveredA, coverageAbPct: pct(s.coverageAB), aliveB: s.aliveB, coveredB: s.coveredB, coverageBaPct: pct(s.coverageBA), pairs: s.pairs, theta,
      });
      for (const p of r.pairs) pairs.push({ runA: x.runId, layerA: x.layer, runB: y.runId, layerB: y.layer, ...p });
    }
    await write(args, pairs, summary, { iou: IOU_DEFINITIONS.iou, coverage: IOU_DEFINITIONS.coverage });
  }),
};

export const verbs = [duplicates, coverage];
