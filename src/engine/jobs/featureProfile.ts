/**
 * A feature's acoustic profile as a job (../interp/profile.ts): the run's models found as `audiosae corpus
 * profile` finds them (resolveRunModels), onnxruntime in the job's own thread, the store opened read-only for
 * the job only; progress is "feature clips: 3/64", then "corpus clips: …". Cancelling stops at the next clip.
 */
import { resolveRunModels } from '../interp/clipCodes.ts';
import { acousticProfile, POSITIONS, type AcousticProfile } from '../interp/profile.ts';
import { InProcessRunner } from '../runtime/inProcess.ts';
import { chooseProvider } from '../runtime/providers.ts';
import { requireRun } from '../store/runs.ts';
import { CorpusStore } from '../store/store.ts';
import type { FeatureProfileJob, FeatureProfileView, JobProgress, JobResult, ProfileRow } from '../../shared/jobProtocol.ts';

const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);

/** The profile's rows, as `audiosae corpus profile` writes them: quantity, unit, feature, corpus. */
export function profileRows(p: Pick<AcousticProfile, 'firing' | 'corpus' | 'domains'>): ProfileRow[] {
  const f = p.firing;
  const c = p.corpus;
  const row = (quantity: string, unit: string, a: number, b: number | null): ProfileRow => ({ quantity, unit, feature: finite(a), corpus: b === null ? null : finite(b) });
  return [
    row('frames', '', f.frames, c.frames),
    row('loudness', 'dBFS', f.loudnessDb, c.loudnessDb),
    row('voiced_rate', '', f.voicedRate, c.voicedRate),
    row('f0_median', 'Hz', f.f0MedianHz, c.f0MedianHz),
    row('f0_mean', 'Hz', f.f0MeanHz, c.f0MeanHz),
    row('spectral_centroid', 'Hz', f.centroidHz, c.centroidHz),
    row('spectral_flatness', '', f.flatness, c.flatness),
    row('onset_strength', 'dB', f.onsetStrength, c.onsetStrength),
    ...POSITIONS.map((pos) => row(`event_${pos}`, 'share', f.position[pos], c.position[pos])),
    ...p.domains.map((d) => row(`domain_${d.domain}`, 'share of active frames', d.share, null)),
  ];
}

export async function featureProfileJob(job: FeatureProfileJob, signal: AbortSignal, report: (p: JobProgress) => void): Promise<JobResult> {
  const t0 = performance.now();
  const store = await CorpusStore.open(job.store, { readOnly: true });
  try {
    const conn = store.connection;
    report({ kind: 'stage', message: 'finding the run\'s models' });
    const run = await requireRun(conn, job.runId, job.layer);
    const models = await resolveRunModels(run, job.layer, { demoModelsDir: job.demoModelsDir, signal });
    const chosen = await chooseProvider(job.executionProvider);
    const runner = new InProcessRunner({ name: chosen.name, notes: chosen.notes }, chosen.sessionOptions);
    try {
      const p = await acousticProfile(runner, conn, {
        runId: run.runId, layer: job.layer, feature: job.feature, models, clips: job.clips, baselineClips: job.baselineClips, signal,
        onProgress: (what, done, total) => report({ kind: 'stage', message: `${what}: ${done}/${total}` }),
      });
      const profile: FeatureProfileView = {
        feature: p.feature, layer: p.layer, description: `feature ${p.feature} ${p.description}`, rows: profileRows(p),
        clipsProfiled: p.clipsProfiled, baselineClips: p.baselineClips, notes: p.notes, seconds: (performance.now() - t0) / 1000,
      };
      return { kind: 'featureProfile', profile };
    } finally {
      await runner.dispose();
    }
  } finally {
    store.close();
  }
}
