/**
 * Stripe's error bodies: `{error: {type, code?, message, param?, doc_url?}}`. Types are Stripe's
 * (`invalid_request_error`, `api_error`, …); `doc_url` is Stripe's error-code page for the code.
 */

export interface StripeErrorBody {
  type: 'invalid_request_error' | 'api_error';
  message: string;
  code?: string;
  param?: string;
  doc_url?: string;
}

export class StripeHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: StripeErrorBody,
  ) {
    super(body.message);
  }
}

function withDoc(body: StripeErrorBody): StripeErrorBody {
  return body.code ? { ...body, doc_url: `https://stripe.com/docs/error-codes/${body.code.replace(/_/g, '-')}` } : body;
}

export function invalidRequest(message: string, code?: string, param?: string, status = 400): StripeHttpError {
  return new StripeHttpError(status, withDoc({ type: 'invalid_request_error', message, ...(code ? { code } : {}), ...(param ? { param } : {}) }));
}

export function resourceMissing(resource: string, id: string, param = 'id'): StripeHttpError {
  return invalidRequest(`No such ${resource}: '${id}'`, 'resource_missing', param, 404);
}

/** Stripe answers a missing key with 401 and no `code` (the SDK raises StripeAuthenticationError). */
export function missingKey(): StripeHttpError {
  return new StripeHttpError(401, {
    type: 'invalid_request_error',
    message:
      "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
  });
}

/** Stripe masks the key in the message, keeping its mode prefix and last 4 characters. */
export function invalidKey(key: string): StripeHttpError {
  const prefix = /^(sk|rk|pk)_(test|live)_/.exec(key)?.[0] ?? '';
  const masked = `${prefix}${'*'.repeat(Math.max(0, key.length - prefix.length - 4))}${key.slice(-4)}`;
  return new StripeHttpError(401, { type: 'invalid_request_error', message: `Invalid API Key provided: ${masked}` });
}

export function rateLimited(): StripeHttpError {
  return new StripeHttpError(429, withDoc({
    type: 'invalid_request_error',
    code: 'rate_limit',
    message: 'Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.',
  }));
}

export function apiError(): StripeHttpError {
  return new StripeHttpError(500, {
    type: 'api_error',
    message: 'An unknown error occurred while processing your request. Please try again (fake Stripe is set down).',
  });
}

export function unrecognizedUrl(method: string, path: string): StripeHttpError {
  return invalidRequest(
    `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/. (The fake Stripe answers GET on customers, subscriptions, invoices, charges and events only.)`,
    undefined, undefined, 404,
  );
}
