/**
 * The job worker: runs jobs (jobProtocol.ts) off the extension host's thread, several at a time (a corpus run
 * and the panels' analyses, a feature page's profile and duplicates), each with its own AbortController. Every
 * started job is answered exactly once.
 */
import { parentPort } from 'node:worker_threads';
import { isUserError } from '../errors.ts';
import { assertNever, type FeatureDuplicatesJob, type HostToJob, type JobProgress, type JobResult, type JobSpec, type JobToHost } from '../../shared/jobProtocol.ts';
import { analysisView } from './analysis.ts';
import { corpusRunJob } from './corpusJob.ts';
import { featureDuplicates } from './featureDuplicates.ts';
import { featureProfileJob } from './featureProfile.ts';
import { CorpusStore } from '../store/store.ts';

if (!parentPort) throw new Error('the job worker must run in a worker thread');
const port = parentPort;
const running = new Map<number, AbortController>();

const send = (m: JobToHost) => port.postMessage(m);

function run(spec: JobSpec, signal: AbortSignal, report: (p: JobProgress) => void): Promise<JobResult> {
  switch (spec.kind) {
    case 'corpusRun':
      return corpusRunJob(spec, signal, report);
    case 'analysis':
      return analysisView(spec, signal).then((view) => ({ kind: 'analysis', view }));
    case 'featureProfile':
      return featureProfileJob(spec, signal, report);
    case 'featureDuplicates':
      return duplicatesJob(spec);
    default:
      return assertNever(spec);
  }
}

async function duplicatesJob(spec: FeatureDuplicatesJob): Promise<JobResult> {
  const store = await CorpusStore.open(spec.store, { readOnly: true });
  try {
    return { kind: 'featureDuplicates', duplicates: await featureDuplicates(store.connection, spec.runId, spec.layer, spec.feature, spec.theta) };
  } finally {
    store.close();
  }
}

port.on('message', (m: HostToJob) => {
  switch (m.type) {
    case 'start': {
      const abort = new AbortController();
      running.set(m.jobId, abort);
      run(m.spec, abort.signal, (progress) => send({ type: 'progress', jobId: m.jobId, progress }))
        .then(
          (result) => send({ type: 'result', jobId: m.jobId, result }),
          (e: unknown) => send({ type: 'error', jobId: m.jobId, message: e instanceof Error ? e.message : String(e), userError: isUserError(e) }),
        )
        .finally(() => running.delete(m.jobId));
      return;
    }
    case 'cancel':
      running.get(m.jobId)?.abort();
      return;
    default:
      assertNever(m);
  }
});
