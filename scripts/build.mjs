// Bundles the extension host, the engine worker, the CLI and the webviews with esbuild.
// Output goes to dist/; every bundle is CommonJS (.cjs) so VS Code and plain Node load it the same way.
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const UNUSED_CODECS = ['aac', 'ac3', 'aiff', 'amr', 'ape', 'avi', 'caf', 'dsd', 'dts', 'eac3', 'mod', 'mp4', 'mpc', 'qoa', 'tta', 'wav', 'wavpack', 'webm', 'wma'];
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'linked',
  logLevel: 'warning',
  // Native addons load from node_modules at run time. Of audio-decode's codecs only FLAC, MP3, Vorbis and Opus
  // are used (files are sniffed first, WAV has its own reader); the others stay out of the bundles.
  external: ['vscode', 'onnxruntime-node', '@duckdb/node-api', '@resvg/resvg-js', ...UNUSED_CODECS.map((c) => `@audio/decode-${c}`)],
  // import.meta.url has no meaning in CommonJS: point it at the bundle's own file.
  define: { 'import.meta.url': 'importMetaUrl' },
  banner: { js: "const importMetaUrl = require('url').pathToFileURL(__filename).href;" },
};

const builds = [
  { ...common, entryPoints: { extension: 'src/extension/extension.ts' }, outdir: 'dist', outExtension: { '.js': '.cjs' } },
  { ...common, entryPoints: { 'engine-worker': 'src/engine/runtime/worker.ts' }, outdir: 'dist', outExtension: { '.js': '.cjs' } },
  { ...common, entryPoints: { 'tsne-worker': 'src/engine/interp/tsneWorker.ts' }, outdir: 'dist', outExtension: { '.js': '.cjs' } },
  // Long jobs (corpus runs, the result panels' analyses) off the extension host's thread.
  { ...common, entryPoints: { 'jobs-worker': 'src/engine/jobs/worker.ts' }, outdir: 'dist', outExtension: { '.js': '.cjs' } },
  { ...common, entryPoints: { cli: 'src/cli/main.ts' }, outdir: 'dist', outExtension: { '.js': '.cjs' },
    banner: { js: "#!/usr/bin/env node\nconst importMetaUrl = require('url').pathToFileURL(__filename).href;" } },
  // The editor webview: a browser bundle, no Node.
  { entryPoints: { editor: 'webview/editor/main.ts' }, outdir: 'dist/webview', bundle: true, platform: 'browser', format: 'iife',
    target: 'es2022', sourcemap: 'linked', logLevel: 'warning' },
  // The corpus result panels (metrics, classification, dead features, top clips, feature map): one bundle, routed by view kind.
  { entryPoints: { panels: 'webview/panels/main.ts' }, outdir: 'dist/webview', bundle: true, platform: 'browser', format: 'iife',
    target: 'es2022', sourcemap: 'linked', logLevel: 'warning' },
  // The sidebar's webviews (Feature search view, Feature page), each with its stylesheet.
  { entryPoints: { sidebar: 'webview/sidebar/main.ts', featurePage: 'webview/featurePage/main.ts' }, outdir: 'dist/webview', bundle: true, platform: 'browser',
    format: 'iife', target: 'es2022', sourcemap: 'linked', logLevel: 'warning' },
];

// The codicon font for the webviews' toolbar icons (vscode-elements' <vscode-icon> looks for this stylesheet).
mkdirSync('dist/webview', { recursive: true });
for (const f of ['codicon.css', 'codicon.ttf']) cpSync(`node_modules/@vscode/codicons/dist/${f}`, `dist/webview/${f}`);

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
