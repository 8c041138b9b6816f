// Test helper process: opens a corpus store for writing (as a CLI corpus run does), says so, and holds the
// write lock until the parent sends a message.
import { CorpusStore } from '../../../src/engine/store/store.ts';

const store = await CorpusStore.open(process.argv[2]!);
process.send!('holding');
process.once('message', () => {
  store.close();
  process.exit(0);
});
