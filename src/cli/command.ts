import { CollabError } from '../core/errors.js';

/** Options every command takes. */
export interface GlobalFlags {
  /** Print the result as one JSON object on the last line of stdout; human text goes to stderr. */
  json?: boolean;
  /** Print stack traces on errors. */
  debug?: boolean;
}

/** Where a command writes what a person reads: stdout normally, stderr under --json. */
export interface Reporter {
  /** A line for people. */
  info(line: string): void;
  /** Whether this run is a JSON run. */
  readonly json: boolean;
  /** Whether stderr is a terminal (progress bars are drawn only then). */
  readonly tty: boolean;
}

// A reader that goes away (`collab ... | head`) is not an error of ours: stop quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

/** Makes the reporter for one command run. */
export function makeReporter(flags: GlobalFlags): Reporter {
  const json = flags.json === true;
  const stream = json ? process.stderr : process.stdout;
  return {
    json,
    tty: process.stderr.isTTY === true,
    info(line: string) {
      stream.write(line + '\n');
    },
  };
}

/** Exit code for an error: 2 for bad usage, 1 for everything else. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof CollabError && (err.code === 'USAGE' || err.code === 'INVALID_OPTION')) return 2;
  return 1;
}

/**
 * Runs a command body under the CLI contract: its result object becomes the last stdout line under
 * --json; a thrown error becomes one stderr line and a non-zero exit (stack only with --debug).
 */
export async function runCommand<T extends object>(
  flags: GlobalFlags,
  body: (out: Reporter) => Promise<T> | T,
): Promise<void> {
  const out = makeReporter(flags);
  try {
    const result = await body(out);
    if (out.json) process.stdout.write(JSON.stringify(result) + '\n');
  } catch (err) {
    reportError(err, flags.debug === true);
    if (out.json) writeJsonError(err);
    process.exitCode = exitCodeOf(err);
  }
}

/** What `--json` prints as the last stdout line when a command fails. */
export interface JsonError {
  error: { code: string; message: string };
}

/** The `--json` form of an error: a CollabError keeps its code, anything else is INTERNAL. */
export function jsonErrorOf(err: unknown): JsonError {
  const message = (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
  return { error: { code: err instanceof CollabError ? err.code : 'INTERNAL', message } };
}

/** Prints an error as the last stdout line, so scripts read failures where they read results. */
export function writeJsonError(err: unknown): void {
  process.stdout.write(JSON.stringify(jsonErrorOf(err)) + '\n');
}

/** Writes an error as one line (plus the stack under --debug). */
export function reportError(err: unknown, debug: boolean): void {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`collab: error: ${message.split('\n')[0]}\n`);
  if (debug && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
  else if (!(err instanceof CollabError)) process.stderr.write('(run again with --debug for details)\n');
}

/** Parses a number flag, naming the flag when the text is not a number. */
export function numberFlag(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v)) {
    throw new CollabError('USAGE', `--${name} must be a number, got "${text}"`, { field: name });
  }
  return v;
}

/** Parses an integer flag, naming the flag when the text is not an integer. */
export function intFlag(name: string, text: string | undefined): number | undefined {
  const v = numberFlag(name, text);
  if (v !== undefined && !Number.isInteger(v)) {
    throw new CollabError('USAGE', `--${name} must be an integer, got "${text}"`, { field: name });
  }
  return v;
}
