import type { ApiErrorCode } from './contracts';

/** Codes the client adds to the backend's own: the request never got a usable answer. */
export type ClientErrorCode = 'network_error' | 'timeout' | 'bad_response' | 'not_configured';

export type RequestErrorCode = ApiErrorCode | ClientErrorCode;

export interface FieldError {
  path: string;
  message: string;
}

/** Every failed backend call rejects with this: a code the views can switch on, a message people can read. */
export class ApiRequestError extends Error {
  readonly code: RequestErrorCode;
  /** HTTP status, or null when no response arrived. */
  readonly status: number | null;
  readonly details: FieldError[];

  constructor(code: RequestErrorCode, message: string, status: number | null = null, details: FieldError[] = []) {
    super(message);
    this.name = 'ApiRequestError';
    this.code = code;
    this.status = status;
    this.details = details;
  }

  /** True when the backend could not be reached at all (down, blocked, too slow). */
  get unreachable(): boolean {
    return this.code === 'network_error' || this.code === 'timeout';
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseDetails(raw: unknown): FieldError[] {
  if (!Array.isArray(raw)) return [];
  return raw
    .filter((d): d is { path: unknown; message: unknown } => isRecord(d))
    .filter((d) => typeof d.path === 'string' && typeof d.message === 'string')
    .map((d) => ({ path: d.path as string, message: d.message as string }));
}

/** Builds the error for a non-2xx answer from its status and (possibly non-JSON) body. */
export function errorFromResponse(status: number, body: unknown): ApiRequestError {
  if (isRecord(body) && isRecord(body.error)) {
    const { code, message, details } = body.error;
    if (typeof code === 'string' && typeof message === 'string') {
      return new ApiRequestError(code as ApiErrorCode, message, status, parseDetails(details));
    }
  }
  const code: ApiErrorCode = status >= 500 ? 'internal' : status === 404 ? 'not_found' : 'bad_request';
  return new ApiRequestError(code, `The sync service answered HTTP ${status}.`, status);
}

/** Turns anything thrown into an ApiRequestError, keeping ours as they are. */
export function toRequestError(err: unknown): ApiRequestError {
  if (err instanceof ApiRequestError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ApiRequestError('network_error', message || 'The request failed.');
}

/** One sentence for a banner. */
export function describeError(err: ApiRequestError): string {
  switch (err.code) {
    case 'network_error':
    case 'timeout':
      return 'The sync service can’t be reached right now. Check your connection and try again.';
    case 'not_configured':
      return err.message;
    case 'invalid_signature':
    case 'stale_signature':
    case 'missing_signature':
      return 'Your session could not be verified. Reload the page and try again.';
    default:
      return err.message;
  }
}
