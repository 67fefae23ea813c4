import { DestinationOAuthError, newPkcePair, pkceChallenge, postOAuthForm, type DestinationOAuthClient } from '../destinations/oauth';

/**
 * Klaviyo's OAuth endpoints ("Connect with Klaviyo", authorization code with PKCE), as Klaviyo's developer guide
 * "Make API calls using OAuth" documents them:
 *
 * - authorize: `https://www.klaviyo.com/oauth/authorize?response_type=code&client_id=…&redirect_uri=…&scope=…
 *   &state=…&code_challenge_method=S256&code_challenge=…` (the merchant approves there);
 * - token: `POST https://a.klaviyo.com/oauth/token` (form-encoded; the client authenticates with HTTP Basic,
 *   base64 of `client_id:client_secret`): `grant_type=authorization_code` with `code`, `code_verifier` and
 *   `redirect_uri`, or `grant_type=refresh_token` with `refresh_token`; answers `access_token`, `token_type`
 *   (Bearer), `expires_in` (seconds; an hour), `refresh_token` and `scope`;
 * - revoke: `POST https://a.klaviyo.com/oauth/revoke` (same client authentication) with `token` and
 *   `token_type_hint=refresh_token`.
 *
 * Token traffic goes to the API host (`a.klaviyo.com`, KLAVIYO_API_BASE_URL; Klaviyo blocks it on www since
 * March 2025). Nothing here logs or returns a token in an error message.
 */

/**
 * The least the adapter needs: `accounts:read` (Get Accounts: the connection's check and its label),
 * `profiles:read` (Get Profiles: finding a profile by customer id before a deletion; the bulk import job's status
 * and errors), `profiles:write` (Create or Update Profile, Bulk Import Profiles), `events:write` (Bulk Create
 * Events) and `data-privacy:write` (Request Profile Deletion, for merchants who choose "delete"). No list,
 * campaign, flow or metric scope: nothing of those is read or written.
 */
export const KLAVIYO_OAUTH_SCOPES = ['accounts:read', 'profiles:read', 'profiles:write', 'events:write', 'data-privacy:write'] as const;

export interface KlaviyoOAuthConfig {
  clientId: string;
  clientSecret: string;
  /** Klaviyo's authorize page (a fake's in tests). */
  authorizeUrl: string;
  /** The API host the token and revoke endpoints are on (KLAVIYO_API_BASE_URL). */
  apiBaseUrl: string;
  /** Per-request timeout (ms, default 15 s). */
  timeoutMs?: number;
}

export interface KlaviyoTokens {
  accessToken: string;
  /** The refresh token to use next: the one answered, else (Klaviyo kept it) the one used. */
  refreshToken: string;
  expiresAt: Date;
  scope: string;
}

/** The token endpoint refused (4xx: an `error` such as invalid_grant), or could not be reached (status null / 5xx). */
export class KlaviyoOAuthError extends DestinationOAuthError {
  override readonly name = 'KlaviyoOAuthError';
}

export { newPkcePair, pkceChallenge };

export interface KlaviyoOAuthClient extends DestinationOAuthClient {
  authorizeUrl(args: { redirectUri: string; state: string; challenge: string }): string;
  exchangeCode(args: { code: string; verifier: string; redirectUri: string }): Promise<KlaviyoTokens>;
  refresh(refreshToken: string): Promise<KlaviyoTokens>;
  /** Revokes a refresh token (and the access tokens made from it). */
  revoke(refreshToken: string): Promise<void>;
}

export function createKlaviyoOAuthClient(config: KlaviyoOAuthConfig): KlaviyoOAuthClient {
  const base = config.apiBaseUrl.replace(/\/+$/, '');
  const basic = `Basic ${Buffer.from(`${config.clientId}:${config.clientSecret}`, 'utf8').toString('base64')}`;
  const timeoutMs = config.timeoutMs ?? 15_000;

  async function post(path: '/oauth/token' | '/oauth/revoke', form: Record<string, string>): Promise<Record<string, unknown>> {
    const res = await postOAuthForm(`${base}${path}`, form, {
      timeoutMs,
      headers: { authorization: basic },
      unreachable: (reason) => new KlaviyoOAuthError(null, null, `Klaviyo ${path} could not be reached (${reason})`),
    });
    const { body } = res;
    if (!res.ok) {
      const error = typeof body.error === 'string' ? body.error : null;
      // The description is Klaviyo's explanation of the refusal; it never carries a token.
      const description = typeof body.error_description === 'string' ? `: ${body.error_description.slice(0, 200)}` : '';
      throw new KlaviyoOAuthError(res.status, error, `Klaviyo ${path} answered ${res.status}${error ? ` ${error}` : ''}${description}`);
    }
    return body;
  }

  function tokensOf(body: Record<string, unknown>, usedRefreshToken: string | null): KlaviyoTokens {
    const accessToken = body.access_token;
    const refreshToken = typeof body.refresh_token === 'string' && body.refresh_token ? body.refresh_token : usedRefreshToken;
    if (typeof accessToken !== 'string' || !accessToken || !refreshToken) {
      throw new KlaviyoOAuthError(502, null, 'Klaviyo /oauth/token answered without an access token or a refresh token');
    }
    const expiresIn = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 3600;
    return { accessToken, refreshToken, expiresAt: new Date(Date.now() + expiresIn * 1000), scope: typeof body.scope === 'string' ? body.scope : '' };
  }

  return {
    authorizeUrl({ redirectUri, state, challenge }) {
      const url = new URL(config.authorizeUrl);
      url.search = new URLSearchParams({
        response_type: 'code',
        client_id: config.clientId,
        redirect_uri: redirectUri,
        scope: KLAVIYO_OAUTH_SCOPES.join(' '),
        state,
        code_challenge_method: 'S256',
        code_challenge: challenge,
      }).toString();
      return url.toString();
    },
    async exchangeCode({ code, verifier, redirectUri }) {
      const body = await post('/oauth/token', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri });
      return tokensOf(body, null);
    },
    async refresh(refreshToken) {
      return tokensOf(await post('/oauth/token', { grant_type: 'refresh_token', refresh_token: refreshToken }), refreshToken);
    },
    async revoke(refreshToken) {
      await post('/oauth/revoke', { token: refreshToken, token_type_hint: 'refresh_token' });
    },
  };
}
