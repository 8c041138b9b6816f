import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { threadOptions } from '../../../src/engine/runtime/inProcess.ts';

describe('threads per graph', () => {
  it('AUDIOSAE_THREADS, else SLURM_CPUS_PER_TASK, sets onnxruntime\'s intra-op threads; nothing set or nonsense leaves its default', () => {
    assert.deepEqual(threadOptions({}), {});
    assert.deepEqual(threadOptions({ SLURM_CPUS_PER_TASK: '4' }), { intraOpNumThreads: 4 });
    assert.deepEqual(threadOptions({ AUDIOSAE_THREADS: '2', SLURM_CPUS_PER_TASK: '4' }), { intraOpNumThreads: 2 });
    assert.deepEqual(threadOptions({ AUDIOSAE_THREADS: 'many', SLURM_CPUS_PER_TASK: '0' }), {});
    assert.deepEqual(threadOptions({ AUDIOSAE_THREADS: '1.5' }), {});
  });
});
