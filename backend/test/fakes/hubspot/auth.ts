import { randomBytes } from 'node:crypto';
import { authExpired, authMissing, type HubSpotHttpError } from './errors';
import type { IssueCodeOptions } from './types';

/** Credentials the fake knows: private-app tokens, authorization codes, OAuth access and refresh tokens. */

export const DEFAULT_SCOPES = ['oauth', 'crm.objects.contacts.read', 'crm.objects.contacts.write', 'crm.schemas.contacts.write'];
export const FAKE_APP_ID = 424242;
export const FAKE_USER_ID = 777;

export interface Grant {
  portalId: number;
  hubDomain: string;
  scopes: string[];
}

export interface AccessToken extends Grant {
  token: string;
  expiresAt: number;
}

export interface RefreshToken extends Grant {
  token: string;
  clientId: string;
}

function token(prefix: string): string {
  return `${prefix}-${randomBytes(18).toString('base64url')}`;
}

export function hubDomainFor(portalId: number): string {
  return `fake-portal-${portalId}.hubspot.com`;
}

export class TokenStore {
  privateApp = new Map<string, number>();
  codes = new Map<string, Grant & { redirectUri?: string }>();
  access = new Map<string, AccessToken>();
  refresh = new Map<string, RefreshToken>();

  addPrivateAppToken(t: string, portalId: number): void {
    this.privateApp.set(t, portalId);
  }

  issueCode(code: string, portalId: number, opts: IssueCodeOptions = {}): void {
    this.codes.set(code, {
      portalId,
      hubDomain: opts.hubDomain ?? hubDomainFor(portalId),
      scopes: opts.scopes ?? DEFAULT_SCOPES,
      redirectUri: opts.redirectUri,
    });
  }

  /** A fresh access token for the grant, living `lifetimeSeconds`. */
  issueAccess(grant: Grant, lifetimeSeconds: number, now = Date.now()): AccessToken {
    const access: AccessToken = { ...grant, token: token('fake-at'), expiresAt: now + lifetimeSeconds * 1000 };
    this.access.set(access.token, access);
    return access;
  }

  issueRefresh(grant: Grant, clientId: string): RefreshToken {
    const refresh: RefreshToken = { ...grant, token: token('na1-fake-rt'), clientId };
    this.refresh.set(refresh.token, refresh);
    return refresh;
  }

  expireAll(now = Date.now()): void {
    for (const a of this.access.values()) a.expiresAt = Math.min(a.expiresAt, now - 1);
  }

  /** The portal a bearer token acts for, or HubSpot's 401. */
  authenticate(header: string | undefined, now = Date.now()): number | HubSpotHttpError {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!m) return authMissing();
    const t = m[1]!;
    const priv = this.privateApp.get(t);
    if (priv !== undefined) return priv;
    const access = this.access.get(t);
    if (!access) return authMissing();
    if (access.expiresAt <= now) return authExpired(access.expiresAt, now);
    return access.portalId;
  }

  clear(): void {
    this.privateApp.clear();
    this.codes.clear();
    this.access.clear();
    this.refresh.clear();
  }
}
