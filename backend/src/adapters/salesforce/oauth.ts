import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SalesforceEnvironment } from '@stripe-hubspot-sync/contracts';
import { DestinationOAuthError, NO_KNOWN_EXPIRY, postOAuthForm, type DestinationOAuthClient, type DestinationOAuthTokens } from '../destinations/oauth';

/**
 * Salesforce's OAuth 2.0 web server flow ("Connect with Salesforce", authorization code with PKCE), as Salesforce's
 * help "OAuth 2.0 Web Server Flow for Web App Integration" documents it. Each endpoint is on the login host of the
 * org's environment: `https://login.salesforce.com` (production, or a My Domain login) or `https://test.salesforce.com`
 * (sandbox); the org's tokens are refreshed and revoked at the host it was connected with.
 *
 * - authorize: `{login}/services/oauth2/authorize?response_type=code&client_id=…&redirect_uri=…&state=…&scope=…
 *   &code_challenge=…&code_challenge_method=S256` (the Salesforce user approves there);
 * - token: `POST {login}/services/oauth2/token` (form-encoded; the client authenticates with `client_id` and
 *   `client_secret` in the form): `grant_type=authorization_code` with `code`, `redirect_uri` and `code_verifier`,
 *   or `grant_type=refresh_token` with `refresh_token`. Answers `access_token`, `refresh_token` (the code exchange
 *   only, when the `refresh_token` scope was granted; a refresh keeps the same refresh token), `instance_url` (the
 *   org's REST API host), `id` (the identity URL), `issued_at` (ms), `signature` (base64 HMAC-SHA256 of `id` +
 *   `issued_at` keyed with the client secret), `scope` and `token_type` (Bearer). No `expires_in`: the session
 *   timeout is the org's, so the access token is used until it is refused (401) and then refreshed (token source).
 *   Refusals are `400 {"error":"invalid_grant","error_description":"…"}` (a bad or used code, a verifier that does
 *   not match, a revoked or expired refresh token), `invalid_client_id`, `invalid_client`, …;
 * - revoke: `POST {login}/services/oauth2/revoke` with `token` (revoking a refresh token revokes its access tokens).
 *
 * The instance URL a token answer names is where the org's data will be sent with its Bearer token: it must be
 * https (http on 127.0.0.1 only when the login host itself is a loopback test fake), without credentials or a path,
 * and the answer's `signature` must verify with our client secret, so an answer that did not come from Salesforce
 * for this client cannot point the sync anywhere. Nothing here logs or returns a token in an error message.
 */

/**
 * Least privilege: `api` (REST API access as the connecting user: the Contact describe and upserts, nothing
 * beyond what that user's profile and permission sets allow) and `refresh_token` (offline access: the sync runs
 * while nobody is signed in). Not `full`, `web`, `openid`/`id` or any other product's scope: none of that is used.
 */
export const SALESFORCE_OAUTH_SCOPES = ['api', 'refresh_token'] as const;

export const SALESFORCE_LOGIN_URLS: Readonly<Record<SalesforceEnvironment, string>> = {
  production: 'https://login.salesforce.com',
  sandbox: 'https://test.salesforce.com',
};

export interface SalesforceOAuthConfig {
  clientId: string;
  clientSecret: string;
  /** The login host of the org's environment (SALESFORCE_LOGIN_URL / SALESFORCE_SANDBOX_LOGIN_URL; a fake's in tests). */
  loginUrl: string;
  /** Per-request timeout (ms, default 15 s). */
  timeoutMs?: number;
}

export class SalesforceOAuthError extends DestinationOAuthError {
  override readonly name = 'SalesforceOAuthError';
}

const isLoopback = (u: URL) => u.hostname === '127.0.0.1' || u.hostname === 'localhost' || u.hostname === '[::1]';

/**
 * The org's instance URL (its origin) when it is one we may send data to, else null: https, no credentials, no path
 * beyond `/`; http only on a loopback host and only when the login host is loopback too (the tests' fake).
 */
export function checkedInstanceUrl(raw: unknown, loginUrl: string): string | null {
  if (typeof raw !== 'string' || !URL.canParse(raw)) return null;
  const u = new URL(raw);
  if (u.username || u.password || u.search || u.hash || (u.pathname !== '/' && u.pathname !== '')) return null;
  if (u.protocol === 'https:') return u.origin;
  if (u.protocol === 'http:' && isLoopback(u) && isLoopback(new URL(loginUrl))) return u.origin;
  return null;
}

/** Salesforce's `signature`: base64 HMAC-SHA256 of `id` + `issued_at`, keyed with the client secret. */
export function salesforceSignature(clientSecret: string, id: string, issuedAt: string): string {
  return createHmac('sha256', clientSecret).update(`${id}${issuedAt}`, 'utf8').digest('base64');
}

export function createSalesforceOAuthClient(config: SalesforceOAuthConfig): DestinationOAuthClient {
  const login = config.loginUrl.replace(/\/+$/, '');
  const timeoutMs = config.timeoutMs ?? 15_000;

  async function post(path: '/services/oauth2/token' | '/services/oauth2/revoke', form: Record<string, string>): Promise<Record<string, unknown>> {
    const res = await postOAuthForm(`${login}${path}`, form, {
      timeoutMs,
      unreachable: (reason) => new SalesforceOAuthError(null, null, `Salesforce ${path} could not be reached (${reason})`),
    });
    const { body } = res;
    if (!res.ok) {
      const error = typeof body.error === 'string' ? body.error.slice(0, 64) : null;
      // The description is Salesforce's explanation of the refusal ("authentication failure"); it never carries a token.
      const description = typeof body.error_description === 'string' ? `: ${body.error_description.slice(0, 200)}` : '';
      throw new SalesforceOAuthError(res.status, error, `Salesforce ${path} answered ${res.status}${error ? ` ${error}` : ''}${description}`);
    }
    return body;
  }

  function tokensOf(body: Record<string, unknown>, usedRefreshToken: string | null): DestinationOAuthTokens {
    const bad = (why: string) => new SalesforceOAuthError(502, null, `Salesforce /services/oauth2/token answered ${why}`);
    const accessToken = body.access_token;
    const refreshToken = typeof body.refresh_token === 'string' && body.refresh_token ? body.refresh_token : usedRefreshToken;
    if (typeof accessToken !== 'string' || !accessToken) throw bad('without an access token');
    if (!refreshToken) throw bad('without a refresh token (is the refresh_token scope allowed for this connected app?)');
    const { id, issued_at: issuedAt, signature } = body;
    if (typeof signature === 'string' || usedRefreshToken === null) {
      if (typeof id !== 'string' || typeof issuedAt !== 'string' || typeof signature !== 'string') throw bad('without its id, issued_at and signature');
      const expected = Buffer.from(salesforceSignature(config.clientSecret, id, issuedAt));
      const actual = Buffer.from(signature);
      if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) throw bad('with a signature that does not verify with this client');
    }
    const instanceUrl = checkedInstanceUrl(body.instance_url, login);
    if (!instanceUrl) throw bad('an instance URL that is not an https Salesforce address');
    return { accessToken, refreshToken, expiresAt: NO_KNOWN_EXPIRY, scope: typeof body.scope === 'string' ? body.scope : '', instanceUrl };
  }

  return {
    authorizeUrl({ redirectUri, state, challenge }) {
      const url = new URL(`${login}/services/oauth2/authorize`);
      url.search = new URLSearchParams({
        response_type: 'code',
        client_id: config.clientId,
        redirect_uri: redirectUri,
        scope: SALESFORCE_OAUTH_SCOPES.join(' '),
        state,
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }).toString();
      return url.toString();
    },
    async exchangeCode({ code, verifier, redirectUri }) {
      const body = await post('/services/oauth2/token', {
        grant_type: 'authorization_code',
        code,
        client_id: config.clientId,
        client_secret: config.clientSecret,
        redirect_uri: redirectUri,
        code_verifier: verifier,
      });
      try {
        return tokensOf(body, null);
      } catch (err) {
        // An answer we refuse still issued a refresh token: it is revoked at our login host (best effort).
        if (typeof body.refresh_token === 'string' && body.refresh_token) await post('/services/oauth2/revoke', { token: body.refresh_token }).catch(() => undefined);
        throw err;
      }
    },
    async refresh(refreshToken) {
      const body = await post('/services/oauth2/token', {
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: config.clientId,
        client_secret: config.clientSecret,
      });
      return tokensOf(body, refreshToken);
    },
    async revoke(refreshToken) {
      await post('/services/oauth2/revoke', { token: refreshToken });
    },
  };
}
