import { createHash } from 'node:crypto';
import { FAKE_APP_ID, FAKE_USER_ID, type TokenStore } from '../auth';
import { authExpired, notFound, oauthError, type HandlerResult } from '../errors';
import type { Context, Route } from '../router';

/**
 * OAuth: `POST /oauth/v1/token` and `/oauth/v3/token` (form-encoded: authorization_code or refresh_token
 * grants; a code issued with a PKCE challenge needs its `code_verifier`), token metadata (`GET /oauth/v1/access-tokens/{token}`, `…/refresh-tokens/{token}`) and refresh
 * token revocation. Refresh tokens survive access-token expiry; refreshing keeps the same refresh token.
 */

export interface OAuthDeps {
  tokens: TokenStore;
  clientId(): string;
  clientSecret(): string;
  lifetimeSeconds(): number;
}

/** The S256 code challenge of a PKCE verifier: base64url(SHA-256(verifier)), no padding. */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

function tokenEndpoint(deps: OAuthDeps, ctx: Context, withQuery: boolean): HandlerResult {
  const p = { ...(withQuery ? ctx.query : {}), ...(ctx.body as Record<string, string> | undefined) };
  if (!p.client_id || p.client_id !== deps.clientId()) throw oauthError('BAD_CLIENT_ID', 'missing or unknown client id');
  if (!p.client_secret || p.client_secret !== deps.clientSecret()) {
    throw oauthError('BAD_CLIENT_SECRET', 'missing or invalid client secret');
  }
  const { tokens } = deps;
  let grant;
  let refreshToken: string;
  if (p.grant_type === 'authorization_code') {
    const code = p.code ? tokens.codes.get(p.code) : undefined;
    if (!code) throw oauthError('BAD_AUTH_CODE', 'missing or unknown auth code');
    if (!p.redirect_uri) throw oauthError('BAD_REDIRECT_URI', 'missing redirect_uri');
    if (code.redirectUri !== undefined && code.redirectUri !== p.redirect_uri) {
      throw oauthError('BAD_REDIRECT_URI', 'redirect_uri does not match the redirect_uri of the authorization request');
    }
    // PKCE (RFC 7636): a code issued for a challenge is exchanged only with the verifier whose S256 it is.
    if (code.codeChallenge !== undefined) {
      if (!p.code_verifier) throw oauthError('BAD_AUTH_CODE', 'missing code_verifier');
      if (s256(p.code_verifier) !== code.codeChallenge) {
        throw oauthError('BAD_AUTH_CODE', 'code_verifier does not match the code_challenge of the authorization request');
      }
    }
    tokens.codes.delete(p.code!);
    grant = { portalId: code.portalId, hubDomain: code.hubDomain, scopes: code.scopes };
    refreshToken = tokens.issueRefresh(grant, p.client_id).token;
  } else if (p.grant_type === 'refresh_token') {
    const refresh = p.refresh_token ? tokens.refresh.get(p.refresh_token) : undefined;
    if (!refresh) throw oauthError('BAD_REFRESH_TOKEN', 'missing or unknown refresh token');
    if (refresh.clientId !== p.client_id) throw oauthError('BAD_REFRESH_TOKEN', 'refresh token was not issued to this client');
    grant = { portalId: refresh.portalId, hubDomain: refresh.hubDomain, scopes: refresh.scopes };
    refreshToken = refresh.token;
  } else {
    throw oauthError('BAD_GRANT_TYPE', `unsupported grant_type: ${p.grant_type ?? '(missing)'}`);
  }
  const access = tokens.issueAccess(grant, deps.lifetimeSeconds(), ctx.now.getTime());
  return {
    status: 200,
    body: {
      token_type: 'bearer',
      refresh_token: refreshToken,
      access_token: access.token,
      expires_in: deps.lifetimeSeconds(),
      token_use: 'access_token',
      hub_id: grant.portalId,
      scopes: grant.scopes,
      user_id: FAKE_USER_ID,
    },
  };
}

function accessTokenInfo(deps: OAuthDeps, ctx: Context): HandlerResult {
  const access = deps.tokens.access.get(ctx.params.token!);
  if (!access) throw notFound('Token not found');
  const now = ctx.now.getTime();
  if (access.expiresAt <= now) throw authExpired(access.expiresAt, now);
  return {
    status: 200,
    body: {
      token: access.token,
      user: 'fake-user@example.com',
      hub_domain: access.hubDomain,
      scopes: access.scopes,
      hub_id: access.portalId,
      app_id: FAKE_APP_ID,
      expires_in: Math.floor((access.expiresAt - now) / 1000),
      user_id: FAKE_USER_ID,
      token_type: 'access',
      is_private_distribution: false,
    },
  };
}

function refreshTokenInfo(deps: OAuthDeps, ctx: Context): HandlerResult {
  const refresh = deps.tokens.refresh.get(ctx.params.token!);
  if (!refresh) throw notFound('Token not found');
  return {
    status: 200,
    body: {
      token: refresh.token,
      user: 'fake-user@example.com',
      hub_domain: refresh.hubDomain,
      scopes: refresh.scopes,
      hub_id: refresh.portalId,
      client_id: refresh.clientId,
      user_id: FAKE_USER_ID,
      token_type: 'refresh',
    },
  };
}

function revokeRefreshToken(deps: OAuthDeps, ctx: Context): HandlerResult {
  if (!deps.tokens.refresh.delete(ctx.params.token!)) throw notFound('Token not found');
  return { status: 204 };
}

export function oauthRoutes(deps: OAuthDeps): Route[] {
  return [
    {
      method: 'POST',
      path: '/oauth/v1/token',
      kind: 'oauth',
      form: true,
      op: { file: 'oauth-v1', path: '/oauth/v1/token', method: 'post' },
      handler: (ctx) => tokenEndpoint(deps, ctx, true),
    },
    {
      method: 'POST',
      path: '/oauth/v3/token',
      kind: 'oauth',
      form: true,
      op: { file: 'oauth-v3', path: '/oauth/v3/token', method: 'post' },
      handler: (ctx) => tokenEndpoint(deps, ctx, false),
    },
    { method: 'GET', path: '/oauth/v1/access-tokens/:token', kind: 'oauth', handler: (ctx) => accessTokenInfo(deps, ctx) },
    { method: 'GET', path: '/oauth/v1/refresh-tokens/:token', kind: 'oauth', handler: (ctx) => refreshTokenInfo(deps, ctx) },
    { method: 'DELETE', path: '/oauth/v1/refresh-tokens/:token', kind: 'oauth', handler: (ctx) => revokeRefreshToken(deps, ctx) },
  ];
}
