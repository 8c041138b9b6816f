/**
 * Sparse SAE codes as a Parquet file (the exchange format: pandas, polars, Spark and DuckDB read it), written
 * by an in-memory DuckDB: one row per active (frame, feature) with columns frame INTEGER, time_s DOUBLE,
 * feature INTEGER, value FLOAT, in frame order and then array order, ZSTD-compressed, with `metadata` as
 * Parquet key-value metadata. Written to a temporary file beside the target, flushed and renamed, so readers
 * never see a partial file and a failure leaves nothing behind.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { AudioSaeError } from '../errors.ts';

/** CSR: the active features of frame t are indices/values[rowPtr[t] .. rowPtr[t + 1]). */
export interface SparseCodesTable {
  frames: number;
  framesPerSecond: number;
  rowPtr: Int32Array; // [frames + 1]
  indices: Int32Array; // [nonZeros]
  values: Float32Array; // [nonZeros]
}

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

export async function writeCodesParquet(path: string, codes: SparseCodesTable, metadata: Record<string, string>): Promise<void> {
  const { frames, rowPtr, indices, values } = codes;
  const fps = codes.framesPerSecond;
  if (rowPtr.length !== frames + 1 || rowPtr[0] !== 0 || rowPtr[frames] !== indices.length || values.length !== indices.length || !(fps > 0 && fps < Infinity)) {
    const shape = `${frames} frames at ${fps}/s, rowPtr ${rowPtr.length}, indices ${indices.length}, values ${values.length}`;
    throw new AudioSaeError(`cannot be written: the codes are inconsistent (${shape}).`, path);
  }
  if (!existsSync(dirname(path))) throw new AudioSaeError(`cannot be written: the folder ${dirname(path)} does not exist.`, path);
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let instance: DuckDBInstance | undefined;
  let connection: DuckDBConnection | undefined;
  try {
    instance = await DuckDBInstance.create(':memory:');
    connection = await instance.connect();
    await connection.run('CREATE TABLE codes (frame INTEGER, feature INTEGER, value FLOAT)');
    const appender = await connection.createAppender('codes');
    for (let t = 0; t < frames; t++) {
      for (let p = rowPtr[t]!; p < rowPtr[t + 1]!; p++) {
        appender.appendInteger(t);
        appender.appendInteger(indices[p]!);
        appender.appendFloat(values[p]!);
        appender.endRow();
      }
    }
    appender.closeSync();
    // time_s is IEEE frame / framesPerSecond, the same double JS computes; insertion order is kept by COPY.
    const kv = Object.entries(metadata).map(([k, v]) => `${sqlString(k)}: ${sqlString(v)}`).join(', ');
    await connection.run(
      `COPY (SELECT frame, frame / ${fps}::DOUBLE AS time_s, feature, value FROM codes) TO ${sqlString(tmp)} ` +
        `(FORMAT parquet, COMPRESSION zstd${kv ? `, KV_METADATA {${kv}}` : ''})`,
    );
    const handle = await open(tmp, 'r+');
    await handle.sync().finally(() => handle.close());
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new AudioSaeError(`could not be written: ${(e as Error).message}`, path);
  } finally {
    connection?.closeSync();
    instance?.closeSync();
  }
}
