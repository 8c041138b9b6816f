import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { writeCodesParquet } from '../../../src/engine/io/parquet.ts';

const dir = mkdtempSync(join(tmpdir(), 'audiosae-parquet-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Reads a Parquet file back with DuckDB's own reader. */
async function query(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

describe('Parquet export of sparse codes', () => {
  // 4 frames at 50/s: frame 1 is empty, frame 2 has three features.
  const codes = {
    frames: 4, framesPerSecond: 50,
    rowPtr: Int32Array.of(0, 1, 1, 4, 5),
    indices: Int32Array.of(7, 3, 9, 1, 6143),
    values: Float32Array.of(0.5, 2.25, 1.1, 0.1, 3.3),
  };

  it('writes one row per active code, in order, with the key-value metadata', async () => {
    const path = join(dir, 'codes.parquet');
    await writeCodesParquet(path, codes, { backbone: 'whisper-small', layer: '6', "it's": 'quoted' });
    const rows = await query(`SELECT * FROM read_parquet('${path}')`);
    assert.deepEqual(rows.map((r) => [r.frame, r.time_s, r.feature]), [[0, 0, 7], [2, 0.04, 3], [2, 0.04, 9], [2, 0.04, 1], [3, 0.06, 6143]]);
    assert.deepEqual(rows.map((r) => Math.fround(r.value as number)), [...codes.values]);
    const types = await query(`SELECT name, type FROM parquet_schema('${path}') WHERE name <> 'duckdb_schema'`);
    assert.deepEqual(types.map((t) => `${t.name}:${t.type}`), ['frame:INT32', 'time_s:DOUBLE', 'feature:INT32', 'value:FLOAT']);
    const kv = await query(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${path}') ORDER BY k`);
    assert.deepEqual(kv.map((r) => [r.k, r.v]).filter(([k]) => k !== 'ARROW:schema'), [['backbone', 'whisper-small'], ["it's", 'quoted'], ['layer', '6']]);
    assert.deepEqual(readdirSync(dir), ['codes.parquet'], 'no temporary file left');
  });

  it('writes a valid empty table when nothing is active', async () => {
    const path = join(dir, 'empty.parquet');
    await writeCodesParquet(path, { ...codes, rowPtr: new Int32Array(5), indices: new Int32Array(0), values: new Float32Array(0) }, {});
    assert.deepEqual(await query(`SELECT count(*)::INTEGER AS n FROM read_parquet('${path}')`), [{ n: 0 }]);
  });

  it('names the file when its folder does not exist, and writes nothing', async () => {
    const path = join(dir, 'missing', 'codes.parquet');
    await assert.rejects(writeCodesParquet(path, codes, {}), (e: Error) => e.message.includes(path) && /folder does not exist/.test(e.message));
    assert.equal(existsSync(join(dir, 'missing')), false);
  });
});
