/**
 * Short descriptions of values taken from files (pickle objects, JSON values), for error messages. Never
 * recursive and never long: `String()` or `JSON.stringify()` of a hostile value can recurse 100 000 levels
 * deep (a stack overflow) or print megabytes. Control characters are escaped later by AudioSaeError.
 */

const MAX_TEXT = 80;

/** A string cut to `max` characters, with a note of how long it was. */
export function clip(text: string, max = MAX_TEXT): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}

/** What a value is, in a few words: `null`, `42`, `"text"`, `a list of 3`, `an object`, `a PyDict` … */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  switch (typeof v) {
    case 'number': case 'boolean': return String(v);
    case 'bigint': return clip(v.toString());
    case 'string': return `"${clip(v)}"`;
    case 'object':
      if (Array.isArray(v)) return `a list of ${v.length}`;
      if (v instanceof Uint8Array) return `${v.length} bytes`;
      return Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null
        ? 'an object'
        : `a ${clip(v.constructor?.name ?? 'value', 40)}`;
    default: return `a ${typeof v}`;
  }
}
