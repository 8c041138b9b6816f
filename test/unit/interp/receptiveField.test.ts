/**
 * The receptive field (src/engine/interp/receptiveField.ts):
 * - the window cutting and border-aware averaging against numpy's nanmean on a fixed case (fixture made by
 *   test/reference/make_receptive_field.py): centres in the middle, at both borders, a clip shorter than a window;
 * - the paper's example shape on real audio: a store whose rows are planted for segments of the design corpus's
 *   white-noise bursts (0.3 s of noise every 0.5 s), an "onset" feature whose arg-max is each segment's first
 *   frame of a burst and an "offset" feature whose arg-max is its last frame of one. The onset feature's receptive
 *   field must be quiet left of centre and loud right of it, the step at the centre; the offset feature the
 *   reverse. The arg-max frames count from each segment's start, so this also checks that segments are honoured;
 * - with the run's models (the bundled toy backbone and SAE) the codes are computed again: an activation curve
 *   as long as the window, covered like it, and a note that the planted maxima are not what the SAE gives.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cutWindow, meanOfWindows, receptiveField, wav16k } from '../../../src/engine/interp/receptiveField.ts';
import { decodeWav } from '../../../src/engine/audio/index.ts';
import { openBackbone } from '../../../src/engine/pipeline/backbone.ts';
import { InProcessRunner } from '../../../src/engine/runtime/inProcess.ts';
import { loadSae, resolveMode } from '../../../src/engine/sae/index.ts';
import { CorpusStore, type LayerResult } from '../../../src/engine/store/store.ts';
import { assertClose, fixture } from '../../helpers/compare.ts';

interface WindowsFixture {
  n_mels: number;
  mels: number[][][];
  centres: [number, number][];
  cases: { window_frames: number; mean: (number | null)[][]; coverage: number[]; windows_nan: number[][][] }[];
}

describe('receptive field: windows and their border-aware mean', () => {
  it('matches numpy (nanmean over the windows covering each column, and the coverage)', () => {
    const fx = JSON.parse(readFileSync(fixture('receptive-field', 'windows.json'), 'utf8')) as WindowsFixture;
    const sources = fx.mels.map((m) => {
      const frames = m[0]!.length;
      return { rows: fx.n_mels, frames, data: Float32Array.from(m.flat()), offset: 0, validFrames: frames };
    });
    let worst = 0;
    for (const c of fx.cases) {
      const W = c.window_frames;
      const windows = fx.centres.map(([clip, centre]) => cutWindow(sources[clip]!, centre, W));
      windows.forEach((w, i) => assert.deepEqual(Array.from(w, (v) => (Number.isNaN(v) ? 1 : 0)), c.windows_nan[i]!.flat(), `W=${W}: window ${i} NaN columns`));
      const { mean, coverage } = meanOfWindows(windows, fx.n_mels, W);
      assert.deepEqual(Array.from(coverage), c.coverage, `W=${W}: coverage`);
      const want = Float64Array.from(c.mean.flat(), (v) => (v === null ? Number.NaN : v));
      assertClose(mean, want, { atol: 1e-6, what: `W=${W}: mean` });
      for (let i = 0; i < want.length; i++) if (!Number.isNaN(want[i]!)) worst = Math.max(worst, Math.abs(mean[i]! - want[i]!));
    }
    console.log(`receptive field vs numpy: worst |mean − numpy| = ${worst.toExponential(2)}`);
  });

  it('a source whose columns start later (offset) cuts the same window', () => {
    const data = Float32Array.from({ length: 2 * 50 }, (_, i) => i);
    const whole = { rows: 2, frames: 50, data, offset: 0, validFrames: 50 };
    const part = new Float32Array(2 * 20);
    for (let r = 0; r < 2; r++) part.set(data.subarray(r * 50 + 20, r * 50 + 40), r * 20);
    const tail = { rows: 2, frames: 20, data: part, offset: 20, validFrames: 50 };
    assert.deepEqual(Array.from(cutWindow(tail, 30, 10)), Array.from(cutWindow(whole, 30, 10)));
  });

  it('writes 16 kHz 16-bit PCM WAV that the reader reads back', () => {
    const x = Float32Array.from({ length: 1600 }, (_, i) => 0.5 * Math.sin(i / 7));
    const back = decodeWav(wav16k(x), 'w.wav');
    assert.equal(back.sampleRateHz, 16000);
    assertClose(back.channels[0]!, x, { atol: 1 / 32767, what: 'samples' });
  });
});

// ------------------------------------------------------------------------------------------------ onset / offset

const demo = new URL('../../../media/demo/models/whisper-tiny-random', import.meta.url).pathname;
const bursts = fixture('design-corpus', 'sounds', 'n1_white-bursts.wav');
/** Noise bursts of the clip: [start, end) in seconds (sox: 0.3 s of noise, then 0.2 s of silence, four times). */
const BURSTS = [0, 0.5, 1.0, 1.5].map((s) => [s, s + 0.3] as const);
/**
 * Segments [start_s, end_s) of the clip (null = the whole file), each from the start of the 0.2 s gap before a
 * burst (or the file's start) to the end of the gap after one (or the file's end): the onset feature fires on
 * the segment's first burst, the offset feature on its last. The bursts repeat every 0.5 s, so inside a clip
 * the 0.5 s before and after any frame look alike; what a 1 s window shows beyond a segment's border is no data
 * (not covered), so the receptive fields are: onset, 0.2 s of silence then the bursts; offset, the reverse.
 */
const SEGMENTS: { startS: number | null; endS: number | null; onset: number; offset: number }[] = [
  { startS: null, endS: null, onset: 0, offset: 3 },
  { startS: 0.3, endS: 1.0, onset: 1, offset: 1 },
  { startS: 0.8, endS: 2.0, onset: 2, offset: 3 },
  { startS: 0.3, endS: 1.5, onset: 1, offset: 2 },
  { startS: 1.3, endS: 2.0, onset: 3, offset: 3 },
  { startS: 0.8, endS: 1.5, onset: 2, offset: 2 },
];
const ONSET = 0;
const OFFSET = 1;
const LAYER = 1;

const tmp = mkdtempSync(join(tmpdir(), 'audiosae-rf-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let runner: InProcessRunner;
before(() => { runner = new InProcessRunner(); });
after(() => runner.dispose());

/** A store with one run of the toy backbone whose rows are planted: per segment, the onset and offset features' arg-max. */
async function plantedStore(): Promise<{ path: string; runId: string }> {
  const path = join(tmp, 'planted.duckdb');
  const saePath = join(demo, 'sae', `layer_${LAYER}`, 'ae.pt');
  const sae = await loadSae(saePath);
  const backbone = await openBackbone(demo);
  const store = await CorpusStore.open(path);
  try {
    const runId = await store.ensureRun({
      backbone: 'whisper-tiny-random', weights: backbone.identity, layers: [LAYER], sae: join(demo, 'sae'),
      saeSha256: { [LAYER]: createHash('sha256').update(readFileSync(saePath)).digest('hex') }, mode: resolveMode(sae, 'auto').mode,
      options: { tap: 'block', normalizeInput: false, maxHubertSeconds: 60 }, engineVersion: 'test', dModel: sae.dModel, dictSize: sae.dictSize, k: sae.k,
    }, []);
    for (const [clipId, s] of SEGMENTS.entries()) {
      const start = s.startS ?? 0;
      const durationS = (s.endS ?? 2.0) - start;
      const frames = Math.round(durationS * 50);
      const onsetFrame = Math.round((BURSTS[s.onset]![0] - start) * 50); // first 20 ms frame of the burst
      const offsetFrame = Math.round((BURSTS[s.offset]![1] - start) * 50) - 1; // its last frame
      assert.ok(onsetFrame >= 0 && offsetFrame < frames, `segment ${clipId}: planted frames inside`);
      const layer: LayerResult = {
        layer: LAYER,
        features: {
          feature: Int32Array.of(ONSET, OFFSET), maxAct: Float32Array.of(10 - clipId, 20 - clipId), argmaxFrame: Int32Array.of(onsetFrame, offsetFrame),
          activeFrames: Int32Array.of(1, 1), sumAct: Float64Array.of(10 - clipId, 20 - clipId),
        },
        recon: {
          frames, zeroNormFrames: 0, sumL0: 2, sumSqErr: 0, sumErr: 0, sumRelErr: 0, sumSqNorm: 1, sumCosine: frames, sumNormRatio: frames,
          sumX: new Float64Array(sae.dModel), sumRes: new Float64Array(sae.dModel),
        },
      };
      await store.writeClip(runId, {
        clipId, path: bursts, domain: 'sounds', dataset: null, startS: s.startS, endS: s.endS, durationS, frames, contentHash: 'planted',
        status: 'done', error: null, metadata: {},
      }, [layer]);
    }
    await store.finishRun(true);
    return { path, runId };
  } finally {
    store.close();
  }
}

/** Mean over mel bins of each window column. */
function columnEnergy(mean: Float32Array, nMels: number, W: number): number[] {
  return Array.from({ length: W }, (_, k) => {
    let s = 0;
    for (let m = 0; m < nMels; m++) s += mean[m * W + k]!;
    return s / nMels;
  });
}

/** Mean of the values that are numbers (columns no window covers are NaN). */
function avg(xs: number[]): number {
  const v = xs.filter((x) => !Number.isNaN(x));
  return v.reduce((a, b) => a + b, 0) / v.length;
}

/** How many windows cover each column: window column k shows segment mel frame 2t − W/2 + k, real for [0, samples / 160). */
function expectedCoverage(feature: number, W: number): number[] {
  const coverage = new Array<number>(W).fill(0);
  for (const s of SEGMENTS) {
    const start = s.startS ?? 0;
    const melFrames = Math.round(((s.endS ?? 2.0) - start) * 100);
    const t = feature === ONSET ? Math.round((BURSTS[s.onset]![0] - start) * 50) : Math.round((BURSTS[s.offset]![1] - start) * 50) - 1;
    for (let k = 0; k < W; k++) if (2 * t - W / 2 + k >= 0 && 2 * t - W / 2 + k < melFrames) coverage[k]!++;
  }
  return coverage;
}

describe('receptive field: onset and offset features (the paper\'s example shape)', () => {
  let planted: Promise<{ path: string; runId: string }>;
  before(() => { planted = plantedStore(); });

  for (const [feature, name] of [[ONSET, 'onset'], [OFFSET, 'offset']] as const) {
    it(`the ${name} feature's energy lies ${name === 'onset' ? 'right' : 'left'} of centre, the step at the centre`, async () => {
      const { path, runId } = await planted;
      const store = await CorpusStore.open(path, { readOnly: true });
      try {
        const rf = await receptiveField(runner, store.connection, { runId, layer: LAYER, feature });
        assert.equal(rf.picked.length, SEGMENTS.length, 'one window per clip');
        assert.equal(rf.nMels, 80);
        assert.equal(rf.windowFrames, 100);
        assert.equal(rf.centreColumn, 50);
        assert.equal(rf.curve, undefined, 'no models: no curve');
        assert.deepEqual(Array.from(rf.coverage), expectedCoverage(feature, 100), 'coverage: the windows reaching past a segment border hold fewer columns');
        const energy = columnEnergy(rf.mean, rf.nMels, rf.windowFrames);
        energy.forEach((e, k) => assert.equal(Number.isNaN(e), rf.coverage[k] === 0, `column ${k}: NaN exactly where no window covers it`));
        const left = avg(energy.slice(0, 48));
        const right = avg(energy.slice(52));
        const [loud, quiet] = name === 'onset' ? [right, left] : [left, right];
        console.log(`${name}: mean log-mel left of centre ${left.toFixed(3)}, right ${right.toFixed(3)}`);
        assert.ok(loud - quiet > 0.5, `${name}: loud side ${loud.toFixed(3)} vs quiet side ${quiet.toFixed(3)}`);
        // Where the level crosses half-way between the two sides: at the centre (mel frame 2t = the frame's start).
        const mid = (loud + quiet) / 2;
        const crossing = energy.findIndex((e, k) => k > 40 && k < 60 && (name === 'onset' ? e > mid : e < mid));
        assert.ok(Math.abs(crossing - rf.centreColumn) <= 3, `${name}: the step is at column ${crossing}, the centre is ${rf.centreColumn}`);
      } finally {
        store.close();
      }
    });
  }

  it('with the run\'s models: the activation curve, its coverage, and a note on the planted maxima', async () => {
    const { path, runId } = await planted;
    const store = await CorpusStore.open(path, { readOnly: true });
    try {
      const rf = await receptiveField(runner, store.connection, {
        runId, layer: LAYER, feature: ONSET, windowFrames: 60, models: { weightsFolder: demo, saePath: join(demo, 'sae', `layer_${LAYER}`, 'ae.pt') },
        keepWindows: true, keepAudio: true, cacheDir: join(tmp, 'cache'),
      });
      assert.equal(rf.curve?.length, 60);
      assert.deepEqual(Array.from(rf.curveCoverage!), Array.from(rf.coverage), 'the curve covers the same columns as the mel');
      assert.ok(rf.notes.some((n) => /differ from the store's max/.test(n)), `a note on the planted maxima: ${rf.notes.join(' | ')}`);
      assert.equal(rf.windows!.length, SEGMENTS.length * 80 * 60);
      // The audio of each window: its covered columns × 160 samples.
      rf.audio!.forEach((a, i) => assert.equal(a.samples.length, rf.picked[i]!.covered * 160, `window ${i}: samples`));
    } finally {
      store.close();
    }
  });
});
