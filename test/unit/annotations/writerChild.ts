/**
 * A child process for the kill -9 test: opens the journal named by argv[2] and puts annotations of features
 * 0, 1, 2, … as fast as it can, printing "ack <feature>" on stdout after each put resolves (is on disk).
 */
import { AnnotationJournal } from '../../../src/engine/store/annotations.ts';

const journal = await AnnotationJournal.open(process.argv[2]!);
for (let feature = 0; ; feature++) {
  await journal.put({ backbone: 'whisper-small', sae: 'sha-a', layer: 6, feature }, { name: `feature ${feature}`, notes: 'x'.repeat(feature % 200), tags: ['t'] });
  process.stdout.write(`ack ${feature}\n`);
}
