/**
 * Every corpus verb on a corpus of a few hundred real audio files (bench/make_corpus.py: espeak-ng speech, sox
 * music, noise and clicks; several rates and formats), through the CLI as users run it: `corpus run` with the
 * bundled toy backbone whisper-tiny-random on all its layers and the hand-built SAEs of the design corpus
 * (test/reference/fixtures/design-corpus/sae: features built to fire on speech, music, sounds and their pairs), then
 * each analysis verb. Prints, per verb, its wall time, exit status, rows written and the first lines of its output,
 * so that what it found can be read (the design SAE's features should come out with their designed labels).
 * Run: npm run build && /usr/bin/python3 bench/make_corpus.py bench/.tmp/corpus300 && npx tsx bench/corpus_verbs.ts bench/.tmp/corpus300
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const [corpus] = process.argv.slice(2);
if (!corpus) throw new Error('usage: npx tsx bench/corpus_verbs.ts <corpus folder from bench/make_corpus.py>');
const repo = join(import.meta.dirname, '..');
const cli = join(repo, 'dist', 'cli.cjs');
const out = join(import.meta.dirname, '.tmp', 'corpus-verbs');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const store = join(out, 'corpus.duckdb');
const sae = join(repo, 'test', 'reference', 'fixtures', 'design-corpus', 'sae');
const env = { ...process.env, AUDIOSAE_EXECUTION_PROVIDER: 'cpu', AUDIOSAE_CACHE: join(out, 'cache') };

function verb(label: string, args: string[], show = 4): void {
  const t = performance.now();
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env, maxBuffer: 1 << 28 });
  const s = (performance.now() - t) / 1000;
  const lines = r.stdout.trim() ? r.stdout.trim().split('\n') : [];
  console.log(`\n## ${label}: ${s.toFixed(2)} s, exit ${r.status}, ${Math.max(0, lines.length - 1)} rows`);
  console.log(`   audiosae ${args.map((a) => (a.startsWith(out) ? a.replace(out, '$OUT') : a)).join(' ')}`);
  for (const l of lines.slice(0, show)) console.log(`   ${l.length > 160 ? `${l.slice(0, 157)}...` : l}`);
  const err = r.stderr.trim().split('\n').filter((l) => l && !/^clips \d+\//.test(l));
  for (const l of err.slice(-3)) console.log(`   stderr: ${l.length > 160 ? `${l.slice(0, 157)}...` : l}`);
}

const S = ['--store', store];
verb('corpus run (3 layers, frame codes kept)', ['corpus', 'run', join(corpus, 'manifest.csv'), '--backbone', 'whisper-tiny-random', '--sae', sae, '--layers', 'all', '--keep-frame-codes', ...S]);
verb('corpus run again (nothing changed)', ['corpus', 'run', join(corpus, 'manifest.csv'), '--backbone', 'whisper-tiny-random', '--sae', sae, '--layers', 'all', '--keep-frame-codes', ...S]);
verb('metrics', ['corpus', 'metrics', ...S, '--layer', '3'], 5);
verb('dead', ['corpus', 'dead', ...S, '--layer', '3', '--format', 'json'], 2);
verb('max-acts', ['corpus', 'max-acts', ...S, '--layer', '3', '--out', join(out, 'max-acts.parquet'), '--format', 'parquet']);
for (const j of [0, 1, 2]) verb(`top-clips --feature ${j}`, ['corpus', 'top-clips', ...S, '--layer', '3', '--feature', String(j), '--n', '5'], 6);
verb('stats --by domain', ['corpus', 'stats', ...S, '--layer', '3', '--by', 'domain'], 6);
verb('stats --by dataset', ['corpus', 'stats', ...S, '--layer', '3', '--by', 'dataset'], 3);
verb('classify (frame)', ['corpus', 'classify', ...S, '--layer', '3', '--level', 'frame'], 9);
verb('classify (audio)', ['corpus', 'classify', ...S, '--layer', '3', '--level', 'audio'], 9);
verb('layers', ['corpus', 'layers', ...S, '--level', 'audio', '--plot', join(out, 'layers.png')], 4);
verb('export clips', ['corpus', 'export', ...S, '--table', 'clips', '--format', 'parquet', '--out', join(out, 'clips.parquet')]);
verb('windows --feature 0', ['corpus', 'windows', ...S, '--layer', '3', '--feature', '0', '--out', join(out, 'windows-0')]);
verb('profile --feature 1', ['corpus', 'profile', ...S, '--layer', '3', '--feature', '1'], 6);
verb('tsne', ['corpus', 'tsne', ...S, '--layer', '3', '--all-features', '--out', join(out, 'map.csv'), '--plot', join(out, 'map.png')]);
verb('duplicates', ['corpus', 'duplicates', ...S, '--layer', '3'], 6);
verb('coverage 2 → 3', ['corpus', 'coverage', ...S, '--layer', '2', '--to-layer', '3'], 6);
verb('label-search loud=1', ['corpus', 'label-search', ...S, '--layer', '3', '--label', 'loud=1'], 6);
console.log(`\noutputs in ${out}`);
