/** Array comparisons for tests: whole arrays, explicit tolerances, and the worst index in the failure message. */
import assert from 'node:assert/strict';

type Numeric = ArrayLike<number>;

/** max |a − b| ≤ atol + rtol·|b| elementwise; reports the worst element. */
export function assertClose(actual: Numeric, expected: Numeric, opts: { atol?: number; rtol?: number; what?: string } = {}): void {
  const { atol = 0, rtol = 0, what = 'array' } = opts;
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} ≠ ${expected.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const b = expected[i]!;
    if (Number.isNaN(a) && Number.isNaN(b)) continue;
    const excess = Math.abs(a - b) - (atol + rtol * Math.abs(b));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    assert.fail(`${what}: worst mismatch at index ${worst}: ${actual[worst]} vs expected ${expected[worst]} (atol ${atol}, rtol ${rtol})`);
  }
}

/** ‖a − b‖ / ‖b‖ ≤ tol. */
export function assertRelativeL2(actual: Numeric, expected: Numeric, tol: number, what = 'array'): number {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} ≠ ${expected.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < expected.length; i++) {
    num += (actual[i]! - expected[i]!) ** 2;
    den += expected[i]! ** 2;
  }
  const rel = Math.sqrt(num) / Math.sqrt(den || 1);
  assert.ok(rel <= tol, `${what}: relative L2 error ${rel.toExponential(3)} > ${tol}`);
  return rel;
}

/** Bitwise equality of two typed arrays' bytes. */
export function assertSameBytes(actual: ArrayBufferView, expected: ArrayBufferView, what = 'array'): void {
  const a = new Uint8Array(actual.buffer, actual.byteOffset, actual.byteLength);
  const b = new Uint8Array(expected.buffer, expected.byteOffset, expected.byteLength);
  assert.equal(a.length, b.length, `${what}: ${a.length} bytes ≠ ${b.length}`);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) assert.fail(`${what}: first differing byte at ${i}`);
}

export const fixture = (...parts: string[]) => new URL(`../reference/fixtures/${parts.join('/')}`, import.meta.url).pathname;
