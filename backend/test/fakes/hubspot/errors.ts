import { randomUUID } from 'node:crypto';

/**
 * HubSpot's error bodies, as its APIs answer them (shapes confirmed from public reports of real responses;
 * the few marked "assumed" are not documented anywhere we could find).
 */

export type Json = Record<string, unknown>;

export interface HandlerResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Thrown by handlers and helpers; the server answers `status` with `body`. */
export class HubSpotHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Json,
  ) {
    super(String(body.message ?? status));
  }
}

export function errorBody(category: string, message: string, extra: Json = {}): Json {
  return { status: 'error', message, correlationId: randomUUID(), category, ...extra };
}

export function fail(status: number, category: string, message: string, extra: Json = {}): HubSpotHttpError {
  return new HubSpotHttpError(status, errorBody(category, message, extra));
}

export function validationError(message: string, extra: Json = {}): HubSpotHttpError {
  return fail(400, 'VALIDATION_ERROR', message, extra);
}

export function notFound(message = 'resource not found', extra: Json = {}): HubSpotHttpError {
  return fail(404, 'OBJECT_NOT_FOUND', message, extra);
}

/** One failed property value, in HubSpot's `Property values were not valid: [...]` list. */
export interface PropertyProblem {
  name: string;
  error: string;
  message: string;
  propertyValue?: string;
}

/** 400 VALIDATION_ERROR listing invalid property values (the JSON list inside `message`, plus `errors`). */
export function propertyValuesError(problems: PropertyProblem[], portalId: number): HubSpotHttpError {
  const list = problems.map((p) => ({
    isValid: false,
    message: p.message,
    error: p.error,
    name: p.name,
    localizedErrorMessage: p.message,
    ...(p.propertyValue !== undefined ? { propertyValue: p.propertyValue } : {}),
    portalId,
  }));
  return validationError(`Property values were not valid: ${JSON.stringify(list)}`, {
    errors: problems.map((p) => ({ message: p.message, code: p.error, context: { propertyName: [p.name] } })),
  });
}

export function conflict(existingId: string, message = `Contact already exists. Existing ID: ${existingId}`): HubSpotHttpError {
  return fail(409, 'CONFLICT', message);
}

export const AUTH_MISSING_MESSAGE =
  'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview';

export function authMissing(): HubSpotHttpError {
  return fail(401, 'INVALID_AUTHENTICATION', AUTH_MISSING_MESSAGE);
}

/** 401 for a missing or wrong developer API key (`?hapikey=`). */
export function invalidApiKey(): HubSpotHttpError {
  return fail(401, 'INVALID_AUTHENTICATION', 'The API key provided is invalid. View or manage your API key here: https://app.hubspot.com/l/api-key/');
}

export function authExpired(expiredAtMs: number, now = Date.now()): HubSpotHttpError {
  const seconds = Math.max(0, Math.floor((now - expiredAtMs) / 1000));
  const ago = seconds >= 60 ? `${Math.floor(seconds / 60)} minute(s)` : `${seconds} second(s)`;
  return fail(401, 'EXPIRED_AUTHENTICATION', `The OAuth token used to make this call expired ${ago} ago.`);
}

/** 429 body of the rolling burst limit (or the search per-second limit). */
export function rateLimitBody(policy: 'TEN_SECONDLY_ROLLING' | 'SECONDLY'): Json {
  const message =
    policy === 'TEN_SECONDLY_ROLLING'
      ? 'You have reached your ten_secondly_rolling limit.'
      : 'You have reached your secondly limit.';
  return { status: 'error', message, errorType: 'RATE_LIMIT', correlationId: randomUUID(), policyName: policy };
}

/** The body injected failures answer when the test gives none. 423 and 5xx texts are assumed. */
export function defaultFailureBody(status: number): Json {
  if (status === 429) return rateLimitBody('TEN_SECONDLY_ROLLING');
  if (status === 401) return authExpired(Date.now() - 1000).body;
  if (status === 423)
    return errorBody('LOCKED', 'The object is locked by another request being processed; retry after a couple of seconds.');
  if (status === 404) return notFound().body;
  if (status === 400) return validationError('Invalid request').body;
  if (status === 409) return conflict('0').body;
  if (status === 502 || status === 504) return errorBody('BAD_GATEWAY', 'Bad gateway: the upstream service did not answer in time.');
  if (status === 503) return errorBody('SERVICE_UNAVAILABLE', 'Service temporarily unavailable, please retry.');
  if (status >= 500) return errorBody('INTERNAL_ERROR', 'internal error');
  return errorBody('ERROR', `error ${status}`);
}

/** OAuth token endpoint errors: `{status: 'BAD_…', message}` plus the RFC 6749 spelling. */
export function oauthError(
  status: 'BAD_AUTH_CODE' | 'BAD_CLIENT_ID' | 'BAD_CLIENT_SECRET' | 'BAD_REFRESH_TOKEN' | 'BAD_REDIRECT_URI' | 'BAD_GRANT_TYPE',
  message: string,
): HubSpotHttpError {
  const rfc = status === 'BAD_CLIENT_ID' || status === 'BAD_CLIENT_SECRET' ? 'invalid_client' : status === 'BAD_GRANT_TYPE' ? 'unsupported_grant_type' : 'invalid_grant';
  return new HubSpotHttpError(400, {
    status,
    message,
    correlationId: randomUUID(),
    error: rfc,
    error_description: message,
  });
}

/** Message of the 207 errors and 404s for missing CRM objects. */
export function missingObjectsMessage(objectType = 'CONTACT'): string {
  return `Could not get some ${objectType} objects, they may be deleted or not exist. Check that ids are valid.`;
}

/** A `StandardError` entry of a 207 multi-status batch response. */
export function standardError(category: string, message: string, context: Record<string, string[]>): Json {
  return { status: 'error', category, message, context, errors: [], links: {} };
}
