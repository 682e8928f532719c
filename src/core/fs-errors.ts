import { openSync } from 'node:fs';
import { CollabError } from './errors.js';

/** What went wrong with a file operation, in words a person can act on ("permission denied; ..."). */
export function describeFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return "permission denied; check the file's permissions (or run as its owner)";
    case 'EISDIR':
      return 'is a folder, not a file';
    default:
      return `${e.code ?? 'error'}: ${String(e.message ?? err).replace(/^[A-Z]+: /, '')}`;
  }
}

/** Opens a file to read, turning the system's errors (EACCES, EISDIR, ...) into one line naming the file. */
export function openForReading(path: string): number {
  try {
    return openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'NOT_FOUND' : 'BAD_FILE';
    throw new CollabError(code, `cannot read: ${describeFsError(err)}`, { file: path }, { cause: err });
  }
}
