/**
 * Per-frame sparse codes in the corpus store (`frame_codes`, filled by runs made with `--keep-frame-codes`):
 * staging a clip's codes for the clip's one write transaction, and reading them back for the frame-level
 * analyses (duplicates, coverage, interval label search). DuckDB keeps the table columnar and compressed; one
 * row per (layer, clip, frame, feature that fired).
 */
import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import { AudioSaeError } from '../errors.ts';
import type { SparseCodes } from '../sae/index.ts';
import { requireRun, type RunInfo } from './runs.ts';
import { storeName } from './sqlRows.ts';

/** The codes of frames [startFrame, startFrame + codes.frames) of a clip, as one SAE call produced them. */
export interface FrameCodeChunk {
  startFrame: number;
  codes: SparseCodes;
}

/** The staging table's columns: run and clip are constants of one write, added when the rows move. */
export const STAGE_FRAME_CODES_SQL = 'CREATE OR REPLACE TEMP TABLE stage_frame_codes (layer SMALLINT, frame INTEGER, feature INTEGER, value FLOAT)';

/** Appends a layer's chunks (non-zero codes only) to the staging table. */
export function appendFrameCodes(a: DuckDBAppender, layer: number, chunks: readonly FrameCodeChunk[]): void {
  for (const { startFrame, codes } of chunks) {
    const { rowPtr, indices, values } = codes;
    for (let t = 0; t < codes.frames; t++) {
      for (let p = rowPtr[t]!; p < rowPtr[t + 1]!; p++) {
        const v = values[p]!;
        if (v === 0) continue;
        a.appendSmallInt(layer);
        a.appendInteger(startFrame + t);
        a.appendInteger(indices[p]!);
        a.appendFloat(v);
        a.endRow();
      }
    }
  }
}

/** Whether a run kept its frame codes (the option is part of the run's identity). */
export function keepsFrameCodes(run: RunInfo): boolean {
  const o = run.options as Record<string, unknown> | null;
  return typeof o === 'object' && o !== null && o.keepFrameCodes === true;
}

/** The run, checked to exist, to have the layer, and to have kept its frame codes; an AudioSaeError otherwise. */
export async function requireFrameCodes(conn: DuckDBConnection, runId: string, layer?: number): Promise<RunInfo> {
  const run = await requireRun(conn, runId, layer);
  if (!keepsFrameCodes(run)) {
    throw new AudioSaeError(
      `run ${run.runId} did not keep per-frame codes, which this analysis needs.`,
      await storeName(conn),
      'Run the corpus again with `audiosae corpus run … --keep-frame-codes` (a new run in the same store).',
    );
  }
  return run;
}
