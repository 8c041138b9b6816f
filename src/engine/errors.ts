/**
 * The one error type the engine throws for problems a user can act on: bad files, bad arguments, shape
 * mismatches. The message names the file (when there is one), says what is wrong and, where possible,
 * what to do. Anything else that escapes is a bug.
 *
 * Messages quote names taken from files (pickle globals, tensor keys, config values, file names), so every
 * part is passed through `printable` first: a name holding `\r` or a terminal escape sequence cannot rewrite
 * the line it is printed on.
 */
export class AudioSaeError extends Error {
  override readonly name = 'AudioSaeError';
  /** What is wrong, as a sentence (control characters escaped). */
  readonly problem: string;
  /** The file the problem is in, when there is one (control characters escaped). */
  readonly file?: string;
  /** What the user can do about it. */
  readonly hint?: string;

  constructor(problem: string, file?: string, hint?: string) {
    const p = printable(problem);
    const f = file === undefined ? undefined : printable(file);
    const h = hint === undefined ? undefined : printable(hint);
    super([f ? `${f}: ${p}` : p, h].filter(Boolean).join(' '));
    this.problem = p;
    this.file = f;
    this.hint = h;
  }
}

/** True for errors meant for users (as opposed to bugs). */
export function isUserError(e: unknown): e is AudioSaeError {
  return e instanceof AudioSaeError;
}

/**
 * Text safe to print on one terminal line: C0 and C1 control characters (newline, carriage return, escape …),
 * DEL, and the Unicode line/paragraph separators and bidirectional overrides become visible escapes (`\n`,
 * `\r`, `\x1b`, `\u202e`); everything else is kept.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (ch) => {
    if (ch === '\n') return '\\n';
    if (ch === '\r') return '\\r';
    if (ch === '\t') return '\\t';
    const code = ch.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
