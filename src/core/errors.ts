/** Machine-readable error codes; the CLI and the server map them to exit codes and HTTP statuses in one place. */
export type ErrorCode =
  | 'BAD_ROW'
  | 'BAD_FILE'
  | 'NOT_FOUND'
  | 'INVALID_OPTION'
  | 'USAGE'
  | 'UNKNOWN_USER'
  | 'UNKNOWN_ITEM'
  | 'UNKNOWN_DATASET'
  | 'CHECKSUM_MISMATCH'
  | 'DOWNLOAD_FAILED'
  | 'BAD_MODEL'
  | 'CATALOGUE_MISMATCH';

/** Where in an input a problem was found. */
export interface ErrorLocation {
  /** File path the problem is in. */
  file?: string;
  /** 1-based line number in that file. */
  line?: number;
  /** Option, column or request field at fault. */
  field?: string;
}

/** The one error type of collab: a code, a message that says what to do next, and where it happened. */
export class CollabError extends Error {
  readonly code: ErrorCode;
  readonly location: ErrorLocation;

  constructor(code: ErrorCode, message: string, location: ErrorLocation = {}, options?: { cause?: unknown }) {
    super(formatMessage(message, location), options);
    this.name = 'CollabError';
    this.code = code;
    this.location = location;
  }
}

function formatMessage(message: string, loc: ErrorLocation): string {
  if (loc.file !== undefined && loc.line !== undefined) return `${loc.file}:${loc.line}: ${message}`;
  if (loc.file !== undefined) return `${loc.file}: ${message}`;
  return message;
}

/** Throws INVALID_OPTION unless `value` is an integer within [min, max]. */
export function requireInt(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
    throw new CollabError('INVALID_OPTION', `${name} must be ${range}, got ${value}`, { field: name });
  }
  return value;
}

/** Throws INVALID_OPTION unless `value` is a finite number within [min, max]. */
export function requireNumber(name: string, value: number, min = -Infinity, max = Infinity): number {
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new CollabError('INVALID_OPTION', `${name} must be a number from ${min} to ${max}, got ${value}`, { field: name });
  }
  return value;
}
