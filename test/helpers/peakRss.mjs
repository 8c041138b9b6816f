// Loaded with `node --import` into a process under test: prints the process's peak resident memory (all its
// threads, the engine worker included) on stderr as it exits, for tests that check memory stays bounded.
// On Linux it is VmHWM of /proc/self/status: getrusage's maxrss would also count the parent's memory at the
// fork that started this process (the kernel carries the old address space's high-water mark across exec).
import { readFileSync } from 'node:fs';

process.on('exit', () => {
  let kb = process.resourceUsage().maxRSS;
  try {
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (hwm) kb = Number(hwm);
  } catch {
    // not Linux: maxRSS it is
  }
  process.stderr.write(`\npeak_rss_kb=${kb}\n`);
});
