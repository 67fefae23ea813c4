import type { IntercomRegion } from '@stripe-hubspot-sync/contracts';
import { DestinationOAuthError, NO_KNOWN_EXPIRY, postOAuthForm, type DestinationOAuthClient, type DestinationOAuthTokens } from '../destinations/oauth';
import { intercomRegionUrl } from './adapter';

/**
 * Intercom's OAuth ("Connect with Intercom", for a public app), as Intercom's developer guide "Setting up OAuth"
 * documents it. Each workspace lives in one region (United States, Europe, Australia) and is authorized there:
 *
 * - authorize: `https://app.intercom.com/oauth?client_id=…&state=…&redirect_uri=…` (Europe: `app.eu.intercom.com`,
 *   Australia: `app.au.intercom.com`); an admin of the workspace approves there and Intercom sends the browser back to
 *   the redirect URI with `code` and `state`. The code expires after about 5 minutes.
 * - token: `POST https://api.intercom.io/auth/eagle/token` (Europe: `api.eu.intercom.io`, Australia:
 *   `api.au.intercom.io`) with `code`, `client_id` and `client_secret`; answers
 *   `{"token_type": "Bearer", "token": "…", "access_token": "…"}` (the key set in `specs/intercom/`). The token does
 *   not expire and there is no refresh token: it works until the workspace uninstalls the app, and then the API
 *   answers 401 and the merchant connects again.
 * - Intercom documents no PKCE (no `code_challenge` on the authorize page, no `code_verifier` at the token endpoint):
 *   nothing of the kind is sent. The CSRF protection is the state the backend issued (single use, 10 minutes, bound
 *   to the account, mode, Dashboard user and region: see `oauth-flow.ts`), and a code is worth nothing without our
 *   client secret, which only this backend sends, server to server.
 * - Intercom documents no endpoint to revoke an OAuth token: an app's access ends when an admin uninstalls it from
 *   the workspace (Intercom's "Installing & Uninstalling Apps" guide). `revoke` therefore sends nothing;
 *   disconnecting forgets the token here, and the docs tell the merchant to uninstall the app in Intercom.
 *
 * Intercom does not document the token endpoint's refusals; they are read in its API's `error.list` shape
 * (`errors[0].code` / `message`) or the OAuth shape (`error` / `error_description`). Nothing here logs or returns a
 * token or the client secret in an error message.
 */

/** The authorize page of a workspace's region (Intercom's app hosts). */
export function intercomAuthorizeUrl(region: IntercomRegion): string {
  switch (region) {
    case 'us':
      return 'https://app.intercom.com/oauth';
    case 'eu':
      return 'https://app.eu.intercom.com/oauth';
    case 'au':
      return 'https://app.au.intercom.com/oauth';
  }
}

export const INTERCOM_TOKEN_PATH = '/auth/eagle/token';

export interface IntercomOAuthConfig {
  clientId: string;
  clientSecret: string;
  /** The workspace's region: its authorize page and token endpoint. */
  region: IntercomRegion;
  /** The authorize page for every region instead of the region's (INTERCOM_OAUTH_URL; a fake's in tests). */
  authorizeUrl?: string;
  /** The API host for every region instead of the region's (INTERCOM_API_BASE_URL; a fake's in tests). */
  apiBaseUrl?: string;
  /** Per-request timeout (ms, default 15 s). */
  timeoutMs?: number;
}

export class IntercomOAuthError extends DestinationOAuthError {
  override readonly name = 'IntercomOAuthError';
}

export function createIntercomOAuthClient(config: IntercomOAuthConfig): DestinationOAuthClient {
  const tokenUrl = `${(config.apiBaseUrl ?? intercomRegionUrl(config.region)).replace(/\/+$/, '')}${INTERCOM_TOKEN_PATH}`;
  const authorizeUrl = config.authorizeUrl ?? intercomAuthorizeUrl(config.region);
  const timeoutMs = config.timeoutMs ?? 15_000;

  return {
    // No code challenge: Intercom documents no PKCE (the state is the CSRF protection; see the header).
    authorizeUrl({ redirectUri, state }) {
      const url = new URL(authorizeUrl);
      url.search = new URLSearchParams({ client_id: config.clientId, state, redirect_uri: redirectUri }).toString();
      return url.toString();
    },

    // The verifier the generic flow keeps is not sent: Intercom has no PKCE. The client secret authenticates us.
    async exchangeCode({ code }): Promise<DestinationOAuthTokens> {
      const res = await postOAuthForm(tokenUrl, { code, client_id: config.clientId, client_secret: config.clientSecret }, {
        timeoutMs,
        unreachable: (reason) => new IntercomOAuthError(null, null, `Intercom ${INTERCOM_TOKEN_PATH} could not be reached (${reason})`),
      });
      const { body } = res;
      if (!res.ok) {
        const first = Array.isArray(body.errors) ? (body.errors[0] as { code?: unknown; message?: unknown } | undefined) : undefined;
        const rawCode = typeof body.error === 'string' ? body.error : typeof first?.code === 'string' ? first.code : null;
        const error = rawCode ? rawCode.slice(0, 64) : null;
        const rawMessage = typeof body.error_description === 'string' ? body.error_description : typeof first?.message === 'string' ? first.message : null;
        // Intercom's explanation of the refusal; it never carries a token (only the code we sent could be echoed: cut out).
        const message = rawMessage ? `: ${rawMessage.split(code).join('…').slice(0, 200)}` : '';
        throw new IntercomOAuthError(res.status, error, `Intercom ${INTERCOM_TOKEN_PATH} answered ${res.status}${error ? ` ${error}` : ''}${message}`);
      }
      const accessToken = typeof body.access_token === 'string' && body.access_token ? body.access_token : typeof body.token === 'string' ? body.token : '';
      if (!accessToken) throw new IntercomOAuthError(502, null, `Intercom ${INTERCOM_TOKEN_PATH} answered without an access token`);
      if (typeof body.token_type === 'string' && body.token_type.toLowerCase() !== 'bearer') {
        throw new IntercomOAuthError(502, null, `Intercom ${INTERCOM_TOKEN_PATH} answered a token of type ${body.token_type.slice(0, 32)}, not Bearer`);
      }
      // No refresh token and no expiry: the token works until the app is uninstalled from the workspace.
      return { accessToken, refreshToken: '', expiresAt: NO_KNOWN_EXPIRY, scope: '' };
    },

    async refresh() {
      // Never called by the Intercom adapter (a 401 marks the destination broken); refused for any other caller.
      throw new IntercomOAuthError(401, 'no_refresh_token', 'Intercom access tokens cannot be refreshed');
    },

    async revoke() {
      // Intercom documents no revoke endpoint: the workspace's admin uninstalls the app in Intercom (see the header).
    },
  };
}
