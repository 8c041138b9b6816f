/**
 * Typed reads from a model's config.json, each failing with an error naming the file and the key. Only own
 * properties count (a key such as `constructor` or `toString` never finds Object.prototype's), `null` is a
 * wrong value rather than a missing one, and values are described briefly (never JSON.stringify of a hostile
 * value, which can recurse without bound).
 */
import { describeValue } from '../checkpoints/describe.ts';
import { AudioSaeError } from '../errors.ts';

export type ConfigObject = Record<string, unknown>;

/** A JSON value that is an object (not null, not an array). */
export function isJsonObject(v: unknown): v is ConfigObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A key's own value, or undefined when the config does not have it. */
export function configValue(config: ConfigObject, key: string): unknown {
  return Object.hasOwn(config, key) ? config[key] : undefined;
}

const wrong = (key: string, expected: string, v: unknown, file: string) =>
  new AudioSaeError(
    v === undefined ? `has no "${key}" (${expected}).` : `has an invalid "${key}": expected ${expected}, got ${describeValue(v)}.`,
    file,
  );

/** A required positive integer. */
export function configInt(config: ConfigObject, key: string, file: string): number {
  const v = configValue(config, key);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw wrong(key, 'a positive integer', v, file);
  return v;
}

/** A required non-empty list of positive integers. */
export function configIntList(config: ConfigObject, key: string, file: string): number[] {
  const v = configValue(config, key);
  if (!Array.isArray(v) || v.length === 0 || !v.every((n) => typeof n === 'number' && Number.isSafeInteger(n) && n > 0)) {
    throw wrong(key, 'a non-empty list of positive integers', v, file);
  }
  return v as number[];
}

/** An optional boolean; `fallback` when the key is absent. */
export function configBool(config: ConfigObject, key: string, file: string, fallback: boolean): boolean {
  const v = configValue(config, key);
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw wrong(key, 'true or false', v, file);
  return v;
}

/** An optional positive finite number; `fallback` when the key is absent. */
export function configPositive(config: ConfigObject, key: string, file: string, fallback: number): number {
  const v = configValue(config, key);
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw wrong(key, 'a positive number', v, file);
  return v;
}

/** An optional string that must be one of `allowed`; `fallback` when the key is absent. */
export function configChoice<T extends string>(config: ConfigObject, key: string, file: string, allowed: readonly T[], fallback?: T): T {
  const v = configValue(config, key);
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw wrong(key, allowed.map((a) => `"${a}"`).join(' or '), v, file);
  }
  return v as T;
}
