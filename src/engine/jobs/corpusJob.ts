/**
 * A corpus run as a job: the corpus from its sources, the models resolved as the CLI does
 * (../corpus/models.ts), onnxruntime in the job's own thread (the job worker is off the host thread already),
 * the store opened for writing, and `runCorpus` with its progress passed on. Cancelling stops after the clip in
 * flight (or, after CANCEL_GRACE_MS, abandons it); running the same job again resumes (the store skips clips it has with the same content).
 */
import { loadCorpora, resolveCorpusModels } from '../corpus/models.ts';
import { runCorpus, type CorpusProgress, type CorpusRunSummary } from '../corpus/run.ts';
import { AudioSaeError } from '../errors.ts';
import { InProcessRunner } from '../runtime/inProcess.ts';
import { chooseProvider } from '../runtime/providers.ts';
import { CorpusStore } from '../store/store.ts';
import type { CorpusRunJob, JobProgress, JobResult } from '../../shared/jobProtocol.ts';

/** How long a cancelled run may finish the clip in flight before it is abandoned. */
export const CANCEL_GRACE_MS = 10_000;

export async function corpusRunJob(job: CorpusRunJob, signal: AbortSignal, report: (p: JobProgress) => void): Promise<JobResult> {
  report({ kind: 'stage', message: 'reading the corpus' });
  const corpus = await loadCorpora(job.sources);
  report({ kind: 'stage', message: 'finding the models' });
  const models = await resolveCorpusModels({
    backbone: job.backbone, layers: job.layers, weights: job.weights, sae: job.sae, demoModelsDir: job.demoModelsDir, signal,
    onProgress: (file, p) => report({ kind: 'download', file, bytes: p.bytes, total: p.total, bytesPerSecond: p.bytesPerSecond }),
  });
  const chosen = await chooseProvider(job.executionProvider);
  const runner = new InProcessRunner({ name: chosen.name, notes: chosen.notes }, chosen.sessionOptions);
  try {
    const store = await CorpusStore.open(job.store);
    try {
      report({ kind: 'stage', message: `${corpus.clips.length} clips` });
      // Cancel stops after the clip in flight (runCorpus checks between clips); a clip still running after the
      // grace period is abandoned mid-way (nothing of it is written), and the summary is the progress so far.
      const inner = new AbortController();
      let last: CorpusProgress | undefined;
      let grace: ReturnType<typeof setTimeout> | undefined;
      const onAbort = () => (grace = setTimeout(() => inner.abort(), CANCEL_GRACE_MS));
      signal.addEventListener('abort', onAbort, { once: true });
      if (signal.aborted) inner.abort();
      try {
        const summary = await runCorpus(runner, {
          corpus, store, backboneId: models.spec.id, weightsFolder: models.weightsFolder, saePaths: models.saePaths, saeSource: models.saeSource,
          mode: job.mode, tap: job.tap, normalizeInput: job.normalizeInput, maxHubertSeconds: job.maxHubertSeconds, keepFrameCodes: job.keepFrameCodes,
          signal: inner.signal,
          onProgress: (progress) => {
            last = progress;
            report({ kind: 'corpus', progress });
            if (signal.aborted) inner.abort();
          },
        });
        return { kind: 'corpusRun', summary, provider: runner.provider.name };
      } catch (e) {
        if (!(inner.signal.aborted && e instanceof AudioSaeError && e.problem === 'cancelled.')) throw e;
        const p = last ?? { clipsDone: 0, clipsTotal: corpus.clips.length, processed: 0, skipped: 0, failed: 0, audioSecondsDone: 0, elapsedS: 0 };
        const summary: CorpusRunSummary = {
          runId: '', mode: job.mode === 'threshold' ? 'threshold' : 'batch-topk', layers: job.layers, clips: p.clipsTotal, processed: p.processed, skipped: p.skipped,
          removed: 0, failed: [], audioSeconds: p.audioSecondsDone, elapsedS: p.elapsedS, cancelled: true, notes: [],
        };
        return { kind: 'corpusRun', summary, provider: runner.provider.name };
      } finally {
        clearTimeout(grace);
        signal.removeEventListener('abort', onAbort);
      }
    } finally {
      store.close();
    }
  } finally {
    await runner.dispose();
  }
}
