import { Worker } from 'node:worker_threads';

/** Flags that only make sense for the main script: a worker given them fails to start. */
const MAIN_ONLY = /^(--input-type|--eval|-e|--print|-p)(=|$)/;
/** Of those, the ones whose value is the next argument. */
const TAKES_VALUE = /^(--input-type|--eval|-e|--print|-p)$/;

/**
 * The node flags a worker starts with: the parent's (memory limits, loaders, ...) without
 * `--input-type`, `--eval` and `--print`, which a worker refuses (a library call from `node -e` would fail).
 */
export const WORKER_EXEC_ARGV: string[] = process.execArgv.filter((a, j, all) => !MAIN_ONLY.test(a) && !TAKES_VALUE.test(all[j - 1] ?? ''));

/**
 * A worker thread on `script`, or undefined when this process cannot start one (node refuses some of the
 * parent's flags in a worker, e.g. V8 flags such as --no-liftoff): the work then runs on fewer threads.
 */
export function startWorker(script: URL, workerData: unknown): Worker | undefined {
  try {
    return new Worker(script, { workerData, execArgv: WORKER_EXEC_ARGV });
  } catch {
    return undefined;
  }
}
