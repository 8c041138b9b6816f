/**
 * The Feature page's long analyses, run in the job worker (src/engine/jobs) so the extension host stays free:
 * the acoustic profile (the run's models over the feature's top clips and a corpus sample) and the duplicates
 * (this feature's IoU row over the run's kept frame codes). Each request from the page is one job: its progress
 * goes to the page as `jobProgress`, its answer as `profile` / `duplicates`, a failure or a cancel as `failed`.
 * Answers are kept per feature and run state (clips done), so a page opened again shows them at once.
 */
import { basename } from 'node:path';
import type { JobClient, JobHandle } from '../../engine/jobs/client.ts';
import type { FeatureDuplicatesView, FeatureProfileView, JobSpec } from '../../shared/jobProtocol.ts';
import type { ExecutionProviderChoice } from '../../shared/workerProtocol.ts';
import { progressMessage } from '../corpus/runText.ts';
import type { ActiveRun } from '../corpus/stores.ts';
import { answerKey, Kept } from '../kept.ts';
import type { HostToPage } from '../sidebar/protocol.ts';

export type FeatureJobKind = 'profile' | 'duplicates';

export interface FeatureJobTarget {
  run: ActiveRun;
  feature: number;
  /** Changes when the run gains clips (a resumed run): answers kept under an older state are not shown. */
  runState: string;
}

export interface FeatureJobOptions {
  jobs: () => JobClient;
  /** Folder of the bundled demo models (media/demo/models), where a demo run's models are found. */
  demoModelsDir: string;
  executionProvider: () => ExecutionProviderChoice;
  post: (m: HostToPage) => void;
  log: (line: string) => void;
}

interface Answers {
  profile?: FeatureProfileView;
  duplicates?: FeatureDuplicatesView;
}

const MAX_KEPT = 200;
const keyOf = (t: FeatureJobTarget) => answerKey(t.run, t.runState, t.feature);

export class FeatureJobs {
  private readonly running = new Map<number, { handle: JobHandle; key: string; cancelled: boolean }>();
  private readonly kept = new Kept<Answers>(MAX_KEPT);

  constructor(private readonly o: FeatureJobOptions) {}

  /** Answers already computed for this feature in this run state. */
  keptFor(t: FeatureJobTarget): Answers {
    return { ...this.kept.get(keyOf(t)) };
  }

  /** Starts the analysis asked for by the page's request `id`. */
  start(kind: FeatureJobKind, id: number, t: FeatureJobTarget): void {
    const key = keyOf(t);
    const { run, feature } = t;
    const t0 = performance.now();
    const where = { store: run.storePath, runId: run.runId, layer: run.layer, feature };
    const spec: JobSpec = kind === 'profile'
      ? { kind: 'featureProfile', ...where, executionProvider: this.o.executionProvider(), demoModelsDir: this.o.demoModelsDir }
      : { kind: 'featureDuplicates', ...where };
    const handle = this.o.jobs().start(spec, { onProgress: (p) => this.o.post({ type: 'jobProgress', id, message: progressMessage(p) }) });
    const entry = { handle: handle as JobHandle, key, cancelled: false };
    this.running.set(id, entry);
    handle.result.then(
      (r) => {
        // A job that ignored the cancel (the duplicates query runs to its end) is kept but not shown.
        const kept = { ...this.kept.get(key) };
        if (r.kind === 'featureProfile') kept.profile = r.profile;
        else if (r.kind === 'featureDuplicates') kept.duplicates = r.duplicates;
        this.kept.set(key, kept);
        if (entry.cancelled) this.o.post({ type: 'failed', id, message: 'Cancelled.' });
        else if (r.kind === 'featureProfile') this.o.post({ type: 'profile', id, profile: r.profile });
        else if (r.kind === 'featureDuplicates') this.o.post({ type: 'duplicates', id, duplicates: r.duplicates });
        this.o.log(`Feature page: ${kind} of feature ${feature} (layer ${run.layer}, ${basename(run.storePath)}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      },
      (e: unknown) => {
        const message = entry.cancelled ? 'Cancelled.' : e instanceof Error ? e.message : String(e);
        this.o.post({ type: 'failed', id, message });
        if (!entry.cancelled) this.o.log(`Feature page: ${kind} of feature ${feature} failed: ${message}`);
      },
    ).finally(() => this.running.delete(id));
  }

  /** Cancels the job of request `id` (the profile stops after the clip in flight). */
  cancel(id: number): void {
    const r = this.running.get(id);
    if (!r) return;
    r.cancelled = true;
    r.handle.cancel();
  }

  /** Cancels every job: the page now shows another feature, or closed. */
  cancelAll(): void {
    for (const id of [...this.running.keys()]) this.cancel(id);
  }
}
