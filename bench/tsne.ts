/**
 * The feature map against scikit-learn on the same rows: this project's PCA-50 + Barnes–Hut t-SNE (featureMap,
 * in its worker, as `audiosae corpus tsne` runs it) vs scikit-learn's PCA + TSNE (bench/tsne_peer.py), on
 * synthetic SAE encoder rows of the two sizes of the issue (6 144 × 768 and 10 240 × 1280). Prints wall
 * times, the exact KL(P ‖ Q) of both maps and the fraction of 10 nearest neighbours kept (both scored by the
 * same Python code), and the ratios.
 *
 *   node --import tsx bench/tsne.ts [--sizes 6144x768,10240x1280] [--seed 0]
 *
 * The rows: 48 clusters of features (a random unit direction each, features at cosine ≈ 0.6–0.8 to their
 * centre), 25 % of the features unclustered, every row of unit norm — loosely what an SAE's encoder looks
 * like, so the map has structure to keep. scikit-learn runs with one thread (OMP_NUM_THREADS=1), as this
 * project's t-SNE does. Needs Debian's python3-sklearn. Not part of the test suite.
 *
 * Measured on a shared 2-core machine (scikit-learn 1.2.1; wall times moved with the machine's load):
 *   6 144 × 768:   ours 69.7 s, scikit-learn 118.6 s (0.59×); KL 1.3296 vs 1.3344 (0.996); 10-NN kept 31.8 % vs 31.6 %
 *   10 240 × 1280: ours 38.4 s, scikit-learn 74.1 s (0.52×); KL 1.6340 vs 1.6209 (1.008); 10-NN kept 27.5 % vs 27.4 %
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { featureMap, type MapFeature } from '../src/engine/interp/featureMap.ts';
import { makeRng } from '../src/engine/interp/random.ts';
import { writeNpy } from '../src/engine/io/npy.ts';

const { values: args } = parseArgs({ options: { sizes: { type: 'string', default: '6144x768,10240x1280' }, seed: { type: 'string', default: '0' } } });
const tmp = join(import.meta.dirname, '.tmp', 'tsne');
mkdirSync(tmp, { recursive: true });

function encoderRows(n: number, d: number, seed: number): Float32Array {
  const rng = makeRng(seed);
  const clusters = 48;
  const centres = Array.from({ length: clusters }, () => {
    const c = Float64Array.from({ length: d }, () => rng.normal());
    const norm = Math.hypot(...c);
    return c.map((v) => v / norm);
  });
  const rows = new Float32Array(n * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const clustered = rng.uniform() < 0.75;
    const c = centres[Math.floor(rng.uniform() * clusters)]!;
    const weight = 0.8 + 0.6 * rng.uniform();
    let norm = 0;
    for (let t = 0; t < d; t++) {
      row[t] = (clustered ? weight * c[t]! : 0) + rng.normal() / Math.sqrt(d);
      norm += row[t]! ** 2;
    }
    norm = Math.sqrt(norm);
    for (let t = 0; t < d; t++) rows[i * d + t] = row[t]! / norm;
  }
  return rows;
}

const fmt = (s: number) => `${s.toFixed(1)} s`;
for (const size of args.sizes.split(',')) {
  const [n, d] = size.split('x').map(Number) as [number, number];
  const rows = encoderRows(n, d, Number(args.seed));
  const rowsPath = join(tmp, `rows_${n}x${d}.npy`);
  const oursPath = join(tmp, `ours_${n}x${d}.npy`);
  const outPath = join(tmp, `peer_${n}x${d}.json`);
  await writeNpy(rowsPath, { dtype: 'float32', shape: [n, d], data: rows });
  const features: MapFeature[] = Array.from({ length: n }, (_, i) => ({ feature: i, label: 'unassigned', grade: null }));
  const t0 = performance.now();
  const ours = await featureMap(features, rows.slice(), d, { seed: Number(args.seed) });
  const oursS = (performance.now() - t0) / 1000;
  const embedding = new Float64Array(2 * n);
  ours.points.forEach((p, i) => {
    embedding[2 * i] = p.x;
    embedding[2 * i + 1] = p.y;
  });
  await writeNpy(oursPath, { dtype: 'float64', shape: [n, 2], data: embedding });
  const py = spawnSync('/usr/bin/python3', [join(import.meta.dirname, 'tsne_peer.py'), rowsPath, oursPath, outPath], {
    stdio: ['ignore', 'inherit', 'inherit'],
    // One thread, as ours runs (its Barnes–Hut loop is single-threaded); OpenMP's spinning threads on a shared
    // machine measured slower, not faster.
    env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' },
  });
  if (py.status !== 0) throw new Error(`tsne_peer.py failed (status ${py.status})`);
  const peer = JSON.parse(readFileSync(outPath, 'utf8')) as Record<string, number>;
  console.log(`\n${n} × ${d} rows (scikit-learn ${peer.sklearn})`);
  console.log(`  ours:         ${fmt(oursS)} (PCA ${fmt(ours.pcaSeconds)}, t-SNE ${fmt(ours.embedSeconds)}, 750 iterations)  KL ${peer.kl_ours!.toFixed(4)}  10-NN kept ${(100 * peer.nn10_ours!).toFixed(1)} %`);
  console.log(`  scikit-learn: ${fmt(peer.sklearn_total_s!)} (PCA ${fmt(peer.sklearn_pca_s!)}, TSNE ${fmt(peer.sklearn_tsne_s!)}, 1000 iterations)  KL ${peer.kl_sklearn!.toFixed(4)}  10-NN kept ${(100 * peer.nn10_sklearn!).toFixed(1)} %`);
  console.log(`  ratios: time ours/sklearn ${(oursS / peer.sklearn_total_s!).toFixed(2)} · KL ours/sklearn ${(peer.kl_ours! / peer.kl_sklearn!).toFixed(3)} · 10-NN kept ours/sklearn ${(peer.nn10_ours! / peer.nn10_sklearn!).toFixed(3)}`);
}
rmSync(tmp, { recursive: true, force: true });
