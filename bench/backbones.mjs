// The backbone benchmark: real-size random-weight Whisper-small and HuBERT-base encoders up to layers 3, 6 and 12
// on 30 s of audio, through this project (onnxruntime) and through PyTorch on this machine, each in its own
// process (so peak memory is per configuration); plus a large MatMul as this machine's practical ceiling.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const here = new URL('.', import.meta.url).pathname;
const pyEnv = { ...process.env };
delete pyEnv.OPENBLAS_CORETYPE; // where a machine sets these, they hold OpenBLAS back: give PyTorch its best
delete pyEnv.OPENBLAS_L2_SIZE;
const ours = (...a) => JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', join(here, 'backbones.ts'), ...a], { encoding: 'utf8' }).trim().split('\n').pop());
const torch = (...a) => JSON.parse(execFileSync('/usr/bin/python3', [join(here, 'backbones_reference.py'), ...a], { encoding: 'utf8', env: pyEnv }).trim().split('\n').pop());

// Multiply-adds ×2 per 30 s window, from the architectures (T = 1500 frames, d = 768, ffn 3072).
const T = 1500, d = 768, ffn = 3072;
const perLayer = 2 * (4 * T * d * d + 2 * T * T * d + 2 * T * d * ffn);
const frontFlops = {
  whisper: 2 * (3000 * d * 80 * 3 + T * d * d * 3),
  // HuBERT-base feature encoder on 480 000 samples: conv i has out_len_i · 512 · in_ch · kernel MACs.
  hubert: (() => {
    let n = 480000, ch = 1, f = 0;
    for (const [k, s] of [[10, 5], [3, 2], [3, 2], [3, 2], [3, 2], [2, 2], [2, 2]]) { n = Math.floor((n - k) / s) + 1; f += 2 * n * 512 * ch * k; ch = 512; }
    return f + 2 * T * 512 * d + 2 * T * d * (d / 16) * 128;
  })(),
};

const cacheDir = mkdtempSync(join(tmpdir(), 'audiosae-bench-graphs-'));
process.on('exit', () => rmSync(cacheDir, { recursive: true, force: true }));
const run = (family, layer) => {
  const model = execFileSync(process.execPath, ['--import', 'tsx', join(here, 'backbones.ts'), 'build', family, layer, cacheDir], { encoding: 'utf8' }).trim().split('\n').pop();
  return ours('run', family, model);
};
const { matmulGflops } = ours('--matmul');
const rows = [];
for (const family of ['whisper', 'hubert']) {
  for (const layer of [3, 6, 12]) {
    process.stderr.write(`${family} layer ${layer} …\n`);
    const a = run(family, String(layer));
    const b = torch(family, String(layer));
    const flops = frontFlops[family] + layer * perLayer;
    rows.push({ family, layer, a, b, flops });
  }
}
const header = ['backbone', 'layer', 'this project', 'PyTorch', 'speed-up', 'realtime×', 'GFLOP/s', '% of MatMul', 'time/time(12)', 'FLOPs/FLOPs(12)', 'peak MB (ours/torch)'];
const table = rows.map((r) => {
  const last = rows.find((x) => x.family === r.family && x.layer === 12);
  const gflops = r.flops / r.a.seconds / 1e9;
  return [r.family === 'whisper' ? 'Whisper-small' : 'HuBERT-base', String(r.layer), `${(r.a.seconds * 1000).toFixed(0)} ms`, `${(r.b.seconds * 1000).toFixed(0)} ms`,
    `${(r.b.seconds / r.a.seconds).toFixed(2)}×`, `${(30 / r.a.seconds).toFixed(1)}`, gflops.toFixed(0), `${((100 * gflops) / matmulGflops).toFixed(0)}%`,
    `${((100 * r.a.seconds) / last.a.seconds).toFixed(0)}%`, `${((100 * r.flops) / last.flops).toFixed(0)}%`, `${r.a.peakRssMB} / ${r.b.peakRssMB}`];
});
const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
const line = (r) => r.map((c, i) => c.padEnd(widths[i])).join('  ');
console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${table.map(line).join('\n')}`);
console.log(`\nMatMul ceiling (3072³, onnxruntime): ${matmulGflops.toFixed(0)} GFLOP/s`);
