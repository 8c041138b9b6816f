// Packages the extension as one .vsix per platform with @vscode/vsce, containing only what runs:
// the bundles in dist/, media/ (with the toy demo models and example clip), package.json, README, LICENSE, and
// onnxruntime-node (+ onnxruntime-common) with the native binaries of the target platform only, and DuckDB's
// node-api with the target platform's bindings package (Parquet export, the corpus store).
//   node scripts/package.mjs [target]      target: linux-x64 (default: this machine), linux-arm64, win32-x64,
//                                           win32-arm64, darwin-arm64
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = process.argv[2] ?? `${process.platform}-${process.arch}`;
const [platform, arch] = target.split('-');
const ortBin = join(root, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', platform, arch);
if (!existsSync(ortBin)) {
  console.error(`package: onnxruntime-node has no binaries for ${target}`);
  process.exit(1);
}
const duckdbBindings = `@duckdb/node-bindings-${target}`;
if (!existsSync(join(root, 'node_modules', duckdbBindings))) {
  console.error(`package: ${duckdbBindings} is not installed (npm install --no-save --force ${duckdbBindings} fetches it on another platform)`);
  process.exit(1);
}

execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });

const stage = join(root, '.package', target);
rmSync(stage, { recursive: true, force: true });
mkdirSync(join(stage, 'dist'), { recursive: true });
// The extension needs its host bundle, the engine worker, the job worker and the map worker it starts; the CLI bundle ships with the npm package instead.
for (const f of ['extension.cjs', 'engine-worker.cjs', 'jobs-worker.cjs', 'tsne-worker.cjs']) cpSync(join(root, 'dist', f), join(stage, 'dist', f));
cpSync(join(root, 'dist', 'webview'), join(stage, 'dist', 'webview'), { recursive: true, filter: (s) => !s.endsWith('.map') });
cpSync(join(root, 'media'), join(stage, 'media'), { recursive: true });
for (const f of ['README.md', 'LICENSE']) cpSync(join(root, f), join(stage, f));
// The README's screenshots, so that its images show on the extension's page in VS Code (relative links, below).
cpSync(join(root, 'docs', 'screenshots'), join(stage, 'docs', 'screenshots'), { recursive: true });

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const ortVersion = JSON.parse(readFileSync(join(root, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8')).version;
delete pkg.devDependencies;
delete pkg.scripts;
delete pkg.bin; // the CLI is published separately; inside VS Code the extension is the entry point
const versionOf = (name) => JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
pkg.dependencies = { 'onnxruntime-node': ortVersion, '@duckdb/node-api': versionOf('@duckdb/node-api') };
writeFileSync(join(stage, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);

const ortDir = join(stage, 'node_modules', 'onnxruntime-node');
for (const f of ['package.json', 'LICENSE', 'README.md', 'dist']) {
  const src = join(root, 'node_modules', 'onnxruntime-node', f);
  if (existsSync(src)) cpSync(src, join(ortDir, f), { recursive: true, filter: (s) => !s.endsWith('.map') && !s.endsWith('.ts') });
}
cpSync(ortBin, join(ortDir, 'bin', 'napi-v6', platform, arch), { recursive: true });
// onnxruntime-node's other dependencies serve only its install script, which packaged copies never run.
const ortPkg = JSON.parse(readFileSync(join(ortDir, 'package.json'), 'utf8'));
ortPkg.dependencies = { 'onnxruntime-common': ortPkg.dependencies['onnxruntime-common'] };
delete ortPkg.scripts;
writeFileSync(join(ortDir, 'package.json'), `${JSON.stringify(ortPkg, null, 2)}\n`);
cpSync(join(root, 'node_modules', 'onnxruntime-common'), join(stage, 'node_modules', 'onnxruntime-common'), {
  recursive: true,
  filter: (s) => !s.endsWith('.map') && !s.endsWith('.ts') && !s.includes(`${join('onnxruntime-common', 'lib')}`),
});
// DuckDB: the API, the loader (which picks the platform package at run time, detect-libc telling glibc from
// musl) and this target's bindings only; the loader's other platforms stay optional and absent.
for (const name of ['@duckdb/node-api', '@duckdb/node-bindings', duckdbBindings, 'detect-libc']) {
  cpSync(join(root, 'node_modules', name), join(stage, 'node_modules', name), { recursive: true, filter: (s) => !s.endsWith('.map') && !s.endsWith('.ts') });
}
const loaderPkgPath = join(stage, 'node_modules', '@duckdb', 'node-bindings', 'package.json');
const loaderPkg = JSON.parse(readFileSync(loaderPkgPath, 'utf8'));
loaderPkg.optionalDependencies = { [duckdbBindings]: loaderPkg.optionalDependencies[duckdbBindings] };
writeFileSync(loaderPkgPath, `${JSON.stringify(loaderPkg, null, 2)}\n`);
// What vsce leaves out: the repository's own .vscodeignore (one list, whether packaged from here or from the root).
cpSync(join(root, '.vscodeignore'), join(stage, '.vscodeignore'));

const out = join(root, `audiosae-${target}.vsix`);
// vsce includes the staged production dependencies (found with `npm list`), i.e. exactly the ones above.
// The README's relative links (docs/…) stay as they are: the package names no repository to rewrite them against.
execFileSync(join(root, 'node_modules', '.bin', 'vsce'), ['package', '--allow-missing-repository', '--no-rewrite-relative-links', '--target', target, '-o', out], {
  cwd: stage,
  stdio: 'inherit',
});
rmSync(join(root, '.package'), { recursive: true, force: true });
console.log(`package: ${out}`);
