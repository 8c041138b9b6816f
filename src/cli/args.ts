/**
 * The command line of one verb, parsed by `node:util`'s `parseArgs` and checked against the verb's declaration:
 * each option says once what it takes (a string, a choice, an integer or a number within bounds, or nothing),
 * and the same declaration drives parsing, validation and the help text. Every value is checked before any
 * work starts, so a bad option is one clear line, never a surprise halfway through.
 */
import { parseArgs as nodeParseArgs } from 'node:util';
import { AudioSaeError } from '../engine/errors.ts';

export interface OptionSpec {
  /** Long name without dashes, e.g. "n-mels". */
  name: string;
  /** Placeholder in the help text, e.g. "<file>"; absent for boolean flags. */
  value?: string;
  description: string;
  /** Allowed values, checked when parsing. */
  choices?: readonly string[];
  /** A whole number (`int`) or any finite number (`number`) within [min, max]. */
  numeric?: { kind: 'int' | 'number'; min: number; max: number };
  required?: boolean;
  default?: string;
}

export interface VerbSpec {
  name: string;
  summary: string;
  /** Positional arguments, in order, e.g. ["<audio>"]. */
  positionals: string[];
  options: OptionSpec[];
  /** Extra paragraphs for `--help`. */
  details?: string;
}

export interface ParsedArgs {
  positionals: string[];
  /** String values (numbers as given, already checked). */
  options: Map<string, string>;
  /** Numeric options, parsed. */
  numbers: Map<string, number>;
  flags: Set<string>;
  help: boolean;
}

const see = (verb: string) => `See: audiosae ${verb} --help`;

/** node:util's messages, said in this CLI's words. */
function parseFailure(e: unknown, spec: VerbSpec): AudioSaeError {
  const { code, message } = e as { code?: string; message: string };
  const option = /'(-{1,2}[^' ]+)/.exec(message)?.[1] ?? '';
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new AudioSaeError(`unknown option ${option} for "${spec.name}".`, undefined, see(spec.name));
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /argument missing|ambiguous/.test(message)
        ? new AudioSaeError(`${option} needs a value${/ambiguous/.test(message) ? ` (a value starting with "-" is written ${option}=VALUE)` : ''}.`, undefined, see(spec.name))
        : new AudioSaeError(`${option} takes no value.`, undefined, see(spec.name));
    default:
      return new AudioSaeError(`cannot read the command line: ${message}`, undefined, see(spec.name));
  }
}

function checkNumber(o: OptionSpec, raw: string): number {
  const { kind, min, max } = o.numeric!;
  const v = raw.trim() === '' ? NaN : Number(raw);
  const wrongKind = kind === 'int' ? !Number.isInteger(v) : !Number.isFinite(v);
  if (wrongKind || v < min || v > max) {
    throw new AudioSaeError(`--${o.name} must be ${kind === 'int' ? 'a whole number' : 'a number'} from ${min} to ${max}; got "${raw}".`);
  }
  return v;
}

export function parseArgs(spec: VerbSpec, argv: string[]): ParsedArgs {
  const config: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const o of spec.options) config[o.name] = { type: o.value ? 'string' : 'boolean' };
  let parsed: ReturnType<typeof nodeParseArgs>;
  try {
    parsed = nodeParseArgs({ args: argv, options: config, allowPositionals: true, strict: true });
  } catch (e) {
    throw parseFailure(e, spec);
  }
  const out: ParsedArgs = { positionals: parsed.positionals, options: new Map(), numbers: new Map(), flags: new Set(), help: parsed.values.help === true };
  if (out.help) return out;
  for (const o of spec.options) {
    const given = parsed.values[o.name];
    if (!o.value) {
      if (given === true) out.flags.add(o.name);
      continue;
    }
    const value = typeof given === 'string' ? given : o.default;
    if (value === undefined) {
      if (o.required) throw new AudioSaeError(`"${spec.name}" needs --${o.name} ${o.value}.`, undefined, see(spec.name));
      continue;
    }
    if (value === '' && !o.numeric) throw new AudioSaeError(`--${o.name} needs a non-empty value ${o.value}.`, undefined, see(spec.name));
    if (o.choices && !o.choices.includes(value)) throw new AudioSaeError(`--${o.name} must be one of ${o.choices.join(', ')}; got "${value}".`);
    if (o.numeric) out.numbers.set(o.name, checkNumber(o, value));
    out.options.set(o.name, value);
  }
  // A last positional written "<dir>..." takes one or more values.
  const variadic = spec.positionals.at(-1)?.endsWith('...') === true;
  if (variadic ? out.positionals.length < spec.positionals.length : out.positionals.length !== spec.positionals.length) {
    throw new AudioSaeError(
      `"${spec.name}" takes ${spec.positionals.length ? spec.positionals.join(' ') : 'no positional arguments'}; got ${out.positionals.length} positional argument(s).`,
      undefined,
      see(spec.name),
    );
  }
  return out;
}

export function helpText(spec: VerbSpec): string {
  const lines = [`audiosae ${spec.name} ${spec.positionals.join(' ')} [options]`.replace(/\s+\[/, ' ['), '', spec.summary, ''];
  if (spec.options.length) {
    lines.push('Options:');
    const left = spec.options.map((o) => `  --${o.name}${o.value ? ` ${o.value}` : ''}`);
    const width = Math.max(...left.map((l) => l.length)) + 2;
    spec.options.forEach((o, i) => {
      const range = o.numeric ? `${o.numeric.min}–${o.numeric.max}` : '';
      const extra = [o.required ? 'required' : '', range, o.default !== undefined ? `default ${o.default}` : ''].filter(Boolean).join(', ');
      lines.push(`${left[i]!.padEnd(width)}${o.description}${extra ? ` (${extra})` : ''}`);
    });
    lines.push(`${'  --help'.padEnd(width)}show this help`);
  }
  if (spec.details) lines.push('', spec.details.trim());
  return lines.join('\n');
}

/** A numeric option's value (declared with `numeric`, so already checked); undefined when not given. */
export function numberOption(args: ParsedArgs, name: string): number | undefined {
  return args.numbers.get(name);
}
