/**
 * Reads a scipy.sparse CSR `.npz` (as scipy.sparse.save_npz writes it) into dense rows, for comparing sparse
 * outputs with dense reference arrays; and, where Python with scipy is installed, loads it with scipy itself.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ZipReader } from '../../src/engine/checkpoints/zip.ts';
import { parseNpy, type NpyArray } from '../../src/engine/io/npy.ts';

export async function readCsrNpz(path: string): Promise<{ rows: number; cols: number; dense: Float32Array; arrays: Map<string, NpyArray> }> {
  const zip = await ZipReader.open(path);
  const arrays = new Map<string, NpyArray>();
  try {
    for (const name of ['indices', 'indptr', 'shape', 'data']) {
      const entry = zip.entries.get(`${name}.npy`);
      assert.ok(entry, `${path}: ${name}.npy is missing`);
      arrays.set(name, parseNpy(await zip.read(entry), `${path}:${name}.npy`));
    }
    assert.ok(zip.entries.has('format.npy'), `${path}: format.npy is missing`);
  } finally {
    await zip.close();
  }
  const shape = arrays.get('shape')!.data as BigInt64Array;
  const [rows, cols] = [Number(shape[0]), Number(shape[1])];
  const indptr = arrays.get('indptr')!.data as BigInt64Array;
  const indices = arrays.get('indices')!.data as Int32Array;
  const data = arrays.get('data')!.data as Float32Array;
  assert.equal(indptr.length, rows + 1);
  const dense = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let p = Number(indptr[r]); p < Number(indptr[r + 1]); p++) dense[r * cols + indices[p]!] = data[p]!;
  return { rows, cols, dense, arrays };
}

/** scipy's own reading of the file: [rows, cols, nnz, sum of values], or undefined where scipy is not installed. */
export function scipyCsrSummary(path: string): number[] | undefined {
  const probe = spawnSync('python3', ['-c', 'import scipy.sparse'], { encoding: 'utf8' });
  if (probe.status !== 0) return undefined;
  const r = spawnSync('python3', ['-c', 'import sys, json, scipy.sparse as s; m = s.load_npz(sys.argv[1]); print(json.dumps([m.shape[0], m.shape[1], int(m.nnz), float(m.sum())]))', path], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as number[];
}
