// The real-VS-Code tests: packages the extension (.vsix), installs it into a fresh code-server profile,
// starts code-server on 127.0.0.1 with a workspace, and drives the workbench with Playwright + Debian's
// chromium (test/e2e/vscode.test.mjs). Screenshots land in .e2e/shots/. Needs test/e2e/setup.sh first
// (npm test runs both).
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ZipReader } from '../../src/engine/checkpoints/zip.ts';
import { startFakeHub } from '../helpers/fakeHub.ts';
import { wavClip } from './wavClip.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const env = Object.fromEntries(
  execFileSync('bash', [join(repo, 'test/e2e/setup.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
    .trim().split('\n').filter((l) => l.includes('=')).map((l) => l.split('=', 2)),
);
const port = Number(process.env.E2E_PORT ?? 8765);
const run = join(env.E2E_ROOT, 'run');
rmSync(run, { recursive: true, force: true });
for (const d of ['home', 'user-data/User', 'extensions', 'workspace', 'shots']) mkdirSync(join(run, d), { recursive: true });
rmSync(join(env.E2E_ROOT, 'shots'), { recursive: true, force: true });

// The extension, as users get it.
const target = `${process.platform}-${process.arch}`;
execFileSync(process.execPath, [join(repo, 'scripts/package.mjs'), target], { stdio: 'inherit' });
const vsix = join(repo, `audiosae-${target}.vsix`);

// The package holds only what runs: bundles, media, manifest, docs (the README's screenshots), and onnxruntime for this platform.
const zip = await ZipReader.open(vsix);
const files = [...zip.entries.keys()];
await zip.close();
const allowed = [
  /^\[Content_Types\]\.xml$/, /^extension\.vsixmanifest$/, /^extension\/(package\.json|readme\.md|LICENSE\.txt|LICENSE)$/i,
  /^extension\/dist\/[\w-]+\.cjs$/, /^extension\/dist\/webview\/([\w-]+\.(js|css)|codicon\.ttf)$/, /^extension\/media\/.+$/, /^extension\/docs\/screenshots\/[\w-]+\.png$/,
  new RegExp(`^extension/node_modules/@duckdb/(node-api|node-bindings|node-bindings-${process.platform}-${process.arch})/.+$`),
  /^extension\/node_modules\/detect-libc\/.+$/,
  /^extension\/node_modules\/onnxruntime-(node|common)\/(package\.json|LICENSE|README\.md|dist\/.+\.(js|json))$/,
  new RegExp(`^extension/node_modules/onnxruntime-node/bin/napi-v6/${process.platform}/${process.arch}/[^/]+$`),
];
const unexpected = files.filter((f) => !allowed.some((re) => re.test(f)));
if (unexpected.length) throw new Error(`unexpected files in the .vsix:\n  ${unexpected.join('\n  ')}`);
for (const needed of ['extension/dist/extension.cjs', 'extension/dist/engine-worker.cjs', 'extension/node_modules/onnxruntime-node/dist/index.js',
  `extension/node_modules/@duckdb/node-bindings-${process.platform}-${process.arch}/duckdb.node`, 'extension/dist/webview/codicon.ttf', 'extension/docs/screenshots/editor.png']) {
  if (!files.includes(needed)) throw new Error(`the .vsix lacks ${needed}`);
}
console.log(`vsix: ${files.length} files, all expected`);

const workspace = join(run, 'workspace');
cpSync(join(repo, 'media/demo/example.wav'), join(workspace, 'example.wav'));
writeFileSync(join(workspace, 'notes.txt'), 'a workspace with a clip\n');
/** Tones and noise (a new tone every 3 s). */
function toneClip(seconds) {
  let seed = 1;
  return wavClip(seconds, (i) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const hz = 200 + 150 * (Math.floor(i / 48000) % 8);
    return 0.3 * Math.sin((2 * Math.PI * hz * i) / 16000) + 0.05 * (seed / 2147483648 - 0.5);
  });
}
// Longer clips for the timing step, one that changes on disk, and an hour for the memory measurement.
for (const [name, seconds] of [['clip-30s.wav', 30], ['clip-10min.wav', 600], ['clip-1h.wav', 3600], ['changing.wav', 3]]) {
  writeFileSync(join(workspace, name), toneClip(seconds));
}
writeFileSync(join(workspace, 'corrupt.wav'), Buffer.concat([Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt '), Buffer.alloc(6)]));
// Digital silence, and a 440 Hz tone peaking at −50 dBFS: the colour scale is absolute and the editor says so.
writeFileSync(join(workspace, 'silence.wav'), wavClip(5, () => 0));
writeFileSync(join(workspace, 'quiet.wav'), wavClip(2, (i) => 10 ** (-50 / 20) * Math.sin((2 * Math.PI * 440 * i) / 16000)));
// A stereo MP3 (both channels the same): VS Code's own audio preview claims .mp3 too.
cpSync(join(repo, 'test/reference/fixtures/audio/codecs/tone.mp3'), join(workspace, 'tone.mp3'));
// A corpus store for the sidebar steps: six short clips of three domains through the toy Whisper served as whisper-small
// (the editor's backbone here), layers 2 and 3 with their frame codes (the feature page's duplicates), made by the CLI before VS Code starts.
const sidebarCorpus = join(run, 'sidebar-corpus');
for (const [domain, at] of [['speech', (i) => 0.3 * Math.sin((2 * Math.PI * 140 * i) / 16000) * (0.5 + 0.5 * Math.sin((2 * Math.PI * 4 * i) / 16000))],
  ['music', (i) => 0.2 * Math.sin((2 * Math.PI * 262 * i) / 16000) + 0.2 * Math.sin((2 * Math.PI * 330 * i) / 16000)], ['sounds', (i) => 0.4 * Math.sin(i * i) * (Math.floor(i / 4000) % 2)]]) {
  mkdirSync(join(sidebarCorpus, domain), { recursive: true });
  for (const k of [0, 1]) writeFileSync(join(sidebarCorpus, domain, `${domain}${k}.wav`), wavClip(3, (i) => at(i * (1 + k / 5))));
}
execFileSync(process.execPath, [join(repo, 'dist/cli.cjs'), 'corpus', 'run', sidebarCorpus, '--backbone', 'whisper-small', '--weights', join(repo, 'test/reference/fixtures/whisper/small-like'),
  '--sae', join(repo, 'media/demo/models/whisper-tiny-random/sae'), '--layers', '2,3', '--keep-frame-codes', '--store', join(workspace, 'corpus.duckdb')], { stdio: ['ignore', 'ignore', 'inherit'] });
// AUDIOSAE_E2E_REAL_SIZE=<folder written by bench/make_real_size_whisper.py>: only the timing step, with a
// real-size random Whisper-small (layer 6) and SAE served as the authors' repositories.
const realSize = process.env.AUDIOSAE_E2E_REAL_SIZE;
writeFileSync(join(run, 'user-data/User/settings.json'), JSON.stringify({
  'workbench.startupEditor': 'none',
  // Trust is on and the workspace starts in restricted mode: the tests check the editor there, then trust it.
  'security.workspace.trust.enabled': !realSize,
  'security.workspace.trust.startupPrompt': 'never',
  'security.workspace.trust.banner': 'always',
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'update.mode': 'none',
  'workbench.enableExperiments': false,
  'workbench.tips.enabled': false,
  'chat.disableAIFeatures': true,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'git.openRepositoryInParentFolders': 'never',
  'workbench.editorAssociations': { '*.wav': 'audioSae.audioEditor' },
  // "Download Models" runs against the loopback Hub below, which serves the toy Whisper as openai/whisper-small.
  'audioSae.backbone': 'whisper-small',
  'audioSae.layer': realSize ? 6 : 2,
}, null, 2));
writeFileSync(join(run, 'config.yaml'), 'auth: none\n');

const whisper = join(repo, 'test/reference/fixtures/whisper/small-like');
const saes = join(repo, 'media/demo/models/whisper-tiny-random/sae');
const hub = await startFakeHub(realSize ? {
  'openai/whisper-small': { 'config.json': join(realSize, 'whisper-small/config.json'), 'pytorch_model.bin': join(realSize, 'whisper-small/pytorch_model.bin') },
  'Egorgij21/Audio-SAE-Whisper-small': { 'layer_6/ae.pt': join(realSize, 'sae/layer_6/ae.pt'), 'layer_6/config.json': join(realSize, 'sae/layer_6/config.json') },
} : {
  'openai/whisper-small': { 'config.json': join(whisper, 'config.json'), 'model.safetensors': join(whisper, 'model.safetensors') },
  'Egorgij21/Audio-SAE-Whisper-small': Object.fromEntries([1, 2, 3].flatMap((n) => [
    [`layer_${n}/ae.pt`, join(saes, `layer_${n}`, 'ae.pt')], [`layer_${n}/config.json`, join(saes, `layer_${n}`, 'config.json')]])),
});

// code-server writes into HOME/XDG folders: keep them inside the run folder.
const csEnv = {
  ...process.env,
  HF_ENDPOINT: hub.url,
  HF_HUB_CACHE: join(run, 'hf-cache'),
  PATH: `${join(env.E2E_NODE, '..')}:${process.env.PATH}`,
  HOME: join(run, 'home'),
  XDG_CONFIG_HOME: join(run, 'home/.config'),
  XDG_DATA_HOME: join(run, 'home/.local/share'),
};
const csArgs = ['--config', join(run, 'config.yaml'), '--user-data-dir', join(run, 'user-data'), '--extensions-dir', join(run, 'extensions')];
execFileSync(env.E2E_CODE_SERVER, [...csArgs, '--install-extension', vsix], { env: csEnv, stdio: 'inherit' });
const installed = readdirSync(join(run, 'extensions')).filter((d) => d.startsWith('audiosae.audiosae-'));
if (installed.length !== 1) throw new Error(`the .vsix did not install (extensions folder: ${readdirSync(join(run, 'extensions'))})`);
console.log(`installed ${installed[0]}`);

const server = spawn(env.E2E_CODE_SERVER, [...csArgs, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry',
  '--disable-update-check', '--disable-getting-started-override', workspace], {
  env: csEnv, detached: true, stdio: ['ignore', 'ignore', 'ignore'],
});
const stop = () => { try { process.kill(-server.pid, 'SIGTERM'); } catch { /* already gone */ } };
process.on('exit', stop);

let code = 1;
try {
  for (let i = 0; i < 120; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const only = realSize ? ['--test-name-pattern=workbench opens|timing'] : [];
  // The step files, one after the other (E2E_ONLY=<part of a name> runs only the matching ones).
  const stepFiles = ['vscode.test.mjs', 'sidebar.test.mjs', 'corpus.test.mjs'].filter((f) => !process.env.E2E_ONLY || f.includes(process.env.E2E_ONLY));
  // One runner per file, in this order: given several files, Node's runner may take them in another, and each
  // file expects the workbench as the files before it left it.
  code = 0;
  for (const f of stepFiles) {
    const result = spawn(process.execPath, ['--test', '--test-reporter=spec', ...only, join(repo, 'test/e2e', f)], {
      stdio: 'inherit',
      env: { ...process.env, CS_URL: `http://127.0.0.1:${port}`, WORKSPACE: workspace, REPO: repo, SHOTS: join(env.E2E_ROOT, 'shots'),
        PW_CORE: env.E2E_PLAYWRIGHT, PROFILE_ROOT: run, DUCKDB: join(repo, 'node_modules/@duckdb/node-api') },
    });
    const c = await new Promise((resolve) => result.on('exit', (c) => resolve(c ?? 1)));
    if (c !== 0) code = c;
  }
} finally {
  stop();
  await hub.close();
}
process.exit(code);
