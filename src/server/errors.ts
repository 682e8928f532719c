import { CollabError, type ErrorCode } from '../core/errors.js';

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
  validation?: { instancePath: string; keyword: string; params: Record<string, unknown>; message?: string }[];
  validationContext?: string;
}

/** Codes of fastify errors whose message is safe and useful to show. */
const FRAMEWORK_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
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
export function errorResponse(err: unknown, bodyLimit?: number): { status: number; body: ErrorBody; internal: boolean } {
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
    const what = v.keyword === 'additionalProperties' ? 'is not an accepted field' : v.keyword === 'required' ? 'is required' : v.message ?? 'is invalid';
    return { status: 400, body: { error: { code: 'BAD_REQUEST', message: `${field} ${what}`, field } }, internal: false };
  }
  if (fe !== null && typeof fe === 'object' && typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const code = (fe.code && FRAMEWORK_CODES[fe.code]) ?? (fe.statusCode === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST');
    const message = fe.statusCode === 413 ? `request body is larger than the ${bodyLimit ?? 'configured'}-byte limit; send fewer ratings per request` : `bad request: ${String(fe.message ?? '').split('\n')[0]}`;
    return { status: fe.statusCode, body: { error: { code, message, field: 'body' } }, internal: false };
  }
  return internalError();
}

function internalError(): { status: number; body: ErrorBody; internal: boolean } {
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal server error; the server log has the details' } }, internal: true };
}
