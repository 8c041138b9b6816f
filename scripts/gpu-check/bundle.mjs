// Bundles the GPU check's measuring half (check.ts, with the engine it imports) into one CommonJS file for
// plain Node, as scripts/build.mjs bundles the CLI: onnxruntime-node stays external (its native binding is
// carried beside it), import.meta.url points at the bundle.
// Usage: node scripts/gpu-check/bundle.mjs OUTFILE
import * as esbuild from 'esbuild';

const UNUSED_CODECS = ['aac', 'ac3', 'aiff', 'amr', 'ape', 'avi', 'caf', 'dsd', 'dts', 'eac3', 'mod', 'mp4', 'mpc', 'qoa', 'tta', 'wav', 'wavpack', 'webm', 'wma'];
await esbuild.build({
  entryPoints: [new URL('./check.ts', import.meta.url).pathname],
  outfile: process.argv[2],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  logLevel: 'warning',
  external: ['onnxruntime-node', '@duckdb/node-api', '@resvg/resvg-js', ...UNUSED_CODECS.map((c) => `@audio/decode-${c}`)],
  define: { 'import.meta.url': 'importMetaUrl' },
  banner: { js: "const importMetaUrl = require('url').pathToFileURL(__filename).href;" },
});
