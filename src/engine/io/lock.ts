/**
 * A lock file next to a cache entry (`<entry>.lock`), so that processes sharing a cache (the tasks of a Slurm
 * array on a shared file system, two VS Code windows) build or download an entry once: the first creates the
 * lock (O_EXCL) and does the work; the others wait, then find the entry done.
 *
 * The lock file holds {pid, host, token, at}. It is stale, and taken over, when its holder is a process of this
 * host that no longer exists, or when it has not been touched for `staleMs` (a holder on another host, or one
 * that hangs): holders touch it while they work (every staleMs/4 for async work; `refresh()` for synchronous
 * work). Taking over goes through a second, short-lived lock (`<entry>.lock.break`) and re-reads the lock
 * before removing it, so two waiters that both saw the same stale lock cannot remove a fresh one. A holder
 * removes the lock only while it is still its own.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { AudioSaeError } from '../errors.ts';
import { processGone } from './atomicWrite.ts';

export interface LockOptions {
  /** A lock not touched for this long is stale (default 120 s). */
  staleMs?: number;
  /** Give up after this long (default: wait as long as the holder lives). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface HeldLock {
  path: string;
  /** Marks the lock as alive (touches it); call it while working synchronously. */
  refresh(): void;
  release(): void;
}

interface LockContent {
  pid: number;
  host: string;
  token: string;
  at: string;
}

const DEFAULT_STALE_MS = 120_000;
/** A breaker lock older than this was left by a process that died while taking over a stale lock. */
const BREAKER_STALE_MS = 10_000;

function read(path: string): { raw: string; content?: LockContent; mtimeMs: number } | undefined {
  try {
    const mtimeMs = statSync(path).mtimeMs;
    const raw = readFileSync(path, 'utf8');
    try {
      return { raw, content: JSON.parse(raw) as LockContent, mtimeMs };
    } catch {
      return { raw, mtimeMs }; // being written right now, or damaged: judged by its age alone
    }
  } catch {
    return undefined; // gone
  }
}

function tryCreate(path: string, token: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), token, at: new Date().toISOString() } satisfies LockContent));
  } finally {
    closeSync(fd);
  }
  return true;
}

function isStale(seen: NonNullable<ReturnType<typeof read>>, staleMs: number): boolean {
  const c = seen.content;
  if (c && c.host === hostname() && Number.isSafeInteger(c.pid) && c.pid > 0 && processGone(c.pid)) return true;
  return Date.now() - seen.mtimeMs > staleMs;
}

/** Removes a stale lock if it is still the one seen; true when it is gone. */
function breakStale(path: string, seenRaw: string): boolean {
  const breaker = `${path}.break`;
  if (!tryCreate(breaker, 'break')) {
    const b = read(breaker);
    if (b && Date.now() - b.mtimeMs > BREAKER_STALE_MS) {
      try {
        unlinkSync(breaker);
      } catch {
        // someone else cleared it
      }
    }
    return false;
  }
  try {
    const now = read(path);
    if (!now) return true;
    if (now.raw !== seenRaw) return false; // a new holder since: not ours to remove
    unlinkSync(path);
    return true;
  } finally {
    try {
      unlinkSync(breaker);
    } catch {
      // already gone
    }
  }
}

/** One attempt: the lock if taken, else who holds it. */
function attempt(path: string, token: string, staleMs: number): HeldLock | string {
  if (tryCreate(path, token)) return held(path, token);
  const seen = read(path);
  if (!seen) return 'a holder that just released it';
  if (isStale(seen, staleMs) && breakStale(path, seen.raw) && tryCreate(path, token)) return held(path, token);
  return seen.content ? `process ${seen.content.pid} on ${seen.content.host} since ${seen.content.at}` : 'another process';
}

function held(path: string, token: string): HeldLock {
  const ours = () => read(path)?.content?.token === token;
  return {
    path,
    refresh() {
      const now = new Date();
      try {
        if (ours()) utimesSync(path, now, now);
      } catch {
        // gone: release will find it so
      }
    },
    release() {
      try {
        if (ours()) unlinkSync(path);
      } catch {
        // already gone
      }
    },
  };
}

function timeoutError(target: string, holder: string, ms: number): AudioSaeError {
  return new AudioSaeError(`is locked by ${holder}; gave up after ${(ms / 1000).toFixed(1)} s.`, `${target}.lock`, 'If no process is working on it, remove the .lock file.');
}

const pause = (attemptNo: number) => Math.min(500, 20 * 2 ** attemptNo);

/** Waits for and takes the lock of `target` (the file `<target>.lock`). */
export async function acquireLock(target: string, o: LockOptions = {}): Promise<HeldLock> {
  const path = `${target}.lock`;
  const token = `${process.pid}-${randomBytes(8).toString('hex')}`;
  const started = Date.now();
  for (let i = 0; ; i++) {
    const r = attempt(path, token, o.staleMs ?? DEFAULT_STALE_MS);
    if (typeof r !== 'string') return r;
    if (o.signal?.aborted) throw new AudioSaeError('cancelled while waiting for another process to finish it.', target);
    if (o.timeoutMs !== undefined && Date.now() - started > o.timeoutMs) throw timeoutError(target, r, o.timeoutMs);
    await new Promise((resolve) => setTimeout(resolve, pause(i)));
  }
}

/** The same, blocking the thread while it waits (for synchronous callers). */
export function acquireLockSync(target: string, o: Omit<LockOptions, 'signal'> = {}): HeldLock {
  const path = `${target}.lock`;
  const token = `${process.pid}-${randomBytes(8).toString('hex')}`;
  const started = Date.now();
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; ; i++) {
    const r = attempt(path, token, o.staleMs ?? DEFAULT_STALE_MS);
    if (typeof r !== 'string') return r;
    if (o.timeoutMs !== undefined && Date.now() - started > o.timeoutMs) throw timeoutError(target, r, o.timeoutMs);
    Atomics.wait(cell, 0, 0, pause(i));
  }
}

/** Runs `work` holding the lock of `target`, touching the lock while it runs; always releases it. */
export async function withLock<T>(target: string, work: () => Promise<T>, o: LockOptions = {}): Promise<T> {
  const lock = await acquireLock(target, o);
  const beat = setInterval(() => lock.refresh(), (o.staleMs ?? DEFAULT_STALE_MS) / 4);
  beat.unref();
  try {
    return await work();
  } finally {
    clearInterval(beat);
    lock.release();
  }
}

/** Runs synchronous `work` holding the lock of `target`; `work` calls `lock.refresh()` during long stretches. */
export function withLockSync<T>(target: string, work: (lock: HeldLock) => T, o: Omit<LockOptions, 'signal'> = {}): T {
  const lock = acquireLockSync(target, o);
  try {
    return work(lock);
  } finally {
    lock.release();
  }
}
