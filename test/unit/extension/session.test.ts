/**
 * The editor's host-side session without VS Code: a plain EditorHost (posts recorded, settings from a map, the
 * clip from bytes, exports into a temporary folder) over the real engine in this thread, with the bundled toy
 * Whisper and its SAE.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InProcessRunner } from '../../../src/engine/runtime/inProcess.ts';
import { EditorSession, featureNames, melAxis, parseClipAt, type EditorHost, type Run } from '../../../src/extension/editor/session.ts';
import type { HostMessage, SavedView, WebviewMessage } from '../../../src/shared/editorProtocol.ts';

const demoModelsDir = new URL('../../../media/demo/models', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'audiosae-session-'));
let runner: InProcessRunner;
before(() => { runner = new InProcessRunner(); });
after(async () => {
  await runner.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

/** 16 kHz mono 16-bit WAV bytes: a tone that changes pitch every second. */
function wav(seconds: number): Uint8Array {
  const n = seconds * 16000;
  const b = Buffer.alloc(44 + 2 * n);
  b.write('RIFF', 0); b.writeUInt32LE(36 + 2 * n, 4); b.write('WAVEfmt ', 8); b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22); b.writeUInt32LE(16000, 24); b.writeUInt32LE(32000, 28); b.writeUInt16LE(2, 32); b.writeUInt16LE(16, 34);
  b.write('data', 36); b.writeUInt32LE(2 * n, 40);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(9000 * Math.sin((2 * Math.PI * (300 + 200 * Math.floor(i / 16000)) * i) / 16000)), 44 + 2 * i);
  return b;
}

/** A host that records what the session says and does. */
class TestHost implements EditorHost {
  readonly fileName = 'clip.wav';
  readonly clipUri = 'file:///clips/clip.wav';
  readonly demoModelsDir = demoModelsDir;
  readonly posted: HostMessage[] = [];
  readonly executed: Array<{ command: string; args: unknown[] }> = [];
  settings: Record<string, unknown> = { backbone: 'whisper-tiny-random', layer: 2, saeMode: 'auto' };
  commands = new Set<string>();
  saveTo: string | undefined;
  saved: SavedView | undefined;
  constructor(readonly bytes: Uint8Array) {}
  post(m: HostMessage): void { this.posted.push(m); }
  setting<T>(key: string, fallback: T): T { return (key in this.settings ? this.settings[key] : fallback) as T; }
  isTrusted(): boolean { return true; }
  async readClip(): Promise<Uint8Array> { return this.bytes; }
  async playbackUri(hash: string): Promise<string> { return `test:${hash}`; }
  savedView(): unknown { return this.saved; }
  saveView(saved: SavedView): void { this.saved = saved; }
  async saveTarget(name: string) { return this.saveTo === undefined ? undefined : { name, fsPath: join(this.saveTo, name) }; }
  async hasCommand(command: string): Promise<boolean> { return this.commands.has(command); }
  /** What commands answer (by command id). */
  answers: Record<string, unknown> = {};
  async executeCommand<T>(command: string, ...args: unknown[]): Promise<T> {
    this.executed.push({ command, args });
    return this.answers[command] as T;
  }
  openSettings(): void { this.executed.push({ command: 'openSettings', args: [] }); }
  /** The backbone/layer reports, in order. */
  readonly contexts: Array<{ backbone: string; layer: number }> = [];
  contextChanged(context: { backbone: string; layer: number }): void { this.contexts.push(context); }
  /** The reply to request `id`. */
  reply(id: number): HostMessage | undefined {
    return this.posted.find((m) => 'id' in m && m.id === id);
  }
  notices(): Array<Extract<HostMessage, { type: 'notice' }>> {
    return this.posted.filter((m): m is Extract<HostMessage, { type: 'notice' }> => m.type === 'notice');
  }
  lastRun(): Extract<HostMessage, { type: 'run' }> | undefined {
    return this.posted.filter((m): m is Extract<HostMessage, { type: 'run' }> => m.type === 'run').at(-1);
  }
}

async function opened(seconds = 3, runs = new Map<string, Run>()): Promise<{ host: TestHost; session: EditorSession }> {
  const host = new TestHost(wav(seconds));
  const session = new EditorSession(host, async () => runner, runs);
  await session.handle({ type: 'ready' });
  return { host, session };
}

describe('the editor session (host side, without VS Code)', () => {
  it('opens a clip: init, clip with the mel axis, log-mel, then the model run with typed activity and notes', async () => {
    const { host } = await opened();
    const types = host.posted.map((m) => m.type);
    assert.equal(types[0], 'init');
    const clip = host.posted.find((m) => m.type === 'clip') as Extract<HostMessage, { type: 'clip' }>;
    assert.equal(clip.durationS, 3);
    assert.deepEqual(clip.melAxis, melAxis());
    assert.equal(clip.melAxis.at(-1)!.fraction, 1, '8 kHz tops the axis');
    assert.ok(clip.melAxis[0]!.fraction > 0 && clip.melAxis.every((t, i) => i === 0 || t.fraction > clip.melAxis[i - 1]!.fraction));
    const kinds = host.posted.flatMap((m) => (m.type === 'activity' ? [m.activity.kind] : []));
    assert.deepEqual([kinds[0], kinds[1]], ['decoding', 'mel']);
    assert.ok(kinds.includes('preparing') && kinds.includes('running'));
    assert.equal(kinds.at(-1), 'idle');
    const run = host.lastRun()!;
    assert.equal(run.complete, true);
    assert.equal(run.totalFrames, 150);
    assert.ok(run.notes.every((n) => typeof n.text === 'string' && (n.level === 'info' || n.level === 'warning')));
  });

  it('answers every request with a reply of its id', async () => {
    const { host, session } = await opened();
    const requests: WebviewMessage[] = [
      { type: 'view', id: 1, t0S: 0, t1S: 3, columns: 100, features: [0, 1] },
      { type: 'frame', id: 2, frame: 10 },
      { type: 'rank', id: 3, fromFrame: 0, toFrame: 150, by: 'max', n: 5 },
      { type: 'firing', id: 4, feature: 0, fromFrame: -1, direction: 1 },
      { type: 'frame', id: 5, frame: 100_000 },
    ];
    for (const r of requests) await session.handle(r);
    assert.equal(host.reply(1)!.type, 'view');
    assert.equal(host.reply(2)!.type, 'frame');
    const rank = host.reply(3) as Extract<HostMessage, { type: 'rank' }>;
    assert.equal(rank.stats.length, 5);
    assert.ok(rank.stats[0]!.max >= rank.stats[4]!.max);
    assert.equal(host.reply(4)!.type, 'firing');
    assert.deepEqual(host.reply(5), { type: 'failed', id: 5, request: 'frame', message: 'Frame 100000 has no features (yet).' });
  });

  it('a request whose handler throws still gets a reply (failed, with the reason); another message gets an error notice', async () => {
    const { host, session } = await opened();
    host.settings['testing.failRequests'] = ['rank:other.wav'];
    await session.handle({ type: 'rank', id: 6, fromFrame: 0, toFrame: 10, by: 'max', n: 3 });
    assert.equal(host.reply(6)!.type, 'rank', 'listed for another clip only');
    host.settings['testing.failRequests'] = ['rank:clip.wav', 'export'];
    await session.handle({ type: 'rank', id: 7, fromFrame: 0, toFrame: 10, by: 'max', n: 3 });
    const failed = host.reply(7) as Extract<HostMessage, { type: 'failed' }>;
    assert.equal(failed.type, 'failed');
    assert.equal(failed.request, 'rank');
    assert.match(failed.message, /the rank handler failed/);
    await session.handle({ type: 'export', what: 'codes-csv' });
    assert.match(host.notices().at(-1)!.text, /^Could not export: the export handler failed/);
    assert.equal(host.notices().at(-1)!.level, 'error');
  });

  it('exports atomically: the file appears whole, and a failed write leaves nothing and says why', async () => {
    const { host, session } = await opened();
    host.saveTo = tmp;
    await session.handle({ type: 'export', what: 'codes-csv' });
    assert.match(host.notices().at(-1)!.text, /^Saved clip\.whisper-tiny-random-l2\.codes\.csv$/);
    const csv = readFileSync(join(tmp, 'clip.whisper-tiny-random-l2.codes.csv'), 'utf8').trim().split('\n');
    assert.equal(csv[0], 'frame,time_s,feature,value');
    assert.ok(csv.length > 150, 'a row per active (frame, feature)');
    assert.deepEqual(readdirSync(tmp).filter((f) => f.includes('.tmp')), [], 'no temporary file left');
    host.saveTo = join(tmp, 'missing-folder');
    await session.handle({ type: 'export', what: 'codes-npy' });
    const notice = host.notices().at(-1)!;
    assert.equal(notice.level, 'error');
    assert.match(notice.text, /missing-folder/);
    assert.equal(existsSync(join(tmp, 'missing-folder')), false);
  });

  it('a run is cached per weights folder too: another local backbone is run again, not served from the cache', async () => {
    const runs = new Map<string, Run>();
    const { host, session } = await opened(2, runs);
    const choice = host.lastRun()!.choice;
    await session.handle({ type: 'run', choice });
    assert.equal(host.lastRun()!.cached, true, 'the same choice is served from the cache');
    const hub = { ...choice, backbone: 'whisper-small' };
    const before = session.runKey(hub);
    host.settings.weightsFolder = '/models/another-whisper';
    assert.notEqual(session.runKey(hub), before, 'a Hub backbone read from another weights folder is another run');
    assert.equal(session.runKey(choice), [...runs.keys()].at(-1), 'the bundled demo backbone ignores the weights folder, and so does its key');
  });

  it('links a feature to its page and its top clips through commands, and says when they are not installed', async () => {
    const { host, session } = await opened(2);
    await session.handle({ type: 'link', what: 'featurePage', feature: 3 });
    assert.equal(host.notices().at(-1)!.text, 'the feature page is not installed');
    assert.equal(host.executed.length, 0);
    host.commands.add('audioSae.showFeaturePage').add('audioSae.findTopClips');
    await session.handle({ type: 'link', what: 'featurePage', feature: 3 });
    await session.handle({ type: 'link', what: 'topClips', feature: 4 });
    assert.deepEqual(host.executed, [
      { command: 'audioSae.showFeaturePage', args: [{ feature: 3, layer: 2, backbone: 'whisper-tiny-random' }] },
      { command: 'audioSae.findTopClips', args: [{ feature: 4, layer: 2, backbone: 'whisper-tiny-random' }] },
    ]);
  });

  it('knows the selected region and the features firing in it', async () => {
    const { host, session } = await opened(2);
    assert.equal(session.selection(), undefined);
    await session.handle({ type: 'selection', startS: 0.5, endS: 1 });
    const sel = session.selection()!;
    assert.deepEqual({ ...sel, features: [] }, { uri: host.clipUri, start_s: 0.5, end_s: 1, backbone: 'whisper-tiny-random', layer: 2, features: [] });
    const rank = { type: 'rank' as const, id: 9, fromFrame: 25, toFrame: 50, by: 'max' as const, n: 1000 };
    await session.handle(rank);
    assert.deepEqual([...sel.features].sort((a, b) => a - b), (host.reply(9) as Extract<HostMessage, { type: 'rank' }>).stats.map((s) => s.id).sort((a, b) => a - b));
    await session.handle({ type: 'selection' });
    assert.equal(session.selection(), undefined);
  });

  it('asks for the names users gave the features of the run and sends the valid ones', async () => {
    const host = new TestHost(wav(2));
    host.commands.add('audioSae.featureNames');
    host.answers['audioSae.featureNames'] = { 3: 'vowel  onset\n', 7: 'hum', 99999: 'out of range', x: 'not an id', 5: 42 };
    const session = new EditorSession(host, async () => runner, new Map());
    await session.handle({ type: 'ready' });
    await new Promise((r) => setTimeout(r, 10));
    const names = host.posted.filter((m) => m.type === 'featureNames').at(-1) as Extract<HostMessage, { type: 'featureNames' }>;
    assert.deepEqual(names, { type: 'featureNames', backbone: 'whisper-tiny-random', layer: 2, names: { 3: 'vowel onset', 7: 'hum' } });
    assert.deepEqual(host.executed.find((e) => e.command === 'audioSae.featureNames')!.args, [{ backbone: 'whisper-tiny-random', layer: 2 }]);
    assert.deepEqual(featureNames(undefined, 10), {}, 'no store open: no names');
  });

  it('opens at a moment with a feature selected: the layer asked for runs, and the webview hears where to go after the clip', async () => {
    const host = new TestHost(wav(2));
    const session = new EditorSession(host, async () => runner, new Map());
    const opened = session.reveal({ timeS: 1.25, feature: 5, layer: 3 }, false);
    await session.handle({ type: 'ready' });
    await opened;
    const types = host.posted.map((m) => m.type);
    assert.ok(types.indexOf('reveal') > types.indexOf('clip'), 'the reveal follows the clip');
    assert.deepEqual(host.posted.find((m) => m.type === 'reveal'), { type: 'reveal', timeS: 1.25, feature: 5, layer: 3 });
    assert.equal(host.lastRun()!.choice.layer, 3);
    // Already open: the webview moves at once, and another layer runs.
    await session.reveal({ timeS: 0.5, feature: 1, layer: 1 }, true);
    assert.deepEqual(host.posted.filter((m) => m.type === 'reveal').at(-1), { type: 'reveal', timeS: 0.5, feature: 1, layer: 1 });
    assert.equal(host.lastRun()!.choice.layer, 1);
    assert.deepEqual(parseClipAt({ path: '/c.wav', time_s: 2, feature: 3, layer: 6 }), { path: '/c.wav', timeS: 2, feature: 3, layer: 6 });
    for (const bad of [undefined, {}, { path: '', time_s: 1 }, { path: 'a.wav', time_s: -1 }, { path: 'a.wav', time_s: 1, feature: 1.5 }, { path: 'a.wav', time_s: 1, layer: 0 }]) {
      assert.equal(parseClipAt(bad), undefined, JSON.stringify(bad));
    }
  });
  it('tells the host the backbone and layer it shows: on ready, and again only when either changes', async () => {
    const { host, session } = await opened(2);
    assert.deepEqual(host.contexts, [{ backbone: 'whisper-tiny-random', layer: 2 }]);
    assert.deepEqual(session.editorContext(), { backbone: 'whisper-tiny-random', layer: 2 });
    const choice = host.lastRun()!.choice;
    await session.handle({ type: 'run', choice: { ...choice, mode: choice.mode } });
    assert.equal(host.contexts.length, 1, 'the same backbone and layer again: no report');
    await session.handle({ type: 'run', choice: { ...choice, layer: 1 } });
    assert.deepEqual(host.contexts.at(-1), { backbone: 'whisper-tiny-random', layer: 1 });
    await session.reveal({ timeS: 0.5, feature: 1, layer: 2 }, true);
    assert.deepEqual(host.contexts, [{ backbone: 'whisper-tiny-random', layer: 2 }, { backbone: 'whisper-tiny-random', layer: 1 }, { backbone: 'whisper-tiny-random', layer: 2 }]);
    session.disposed = true;
    await session.reveal({ timeS: 0.5, feature: 1, layer: 1 }, false);
    assert.equal(host.contexts.length, 3, 'a closed editor reports nothing');
  });
});
