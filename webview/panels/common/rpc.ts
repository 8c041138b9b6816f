/**
 * A panel webview's side of panelProtocol.ts: the `ready` handshake, requests/exports/commands that resolve
 * with their reply (or reject with its message, or after a timeout), and the views, loading and error messages
 * from the host delivered to one handler.
 */
import type { HostToPanel, PanelCommand, PanelCommandArgs, PanelToHost } from '../../../src/shared/panelProtocol.ts';

declare function acquireVsCodeApi(): { postMessage(m: unknown): void; getState(): unknown; setState(s: unknown): void };

const TIMEOUT_MS = 120_000;
type WithoutId<M> = M extends { id: number } ? Omit<M, 'id'> : never;

export class PanelRpc<V, Q> {
  private next = 1;
  private readonly pending = new Map<number, { resolve: (message: string | undefined) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> }>();
  private readonly api = acquireVsCodeApi();

  constructor(private readonly onHost: (m: Exclude<HostToPanel<V>, { type: 'reply' }>) => void) {
    window.addEventListener('message', (e: MessageEvent) => this.receive(e.data as HostToPanel<V>));
    this.post({ type: 'ready' });
  }

  get state(): unknown {
    return this.api.getState();
  }

  set state(s: unknown) {
    this.api.setState(s);
  }

  post(m: PanelToHost<Q>, transfer?: Transferable[]): void {
    void transfer; // VS Code's postMessage copies ArrayBuffers efficiently; it takes no transfer list.
    this.api.postMessage(m);
  }

  /** Sends a message that gets a reply; resolves with the reply's message (e.g. "Saved x.csv"). */
  call(m: WithoutId<PanelToHost<Q>>): Promise<string | undefined> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`the host did not answer (${m.type})`));
      }, TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      this.post({ ...m, id } as PanelToHost<Q>);
    });
  }

  request(request: Q): Promise<string | undefined> {
    return this.call({ type: 'request', request } as WithoutId<PanelToHost<Q>>);
  }

  command<C extends PanelCommand>(command: C, arg: PanelCommandArgs[C]): Promise<string | undefined> {
    return this.call({ type: 'command', command, arg } as WithoutId<PanelToHost<Q>>);
  }

  measure(name: string, values: number[]): void {
    this.post({ type: 'measure', name, values });
  }

  private receive(m: HostToPanel<V>): void {
    if (m.type !== 'reply') return this.onHost(m);
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.ok) p.resolve(m.message);
    else p.reject(new Error(m.message));
  }
}
