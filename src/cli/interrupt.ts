/**
 * What Ctrl-C (SIGINT) and SIGTERM do. By default: remove the outputs still being written and exit. Long jobs
 * that can stop cleanly (a corpus run finishing the clip in flight) register a graceful stop: the first signal
 * asks them to stop, a second one exits at once. A job registered after the first signal is asked at once: the
 * process has been told to stop.
 */
import { rmSync } from 'node:fs';
import { abortAllOutputs } from '../engine/io/outputFolder.ts';

let graceful: (() => void) | undefined;
let asked = false;

/** Registers a graceful stop for the job in progress; returns a function that unregisters it. */
export function onInterrupt(stop: () => void): () => void {
  graceful = stop;
  if (asked) stop();
  return () => {
    if (graceful === stop) graceful = undefined;
  };
}

/** Whether a signal has asked the process to stop gracefully. */
export function interruptAsked(): boolean {
  return asked;
}

export function installInterruptHandlers(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (graceful && !asked) {
        asked = true;
        process.stderr.write(`\naudiosae: ${signal}: stopping after the clip in flight (again to stop at once).\n`);
        graceful();
        return;
      }
      abortAllOutputs((p) => rmSync(p, { recursive: true, force: true }));
      process.stderr.write(`\naudiosae: stopped by ${signal}; outputs in progress were removed.\n`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}
