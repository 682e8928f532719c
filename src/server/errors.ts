import { CollabError, type ErrorCode } from '../core/errors.js';
import { DatabaseUnavailableError } from './store/store.js';

/** HTTP status of every CollabError code: the one place the service maps codes to statuses. */
export const STATUS_OF_CODE: Readonly<Record<ErrorCode, number>> = {
  BAD_ROW: 400,
  INVALID_OPTION: 400,
  USAGE: 400,
  UNKNOWN_USER: 404,
  UNKNOWN_ITEM: 404,
  UNKNOWN_DATASET: 404,
  NOT_FOUND: 404,
  BAD_FILE: 500,
  BAD_MODEL: 500,
  CATALOGUE_MISMATCH: 409,
  CHECKSUM_MISMATCH: 500,
  DOWNLOAD_FAILED: 502,
};

/** An error that is about HTTP itself (auth, routing), with its status and a code for the JSON body. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** The JSON body of every error response. */
export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

/** Fastify's own errors carry these. */
interface FrameworkError {
  statusCode?: number;
  code?: string;
  message?: string;
  validation?: { instancePath: string; keyword: string; params: Record<string, unknown>; message?: string; parentSchema?: unknown }[];
  validationContext?: string;
}

/** What a fastify error is answered with: our code, and a message that says what to send instead. */
const FRAMEWORK_ERRORS: Record<string, { code: string; message: () => string; field?: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', message: () => 'request bodies must be JSON: send "Content-Type: application/json"', field: 'content-type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'BAD_REQUEST', message: () => 'Content-Length does not match the body that was sent' },
  FST_ERR_BAD_URL: { code: 'BAD_URL', message: () => 'the URL path is not valid percent-encoding (a % must be followed by two hex digits)', field: 'url' },
  FST_ERR_MAX_PARAM_LENGTH: { code: 'URI_TOO_LONG', message: () => 'a path parameter is too long', field: 'url' },
};

/** Codes of the other 4xx statuses fastify and its plugins answer by themselves. */
const CODE_OF_STATUS: Record<number, string> = {
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  408: 'REQUEST_TIMEOUT',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  431: 'HEADERS_TOO_LARGE',
};

/** "body[0].rating" from context "body" and instance path "/0/rating". */
function fieldName(context: string | undefined, instancePath: string, missing?: unknown): string {
  const parts = instancePath.split('/').filter((p) => p !== '');
  if (typeof missing === 'string') parts.push(missing);
  let out = context === 'querystring' ? 'query' : context ?? 'request';
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : `.${p}`;
  return out;
}

/**
 * Status and JSON body for any thrown error: validation errors name the field, CollabErrors use
 * STATUS_OF_CODE, and anything unexpected becomes a bare 500 (never a stack or an internal message).
 */
export function errorResponse(err: unknown, bodyLimit?: number): ErrorResponse {
  if (err instanceof DatabaseUnavailableError) {
    return { status: 503, body: { error: { code: err.code, message: err.message } }, internal: false, headers: { 'retry-after': String(err.retryAfterSeconds) } };
  }
  if (err instanceof CollabError) {
    const status = STATUS_OF_CODE[err.code] ?? 500;
    if (status >= 500) return internalError();
    return { status, body: { error: { code: err.code, message: err.message, ...(err.location.field ? { field: err.location.field } : {}) } }, internal: false };
  }
  if (err instanceof HttpError) {
    return { status: err.statusCode, body: { error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } }, internal: false };
  }
  const fe = err as FrameworkError;
  if (fe !== null && typeof fe === 'object' && Array.isArray(fe.validation) && fe.validation.length > 0) {
    const v = fe.validation[0]!;
    const field = fieldName(fe.validationContext, v.instancePath, v.params.missingProperty ?? v.params.additionalProperty);
    const what =
      v.keyword === 'additionalProperties'
        ? 'is not an accepted field'
        : v.keyword === 'required'
          ? 'is required'
          : v.keyword === 'type' && v.instancePath === '' && fe.validationContext === 'body'
            ? `must be ${describeShape(v.parentSchema)}`
            : v.message ?? 'is invalid';
    return { status: 400, body: { error: { code: 'BAD_REQUEST', message: `${field} ${what}`, field } }, internal: false };
  }
  if (fe !== null && typeof fe === 'object' && typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    if (fe.statusCode === 413) {
      return { status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE', message: `request body is larger than the ${bodyLimit ?? 'configured'}-byte limit; send fewer ratings per request`, field: 'body' } }, internal: false };
    }
    const known = fe.code === undefined ? undefined : FRAMEWORK_ERRORS[fe.code];
    const text = String(fe.message ?? '').split('\n')[0];
    const message = known?.message() ?? (fe.statusCode === 400 ? `bad request: ${text}` : text);
    const code = known?.code ?? CODE_OF_STATUS[fe.statusCode] ?? 'BAD_REQUEST';
    // only errors about the body name it; a 403 of the static files is about the path
    const field = known?.field ?? (fe.code?.startsWith('FST_ERR_CTP_') ? 'body' : undefined);
    return { status: fe.statusCode, body: { error: { code, message, ...(field ? { field } : {}) } }, internal: false };
  }
  return internalError();
}

/** What the root of a body schema asks for, in words: "a JSON array of {movieId, rating} objects". */
function describeShape(schema: unknown): string {
  const s = (schema ?? {}) as { type?: string; items?: unknown; required?: string[] };
  if (s.type === 'array') {
    const item = (s.items ?? {}) as { type?: string; required?: string[] };
    return item.type === 'object' && item.required ? `a JSON array of {${item.required.join(', ')}} objects` : 'a JSON array';
  }
  if (s.type === 'object') return s.required ? `a JSON object {${s.required.join(', ')}}` : 'a JSON object';
  return `JSON of type ${s.type ?? 'unknown'}`;
}

/** Status, JSON body and extra headers of an error response. */
export interface ErrorResponse {
  status: number;
  body: ErrorBody;
  /** True for unexpected failures (logged, answered with a bare 500). */
  internal: boolean;
  /** Headers to add, e.g. Retry-After of a 503. */
  headers?: Record<string, string>;
}

function internalError(): ErrorResponse {
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal server error; the server log has the details' } }, internal: true };
}
