/** What the extension's manifest and packaging promise: restricted settings in untrusted workspaces, one .vscodeignore at the root. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

const root = new URL('../../../', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

describe('the extension manifest and packaging', () => {
  it('lists the settings that name model files as restricted in untrusted workspaces', () => {
    const restricted: string[] = pkg.capabilities.untrustedWorkspaces.restrictedConfigurations;
    const declared = new Set((Array.isArray(pkg.contributes.configuration) ? pkg.contributes.configuration : [pkg.contributes.configuration])
      .flatMap((c: { properties: Record<string, unknown> }) => Object.keys(c.properties)));
    for (const key of ['audioSae.weightsFolder', 'audioSae.saePath']) {
      assert.ok(restricted.includes(key), `${key} is not restricted`);
      assert.ok(declared.has(key), `${key} is not a declared setting`);
    }
  });

  it('packages with the .vscodeignore at the repository root, which leaves out sources, tests and source maps', (t) => {
    const script = readFileSync(path.join(root, 'scripts/package.mjs'), 'utf8');
    assert.match(script, /cpSync\(join\(root, '\.vscodeignore'\), join\(stage, '\.vscodeignore'\)\)/, 'the stage gets the root .vscodeignore');
    assert.doesNotMatch(script, /writeFileSync\(join\(stage, '\.vscodeignore'\)/, 'no second list written only into the stage');
    const matchesGlob = (path as { matchesGlob?: (p: string, g: string) => boolean }).matchesGlob;
    if (!matchesGlob) return t.skip('path.matchesGlob needs Node 20.17 or later');
    const patterns = readFileSync(path.join(root, '.vscodeignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    // As vsce reads it: the last pattern that matches decides, a leading "!" taking a file back in.
    const ignored = (file: string) => patterns.reduce((out, p) => (p.startsWith('!') ? (matchesGlob(file, p.slice(1)) ? false : out) : out || matchesGlob(file, p)), false);
    for (const file of ['src/extension/extension.ts', 'webview/editor/main.ts', 'test/unit/x.test.ts', 'dist/extension.cjs.map', 'scripts/package.mjs', 'tsconfig.json', 'audiosae-linux-x64.vsix', 'docs/cluster.md']) {
      assert.ok(ignored(file), `${file} would be packaged`);
    }
    for (const file of ['dist/extension.cjs', 'dist/webview/editor.js', 'media/demo/example.wav', 'package.json', 'README.md', 'docs/screenshots/editor.png', 'LICENSE', 'node_modules/onnxruntime-node/dist/index.js']) {
      assert.ok(!ignored(file), `${file} would be left out`);
    }
  });
});
