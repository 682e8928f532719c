/** Flags that only make sense for the main script: a worker given them fails to start. */
const MAIN_ONLY = /^(--input-type|--eval|-e|--print|-p)(=|$)/;
/** Of those, the ones whose value is the next argument. */
const TAKES_VALUE = /^(--input-type|--eval|-e|--print|-p)$/;

/**
 * The node flags a worker starts with: the parent's (memory limits, loaders, ...) without
 * `--input-type`, `--eval` and `--print`, which a worker refuses (a library call from `node -e` would fail).
 */
export const WORKER_EXEC_ARGV: string[] = process.execArgv.filter((a, j, all) => !MAIN_ONLY.test(a) && !TAKES_VALUE.test(all[j - 1] ?? ''));
