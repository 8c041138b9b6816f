/**
 * Messages between the extension host and the job worker (src/engine/jobs/worker.ts), which runs long work off
 * the host thread: corpus runs, the analyses behind the result panels, and a feature page's acoustic profile and
 * duplicates. Not the model-level load/run protocol of workerProtocol.ts: a job is one whole piece of work, started, reported on, cancelled, and answered once.
 *
 * Host → worker: `start` (a job id and its spec), `cancel` (stops after the clip in flight; the store keeps
 * every clip written, so running the same job again resumes). Worker → host: any number of `progress`, then
 * exactly one `result` or `error` per job id (also for a cancelled job: a corpus run answers with a result whose
 * summary says `cancelled`).
 */
import type { CorpusProgress, CorpusRunSummary } from '../engine/corpus/run.ts';
import type { EncoderTap } from '../engine/onnx/whisper.ts';
import type { SaeModeChoice } from '../engine/sae/index.ts';
import type { CorpusView, CorpusViewKind } from './panelProtocol.ts';
import type { ExecutionProviderChoice } from './workerProtocol.ts';

export { assertNever } from './panelProtocol.ts';

export interface CorpusRunJob {
  kind: 'corpusRun';
  /** Folders of domain sub-folders, or CSV/JSONL manifests (absolute paths), merged into one corpus. */
  sources: string[];
  /** The store (created if missing; the same run resumes). */
  store: string;
  backbone: string;
  /** 1-based, ascending. */
  layers: number[];
  weights?: string;
  sae?: string;
  mode: SaeModeChoice;
  tap: EncoderTap;
  normalizeInput: boolean;
  maxHubertSeconds: number;
  keepFrameCodes: boolean;
  executionProvider: ExecutionProviderChoice;
  /** Folder of the bundled demo models (media/demo/models of the extension). */
  demoModelsDir: string;
}

export interface AnalysisJob {
  kind: 'analysis';
  view: CorpusViewKind;
  store: string;
  runId: string;
  layer: number;
  /** topClips: the feature. */
  feature?: number;
  /** topClips: how many clips (default 50). */
  limit?: number;
  /** featureMap: folder of the bundled demo models (where a demo run's SAEs are found). */
  demoModelsDir?: string;
}

/** One feature's acoustic profile (src/engine/interp/profile.ts): the run's models compute its top clips' codes again. */
export interface FeatureProfileJob {
  kind: 'featureProfile';
  store: string;
  runId: string;
  layer: number;
  feature: number;
  executionProvider: ExecutionProviderChoice;
  /** Folder of the bundled demo models (where a demo run's models are found). */
  demoModelsDir: string;
  /** Its top clips profiled (default 64), and the corpus clips (default 100). */
  clips?: number;
  baselineClips?: number;
}

/** The features of the same layer whose active frames overlap this one's with IoU > theta (default 0.5). */
export interface FeatureDuplicatesJob {
  kind: 'featureDuplicates';
  store: string;
  runId: string;
  layer: number;
  feature: number;
  theta?: number;
}

export type JobSpec = CorpusRunJob | AnalysisJob | FeatureProfileJob | FeatureDuplicatesJob;

/** One row of a profile: a quantity over the feature's active frames and over the corpus's (null: not defined). */
export interface ProfileRow {
  quantity: string;
  unit: string;
  feature: number | null;
  corpus: number | null;
}

export interface FeatureProfileView {
  feature: number;
  layer: number;
  /** "fires on loud voiced onsets around 220 Hz; 80% in speech" */
  description: string;
  rows: ProfileRow[];
  clipsProfiled: number;
  baselineClips: number;
  notes: string[];
  seconds: number;
}

export interface DuplicateRow {
  feature: number;
  iou: number;
  /** Frames where both are active, and where either is. */
  intersect: number;
  union: number;
}

export type FeatureDuplicatesView =
  /** The run kept no per-frame codes; `note` says what to do. */
  | { feature: number; layer: number; frameCodes: false; note: string }
  | { feature: number; layer: number; frameCodes: true; theta: number; activeFrames: number; rows: DuplicateRow[]; seconds: number };

export type JobProgress =
  | { kind: 'stage'; message: string }
  | { kind: 'download'; file: string; bytes: number; total: number; bytesPerSecond: number }
  | { kind: 'corpus'; progress: CorpusProgress };

export type JobResult =
  | { kind: 'corpusRun'; summary: CorpusRunSummary; provider: string }
  | { kind: 'analysis'; view: CorpusView }
  | { kind: 'featureProfile'; profile: FeatureProfileView }
  | { kind: 'featureDuplicates'; duplicates: FeatureDuplicatesView };

export type HostToJob =
  | { type: 'start'; jobId: number; spec: JobSpec }
  | { type: 'cancel'; jobId: number };

export type JobToHost =
  | { type: 'progress'; jobId: number; progress: JobProgress }
  | { type: 'result'; jobId: number; result: JobResult }
  /** `userError`: an AudioSaeError (a problem with the input the user can act on), else a bug. */
  | { type: 'error'; jobId: number; message: string; userError: boolean };
