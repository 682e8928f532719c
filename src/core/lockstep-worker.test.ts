import assert from 'node:assert/strict';
import test from 'node:test';
import { FIRST_FREE, LockstepWorker } from './lockstep-worker.js';

test('a lockstep worker whose job throws makes wait() throw its message instead of hanging; later jobs fail too', async () => {
  const ctl = new Int32Array(new SharedArrayBuffer((FIRST_FREE + 1) * 4));
  const worker = new LockstepWorker(new URL('../testing/failing-worker.js', import.meta.url), { ctl });
  await worker.ready();
  worker.post(2);
  worker.wait();
  worker.post(1);
  assert.throws(() => worker.wait(), /a training worker thread failed: the kernel ran out of rows; train with threads 1 \(--threads 1\) to run without it/);
  worker.post(2);
  assert.throws(() => worker.wait(), /the kernel ran out of rows/);
  // a job already waited for is not waited for (or thrown) again: a caller can end a job it may not have started
  // and close after a failure
  assert.doesNotThrow(() => worker.wait());
  await worker.close();
});
