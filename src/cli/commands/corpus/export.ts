/** `audiosae corpus export`: one table of a store (one run's rows) as Parquet or CSV, for pandas, polars, R, Spark. */
import { AudioSaeError } from '../../../engine/errors.ts';
import { removeStaleSiblings, siblingName } from '../../../engine/io/atomicWrite.ts';
import { writeFailure } from '../../../engine/io/files.ts';
import { CorpusStore } from '../../../engine/store/store.ts';
import { rename, rm } from 'node:fs/promises';
import type { ParsedArgs, VerbSpec } from '../../args.ts';

const TABLES = ['runs', 'clips', 'clip_features', 'clip_recon', 'frame_codes'] as const;

export const spec: VerbSpec = {
  name: 'corpus export',
  summary: 'Write one table of a corpus store (for one run, or all) as Parquet or CSV.',
  positionals: [],
  options: [
    { name: 'store', value: '<corpus.duckdb>', description: 'the store', required: true },
    { name: 'table', value: '<table>', description: TABLES.join(', '), choices: TABLES, required: true },
    { name: 'run', value: '<run id>', description: 'only this run (default: every run in the store)' },
    { name: 'format', value: '<format>', description: 'parquet or csv', choices: ['parquet', 'csv'], default: 'parquet' },
    { name: 'out', value: '<file>', description: 'output file', required: true },
  ],
  details: `
The tables and their columns are documented in the README ("The corpus store"). Parquet keeps the types
(lists stay lists); CSV writes lists as text. The file is written beside its name and renamed into place.`,
};

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

export async function run(args: ParsedArgs): Promise<void> {
  const table = args.options.get('table')!;
  const format = args.options.get('format')!;
  const out = args.options.get('out')!;
  const runId = args.options.get('run');
  const store = await CorpusStore.open(args.options.get('store')!, { readOnly: true });
  await removeStaleSiblings(out, '.tmp');
  const tmp = siblingName(out, '.tmp');
  try {
    if (runId !== undefined) {
      const known = (await store.connection.runAndReadAll(`SELECT count(*) FROM runs WHERE run_id = ${sqlString(runId)}`)).getRows()[0]![0];
      if (Number(known) === 0) throw new AudioSaeError(`has no run "${runId}".`, store.path, 'See the runs with: audiosae corpus export --table runs --format csv --out runs.csv');
    }
    const where = runId === undefined ? '' : ` WHERE run_id = ${sqlString(runId)}`;
    const options = format === 'parquet' ? 'FORMAT parquet, COMPRESSION zstd' : 'FORMAT csv, HEADER true';
    try {
      await store.connection.run(`COPY (SELECT * FROM ${table}${where}) TO ${sqlString(tmp)} (${options})`);
      await rename(tmp, out);
    } catch (e) {
      const mapped = writeFailure(e, out);
      throw mapped !== e ? mapped : new AudioSaeError(`cannot be written: ${(e as Error).message.split('\n')[0]}`, out);
    }
    const rows = (await store.connection.runAndReadAll(`SELECT count(*) FROM ${table}${where}`)).getRows()[0]![0];
    console.log(`${table}${runId ? ` (run ${runId})` : ''}: ${String(rows)} rows → ${out}`);
  } finally {
    await rm(tmp, { force: true }).catch(() => undefined);
    store.close();
  }
}
