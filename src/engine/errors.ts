/**
 * The one error type the engine throws for problems a user can act on: bad files, bad arguments, shape
 * mismatches. The message names the file (when there is one), says what is wrong and, where possible,
 * what to do. Anything else that escapes is a bug.
 */
export class AudioSaeError extends Error {
  override readonly name = 'AudioSaeError';

  constructor(
    /** What is wrong, as a sentence. */
    readonly problem: string,
    /** The file the problem is in, when there is one. */
    readonly file?: string,
    /** What the user can do about it. */
    readonly hint?: string,
  ) {
    super([file ? `${file}: ${problem}` : problem, hint].filter(Boolean).join(' '));
  }
}

/** True for errors meant for users (as opposed to bugs). */
export function isUserError(e: unknown): e is AudioSaeError {
  return e instanceof AudioSaeError;
}
