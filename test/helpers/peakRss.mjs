// Loaded with `node --import` into a process under test: prints the process's peak resident memory (all its
// threads, the engine worker included) on stderr as it exits, for tests that check memory stays bounded.
process.on('exit', () => process.stderr.write(`\npeak_rss_kb=${process.resourceUsage().maxRSS}\n`));
