import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { AudioSaeError } from '../../../src/engine/errors.ts';
import { writeCodesParquet } from '../../../src/engine/io/parquet.ts';

const tmp = mkdtempSync(join(tmpdir(), 'audiosae-parquet-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let folders = 0;
const freshFolder = () => mkdtempSync(join(tmp, `${folders++}-`));

/** Runs SQL (read_parquet etc.) on a fresh in-memory DuckDB. */
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

const schemaOf = async (path: string) =>
  (await query(`SELECT name, type FROM parquet_schema('${path}') WHERE name <> 'duckdb_schema'`)).map((t) => `${t.name}:${t.type}`);
const SCHEMA = ['frame:INT32', 'time_s:DOUBLE', 'feature:INT32', 'value:FLOAT'];

describe('Parquet export of sparse codes', () => {
  // 5 frames at a non-round rate: frame 1 is empty, frame 2 has three features (not sorted), frame 4 is empty.
  const codes = {
    frames: 5,
    framesPerSecond: 22050 / 512,
    rowPtr: Int32Array.of(0, 1, 1, 4, 5, 5),
    indices: Int32Array.of(7, 3, 9, 1, 6143),
    values: Float32Array.of(0.5, 2.25, 1.1, 0.1, -3.3e-8),
  };

  it('writes one row per active code, in frame then array order, with the key-value metadata', async () => {
    const dir = freshFolder();
    const path = join(dir, 'codes.parquet');
    await writeCodesParquet(path, codes, { backbone: 'whisper-small', layer: '6', "it's": 'quo"ted' });
    const rows = await query(`SELECT * FROM read_parquet('${path}')`);
    const expected = [[0, 7, 0.5], [2, 3, 2.25], [2, 9, 1.1], [2, 1, 0.1], [3, 6143, -3.3e-8]].map(([frame, feature, value]) =>
      // Exact: time_s is the double frame / framesPerSecond; the value is the float32 that went in.
      ({ frame, time_s: frame! / codes.framesPerSecond, feature, value: Math.fround(value!) }));
    assert.deepEqual(rows, expected);
    assert.deepEqual(await schemaOf(path), SCHEMA);
    const kv = await query(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${path}') ORDER BY k`);
    assert.deepEqual(kv.map((r) => [r.k, r.v]), [['backbone', 'whisper-small'], ["it's", 'quo"ted'], ['layer', '6']]);
    const codec = await query(`SELECT DISTINCT compression FROM parquet_metadata('${path}')`);
    assert.deepEqual(codec, [{ compression: 'ZSTD' }]);
    assert.deepEqual(readdirSync(dir), ['codes.parquet'], 'no temporary file left');
  });

  it('writes a valid empty table with the schema when nothing is active', async () => {
    const path = join(freshFolder(), 'empty.parquet');
    await writeCodesParquet(path, { ...codes, rowPtr: new Int32Array(6), indices: new Int32Array(0), values: new Float32Array(0) }, {});
    assert.deepEqual(await query(`SELECT count(*)::INTEGER AS n FROM read_parquet('${path}')`), [{ n: 0 }]);
    assert.deepEqual(await schemaOf(path), SCHEMA);
  });

  it('names the file when its folder does not exist, and writes nothing', async () => {
    const dir = freshFolder();
    const path = join(dir, 'missing', 'codes.parquet');
    await assert.rejects(writeCodesParquet(path, codes, {}), (e: Error) =>
      e instanceof AudioSaeError && e.file === path && e.message.includes(path) && /folder .* does not exist/.test(e.message));
    assert.deepEqual(readdirSync(dir), []);
  });

  it('removes its temporary file when the last step fails', async () => {
    const dir = freshFolder();
    const path = join(dir, 'taken.parquet');
    mkdirSync(path); // a folder where the file should go: DuckDB writes the temporary file, the rename fails
    await assert.rejects(writeCodesParquet(path, codes, {}), (e: Error) => e instanceof AudioSaeError && e.message.startsWith(`${path}: could not be written`));
    assert.deepEqual(readdirSync(dir), ['taken.parquet']);
  });

  it('refuses inconsistent codes, naming the file', async () => {
    const path = join(freshFolder(), 'bad.parquet');
    await assert.rejects(writeCodesParquet(path, { ...codes, frames: 4 }, {}), (e: Error) => e instanceof AudioSaeError && e.message.includes(path));
    await assert.rejects(writeCodesParquet(path, { ...codes, values: codes.values.subarray(1) }, {}), /inconsistent/);
  });
});
