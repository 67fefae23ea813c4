import { DEFAULT_API_BASE_URL } from './client';
import { PermanentHubSpotError, RetryableHubSpotError } from './errors';

/**
 * HubSpot OAuth for marketplace installs: the install URL, the code exchange and refresh
 * (`POST /oauth/v1/token`, form-encoded), token info (`GET /oauth/v1/access-tokens/{token}`: the portal), and the
 * portal of a private-app token (`GET /account-info/v3/details`; private-app tokens are not OAuth tokens).
 * Errors never carry tokens or URLs (the token-info URL holds the token).
 */

export const HUBSPOT_AUTHORIZE_URL = 'https://app.hubspot.com/oauth/authorize';

/**
 * Least privilege: contact reads/writes, contact properties and groups (`crm.schemas.contacts.write`).
 * Tasks need no scope of their own: HubSpot lists `crm.objects.contacts.write` for creating them.
 */
export const HUBSPOT_SCOPES = [
  'oauth',
  'crm.objects.contacts.read',
  'crm.objects.contacts.write',
  'crm.schemas.contacts.write',
] as const;

/**
 * Asked for as optional (`optional_scope`): the records beyond contacts, each turned on in the settings. A portal
 * that does not grant one (or an install made before it was asked) keeps syncing contacts; that writer steps aside
 * and the Stripe App shows the connection needs reconnecting to grant it. Companies: objects and their properties;
 * deals: objects, properties and the "Stripe subscriptions" pipeline; tickets (`tickets` covers tickets and their
 * pipelines; the ticket property needs `crm.schemas.tickets.write`); revenue movements as timeline events (`timeline`).
 */
export const HUBSPOT_OPTIONAL_SCOPES = [
  'crm.objects.companies.read',
  'crm.objects.companies.write',
  'crm.schemas.companies.read',
  'crm.schemas.companies.write',
  'crm.objects.deals.read',
  'crm.objects.deals.write',
  'crm.schemas.deals.read',
  'crm.schemas.deals.write',
  'tickets',
  'crm.schemas.tickets.write',
  'timeline',
] as const;

export interface OAuthAppConfig {
  clientId: string;
  clientSecret: string;
  /** HUBSPOT_API_BASE_URL (default https://api.hubapi.com). */
  apiBaseUrl?: string;
  timeoutMs?: number;
}

export interface TokenSet {
  accessToken: string;
  refreshToken: string;
  expiresAt: Date;
}

export interface AccessTokenInfo {
  portalId: number;
  hubDomain: string | null;
  scopes: string[];
  appId?: number;
  user?: string;
  expiresInSeconds?: number;
}

export class HubSpotOAuthError extends Error {
  override readonly name = 'HubSpotOAuthError';
  constructor(
    message: string,
    /** HTTP status, or 0 when HubSpot could not be reached. */
    readonly status: number,
    /** HubSpot's code (BAD_REFRESH_TOKEN, BAD_AUTH_CODE, …) or the RFC 6749 `error`. */
    readonly code: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

export function buildInstallUrl(args: {
  clientId: string;
  redirectUri: string;
  state: string;
  scopes?: readonly string[];
  optionalScopes?: readonly string[];
  /** PKCE: the S256 code challenge (the exchange then sends the verifier). */
  codeChallenge?: string;
  authorizeUrl?: string;
}): string {
  const url = new URL(args.authorizeUrl ?? HUBSPOT_AUTHORIZE_URL);
  url.searchParams.set('client_id', args.clientId);
  url.searchParams.set('redirect_uri', args.redirectUri);
  url.searchParams.set('scope', (args.scopes ?? HUBSPOT_SCOPES).join(' '));
  const optional = args.optionalScopes ?? HUBSPOT_OPTIONAL_SCOPES;
  if (optional.length) url.searchParams.set('optional_scope', optional.join(' '));
  url.searchParams.set('state', args.state);
  if (args.codeChallenge) {
    url.searchParams.set('code_challenge', args.codeChallenge);
    url.searchParams.set('code_challenge_method', 'S256');
  }
  return url.toString();
}

export function exchangeCode(
  config: OAuthAppConfig,
  args: { code: string; redirectUri: string; codeVerifier?: string },
): Promise<TokenSet> {
  return tokenRequest(config, {
    grant_type: 'authorization_code',
    code: args.code,
    redirect_uri: args.redirectUri,
    ...(args.codeVerifier ? { code_verifier: args.codeVerifier } : {}),
  });
}

export function refreshAccessToken(config: OAuthAppConfig, refreshToken: string): Promise<TokenSet> {
  return tokenRequest(config, { grant_type: 'refresh_token', refresh_token: refreshToken });
}

export async function getAccessTokenInfo(
  config: Pick<OAuthAppConfig, 'apiBaseUrl' | 'timeoutMs'>,
  accessToken: string,
): Promise<AccessTokenInfo> {
  const body = await request(config, `/oauth/v1/access-tokens/${encodeURIComponent(accessToken)}`, { method: 'GET' });
  const portalId = Number(body.hub_id);
  if (!Number.isSafeInteger(portalId) || portalId <= 0) throw invalidAnswer('token info without hub_id');
  return {
    portalId,
    hubDomain: typeof body.hub_domain === 'string' ? body.hub_domain : null,
    scopes: Array.isArray(body.scopes) ? body.scopes.filter((s): s is string => typeof s === 'string') : [],
    ...(typeof body.app_id === 'number' ? { appId: body.app_id } : {}),
    ...(typeof body.user === 'string' ? { user: body.user } : {}),
    ...(typeof body.expires_in === 'number' ? { expiresInSeconds: body.expires_in } : {}),
  };
}

/** The portal (and UI domain) a private-app or OAuth token acts for. */
export async function getAccountDetails(
  config: Pick<OAuthAppConfig, 'apiBaseUrl' | 'timeoutMs'>,
  accessToken: string,
): Promise<{ portalId: number; uiDomain: string | null }> {
  const body = await request(config, '/account-info/v3/details', {
    method: 'GET',
    headers: { Authorization: `Bearer ${accessToken}` },
  });
  const portalId = Number(body.portalId);
  if (!Number.isSafeInteger(portalId) || portalId <= 0) throw invalidAnswer('account details without portalId');
  return { portalId, uiDomain: typeof body.uiDomain === 'string' ? body.uiDomain : null };
}

/** Revokes a refresh token (on disconnect). A token HubSpot no longer knows counts as revoked. */
export async function revokeRefreshToken(config: Pick<OAuthAppConfig, 'apiBaseUrl' | 'timeoutMs'>, refreshToken: string): Promise<void> {
  try {
    await request(config, `/oauth/v1/refresh-tokens/${encodeURIComponent(refreshToken)}`, { method: 'DELETE' });
  } catch (err) {
    if (err instanceof HubSpotOAuthError && err.status === 404) return;
    throw err;
  }
}

async function tokenRequest(config: OAuthAppConfig, params: Record<string, string>): Promise<TokenSet> {
  const requestedAt = Date.now();
  const body = await request(config, '/oauth/v1/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded;charset=utf-8' },
    body: new URLSearchParams({ ...params, client_id: config.clientId, client_secret: config.clientSecret }).toString(),
  });
  const { access_token: accessToken, refresh_token: refreshToken, expires_in: expiresIn } = body;
  if (typeof accessToken !== 'string' || typeof refreshToken !== 'string' || typeof expiresIn !== 'number') {
    throw invalidAnswer('token answer without access_token, refresh_token or expires_in');
  }
  // Counted from when we asked, so our idea of expiry is never later than HubSpot's.
  return { accessToken, refreshToken, expiresAt: new Date(requestedAt + expiresIn * 1000) };
}

async function request(
  config: Pick<OAuthAppConfig, 'apiBaseUrl' | 'timeoutMs'>,
  path: string,
  init: RequestInit,
): Promise<Record<string, unknown>> {
  const base = (config.apiBaseUrl ?? DEFAULT_API_BASE_URL).replace(/\/+$/, '');
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(config.timeoutMs ?? 15_000) });
  } catch (err) {
    const reason = err instanceof Error && err.name === 'TimeoutError' ? 'timed out' : 'unreachable';
    throw new HubSpotOAuthError(`HubSpot OAuth ${reason}`, 0, 'NETWORK', true);
  }
  const text = await res.text().catch(() => '');
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = text ? JSON.parse(text) : {};
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
  } catch {
    // not JSON (e.g. a proxy's error page)
  }
  if (res.ok) return body;
  const code = [body.status, body.error].find((x): x is string => typeof x === 'string' && x !== 'error') ?? `HTTP_${res.status}`;
  const message = typeof body.message === 'string' ? body.message : `HubSpot OAuth answered ${res.status}`;
  throw new HubSpotOAuthError(message, res.status, code, res.status >= 500 || res.status === 429);
}

function invalidAnswer(what: string): HubSpotOAuthError {
  return new HubSpotOAuthError(`HubSpot OAuth: ${what}`, 502, 'INVALID_ANSWER', true);
}

/** An OAuth failure as the HubSpot error callers handle: retryable (network, 5xx, 429) or permanent (a 4xx refusal). */
export function asHubSpotError(err: unknown, operation: string): Error {
  if (!(err instanceof HubSpotOAuthError)) return err as Error;
  if (err.retryable) {
    return new RetryableHubSpotError({
      reason: err.status === 0 ? 'network' : 'server',
      status: err.status || undefined,
      message: err.message,
      operation,
      attempts: 1,
    });
  }
  return new PermanentHubSpotError({ status: err.status, category: err.code, message: err.message, operation });
}
