/**
 * Requests from the webview to the host: each carries an id and resolves with the reply of the same id, or
 * rejects (with a RequestFailed) on a `failed` reply or after a timeout.
 */
import type { HostMessage, WebviewMessage } from '../../src/shared/editorProtocol.ts';

type Reply = Extract<HostMessage, { id: number }>;
type Request = Extract<WebviewMessage, { id: number }>;
type ReplyTo<R extends Request> = Extract<Reply, { type: R['type'] }>;

const TIMEOUT_MS = 60_000;

export class Rpc {
  private next = 1;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> }>();

  constructor(private readonly send: (m: WebviewMessage) => void) {}

  request<R extends Request>(message: Omit<R, 'id'>): Promise<ReplyTo<R>> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RequestFailed(message.type, `the host did not answer within ${TIMEOUT_MS / 1000} s`));
      }, TIMEOUT_MS);
      this.pending.set(id, { resolve: resolve as (r: Reply) => void, reject, timer });
      this.send({ ...message, id } as unknown as WebviewMessage);
    });
  }

  /** Routes a reply to its request; false (the message is for the caller) if it is not a reply. */
  receive(m: HostMessage): m is Reply {
    if (!('id' in m)) return false;
    const p = this.pending.get(m.id);
    if (!p) return true;
    this.pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.type === 'failed') p.reject(new RequestFailed(m.request, m.message));
    else p.resolve(m);
    return true;
  }
}

/** A request the host could not answer: rejected, failed in its handler, or timed out. */
export class RequestFailed extends Error {
  constructor(readonly request: string, message: string) {
    super(message);
  }
}

/**
 * Runs `fetch` for the latest request only: while one is in flight, further calls just mark it stale, and one
 * more run follows when it finishes (so a burst of wheel events costs two round trips, not fifty). A failure
 * goes to `onError` (the editor shows it), never silently away.
 */
export function latestOnly(fetch: () => Promise<void>, onError: (e: Error) => void): () => void {
  let running = false;
  let again = false;
  const go = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await fetch().catch((e: unknown) => onError(e instanceof Error ? e : new Error(String(e))));
      } while (again);
    } finally {
      running = false;
    }
  };
  return () => void go();
}
