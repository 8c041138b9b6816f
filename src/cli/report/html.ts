/**
 * A self-contained HTML report of one clip: log-mel spectrogram, the clip's strongest SAE features as lanes
 * aligned to it by time, a table of those features and the reconstruction metrics with their formulas.
 * Images are inline PNG data URLs, so the file can be mailed or archived on its own.
 */
import { colormapLut, type ColormapName } from '../../shared/colormaps.ts';
import { encodePng } from './png.ts';

import type { RankedFeature } from '../../engine/sae/featureStats.ts';

export type ReportFeature = RankedFeature;

export interface ReportInput {
  title: string;
  clipName: string;
  durationS: number;
  /** Lines shown under the title (e.g. what the model is, which SAE mode ran). */
  notes: string[];
  mel: { nMels: number; frames: number; framesPerSecond: number; data: Float32Array /* [nMels, frames] row-major */ };
  featureFramesPerSecond: number;
  features: ReportFeature[];
  metrics: Record<string, { value: number; formula: string }>;
  colormap?: ColormapName;
  /** A small corpus analysis shown after the clip (the demo's). */
  corpus?: ReportCorpus;
}

export interface ReportCorpus {
  clips: number;
  layers: number[];
  /** The layer the tables are for. */
  layer: number;
  mode: string;
  store: string;
  manifest: string;
  metrics: Array<{ group: string; clips: number; frames: number; l0: number; fve: number; normalizedL2: number }>;
  /** The per-layer classification chart (SVG markup, made by this project). */
  figureSvg: string;
  /** Features per label at `layer`. */
  counts: Record<string, number>;
  topClips: Array<{ feature: number; label: string; grade: number | null; rows: Array<{ rank: number; clip: string; max: number; timeS: number }> }>;
}

function corpusSection(c: ReportCorpus): string {
  const metricRows = c.metrics.map((m) => `<tr><td>${escapeHtml(m.group)}</td><td>${m.clips}</td><td>${m.frames}</td><td>${fmt(m.l0)}</td><td>${fmt(m.fve)}</td><td>${fmt(m.normalizedL2)}</td></tr>`).join('\n');
  const counts = Object.entries(c.counts).map(([k, v]) => `${escapeHtml(k)} ${v}`).join(' · ');
  const tops = c.topClips.map((t) => `<h3>Feature #${t.feature}: ${escapeHtml(t.label)} (grade ${t.grade ?? '–'})</h3>
<table><tr><th>rank</th><th>segment</th><th>max activation</th><th>time of max (s)</th></tr>
${t.rows.map((r) => `<tr><td>${r.rank}</td><td>${escapeHtml(r.clip)}</td><td>${fmt(r.max)}</td><td>${r.timeS.toFixed(2)}</td></tr>`).join('\n')}
</table>`).join('\n');
  return `<h2>A small corpus analysis</h2>
<p>The clip cut into ${c.clips} labelled segments (<code>${escapeHtml(c.manifest)}</code>), every layer (${c.layers.join(', ')}) run in one encoder pass into the store <code>${escapeHtml(c.store)}</code> (${escapeHtml(c.mode)}). Open it from Python with <code>duckdb.connect(path, read_only=True)</code>, or query it with <code>audiosae corpus …</code>.</p>
<h3>Reconstruction at layer ${c.layer}, per domain</h3>
<table><tr><th>group</th><th>clips</th><th>frames</th><th>L0</th><th>FVE</th><th>normalized L2</th></tr>
${metricRows}
</table>
<h3>Features by domain, per layer (frame level, paper appendix C)</h3>
<div class="figure">${c.figureSvg}</div>
<p>Layer ${c.layer}: ${counts}.</p>
${tops}`;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Spectrogram as RGBA: low frequencies at the bottom, values mapped linearly over their own range. */
function spectrogramPng(mel: ReportInput['mel'], colormap: ColormapName): Buffer {
  const { nMels, frames, data } = mel;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < nMels * frames; i++) {
    lo = Math.min(lo, data[i]!);
    hi = Math.max(hi, data[i]!);
  }
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  const lut = colormapLut(colormap);
  const rgba = new Uint8Array(nMels * frames * 4);
  for (let m = 0; m < nMels; m++) {
    const y = nMels - 1 - m;
    for (let t = 0; t < frames; t++) {
      const c = Math.round((data[m * frames + t]! - lo) * scale) * 4;
      rgba.set(lut.subarray(c, c + 4), (y * frames + t) * 4);
    }
  }
  return encodePng(frames, nMels, rgba);
}

/** One lane per feature, each scaled to its own maximum. */
function lanesPng(features: ReportFeature[], frames: number, laneHeight: number): Buffer {
  const height = Math.max(1, features.length * laneHeight);
  const rgba = new Uint8Array(frames * height * 4);
  const lut = colormapLut('magma');
  features.forEach((f, lane) => {
    const scale = f.maxValue > 0 ? 255 / f.maxValue : 0;
    for (let t = 0; t < frames; t++) {
      const c = Math.min(255, Math.round(Math.max(0, f.track[t] ?? 0) * scale)) * 4;
      for (let y = lane * laneHeight; y < (lane + 1) * laneHeight - 1; y++) rgba.set(lut.subarray(c, c + 4), (y * frames + t) * 4);
    }
  });
  return encodePng(frames, height, rgba);
}

const fmt = (v: number) => (Math.abs(v) >= 1000 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toFixed(4));

export function renderReport(input: ReportInput): string {
  const laneHeight = 14;
  const featureFrames = input.features[0]?.track.length ?? 0;
  const spec = spectrogramPng(input.mel, input.colormap ?? 'viridis').toString('base64');
  const lanes = lanesPng(input.features, Math.max(1, featureFrames), laneHeight).toString('base64');
  // Widths proportional to duration so both images line up by time, not by index.
  const melSeconds = input.mel.frames / input.mel.framesPerSecond;
  const featureSeconds = featureFrames / input.featureFramesPerSecond;
  const total = Math.max(melSeconds, featureSeconds, 1e-9);
  const ticks: string[] = [];
  const step = total > 60 ? 10 : total > 20 ? 5 : 1;
  for (let s = 0; s <= total; s += step) ticks.push(`<span style="left:${(100 * s) / total}%">${s}s</span>`);

  const featureRows = input.features
    .map(
      (f) => `<tr><td>${f.id}</td><td>${fmt(f.maxValue)}</td><td>${f.maxTimeS.toFixed(2)}</td><td>${f.activeFrames}</td>` +
        `<td>${((100 * f.activeFrames) / Math.max(1, featureFrames)).toFixed(1)}%</td></tr>`,
    )
    .join('\n');
  const metricRows = Object.entries(input.metrics)
    .map(([name, m]) => `<tr><td>${escapeHtml(name)}</td><td>${fmt(m.value)}</td><td><code>${escapeHtml(m.formula)}</code></td></tr>`)
    .join('\n');
  const laneLabels = input.features.map((f) => `<div style="height:${laneHeight}px">#${f.id}</div>`).join('');

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(input.title)}</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 24px; color: #222; max-width: 1200px; }
h1 { font-size: 20px; margin-bottom: 4px; } .notes { color: #555; margin: 0 0 16px; padding-left: 18px; }
.plot { display: grid; grid-template-columns: 64px 1fr; gap: 0 8px; align-items: start; }
.plot img { display: block; image-rendering: pixelated; height: auto; }
.axis { position: relative; height: 18px; font-size: 11px; color: #555; }
.axis span { position: absolute; transform: translateX(-50%); }
.labels { font-size: 11px; line-height: 14px; text-align: right; color: #444; }
table { border-collapse: collapse; margin: 12px 0 24px; } td, th { border-bottom: 1px solid #ddd; padding: 3px 10px; text-align: right; } td:has(code), th:last-child { text-align: left; }
th { background: #f4f4f4; } td code { font-size: 12px; }
</style></head><body>
<h1>${escapeHtml(input.title)}</h1>
<p><b>${escapeHtml(input.clipName)}</b> · ${input.durationS.toFixed(2)} s</p>
<ul class="notes">${input.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>
<div class="plot">
  <div class="labels" style="height:160px;line-height:160px">log-mel</div>
  <img alt="log-mel spectrogram" src="data:image/png;base64,${spec}" style="width:${(100 * melSeconds) / total}%;height:160px">
  <div class="labels">${laneLabels}</div>
  <img alt="feature activations" src="data:image/png;base64,${lanes}" style="width:${(100 * featureSeconds) / total}%;height:${input.features.length * laneHeight}px">
  <div></div><div class="axis">${ticks.join('')}</div>
</div>
<h2>Strongest features in this clip</h2>
<table><tr><th>feature</th><th>max activation</th><th>time of max (s)</th><th>active frames</th><th>of frames</th></tr>
${featureRows}
</table>
<h2>Reconstruction</h2>
<table><tr><th>metric</th><th>value</th><th>definition</th></tr>
${metricRows}
</table>
${input.corpus ? corpusSection(input.corpus) : ''}
</body></html>
`;
}
