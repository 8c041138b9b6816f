/**
 * The `audiosae` command line: one verb per job, each in `commands/`. User errors print one line and exit 1;
 * anything else is a bug and prints its stack with exit 2.
 */
import { isUserError } from '../engine/errors.ts';
import { helpText, parseArgs, type VerbSpec } from './args.ts';
import * as activations from './commands/activations.ts';
import * as demo from './commands/demo.ts';
import * as features from './commands/features.ts';
import * as mel from './commands/mel.ts';
import * as sae from './commands/sae.ts';

interface Verb {
  spec: VerbSpec;
  run(args: ReturnType<typeof parseArgs>): Promise<void>;
}

const verbs: Verb[] = [demo, activations, features, mel, sae];

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
  const verb = verbs.find((v) => v.spec.name === name);
  if (!verb) {
    console.error(`audiosae: unknown verb "${name}".\n\n${usage()}`);
    return 1;
  }
  const args = parseArgs(verb.spec, rest);
  if (args.help) {
    console.log(helpText(verb.spec));
    return 0;
  }
  await verb.run(args);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (isUserError(e)) {
      console.error(`audiosae: ${e.message}`);
      process.exitCode = 1;
    } else {
      console.error('audiosae: internal error (please report it):', e);
      process.exitCode = 2;
    }
  },
);
