/**
 * What the corpus analysis verbs share: the store/run/layer options, opening the store read-only and resolving
 * the run and layer (defaulted when the store has one), and writing result rows as CSV, JSON or Parquet to a
 * file (beside its name, then renamed) or to stdout. Column names are the rows' keys in snake_case.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { rm } from 'node:fs/promises';
import { AudioSaeError } from '../../../engine/errors.ts';
import { removeStaleSiblings, siblingName, writeFileAtomic } from '../../../engine/io/atomicWrite.ts';
import { writeFailure } from '../../../engine/io/files.ts';
import { describeRun, listRuns, resolveRun, type ResolvedRun } from '../../../engine/store/queries.ts';
import { CorpusStore } from '../../../engine/store/store.ts';
import { rowsToCsv, rowsToJson, snakeCase } from '../../../shared/rowsText.ts';
import { rename } from 'node:fs/promises';
import { numberOption, type OptionSpec, type ParsedArgs } from '../../args.ts';

export const STORE_OPTIONS: OptionSpec[] = [
  { name: 'store', value: '<corpus.duckdb>', description: 'the corpus store', required: true },
  { name: 'run', value: '<run id>', description: 'the run (a unique prefix will do; default: the only run)' },
  { name: 'layer', value: '<n>', description: 'the layer (default: the run\'s only layer)', numeric: { kind: 'int', min: 1, max: 64 } },
];

export const OUTPUT_OPTIONS: OptionSpec[] = [
  { name: 'format', value: '<format>', description: 'csv, json or parquet', choices: ['csv', 'json', 'parquet'], default: 'csv' },
  { name: 'out', value: '<file>', description: 'output file (default: stdout; parquet needs a file)' },
];

/**
 * Opens the store read-only, resolves the run and layer (with `anyLayer`, a run of several layers needs no
 * --layer: the verb covers them all), runs `use`, and closes the store.
 */
export async function withRun<T>(args: ParsedArgs, use: (store: CorpusStore, resolved: ResolvedRun) => Promise<T>, anyLayer = false): Promise<T> {
  const store = await CorpusStore.open(args.options.get('store')!, { readOnly: true });
  try {
    const runId = args.options.get('run');
    let layer = numberOption(args, 'layer');
    if (anyLayer && layer === undefined) {
      const candidates = (await listRuns(store.connection)).filter((r) => runId === undefined || r.runId.startsWith(runId));
      if (candidates.length === 1) layer = candidates[0]!.layers[0];
    }
    const resolved = await resolveRun(store.connection, runId, layer);
    process.stderr.write(`${describeRun(resolved.run)}${anyLayer ? '' : ` · layer ${resolved.layer}`}\n`);
    return await use(store, resolved);
  } finally {
    store.close();
  }
}

/** Writes rows in the format asked for; `extra` (formulas, a summary) goes into JSON, and to stderr otherwise. */
export async function writeRows(args: ParsedArgs, rows: readonly Record<string, unknown>[], extra: Record<string, unknown> = {}): Promise<void> {
  const format = args.options.get('format')!;
  const out = args.options.get('out');
  if (format === 'parquet') {
    if (!out) throw new AudioSaeError('--format parquet needs --out <file>.');
    await writeParquet(out, rows);
  } else {
    const text = format === 'json' ? rowsToJson(rows, extra) : rowsToCsv(rows);
    if (out) await writeFileAtomic(out, new TextEncoder().encode(text));
    else process.stdout.write(text);
  }
  if (format !== 'json') for (const [k, v] of Object.entries(extra)) process.stderr.write(`${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}\n`);
  if (out) process.stderr.write(`${rows.length} rows → ${out}\n`);
  else if (rows.length === 0) process.stderr.write('no rows\n');
}

/** Rows as Parquet through an in-memory DuckDB reading them as JSON (types inferred; lists stay lists). */
async function writeParquet(out: string, rows: readonly Record<string, unknown>[]): Promise<void> {
  await removeStaleSiblings(out, '.tmp');
  const json = siblingName(out, '.json.tmp');
  const tmp = siblingName(out, '.tmp');
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    const lines = rows.map((r) => JSON.stringify(Object.fromEntries(Object.entries(r).map(([k, v]) => [snakeCase(k), typeof v === 'number' && !Number.isFinite(v) ? null : v])))).join('\n');
    await writeFileAtomic(json, new TextEncoder().encode(lines));
    const q = (s: string) => `'${s.replaceAll("'", "''")}'`;
    await c.run(`COPY (SELECT * FROM read_json_auto(${q(json)}, format = 'newline_delimited')) TO ${q(tmp)} (FORMAT parquet, COMPRESSION zstd)`);
    await rename(tmp, out);
  } catch (e) {
    const mapped = writeFailure(e, out);
    throw mapped !== e ? mapped : new AudioSaeError(`cannot be written: ${(e as Error).message.split('\n')[0]}`, out);
  } finally {
    c.closeSync();
    db.closeSync();
    await rm(json, { force: true }).catch(() => undefined);
    await rm(tmp, { force: true }).catch(() => undefined);
  }
}
