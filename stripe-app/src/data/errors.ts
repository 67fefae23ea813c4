import type { ApiErrorCode } from './contracts';

/**
 * Codes the client adds to the backend's own: the request never got a usable answer. `blocked_by_csp`: the
 * backend's URL is not in the manifest's connect-src, so the Dashboard refused to send it.
 */
export type ClientErrorCode = 'network_error' | 'timeout' | 'bad_response' | 'not_configured' | 'blocked_by_csp';

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

  /** True when the backend could not be reached (down or too slow); a connect-src refusal is `blocked_by_csp`. */
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

const RETRY_LATER = 'Try again in a moment; if it keeps happening, contact the app’s support.';

/**
 * What a merchant reads for each code. The backend's own words go to its operator (they may name environment
 * variables such as HUBSPOT_CLIENT_SECRET or STRIPE_APP_SECRET): a failure on the service's side (5xx) is always
 * told in these words, never in the backend's message.
 */
const MERCHANT_WORDING: Partial<Record<RequestErrorCode, string>> = {
  network_error: 'The sync service can’t be reached right now. Check your connection and try again.',
  timeout: 'The sync service can’t be reached right now (it did not answer in time). Try again in a moment.',
  not_configured: 'This app is not set up with the address of its sync service yet. Contact the app’s support.',
  invalid_signature: 'Your session could not be verified. Reload the page and try again.',
  stale_signature: 'Your session could not be verified. Reload the page and try again.',
  missing_signature: 'Your session could not be verified. Reload the page and try again.',
  bad_response: `The sync service sent an answer this app does not understand. ${RETRY_LATER}`,
  internal: `Something went wrong in the sync service. ${RETRY_LATER}`,
  service_unavailable: `The sync service is not available right now. ${RETRY_LATER}`,
  hubspot_error: 'HubSpot did not answer the sync service. Try again in a moment.',
  stripe_unavailable: 'Stripe did not answer the sync service. Try again in a moment.',
};

/** A 503 `not_connected`: the backend has no HubSpot OAuth app (as opposed to a 409: this mode has no portal). */
const OAUTH_NOT_SET_UP = 'The sync service is not set up to connect HubSpot accounts yet. Contact the app’s support.';
/** The backend's `not_configured` (a setting its operator has to make), as opposed to the app's own. */
const SERVICE_NOT_SET_UP = 'The sync service is not fully set up yet. Contact the app’s support.';

/** An ALL_CAPS_NAME with an underscore: how environment variables look in an operator's message. */
const OPERATOR_WORDS = /\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b/;

/** One sentence for a banner, in the merchant's words. */
export function describeError(err: ApiRequestError): string {
  if (err.code === 'blocked_by_csp') return err.message;
  if (err.code === 'not_connected' && err.status === 503) return OAUTH_NOT_SET_UP;
  if (err.code === 'not_configured' && err.status !== null) return SERVICE_NOT_SET_UP;
  const fixed = MERCHANT_WORDING[err.code];
  if (fixed) return fixed;
  // A refusal of the merchant's own request (4xx) is written for them, unless it reads like an operator's note.
  if ((err.status ?? 0) >= 500 || OPERATOR_WORDS.test(err.message)) return MERCHANT_WORDING.internal!;
  return err.message;
}

/** The message for a backend the manifest's connect-src does not allow (what the view shows as is). */
export function blockedByCspMessage(url: string): string {
  let origin = url;
  try {
    origin = new URL(url).origin;
  } catch {
    // keep it as given
  }
  return `This app’s configuration does not allow it to reach its sync service at ${origin} (it is not in the app’s allowed connections). Contact the app’s support.`;
}
