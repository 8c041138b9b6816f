/** `audiosae corpus merge DIR… --store S`: the shards of a sharded corpus run into one store (or, with --out, one shard folder). */
import { findShards, mergeIntoFolder, mergeIntoStore, planMerge } from '../../../engine/corpus/merge.ts';
import { AudioSaeError } from '../../../engine/errors.ts';
import type { ParsedArgs, VerbSpec } from '../../args.ts';

export const spec: VerbSpec = {
  name: 'corpus merge',
  summary: 'Merge the shards of a sharded corpus run (corpus run --shard, corpus slurm) into a store.',
  positionals: ['<dir>...'],
  options: [
    { name: 'store', value: '<corpus.duckdb>', description: 'the store to write (created if missing; it must not hold this run yet)' },
    { name: 'out', value: '<dir>', description: 'instead: a partial merge, written as one shard folder that merges again' },
    { name: 'no-verify', description: 'skip re-reading every Parquet file for its SHA-256' },
    { name: 'memory-limit', value: '<size>', description: 'memory DuckDB may use for the merge, e.g. 4GB (beyond it, it spills to disk; default 80 % of RAM)' },
  ],
  details: `
Each <dir> is the --out folder of a sharded run (every shard-000I-of-000N/ in it is taken) or one shard folder
(or a partial merge). The shards must be complete, of one run (backbone, weights, layers, SAEs and their
SHA-256, mode, options, engine version, manifest and its clip order, number of shards) and cover every shard
exactly once (a partial merge with --out needs no full cover); every problem is listed before anything is
written. The store then holds exactly what one process over the same manifest writes, and opens in the
extension ("Open Corpus Results…") and in every corpus verb.`,
};

export async function run(args: ParsedArgs): Promise<number> {
  const store = args.options.get('store');
  const out = args.options.get('out');
  if ((store === undefined) === (out === undefined)) throw new AudioSaeError('"corpus merge" writes either a store (--store S) or a partial merge (--out DIR): name one of them.');
  const found = findShards(args.positionals);
  const plan = await planMerge(found, { complete: store !== undefined, verify: !args.flags.has('no-verify') });
  const result = store !== undefined ? await mergeIntoStore(plan, store, { memoryLimit: args.options.get('memory-limit') }) : await mergeIntoFolder(plan, out!);
  const rows = Object.entries(result.rows).map(([t, n]) => `${t} ${n}`).join(', ');
  console.log(
    `merged ${plan.covered.length} of ${plan.count} shards (${found.length} folder(s)) of run ${result.runId}: ${result.clips} clips (${result.failed} failed); ` +
      `rows: ${rows} in ${result.elapsedS.toFixed(1)} s${result.insertS !== undefined ? ` (insert ${result.insertS.toFixed(1)} s, clustering and checkpoint ${result.finishS!.toFixed(1)} s)` : ''} → ${store ?? out}`,
  );
  return 0;
}
