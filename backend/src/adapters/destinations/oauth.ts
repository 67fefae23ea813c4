import { createHash, randomBytes } from 'node:crypto';

/**
 * What every destination's OAuth client (Klaviyo, Salesforce, …) offers the generic connection flow
 * (`oauth-flow.ts`) and the shared token source (`oauth-token-source.ts`): an authorize URL with a state and an S256
 * challenge, the code exchange with the verifier, refresh and revoke (Intercom, which documents no PKCE, no refresh
 * token and no revoke endpoint, ignores the challenge and verifier, never refreshes and revokes nothing). Nothing here
 * logs or returns a token in an error message.
 */

export interface DestinationOAuthTokens {
  accessToken: string;
  refreshToken: string;
  /** When the access token expires (Salesforce does not say: see `NO_KNOWN_EXPIRY`). */
  expiresAt: Date;
  scope: string;
  /** Salesforce: the org's instance URL (its REST API), checked by the client before it is answered. */
  instanceUrl?: string;
}

export interface DestinationOAuthClient {
  authorizeUrl(args: { redirectUri: string; state: string; challenge: string }): string;
  exchangeCode(args: { code: string; verifier: string; redirectUri: string }): Promise<DestinationOAuthTokens>;
  /** New tokens; a destination that does not rotate refresh tokens answers the one it was given. */
  refresh(refreshToken: string): Promise<DestinationOAuthTokens>;
  /** Revokes a refresh token (and the access tokens made from it). */
  revoke(refreshToken: string): Promise<void>;
}

/**
 * An access token whose lifetime the destination does not tell (Salesforce: the org's session timeout): it is used
 * until it is refused (401), then refreshed through the token source, never ahead of time.
 */
export const NO_KNOWN_EXPIRY = new Date('9999-12-31T00:00:00.000Z');

/** A refusal or failure of a destination's OAuth endpoint: its HTTP status and OAuth error code, never a token. */
export class DestinationOAuthError extends Error {
  override readonly name: string = 'DestinationOAuthError';
  constructor(
    readonly status: number | null,
    /** The OAuth error code answered (`invalid_grant`, `invalid_client`, …). */
    readonly error: string | null,
    message: string,
  ) {
    super(message);
  }
  /** The destination refused the grant itself (not an outage): the connection must be made again. */
  get refused(): boolean {
    return this.status !== null && this.status >= 400 && this.status < 500 && this.status !== 429 && this.status !== 408;
  }
}

/** RFC 7636 S256: a 43-character base64url verifier of 32 random bytes, and its challenge. */
export function newPkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: pkceChallenge(verifier) };
}

export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/**
 * POSTs a form to a destination's OAuth endpoint and reads its JSON object answer (`{}` when the body is empty or
 * not a JSON object: the status speaks). A network failure or timeout throws `unreachable(reason)`; the caller
 * decides what a non-2xx answer means. Nothing here puts a token in an error.
 */
export async function postOAuthForm(
  url: string,
  form: Record<string, string>,
  opts: { timeoutMs: number; headers?: Record<string, string>; unreachable: (reason: string) => Error },
): Promise<{ status: number; ok: boolean; body: Record<string, unknown> }> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { ...opts.headers, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
  } catch (e) {
    throw opts.unreachable(e instanceof Error ? e.name : 'error');
  }
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = text ? JSON.parse(text) : {};
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
  } catch {
    // not JSON (a revoke may answer an empty body): the status speaks
  }
  return { status: res.status, ok: res.ok, body };
}
