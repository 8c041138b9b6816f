/**
 * The job worker: runs jobs (jobProtocol.ts) off the extension host's thread, several at a time (a corpus run
 * and the panels' analyses), each with its own AbortController. Every started job is answered exactly once.
 */
import { parentPort } from 'node:worker_threads';
import { isUserError } from '../errors.ts';
import { assertNever, type HostToJob, type JobProgress, type JobResult, type JobSpec, type JobToHost } from '../../shared/jobProtocol.ts';
import { analysisView } from './analysis.ts';
import { corpusRunJob } from './corpusJob.ts';

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
    default:
      return assertNever(spec);
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
