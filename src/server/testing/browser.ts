import { existsSync } from 'node:fs';

/** TEST SUPPORT: where the end-to-end page test finds Chromium, and whether it runs. */

/** Debian's chromium, or $CHROMIUM_PATH. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * The `skip` option of the browser test: a one-line reason, or false to run it. A developer without
 * Chromium gets a skip that says how to enable it; under CI (any non-empty $CI) the test always runs, so
 * a missing browser fails there instead of passing silently.
 */
export function browserSkip(env: NodeJS.ProcessEnv = process.env, chromium = CHROMIUM, exists: (path: string) => boolean = existsSync): string | false {
  if (env.CI) return false;
  if (env.COLLAB_SKIP_BROWSER === '1') return 'COLLAB_SKIP_BROWSER=1';
  if (!exists(chromium)) return `Chromium is not at ${chromium}: apt-get install chromium (or set CHROMIUM_PATH) to run the browser test`;
  return false;
}
