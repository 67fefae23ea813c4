import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The OAuth endpoints of a fake Salesforce login host (the OAuth 2.0 web server flow as Salesforce's help documents
 * it; the answer's shape is `specs/salesforce/oauth-token.response.json`), mounted on the fake org's server by one
 * line in server.ts. The org's REST API accepts the access token this issues last (it is the fake's one token), so a
 * code exchange or a refresh makes the previous token stop working (as a session timeout would).
 *
 * - There is no authorize page: a test mints the code the page would send back with `issueCode` (bound to the
 *   redirect URI and the S256 code challenge of the authorize URL; single use, 15 minutes as Salesforce's codes).
 * - `POST /services/oauth2/token`, form-encoded, the client authenticated by `client_id` and `client_secret` in the
 *   form: `grant_type=authorization_code` (`code`, `redirect_uri`, and `code_verifier` whose S256 must match the
 *   code's challenge) answers `access_token`, `refresh_token`, `signature`, `scope`, `instance_url` (this server),
 *   `id`, `token_type` and `issued_at`; `grant_type=refresh_token` the same without a refresh token (Salesforce keeps
 *   it). Refusals are 400 `{"error", "error_description"}`: `invalid_client_id`, `invalid_client`,
 *   `redirect_uri_mismatch`, `invalid_grant` (a bad, used or expired code, a verifier missing or not matching, a
 *   revoked refresh token), `unsupported_grant_type`.
 * - `POST /services/oauth2/revoke` with `token`: revokes a refresh token (and its access token); 200 with an empty
 *   body, 400 `invalid_token` for a token it does not know.
 *
 * The fake is registered per server (its port) with `fakeSalesforceOAuth(fake, client)`, so a production and a
 * sandbox fake each have their own codes and tokens.
 */

export interface FakeSalesforceOAuthRequest {
  path: string;
  grantType: string | null;
  /** The form carried this client's id and secret. */
  clientAuthenticated: boolean;
  /** A `code_verifier` was sent. */
  verifierSent: boolean;
  status: number;
  error: string | null;
}

export interface FakeSalesforceOAuth {
  /** What the authorize page sends back after the user approves: a code bound to this redirect URI and challenge. */
  issueCode(args: { challenge: string; redirectUri: string; scope?: string; challengeMethod?: string }): string;
  state: {
    tokenRequests: FakeSalesforceOAuthRequest[];
    /** Refresh tokens revoked through `/services/oauth2/revoke`, in order. */
    revoked: string[];
    activeRefreshTokens(): string[];
    /** Every token this login host issued (to check none reaches a log or an answer). */
    issued: string[];
  };
  controls: {
    /** Every refresh token stops working (an admin revoked the app's access): refreshes answer invalid_grant. */
    revokeAllRefreshTokens(): void;
    /** Token answers name this instance URL (a forged or misconfigured answer), or the server again (null). */
    answerInstanceUrl(url: string | null): void;
  };
}

interface Org {
  clientId: string;
  clientSecret: string;
  codes: Map<string, { challenge: string; method: string; redirectUri: string; scope: string; expiresAt: number; used: boolean }>;
  refreshTokens: Set<string>;
  orgId: string;
  userId: string;
  instanceUrl: string | null;
  api: FakeSalesforceOAuth;
}

const orgs = new Map<string, Org>();

/** Registers an OAuth client on the fake org at `fake.url` (its login host is the same server). */
export function fakeSalesforceOAuth(fake: { url: string }, client: { clientId: string; clientSecret: string }): FakeSalesforceOAuth {
  const port = new URL(fake.url).port;
  const tokenRequests: FakeSalesforceOAuthRequest[] = [];
  const revoked: string[] = [];
  const issued: string[] = [];
  const org: Org = {
    ...client,
    codes: new Map(),
    refreshTokens: new Set(),
    orgId: `00D${randomBytes(6).toString('hex').slice(0, 12).toUpperCase()}`,
    userId: `005${randomBytes(6).toString('hex').slice(0, 12).toUpperCase()}`,
    instanceUrl: null,
    api: undefined as unknown as FakeSalesforceOAuth,
  };
  org.api = {
    issueCode: ({ challenge, redirectUri, scope, challengeMethod }) => {
      const code = `aPrx${randomBytes(24).toString('base64url')}`;
      org.codes.set(code, { challenge, method: challengeMethod ?? 'S256', redirectUri, scope: scope ?? 'api refresh_token', expiresAt: Date.now() + 15 * 60_000, used: false });
      return code;
    },
    state: { tokenRequests, revoked, issued, activeRefreshTokens: () => [...org.refreshTokens] },
    controls: {
      revokeAllRefreshTokens: () => org.refreshTokens.clear(),
      answerInstanceUrl: (url) => {
        org.instanceUrl = url;
      },
    },
  };
  orgs.set(port, org);
  return org.api;
}

const readForm = (req: IncomingMessage) =>
  new Promise<URLSearchParams>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });

/**
 * Answers `/services/oauth2/*` of the fake org this request reached (true), or leaves the request to the REST API
 * (false). `setAccessToken` makes the org's REST API accept a newly issued access token (and only it).
 */
export async function salesforceOAuthRoute(req: IncomingMessage, res: ServerResponse, url: URL, setAccessToken: (token: string) => void): Promise<boolean> {
  if (!url.pathname.startsWith('/services/oauth2/')) return false;
  const form = await readForm(req);
  const org = orgs.get(String(req.socket.localPort));
  const path = url.pathname;
  const grantType = path === '/services/oauth2/token' ? form.get('grant_type') : null;
  const record: FakeSalesforceOAuthRequest = {
    path,
    grantType,
    clientAuthenticated: Boolean(org && form.get('client_id') === org.clientId && form.get('client_secret') === org.clientSecret),
    verifierSent: form.has('code_verifier'),
    status: 0,
    error: null,
  };
  org?.api.state.tokenRequests.push(record);
  const answer = (status: number, body: unknown) => {
    record.status = status;
    res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8' });
    res.end(body === undefined ? '' : JSON.stringify(body));
    return true;
  };
  const refuse = (error: string, description: string) => {
    record.error = error;
    return answer(400, { error, error_description: description });
  };
  if (req.method !== 'POST') return answer(405, { error: 'invalid_request', error_description: 'must use HTTP POST' });
  if (!org) return refuse('invalid_client_id', 'client identifier invalid');
  const origin = `http://127.0.0.1:${req.socket.localPort}`;

  if (path === '/services/oauth2/revoke') {
    const token = form.get('token') ?? '';
    if (!org.refreshTokens.delete(token)) return refuse('invalid_token', 'invalid token');
    org.api.state.revoked.push(token);
    setAccessToken(`00D!revoked.${randomBytes(12).toString('base64url')}`);
    return answer(200, undefined);
  }
  if (path !== '/services/oauth2/token') return answer(404, { error: 'not_found', error_description: 'The requested resource does not exist' });
  if (form.get('client_id') !== org.clientId) return refuse('invalid_client_id', 'client identifier invalid');
  if (form.get('client_secret') !== org.clientSecret) return refuse('invalid_client', 'invalid client credentials');

  let refreshToken: string | null = null;
  let scope = 'api refresh_token';
  if (grantType === 'authorization_code') {
    const code = org.codes.get(form.get('code') ?? '');
    if (!code || code.used || code.expiresAt <= Date.now()) return refuse('invalid_grant', 'expired authorization code');
    if (form.get('redirect_uri') !== code.redirectUri) return refuse('redirect_uri_mismatch', 'redirect_uri must match configuration');
    code.used = true;
    const verifier = form.get('code_verifier') ?? '';
    const actual = Buffer.from(createHash('sha256').update(verifier, 'ascii').digest('base64url'));
    const expected = Buffer.from(code.challenge);
    if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
      return refuse('invalid_grant', 'invalid code verifier');
    }
    scope = code.scope;
    refreshToken = `5Aep${randomBytes(32).toString('base64url')}`;
    org.refreshTokens.add(refreshToken);
    org.api.state.issued.push(refreshToken);
  } else if (grantType === 'refresh_token') {
    if (!org.refreshTokens.has(form.get('refresh_token') ?? '')) return refuse('invalid_grant', 'expired access/refresh token');
  } else {
    return refuse('unsupported_grant_type', 'grant type not supported');
  }
  const accessToken = `${org.orgId}!AQ${randomBytes(40).toString('base64url')}`;
  org.api.state.issued.push(accessToken);
  setAccessToken(accessToken);
  const id = `${origin}/id/${org.orgId}AAA/${org.userId}AAA`;
  const issuedAt = String(Date.now());
  return answer(200, {
    access_token: accessToken,
    ...(refreshToken ? { refresh_token: refreshToken } : {}),
    signature: createHmac('sha256', org.clientSecret).update(`${id}${issuedAt}`).digest('base64'),
    scope,
    instance_url: org.instanceUrl ?? origin,
    id,
    token_type: 'Bearer',
    issued_at: issuedAt,
  });
}
