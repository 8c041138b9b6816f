/**
 * Sparse SAE codes as a Parquet file (the exchange format: pandas, polars, Spark and DuckDB read it), written
 * by an in-memory DuckDB: one row per active (frame, feature) with columns frame, time_s, feature, value, in
 * frame order, ZSTD-compressed, with `metadata` as Parquet key-value metadata. Written to a temporary file
 * beside the target and renamed, so a failure leaves nothing behind.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { AudioSaeError } from '../errors.ts';

export interface SparseCodesTable {
  frames: number;
  framesPerSecond: number;
  rowPtr: Int32Array; // [frames + 1]
  indices: Int32Array;
  values: Float32Array;
}

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

export async function writeCodesParquet(path: string, codes: SparseCodesTable, metadata: Record<string, string>): Promise<void> {
  if (!existsSync(dirname(path))) throw new AudioSaeError('cannot be written: its folder does not exist.', path);
  const tmp = `${path}.${process.pid}.tmp`;
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run('CREATE TABLE codes (frame INTEGER, time_s DOUBLE, feature INTEGER, value FLOAT)');
    const appender = await connection.createAppender('codes');
    for (let t = 0; t < codes.frames; t++) {
      const timeS = t / codes.framesPerSecond;
      for (let p = codes.rowPtr[t]!; p < codes.rowPtr[t + 1]!; p++) {
        appender.appendInteger(t);
        appender.appendDouble(timeS);
        appender.appendInteger(codes.indices[p]!);
        appender.appendFloat(codes.values[p]!);
        appender.endRow();
      }
    }
    appender.closeSync();
    const kv = Object.entries(metadata).map(([k, v]) => `${sqlString(k)}: ${sqlString(v)}`).join(', ');
    await connection.run(`COPY codes TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd${kv ? `, KV_METADATA {${kv}}` : ''})`);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e instanceof AudioSaeError ? e : new AudioSaeError(`could not be written: ${(e as Error).message}`, path);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
