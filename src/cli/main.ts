/**
 * The `audiosae` command line: one verb per job, each in `commands/`. Whatever goes wrong prints one line:
 * problems with the input or the machine (an AudioSaeError, a file-system error) exit 1; anything else is a bug
 * and exits 2, naming the verb and its input (the stack with `--debug` or AUDIOSAE_DEBUG=1). Ctrl-C or SIGTERM
 * removes the outputs still being written.
 */
import { isUserError, printable } from '../engine/errors.ts';
import { writeFailure } from '../engine/io/files.ts';
import { installInterruptHandlers } from './interrupt.ts';
import { helpText, parseArgs, type VerbSpec } from './args.ts';
import * as activations from './commands/activations.ts';
import * as demo from './commands/demo.ts';
import * as features from './commands/features.ts';
import * as mel from './commands/mel.ts';
import * as sae from './commands/sae.ts';
import * as corpus from './commands/corpus/index.ts';

interface Verb {
  spec: VerbSpec;
  run(args: ReturnType<typeof parseArgs>): Promise<number | void>;
}

/** A verb with verbs of its own (`audiosae corpus run …`). */
interface VerbGroup {
  spec: Pick<VerbSpec, 'name' | 'summary'>;
  verbs: Verb[];
}

const verbs: Array<Verb | VerbGroup> = [demo, activations, features, mel, sae, corpus];

function groupUsage(group: VerbGroup): string {
  const width = Math.max(...group.verbs.map((v) => v.spec.name.length)) + 2;
  return [
    `audiosae ${group.spec.name} <verb> [options]      (audiosae ${group.spec.name} <verb> --help for details)`,
    '',
    group.spec.summary,
    '',
    'Verbs:',
    ...group.verbs.map((v) => `  ${v.spec.name.slice(group.spec.name.length + 1).padEnd(width)}${v.spec.summary}`),
  ].join('\n');
}

function usage(): string {
  const width = Math.max(...verbs.map((v) => v.spec.name.length)) + 2;
  return [
    'audiosae <verb> [options]      (audiosae <verb> --help for details)',
    '',
    'Verbs:',
    ...verbs.map((v) => `  ${v.spec.name.padEnd(width)}${v.spec.summary}`),
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 1;
  }
  const found = verbs.find((v) => v.spec.name === name);
  if (!found) {
    console.error(`audiosae: unknown verb "${printable(name)}".\n\n${usage()}`);
    return 1;
  }
  let verb: Verb;
  let args = rest;
  if ('verbs' in found) {
    const [sub, ...more] = rest;
    if (!sub || sub === '--help' || sub === '-h' || sub === 'help') {
      console.log(groupUsage(found));
      return sub ? 0 : 1;
    }
    const inner = found.verbs.find((v) => v.spec.name === `${found.spec.name} ${sub}`);
    if (!inner) {
      console.error(`audiosae: unknown verb "${found.spec.name} ${printable(sub)}".\n\n${groupUsage(found)}`);
      return 1;
    }
    verb = inner;
    args = more;
  } else {
    verb = found;
  }
  const parsed = parseArgs(verb.spec, args);
  if (parsed.help) {
    console.log(helpText(verb.spec));
    return 0;
  }
  return (await verb.run(parsed)) ?? 0;
}

/** An error from the file system or the OS (it carries an errno code), said as a user error where it is one. */
function systemError(e: unknown): string | undefined {
  const err = e as NodeJS.ErrnoException;
  if (!err || typeof err.code !== 'string' || !/^E[A-Z]+$/.test(err.code)) return undefined;
  const mapped = err.path ? writeFailure(err, err.path) : undefined;
  return isUserError(mapped) ? mapped.message : printable(`${err.path ? `${err.path}: ` : ''}${err.message}`);
}

const argv = process.argv.slice(2).filter((a) => a !== '--debug');
const debug = argv.length !== process.argv.length - 2 || process.env.AUDIOSAE_DEBUG === '1';
installInterruptHandlers();

main(argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    const system = systemError(e);
    if (isUserError(e) || system) {
      console.error(`audiosae: ${isUserError(e) ? e.message : system}`);
      process.exitCode = 1;
    } else {
      const input = argv.slice(1).find((a) => !a.startsWith('-')) ?? '';
      const what = printable(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
      console.error(`audiosae ${printable(argv[0] ?? '')}: internal error${input ? ` on ${printable(input)}` : ''}: ${what} (a bug: please report it${debug ? '' : '; --debug shows the stack'}).`);
      if (debug && e instanceof Error && e.stack) console.error(e.stack);
      process.exitCode = 2;
    }
    if (debug && isUserError(e) && e.stack) console.error(e.stack);
  },
);
