/**
 * The corpus store on disk: opening it (read-write for the one process that writes, read-only for everyone
 * else), creating and checking its schema, registering runs, and writing each clip's results in one
 * transaction — a crash loses at most the clip in flight and never leaves the file unreadable (DuckDB's
 * write-ahead log replays or drops the open transaction on the next open).
 *
 * Rows are appended in bulk into connection-local staging tables, then moved into the store inside a single
 * transaction together with the clip's status, replacing whatever an earlier run of the same clip left.
 */
import { DuckDBInstance, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import { createHash } from 'node:crypto';
import { AudioSaeError } from '../errors.ts';
import type { MetricSums } from '../sae/metrics.ts';
import { clusterClipFeatures } from './cluster.ts';
import { appendFrameCodes, STAGE_FRAME_CODES_SQL, type FrameCodeChunk } from './frameCodes.ts';
import { SCHEMA_SQL, SCHEMA_VERSION } from './schema.ts';

/** What identifies a run: the same identity is the same run (and resumes); anything else is another run. */
export interface RunIdentity {
  backbone: string;
  weights: string;
  layers: number[];
  sae: string;
  saeSha256: Record<string, string>;
  mode: 'threshold' | 'batch-topk';
  options: Record<string, unknown>;
  engineVersion: string;
  dModel: number;
  dictSize: number;
  k: number;
}

export function runIdOf(identity: RunIdentity): string {
  const { backbone, weights, layers, saeSha256, mode, options, engineVersion } = identity;
  return createHash('sha256').update(JSON.stringify({ backbone, weights, layers, saeSha256, mode, options, engineVersion })).digest('hex').slice(0, 16);
}

export interface ClipRecord {
  clipId: number;
  path: string;
  domain: string;
  dataset: string | null;
  startS: number | null;
  endS: number | null;
  durationS: number | null;
  frames: number | null;
  contentHash: string;
  status: 'done' | 'failed';
  error: string | null;
  metadata: Record<string, string>;
}

/** One layer's results for a clip: the features that fired (CSR-free, one entry per feature) and the recon sums. */
export interface LayerResult {
  layer: number;
  features: { feature: Int32Array; maxAct: Float32Array; argmaxFrame: Int32Array; activeFrames: Int32Array; sumAct: Float64Array };
  recon: MetricSums;
  /** The clip's per-frame codes, kept only by runs made with `keepFrameCodes` (table frame_codes). */
  frameCodes?: readonly FrameCodeChunk[];
}

export interface StoredClip {
  clipId: number;
  path: string;
  startS: number | null;
  endS: number | null;
  contentHash: string;
  status: string;
}

const sql = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** DuckDB's lock conflict, said as "held by process N" with what to do. */
function openFailure(e: unknown, path: string, readOnly: boolean): AudioSaeError {
  const message = (e as Error).message ?? String(e);
  const lock = /Conflicting lock is held in (.*?) \(PID (\d+)\)/.exec(message);
  if (lock) {
    return new AudioSaeError(
      `is being written by another process (PID ${lock[2]}, ${lock[1]}); DuckDB allows one writer per file.`,
      path,
      readOnly ? 'Wait for that run to finish, or open a copy.' : 'Wait for that run to finish, or write to another store.',
    );
  }
  if (/not a valid DuckDB database|database file .* is not|Unable to open|Could not read/i.test(message)) {
    return new AudioSaeError(`cannot be opened as a corpus store: ${message.split('\n')[0]}`, path);
  }
  return new AudioSaeError(`cannot be opened: ${message.split('\n')[0]}`, path);
}

/** A failure while writing the store, said as what the user can act on (a full or read-only disk). */
function writeProblem(e: unknown, path: string): unknown {
  if (e instanceof AudioSaeError) return e;
  const message = (e as Error).message ?? String(e);
  if (/No space left on device/i.test(message)) return new AudioSaeError('cannot be written: no space left on the device. What was committed before is kept; run again once there is space, and it resumes.', path);
  if (/read-only|Permission denied/i.test(message)) return new AudioSaeError(`cannot be written: ${message.split('\n')[0]}`, path);
  return e;
}

export class CorpusStore {
  private constructor(
    readonly path: string,
    readonly readOnly: boolean,
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
  ) {}

  static async open(path: string, options: { readOnly?: boolean } = {}): Promise<CorpusStore> {
    const readOnly = options.readOnly ?? false;
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(path, { access_mode: readOnly ? 'READ_ONLY' : 'READ_WRITE' });
    } catch (e) {
      throw openFailure(e, path, readOnly);
    }
    const connection = await instance.connect();
    const store = new CorpusStore(path, readOnly, instance, connection);
    try {
      await store.checkSchema();
    } catch (e) {
      store.close();
      throw writeProblem(e, path);
    }
    return store;
  }

  private async checkSchema(): Promise<void> {
    const hasInfo = await this.scalar(`SELECT count(*) FROM information_schema.tables WHERE table_name = 'store_info'`);
    if (Number(hasInfo) === 0) {
      if (this.readOnly) throw new AudioSaeError('is not a corpus store (it has no store_info table).', this.path);
      const tables = Number(await this.scalar(`SELECT count(*) FROM information_schema.tables`));
      if (tables > 0) throw new AudioSaeError('is a DuckDB database but not a corpus store; nothing was changed.', this.path, 'Name a new file for --store.');
      // One transaction: a process killed while creating the store leaves no half-made schema behind.
      await this.connection.run(`BEGIN TRANSACTION; ${SCHEMA_SQL}; INSERT INTO store_info VALUES ('schema_version', '${SCHEMA_VERSION}'); COMMIT`);
      return;
    }
    const version = await this.scalar(`SELECT value FROM store_info WHERE key = 'schema_version'`);
    if (String(version) !== String(SCHEMA_VERSION)) {
      throw new AudioSaeError(`has store schema version ${String(version)}; this AudioSAE reads version ${SCHEMA_VERSION}.`, this.path, 'Run the corpus again into a new store.');
    }
    // Tables added within a version (frame_codes) are created in stores made before them.
    if (!this.readOnly) await this.connection.run(SCHEMA_SQL);
  }

  private async scalar(query: string): Promise<unknown> {
    const reader = await this.connection.runAndReadAll(query);
    return reader.getRows()[0]?.[0];
  }

  /** Registers the run (if new) and returns its id. */
  async ensureRun(identity: RunIdentity, notes: string[]): Promise<string> {
    return this.registerRun(identity, notes).catch((e: unknown) => {
      throw writeProblem(e, this.path);
    });
  }

  private async registerRun(identity: RunIdentity, notes: string[]): Promise<string> {
    const runId = runIdOf(identity);
    const exists = Number(await this.scalar(`SELECT count(*) FROM runs WHERE run_id = ${sql(runId)}`));
    if (exists) {
      await this.connection.run(`UPDATE runs SET notes = ${sql(JSON.stringify(notes))}::JSON WHERE run_id = ${sql(runId)}`);
      return runId;
    }
    const i = identity;
    await this.connection.run(
      `INSERT INTO runs VALUES (${sql(runId)}, ${sql(i.backbone)}, ${sql(i.weights)}, [${i.layers.join(', ')}]::INTEGER[], ${sql(i.sae)}, ` +
        `${sql(JSON.stringify(i.saeSha256))}::JSON, ${sql(i.mode)}, ${sql(JSON.stringify(i.options))}::JSON, ${sql(i.engineVersion)}, ` +
        `${i.dModel}, ${i.dictSize}, ${i.k}, ${sql(JSON.stringify(notes))}::JSON, now()::TIMESTAMP)`,
    );
    return runId;
  }

  /** The clips a run already has. */
  async storedClips(runId: string): Promise<StoredClip[]> {
    const reader = await this.connection.runAndReadAll(`SELECT clip_id, path, start_s, end_s, content_hash, status FROM clips WHERE run_id = ${sql(runId)} ORDER BY clip_id`);
    return reader.getRowObjects().map((r) => ({
      clipId: Number(r.clip_id), path: String(r.path), startS: r.start_s === null ? null : Number(r.start_s), endS: r.end_s === null ? null : Number(r.end_s),
      contentHash: String(r.content_hash), status: String(r.status),
    }));
  }

  /** Writes one clip's results (or its failure), replacing what the run had for it, in one transaction. */
  async writeClip(runId: string, clip: ClipRecord, layers: readonly LayerResult[]): Promise<void> {
    await this.writeClipRows(runId, clip, layers).catch((e: unknown) => {
      throw writeProblem(e, this.path);
    });
  }

  private async writeClipRows(runId: string, clip: ClipRecord, layers: readonly LayerResult[]): Promise<void> {
    const c = this.connection;
    await c.run('CREATE OR REPLACE TEMP TABLE stage_features AS SELECT * FROM clip_features LIMIT 0');
    await c.run('CREATE OR REPLACE TEMP TABLE stage_recon AS SELECT * FROM clip_recon LIMIT 0');
    const features = await c.createAppender('stage_features', 'main', 'temp');
    for (const l of layers) appendFeatures(features, runId, l, clip.clipId);
    features.closeSync();
    const recon = await c.createAppender('stage_recon', 'main', 'temp');
    for (const l of layers) appendRecon(recon, runId, l, clip.clipId);
    recon.closeSync();
    await c.run(STAGE_FRAME_CODES_SQL);
    const codes = await c.createAppender('stage_frame_codes', 'main', 'temp');
    for (const l of layers) if (l.frameCodes) appendFrameCodes(codes, l.layer, l.frameCodes);
    codes.closeSync();
    const where = `run_id = ${sql(runId)} AND clip_id = ${clip.clipId}`;
    const v = (x: number | null) => (x === null ? 'NULL' : String(x));
    await c.run('BEGIN TRANSACTION');
    try {
      await c.run(`DELETE FROM clip_features WHERE ${where}`);
      await c.run(`DELETE FROM clip_recon WHERE ${where}`);
      await c.run(`DELETE FROM frame_codes WHERE ${where}`);
      await c.run(`DELETE FROM clips WHERE ${where}`);
      await c.run(
        `INSERT INTO clips VALUES (${sql(runId)}, ${clip.clipId}, ${sql(clip.path)}, ${sql(clip.domain)}, ${clip.dataset === null ? 'NULL' : sql(clip.dataset)}, ` +
          `${v(clip.startS)}, ${v(clip.endS)}, ${v(clip.durationS)}, ${v(clip.frames)}, ${sql(clip.contentHash)}, ${sql(clip.status)}, ` +
          `${clip.error === null ? 'NULL' : sql(clip.error)}, ${sql(JSON.stringify(clip.metadata))}::JSON)`,
      );
      await c.run('INSERT INTO clip_features SELECT * FROM stage_features');
      await c.run('INSERT INTO clip_recon SELECT * FROM stage_recon');
      await c.run(`INSERT INTO frame_codes SELECT ${sql(runId)}, layer, ${clip.clipId}, frame, feature, value FROM stage_frame_codes`);
      await c.run('COMMIT');
    } catch (e) {
      await c.run('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }

  /** Removes clips (no longer in the corpus) from a run, in one transaction. */
  async removeClips(runId: string, clipIds: readonly number[]): Promise<void> {
    await this.deleteClips(runId, clipIds).catch((e: unknown) => {
      throw writeProblem(e, this.path);
    });
  }

  private async deleteClips(runId: string, clipIds: readonly number[]): Promise<void> {
    if (clipIds.length === 0) return;
    const where = `run_id = ${sql(runId)} AND clip_id IN (${clipIds.join(', ')})`;
    await this.connection.run('BEGIN TRANSACTION');
    try {
      for (const table of ['clip_features', 'clip_recon', 'frame_codes', 'clips']) await this.connection.run(`DELETE FROM ${table} WHERE ${where}`);
      await this.connection.run('COMMIT');
    } catch (e) {
      await this.connection.run('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }

  /**
   * After a run: with `cluster`, stores each feature's rows together (the per-click queries read one or two row
   * groups instead of all), then writes everything to the main file so readers see a compact store.
   */
  async finishRun(cluster: boolean): Promise<void> {
    try {
      if (cluster) await clusterClipFeatures(this.connection);
      await this.connection.run('CHECKPOINT');
    } catch (e) {
      throw writeProblem(e, this.path);
    }
  }

  close(): void {
    try {
      this.connection.closeSync();
      this.instance.closeSync();
    } catch {
      // an instance invalidated by a failed write (a full disk) has nothing left to close
    }
  }
}

function appendFeatures(a: DuckDBAppender, runId: string, l: LayerResult, clipId: number): void {
  const f = l.features;
  for (let i = 0; i < f.feature.length; i++) {
    a.appendVarchar(runId);
    a.appendSmallInt(l.layer);
    a.appendInteger(clipId);
    a.appendInteger(f.feature[i]!);
    a.appendFloat(f.maxAct[i]!);
    a.appendInteger(f.argmaxFrame[i]!);
    a.appendInteger(f.activeFrames[i]!);
    a.appendDouble(f.sumAct[i]!);
    a.endRow();
  }
}

function appendRecon(a: DuckDBAppender, runId: string, l: LayerResult, clipId: number): void {
  const r = l.recon;
  a.appendVarchar(runId);
  a.appendSmallInt(l.layer);
  a.appendInteger(clipId);
  a.appendInteger(r.frames);
  a.appendInteger(r.zeroNormFrames);
  for (const v of [r.sumL0, r.sumSqErr, r.sumErr, r.sumRelErr, r.sumSqNorm, r.sumCosine, r.sumNormRatio]) a.appendDouble(v);
  for (const list of [r.sumX, r.sumRes]) a.appendList([...list]);
  a.endRow();
}
