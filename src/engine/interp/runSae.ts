/**
 * The SAE a corpus run used for one layer, for analyses that need its weights but not the backbone (the feature
 * map): the file named by the caller, else the run's recorded SAE folder or file when it still exists, else the
 * backbone's default SAEs (the bundled demo ones, or the Hub's through the cache). Its sha256 must be the one the
 * run recorded for the layer, so a map never silently shows another SAE's features.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import { AudioSaeError } from '../errors.ts';
import { resolveModels } from '../pipeline/resolve.ts';
import { loadSae, type Sae } from '../sae/index.ts';
import type { RunInfo } from '../store/runs.ts';
import { rows, str } from '../store/sqlRows.ts';

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function loadRunSae(
  conn: DuckDBConnection,
  run: RunInfo,
  layer: number,
  o: { sae?: string; demoModelsDir: string; signal?: AbortSignal },
): Promise<Sae> {
  const named = o.sae ?? (existsSync(run.sae) ? run.sae : undefined);
  // Only the SAE is needed: `weights` names an existing folder so that no backbone is downloaded.
  const { saePath } = await resolveModels({ backbone: run.backbone, layer, weights: o.demoModelsDir, sae: named, demoModelsDir: o.demoModelsDir, signal: o.signal });
  const recorded = await rows(conn, 'SELECT sae_sha256::VARCHAR AS sha FROM runs WHERE run_id = $run', { run: run.runId });
  const expected = recorded[0] ? (JSON.parse(str(recorded[0], 'sha')) as Record<string, unknown>)[String(layer)] : undefined;
  const actual = await sha256Of(saePath);
  if (typeof expected === 'string' && actual !== expected) {
    throw new AudioSaeError(
      `is not the SAE run ${run.runId} used for layer ${layer}: its sha256 is ${actual.slice(0, 12)}…, the run recorded ${expected.slice(0, 12)}….`,
      saePath, 'Name the ae.pt the run used with --sae (a file, or a folder of layer_<n>/ae.pt).',
    );
  }
  const sae = await loadSae(saePath);
  if (sae.dictSize !== run.dictSize || sae.dModel !== run.dModel) {
    throw new AudioSaeError(`has F = ${sae.dictSize}, d = ${sae.dModel}; run ${run.runId} has F = ${run.dictSize}, d = ${run.dModel}.`, saePath);
  }
  return sae;
}
