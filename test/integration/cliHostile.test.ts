/**
 * The CLI against hostile command lines and hostile output paths: every case exits 1 with one line that names
 * the path or option and holds no raw control character, prints no stack, and leaves nothing half-written
 * (no partial output, no temporary file). Read-only, full and immutable file systems are real: a tmpfs mounted
 * for the test (root only; skipped, saying why, where mounting is not allowed).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fixture } from '../helpers/compare.ts';
import { Tmpfs } from '../helpers/tmpfs.ts';
import { writeSilentWav } from '../helpers/wavFiles.ts';

const cli = new URL('../../dist/cli.cjs', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'audiosae-hostile-'));
const disks = new Tmpfs(tmp);
after(() => {
  disks.unmountAll();
  spawnSync('chattr', ['-R', '-i', tmp]);
  rmSync(tmp, { recursive: true, force: true });
});
const speech = fixture('audio', 'speech.wav');
const env = { ...process.env, AUDIOSAE_EXECUTION_PROVIDER: 'cpu', AUDIOSAE_CACHE: join(tmp, 'cache'), HF_ENDPOINT: 'http://127.0.0.1:47999' };

function audiosae(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const features = (out: string, ...more: string[]) => audiosae('features', speech, '--backbone', 'whisper-tiny-random', '--layer', '2', '--out', out, ...more);
const mel = (out: string) => audiosae('mel', speech, '--out', out);

/** Exit 1, one line on stderr matching `pattern`, no stack, no raw control characters. */
function assertOneLine(r: ReturnType<typeof audiosae>, pattern: RegExp): void {
  assert.equal(r.code, 1, `exit status (stderr: ${r.stderr})`);
  const lines = r.stderr.split('\n').filter((l) => l.trim() && !l.startsWith('note:'));
  assert.equal(lines.length, 1, `one line, got:\n${r.stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  // eslint-disable-next-line no-control-regex
  assert.doesNotMatch(r.stderr.replace(/\n/g, ''), /[\u0000-\u001f\u007f-\u009f]/, 'no raw control characters');
}

/** No temporary or partial files beside `folder`'s entries. */
function assertNoLeftovers(folder: string): void {
  const left = existsSync(folder) ? readdirSync(folder).filter((n) => /\.(tmp|partial|old|scratch)$/.test(n)) : [];
  assert.deepEqual(left, [], `left behind in ${folder}`);
}

describe('hostile output paths', () => {
  it('a single-file output over a folder, under a file, or in a missing folder', () => {
    mkdirSync(join(tmp, 'x.npy'));
    assertOneLine(mel(join(tmp, 'x.npy')), /x\.npy: cannot be written: it is a folder/);
    writeFileSync(join(tmp, 'plain.txt'), 'not a folder');
    assertOneLine(mel(join(tmp, 'plain.txt', 'x.npy')), /plain\.txt\/x\.npy: cannot be written: a part of its path is a file/);
    assertOneLine(mel(join(tmp, 'nowhere', 'x.npy')), /nowhere\/x\.npy: cannot be written: a folder on its path does not exist/);
    assertNoLeftovers(tmp);
  });

  it('a folder output over a file, a folder of other files, or under a file', () => {
    writeFileSync(join(tmp, 'file-out'), 'keep me');
    assertOneLine(features(join(tmp, 'file-out')), /file-out: is an existing file; the output is a folder/);
    const mine = join(tmp, 'my-folder');
    mkdirSync(mine);
    writeFileSync(join(mine, 'thesis.tex'), 'precious');
    assertOneLine(features(mine), /my-folder: already holds files that are not an earlier output of this command \("thesis\.tex"\); nothing was changed/);
    assert.ok(existsSync(join(mine, 'thesis.tex')));
    assertOneLine(features(join(tmp, 'plain.txt', 'out')), /plain\.txt\/out: cannot be written: a part of its path is a file/);
    assertNoLeftovers(tmp);
  });

  it('an earlier output is replaced whole, and stale temporaries of killed runs are removed', () => {
    const out = join(tmp, 'again');
    assert.equal(features(out).code, 0);
    const gone = spawnSync('true').pid!; // a process id that has exited
    mkdirSync(join(tmp, `.again.${gone}-0123456789ab.partial`));
    writeFileSync(join(tmp, `.m.npy.${gone}-0123456789ab.tmp`), 'stale');
    assert.equal(features(out, '--dense-codes').code, 0);
    assert.deepEqual(readdirSync(out).sort(), ['acts.npy', 'codes.npy', 'features.json', 'recon.npy'], 'the new output, nothing of the old');
    assert.equal(mel(join(tmp, 'm.npy')).code, 0);
    assertNoLeftovers(tmp);
  });

  it('a read-only file system (EROFS)', (t) => {
    const ro = disks.mount('ro', '1m');
    if (!ro) return t.skip(disks.skipReason);
    assert.ok(disks.readOnly(ro));
    assertOneLine(features(join(ro, 'out')), /ro\/out: cannot be written: the file system is read-only/);
    assertOneLine(mel(join(ro, 'x.npy')), /ro\/x\.npy: cannot be written: the file system is read-only/);
  });

  it('a full disk (ENOSPC) leaves no partial output', (t) => {
    const full = disks.mount('full', '48k');
    if (!full) return t.skip(disks.skipReason);
    assertOneLine(features(join(full, 'out')), /full\/out\/(acts|recon)\.npy: cannot be written: no space left on the device/);
    assert.deepEqual(readdirSync(full), [], 'nothing left on the full disk');
    assertOneLine(mel(join(full, 'x.npy')), /full\/x\.npy: cannot be written: no space left on the device/);
    assert.deepEqual(readdirSync(full), []);
  });

  it('an immutable folder (EPERM)', (t) => {
    const frozen = join(tmp, 'frozen');
    mkdirSync(frozen);
    if (spawnSync('chattr', ['+i', frozen]).status !== 0) return t.skip('chattr +i is not available on this file system');
    assertOneLine(features(join(frozen, 'out')), /frozen\/out: cannot be written: the operation is not permitted/);
    assertOneLine(mel(join(frozen, 'x.npy')), /frozen\/x\.npy: cannot be written: the operation is not permitted/);
    spawnSync('chattr', ['-i', frozen]);
  });

  it('SIGKILL in the middle of a run leaves no output; the next run succeeds and clears the debris', async () => {
    const long = join(tmp, 'ten-minutes.wav');
    writeSilentWav(long, 600, 8000);
    const out = join(tmp, 'killed');
    const child = spawn(process.execPath, [cli, 'features', long, '--backbone', 'whisper-tiny-random', '--layer', '2', '--out', out], { env, stdio: 'ignore' });
    const started = Date.now();
    while (!readdirSync(tmp).some((n) => n.startsWith('.killed.') && n.endsWith('.partial')) && Date.now() - started < 60_000) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));
    assert.equal(existsSync(out), false, 'no output after SIGKILL');
    const r = audiosae('features', long, '--backbone', 'whisper-tiny-random', '--layer', '2', '--out', out);
    assert.equal(r.code, 0, r.stderr);
    assertNoLeftovers(tmp);
  });
});

describe('hostile command lines', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['--top abc', ['--top', 'abc'], /--top must be a whole number from 1 to 100000; got "abc"/],
    ['--top=-1', ['--top=-1'], /--top must be a whole number from 1 to 100000; got "-1"/],
    ['--top -1', ['--top', '-1'], /--top needs a value \(a value starting with "-" is written --top=VALUE\)/],
    ['--top 1.5', ['--top', '1.5'], /--top must be a whole number/],
    ['--top ""', ['--top', ''], /--top must be a whole number .*got ""/],
    ['--top 1e9', ['--top', '1e9'], /--top must be a whole number from 1 to 100000/],
    ['--max-hubert-seconds NaN', ['--max-hubert-seconds', 'NaN'], /--max-hubert-seconds must be a number from 1 to 3600; got "NaN"/],
    ['--max-hubert-seconds Infinity', ['--max-hubert-seconds', 'Infinity'], /--max-hubert-seconds must be a number/],
    ['--max-hubert-seconds 0.5', ['--max-hubert-seconds', '0.5'], /--max-hubert-seconds must be a number from 1 to 3600/],
    ['--mode nonsense', ['--mode', 'nonsense'], /--mode must be one of auto, threshold, batch-topk; got "nonsense"/],
    ['an unknown option', ['--frobnicate'], /unknown option --frobnicate for "features"/],
    ['a flag given a value', ['--dense-codes=yes'], /--dense-codes takes no value/],
    ['--out with no value', ['--out'], /--out needs a value/],
  ];
  for (const [what, extra, pattern] of cases) {
    it(`refuses ${what} before any work`, () => {
      const out = join(tmp, `cl-${what.replace(/\W+/g, '_')}`);
      assertOneLine(audiosae('features', speech, '--backbone', 'whisper-tiny-random', '--layer', '2', '--out', out, ...extra), pattern);
      assert.equal(existsSync(out), false);
    });
  }
  for (const layer of ['0', '65', '2.5', '1e1', '0x2', ' ']) {
    it(`refuses --layer "${layer}"`, () => assertOneLine(audiosae('mel', speech, '--out', join(tmp, 'l.npy'), '--layer', layer), /unknown option --layer|--layer must be a whole number/));
  }

  it('escapes control characters of a file name in the message', () => {
    const r = audiosae('mel', join(tmp, 'evil\r\x1b[2Kname\u202e.wav'), '--out', join(tmp, 'e.npy'));
    assertOneLine(r, /evil\\r\\x1b\[2Kname\\u202e\.wav: file not found/);
  });

  it('--debug adds the stack to a user error; without it the error is one line', () => {
    assertOneLine(audiosae('mel', join(tmp, 'missing.wav'), '--out', join(tmp, 'e.npy')), /missing\.wav: file not found/);
    const r = audiosae('mel', join(tmp, 'missing.wav'), '--out', join(tmp, 'e.npy'), '--debug');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\n\s+at /);
  });
});
