/**
 * Flattens the object a checkpoint's pickle holds into a state dict: nested dicts become dotted keys
 * (`{'model': {'w': t}}` → `model.w`), tensors and plain Python numbers are the leaves (numbers become scalar
 * tensors later, since some checkpoints store `k` as an int), and other leaves (strings, lists, None) carry no
 * weights and are skipped.
 *
 * The pickle decides the object graph, so the walk is guarded:
 * - an explicit stack, never recursion (100 000 nested dicts would overflow the JS stack);
 * - each dict is walked once: a dict reached again through another path (a shared sub-dict) keeps its first
 *   path and is skipped afterwards, so a dict referenced from many places at every level costs its size, not
 *   one visit per path (2^60 for 60 levels); a dict that contains itself is an error;
 * - depth, number of entries and key length are capped, each with an error naming the file.
 */
import { AudioSaeError } from '../errors.ts';
import { clip } from './describe.ts';
import { describePy, isTensorRef, PyDict, type TensorRef } from './unpickle.ts';

/** Nesting deeper than any checkpoint needs (a model state dict is 1 level, a training checkpoint 3 or 4). */
export const MAX_DICT_DEPTH = 64;
/** Dict entries walked in one checkpoint (a large model has a few thousand tensors). */
export const MAX_DICT_ENTRIES = 1_000_000;
/** Characters in one flattened key (real keys are under 200). */
export const MAX_KEY_CHARS = 4096;

interface Frame {
  dict: PyDict;
  entries: Iterator<[unknown, unknown]>;
  prefix: string;
  depth: number;
}

/** The tensors and numbers of a pickled object, by flattened key, in file order. */
export function flattenStateDict(obj: unknown, file: string): Map<string, TensorRef | number> {
  const out = new Map<string, TensorRef | number>();
  if (isTensorRef(obj)) {
    out.set('', obj);
    return out;
  }
  if (!(obj instanceof PyDict)) {
    throw new AudioSaeError(`does not hold a dict of tensors (a state dict) at its top level; it holds ${describePy(obj)}.`, file);
  }
  const seen = new Set<PyDict>([obj]);
  const onPath = new Set<PyDict>([obj]);
  const stack: Frame[] = [{ dict: obj, entries: obj.map.entries(), prefix: '', depth: 1 }];
  let walked = 0;
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    const next = frame.entries.next();
    if (next.done) {
      onPath.delete(frame.dict);
      stack.pop();
      continue;
    }
    if (++walked > MAX_DICT_ENTRIES) {
      throw new AudioSaeError(`holds more than ${MAX_DICT_ENTRIES} dict entries, far more than any state dict.`, file);
    }
    const [k, v] = next.value;
    // Keys are str or int in state dicts; None and bools print as Python would not, but harmlessly. Tuples,
    // lists and other objects are refused rather than turned into text.
    if (typeof k !== 'string' && typeof k !== 'number' && typeof k !== 'bigint' && typeof k !== 'boolean' && k !== null) {
      throw new AudioSaeError(`has a dict key that is ${describePy(k)}, not a string or number${frame.prefix ? ` (in "${clip(frame.prefix)}")` : ''}.`, file);
    }
    const name = String(k);
    if (frame.prefix.length + 1 + name.length > MAX_KEY_CHARS) {
      throw new AudioSaeError(`has a key longer than ${MAX_KEY_CHARS} characters ("${clip(frame.prefix ? `${frame.prefix}.${name}` : name)}").`, file);
    }
    const key = frame.prefix ? `${frame.prefix}.${name}` : name;
    if (isTensorRef(v)) {
      out.set(key, v);
    } else if (typeof v === 'number') {
      out.set(key, v);
    } else if (v instanceof PyDict) {
      if (onPath.has(v)) throw new AudioSaeError(`is not a state dict: the dict at "${clip(key)}" contains itself.`, file);
      if (seen.has(v)) continue; // shared: already walked under its first path
      if (frame.depth + 1 > MAX_DICT_DEPTH) {
        throw new AudioSaeError(`nests dicts more than ${MAX_DICT_DEPTH} levels deep (at "${clip(key)}"), far more than any state dict.`, file);
      }
      seen.add(v);
      onPath.add(v);
      stack.push({ dict: v, entries: v.map.entries(), prefix: key, depth: frame.depth + 1 });
    }
  }
  return out;
}
