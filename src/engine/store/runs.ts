/**
 * The runs a corpus store holds, and which run and layer a query means: named explicitly, or defaulted when the
 * store has one run (and the run one layer). Anything else is an AudioSaeError that names the store and lists
 * what exists, so the user can pick.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { AudioSaeError } from '../errors.ts';
import { num, numOr0, rows, storeName, str, type Row } from './sqlRows.ts';

export interface RunInfo {
  runId: string;
  backbone: string;
  weights: string;
  /** Ascending, 1-based. */
  layers: number[];
  sae: string;
  /** threshold | batch-topk */
  mode: string;
  options: unknown;
  engineVersion: string;
  dModel: number;
  dictSize: number;
  k: number;
  notes: string[];
  createdAt: Date | null;
}

/** A run with its clip counts, as `listRuns` gives them. */
export interface RunSummary extends RunInfo {
  clipsDone: number;
  /** Clips whose status is not 'done' (failed). */
  clipsFailed: number;
  /**
   * A fingerprint of the run's clips (each clip's id, content hash and status, combined): it changes whenever a
   * clip is added, re-run on new content, fails or is repaired, so answers kept for a run can tell they are stale.
   */
  clipsState: string;
}

export interface ResolvedRun {
  run: RunSummary;
  layer: number;
}

function parseJson(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

function toRunSummary(r: Row): RunSummary {
  return { ...toRunInfo(r), clipsDone: numOr0(r, 'clips_done'), clipsFailed: numOr0(r, 'clips_failed'), clipsState: str(r, 'clips_state') };
}

function toRunInfo(r: Row): RunInfo {
  const layers = r.layers;
  const notes = parseJson(r.notes);
  return {
    runId: str(r, 'run_id'),
    backbone: str(r, 'backbone'),
    weights: str(r, 'weights'),
    layers: Array.isArray(layers) ? layers.map(Number).sort((a, b) => a - b) : [],
    sae: str(r, 'sae'),
    mode: str(r, 'mode'),
    options: parseJson(r.options),
    engineVersion: str(r, 'engine_version'),
    dModel: num(r, 'd_model'),
    dictSize: num(r, 'dict_size'),
    k: num(r, 'k'),
    notes: Array.isArray(notes) ? notes.map(String) : [],
    createdAt: r.created_at instanceof Date ? r.created_at : null,
  };
}

const RUNS_SQL = `
SELECT r.run_id, r.backbone, r.weights, r.layers, r.sae, r.mode, r.options::VARCHAR AS options, r.engine_version,
       r.d_model, r.dict_size, r.k, r.notes::VARCHAR AS notes, r.created_at,
       (SELECT count(*) FROM clips c WHERE c.run_id = r.run_id AND c.status = 'done')::DOUBLE AS clips_done,
       (SELECT count(*) FROM clips c WHERE c.run_id = r.run_id AND c.status <> 'done')::DOUBLE AS clips_failed,
       coalesce((SELECT bit_xor(hash(c.clip_id, c.content_hash, c.status)) FROM clips c WHERE c.run_id = r.run_id)::VARCHAR, '0') AS clips_state
FROM runs r`;

/** Every run in the store, oldest first (then by id). */
export async function listRuns(conn: DuckDBConnection): Promise<RunSummary[]> {
  return (await rows(conn, `${RUNS_SQL} ORDER BY r.created_at, r.run_id`)).map(toRunSummary);
}

/** One line per run for messages: `id (backbone, layers 3,6, mode, created …)`. */
export function describeRun(run: RunSummary): string {
  const when = run.createdAt ? `, ${run.createdAt.toISOString().slice(0, 19).replace('T', ' ')}` : '';
  return `${run.runId} (${run.backbone}, layers ${run.layers.join(',')}, ${run.mode}, ${run.clipsDone} clips${when})`;
}

/**
 * The run and layer a query is about. `runId` may be a unique prefix of a run id; without it the store must hold
 * exactly one run. Without `layer` the run must have exactly one layer.
 */
export async function resolveRun(conn: DuckDBConnection, runId?: string, layer?: number): Promise<ResolvedRun> {
  const all = await listRuns(conn);
  const store = await storeName(conn);
  if (all.length === 0) {
    throw new AudioSaeError('holds no corpus runs.', store, 'Fill it with `audiosae corpus run` first.');
  }
  let run: RunSummary;
  if (runId === undefined || runId === '') {
    if (all.length > 1) {
      throw new AudioSaeError(`holds ${all.length} runs: ${all.map(describeRun).join('; ')}.`, store, 'Name one with --run.');
    }
    run = all[0]!;
  } else {
    const exact = all.find((r) => r.runId === runId);
    const matches = exact ? [exact] : all.filter((r) => r.runId.startsWith(runId));
    if (matches.length !== 1) {
      const what = matches.length === 0 ? `has no run "${runId}"` : `has ${matches.length} runs starting with "${runId}"`;
      throw new AudioSaeError(`${what}; its runs: ${(matches.length ? matches : all).map(describeRun).join('; ')}.`, store, 'Name one of them with --run.');
    }
    run = matches[0]!;
  }
  if (layer === undefined) {
    if (run.layers.length !== 1) {
      throw new AudioSaeError(`run ${run.runId} has layers ${run.layers.join(', ')}.`, store, 'Name one with --layer.');
    }
    return { run, layer: run.layers[0]! };
  }
  if (!run.layers.includes(layer)) {
    throw new AudioSaeError(`run ${run.runId} has no layer ${layer}; its layers: ${run.layers.join(', ')}.`, store, 'Pick one of them with --layer.');
  }
  return { run, layer };
}

/**
 * The run a query names, checked cheaply (one row of `runs`, no clip counts): it must exist (its full id, or a
 * unique prefix as in `resolveRun`) and, when `layer` is given, include the layer. Queries call this and use the
 * returned `runId`, so that a wrong id or layer is an error, never an empty result.
 */
export async function requireRun(conn: DuckDBConnection, runId: string, layer?: number): Promise<RunInfo> {
  const found = await rows(
    conn,
    `SELECT run_id, backbone, weights, layers, sae, mode, options::VARCHAR AS options, engine_version, d_model, dict_size, k,
            notes::VARCHAR AS notes, created_at FROM runs WHERE run_id = $run`,
    { run: runId },
  );
  if (found.length === 0) return (await resolveRun(conn, runId, layer)).run; // throws with the list of runs
  const run = toRunInfo(found[0]!);
  if (layer !== undefined && !run.layers.includes(layer)) {
    throw new AudioSaeError(`run ${run.runId} has no layer ${layer}; its layers: ${run.layers.join(', ')}.`, await storeName(conn), 'Pick one of them with --layer.');
  }
  return run;
}
