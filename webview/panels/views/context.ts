/** What a panel view draws with: the page frame (heading, layer picker, exports, notices) and the host links. */
import type { CorpusPanelRequest, CorpusView, PanelCommand, PanelCommandArgs } from '../../../src/shared/panelProtocol.ts';
import type { ExportSource } from '../common/exports.ts';
import type { PanelRpc } from '../common/rpc.ts';

export interface PanelContext {
  rpc: PanelRpc<CorpusView, CorpusPanelRequest>;
  /** Draws the page: a title, the body, and export buttons for what it shows. */
  render(page: { title: string; body: HTMLElement[]; exports: ExportSource }): void;
  /** Asks the host for another layer (every panel on the active run follows). */
  setLayer(layer: number): void;
  command<C extends PanelCommand>(command: C, arg: PanelCommandArgs[C]): void;
  notify(text: string, error?: boolean): void;
}
