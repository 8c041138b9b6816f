/**
 * A small command-line parser: `--name value`, `--name=value`, boolean `--flag`, positionals, and `--help`.
 * Each verb declares its options once; the same declaration drives parsing, validation and the help text.
 */
import { AudioSaeError } from '../engine/errors.ts';

export interface OptionSpec {
  /** Long name without dashes, e.g. "n-mels". */
  name: string;
  /** Placeholder in the help text, e.g. "<file>"; absent for boolean flags. */
  value?: string;
  description: string;
  /** Allowed values, checked when parsing. */
  choices?: readonly string[];
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
  options: Map<string, string>;
  flags: Set<string>;
  help: boolean;
}

export function parseArgs(spec: VerbSpec, argv: string[]): ParsedArgs {
  const out: ParsedArgs = { positionals: [], options: new Map(), flags: new Set(), help: false };
  const byName = new Map(spec.options.map((o) => [o.name, o]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      out.help = true;
      continue;
    }
    if (!arg.startsWith('--')) {
      out.positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq >= 0 ? eq : undefined);
    const opt = byName.get(name);
    if (!opt) throw new AudioSaeError(`unknown option --${name} for "${spec.name}".`, undefined, `See: audiosae ${spec.name} --help`);
    if (!opt.value) {
      if (eq >= 0) throw new AudioSaeError(`--${name} takes no value.`);
      out.flags.add(name);
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new AudioSaeError(`--${name} needs a value ${opt.value}.`);
    if (opt.choices && !opt.choices.includes(value)) {
      throw new AudioSaeError(`--${name} must be one of ${opt.choices.join(', ')}; got "${value}".`);
    }
    out.options.set(name, value);
  }
  if (out.help) return out;
  for (const o of spec.options) {
    if (o.default !== undefined && o.value && !out.options.has(o.name)) out.options.set(o.name, o.default);
    if (o.required && !out.options.has(o.name)) {
      throw new AudioSaeError(`"${spec.name}" needs --${o.name} ${o.value ?? ''}.`.replace(' .', '.'), undefined, `See: audiosae ${spec.name} --help`);
    }
  }
  if (out.positionals.length !== spec.positionals.length) {
    throw new AudioSaeError(
      `"${spec.name}" takes ${spec.positionals.length ? spec.positionals.join(' ') : 'no positional arguments'}; got ${out.positionals.length} positional argument(s).`,
      undefined,
      `See: audiosae ${spec.name} --help`,
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
      const extra = [o.required ? 'required' : '', o.default !== undefined ? `default ${o.default}` : ''].filter(Boolean).join(', ');
      lines.push(`${left[i]!.padEnd(width)}${o.description}${extra ? ` (${extra})` : ''}`);
    });
    lines.push(`${'  --help'.padEnd(width)}show this help`);
  }
  if (spec.details) lines.push('', spec.details.trim());
  return lines.join('\n');
}

/** A numeric option: parsed, finite, within [min, max]. */
export function numberOption(args: ParsedArgs, name: string, min = -Infinity, max = Infinity): number | undefined {
  const raw = args.options.get(name);
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max) {
    throw new AudioSaeError(`--${name} must be a number between ${min} and ${max}; got "${raw}".`);
  }
  return v;
}
