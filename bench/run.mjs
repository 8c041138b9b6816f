// The foundation benchmark: the same work through this project (bench/foundation.ts) and through PyTorch
// (bench/reference.py, Debian's python3-torch) on this machine, one after the other, then a table of ratios.
// Test clips (30 s and 10 min of 44.1 kHz stereo WAV) are made in bench/.tmp/.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const here = new URL('.', import.meta.url).pathname;
const tmp = join(here, '.tmp');
mkdirSync(tmp, { recursive: true });

function makeClip(path, seconds) {
  if (existsSync(path)) return;
  const rate = 44100;
  const frames = Math.round(seconds * rate);
  const buf = Buffer.alloc(44 + frames * 4);
  buf.write('RIFF', 0); buf.writeUInt32LE(36 + frames * 4, 4); buf.write('WAVEfmt ', 8);
  buf.writeUInt32LE(16, 16); buf.writeUInt16LE(1, 20); buf.writeUInt16LE(2, 22); buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * 4, 28); buf.writeUInt16LE(4, 32); buf.writeUInt16LE(16, 34); buf.write('data', 36); buf.writeUInt32LE(frames * 4, 40);
  let seed = 1;
  for (let i = 0; i < frames; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const noise = (seed / 2147483648 - 0.5) * 0.2;
    const v = 0.3 * Math.sin((2 * Math.PI * 220 * (1 + ((i / rate) % 3))) * (i / rate)) + noise;
    buf.writeInt16LE(Math.round(v * 32767), 44 + i * 4);
    buf.writeInt16LE(Math.round(v * 0.8 * 32767), 46 + i * 4);
  }
  writeFileSync(path, buf);
}

const clip30 = join(tmp, 'clip-30s.wav');
const clip10m = join(tmp, 'clip-10min.wav');
makeClip(clip30, 30);
makeClip(clip10m, 600);

console.log('running this project (onnxruntime-node) …');
const ours = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', join(here, 'foundation.ts'), clip30, clip10m], { encoding: 'utf8' }).trim().split('\n').pop());
console.log('running PyTorch reference …');
// OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE, where a machine sets them, hold OpenBLAS back: give PyTorch its best.
const pyEnv = { ...process.env };
delete pyEnv.OPENBLAS_CORETYPE;
delete pyEnv.OPENBLAS_L2_SIZE;
const py = execFileSync('/usr/bin/python3', ['-c', `
import resource, runpy, sys
sys.argv = ['reference.py', ${JSON.stringify(clip30)}, ${JSON.stringify(clip10m)}]
runpy.run_path(${JSON.stringify(join(here, 'reference.py'))}, run_name='__main__')
print('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
`], { encoding: 'utf8', env: pyEnv }).trim().split('\n');
const ref = JSON.parse(py.find((l) => l.startsWith('{')));
const refPeak = Number(py.find((l) => l.startsWith('PEAK')).split(' ')[1]);

const audioSeconds = { '30s': 30, '10min': 600 };
const rows = [];
for (const key of Object.keys(ref).filter((k) => k.includes('.'))) {
  const a = ours[key].seconds;
  const b = ref[key].seconds;
  const clip = key.split('.')[1];
  const rtf = audioSeconds[clip] ? `${(audioSeconds[clip] / a).toFixed(0)}× realtime` : `${(1500 / a).toFixed(0)} frames/s`;
  rows.push([key, `${(a * 1000).toFixed(1)} ms`, `${(b * 1000).toFixed(1)} ms`, `${(b / a).toFixed(2)}×`, rtf]);
}
const header = ['work', 'this project', 'PyTorch', 'speed-up', 'throughput (ours)'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r) => r.map((c, i) => c.padEnd(widths[i])).join('  ');
console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}`);
console.log(`\npeak RSS: this project ${ours.peakRssMB} MB (main thread + worker), PyTorch ${refPeak} MB; torch ${ref.versions.torch}, ${ref.versions.threads} threads; provider ${ours.provider}`);
