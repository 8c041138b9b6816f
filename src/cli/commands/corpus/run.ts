/**
 * `audiosae corpus run`: every clip of a corpus (a folder of domain sub-folders, or a CSV/JSONL manifest)
 * through the backbone once and every requested layer's SAE, into a DuckDB store. Resumable and incremental:
 * run it again after a crash, a Ctrl-C, or changes to the corpus, and only what is missing or changed runs.
 */
import { backboneById } from '../../../engine/backbones/registry.ts';
import { loadCorpus } from '../../../engine/corpus/manifest.ts';
import { parseLayerList, resolveCorpusModels } from '../../../engine/corpus/models.ts';
import { runCorpus, type CorpusProgress } from '../../../engine/corpus/run.ts';
import { DEMO_BACKBONES } from '../../../engine/pipeline/resolve.ts';
import type { EncoderTap } from '../../../engine/onnx/whisper.ts';
import type { SaeModeChoice } from '../../../engine/sae/index.ts';
import { CorpusStore } from '../../../engine/store/store.ts';
import { numberOption, type ParsedArgs, type VerbSpec } from '../../args.ts';
import { onInterrupt } from '../../interrupt.ts';
import { downloadProgress, MODEL_OPTIONS } from '../../modelOptions.ts';
import { assetPath } from '../../assets.ts';
import { progressLine } from '../../progress.ts';
import { withRunner } from '../../runner.ts';
import { prepareShard, SHARD_OPTIONS } from './shardRun.ts';

export const spec: VerbSpec = {
  name: 'corpus run',
  summary: 'Run every clip of a corpus through the backbone (once) and the SAEs of the chosen layers, into a store.',
  positionals: ['<folder|manifest>'],
  options: [
    ...MODEL_OPTIONS.filter((o) => o.name !== 'layer'),
    { name: 'layers', value: '<3,6,12|all>', description: 'encoder blocks (1-based), comma-separated, or all', required: true },
    { name: 'store', value: '<corpus.duckdb>', description: 'the store (created if missing; a run already in it resumes); a shard (--shard) writes into --out instead' },
    { name: 'keep-frame-codes', description: 'also keep every frame\'s sparse codes (table frame_codes; needed by duplicates, coverage, interval label search)' },
    ...SHARD_OPTIONS,
  ],
  details: `
A corpus is a folder whose first-level sub-folders are domains (speech/, sounds/, music/ …) and second-level
ones, if any, datasets; or a manifest, CSV with a header or JSONL, with path and domain and optionally
dataset, start_s, end_s (a segment of a longer file); other columns are kept as metadata; relative paths are
relative to the manifest. Every problem of the corpus (missing files, duplicates, impossible segments,
unsupported types) is reported before any work starts.

The encoder runs once per clip to the deepest layer asked for; each layer's activations go to that layer's
SAE (--sae: a folder of layer_<n>/ae.pt, or the authors' SAEs from the Hub). Clips already in the store with
the same content are skipped, so an interrupted run (Ctrl-C stops after the clip in flight; even kill -9)
continues where it stopped, and a changed corpus runs only what changed. A clip that cannot be decoded is
recorded as failed, left out of every statistic and listed at the end; the exit status is then 3.`,
};

function hours(seconds: number): string {
  return seconds >= 3600 ? `${(seconds / 3600).toFixed(2)} h` : seconds >= 60 ? `${(seconds / 60).toFixed(1)} min` : `${seconds.toFixed(1)} s`;
}

function progressText(p: CorpusProgress): string {
  const rate = p.elapsedS > 0 ? p.audioSecondsDone / p.elapsedS : 0; // audio seconds per second = audio-hours per hour
  const perClip = p.processed > 0 ? p.elapsedS / p.processed : 0;
  const eta = perClip > 0 ? ` · ETA ${hours(perClip * (p.clipsTotal - p.clipsDone))}` : '';
  const width = 24;
  const filled = p.clipsTotal > 0 ? Math.round((width * p.clipsDone) / p.clipsTotal) : 0;
  const bar = process.stderr.isTTY ? `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ` : '';
  return `${bar}clips ${p.clipsDone}/${p.clipsTotal} (${p.skipped} already stored, ${p.failed} failed) · ${hours(p.audioSecondsDone)} of audio · ${rate.toFixed(1)} audio-h/h${eta}`;
}

export async function run(args: ParsedArgs): Promise<number> {
  const backbone = backboneById(args.options.get('backbone')!, DEMO_BACKBONES);
  const layers = parseLayerList(args.options.get('layers')!, backbone.layers);
  const corpus = await loadCorpus(args.positionals[0]!);
  const shard = await prepareShard(args, corpus); // --shard/--shards: this task's share into its own store in --out
  if (shard && 'finished' in shard) return 0;
  // Weights once, then each layer's SAE (downloaded from the Hub unless --sae names local ones).
  const { weightsFolder, saePaths, saeSource } = await resolveCorpusModels({
    backbone: backbone.id, layers, weights: args.options.get('weights'), sae: args.options.get('sae'), demoModelsDir: assetPath('demo', 'models'),
    onProgress: downloadProgress(),
  });
  const store = shard?.store ?? (await CorpusStore.open(args.options.get('store')!));
  const stop = new AbortController();
  const unregister = onInterrupt(() => stop.abort());
  const progress = progressLine();
  try {
    const summary = await withRunner((runner) => runCorpus(runner, {
      corpus: shard?.corpus ?? corpus, clipIds: shard?.clipIds, store, backboneId: backbone.id, weightsFolder, saePaths, saeSource,
      mode: args.options.get('mode') as SaeModeChoice, tap: args.options.get('tap') as EncoderTap, normalizeInput: args.flags.has('normalize-input'),
      maxHubertSeconds: numberOption(args, 'max-hubert-seconds'), keepFrameCodes: args.flags.has('keep-frame-codes'), signal: stop.signal,
      onProgress: (p) => progress.update(progressText(p)),
    }));
    progress.done();
    for (const note of summary.notes) console.error(`note: ${note}`);
    for (const f of summary.failed) console.error(`failed: ${f.error.includes(f.path) ? f.error : `${f.path}: ${f.error}`}`);
    const rate = summary.elapsedS > 0 ? summary.audioSeconds / summary.elapsedS : 0;
    console.log(
      `${summary.cancelled ? 'stopped' : 'done'}: run ${summary.runId} (${backbone.label}, layers ${summary.layers.join(',')}, ${summary.mode}) · ` +
        `${summary.clips} clips: ${summary.processed} run, ${summary.skipped} already stored, ${summary.removed} removed, ${summary.failed.length} failed · ` +
        `${hours(summary.audioSeconds)} of audio in ${hours(summary.elapsedS)} (${rate.toFixed(1)} audio-h/h) → ${store.path}`,
    );
    if (shard) return await shard.complete(summary);
    if (summary.cancelled) return 130;
    return summary.failed.length ? 3 : 0;
  } finally {
    unregister();
    store.close();
  }
}
