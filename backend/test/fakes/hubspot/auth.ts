import { randomBytes } from 'node:crypto';
import { authExpired, authMissing, fail, type HubSpotHttpError } from './errors';
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
  codes = new Map<string, Grant & { redirectUri?: string; codeChallenge?: string }>();
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
      codeChallenge: opts.codeChallenge,
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

  /** A revoked private-app token: unknown from now on (401). */
  removePrivateAppToken(t: string): void {
    this.privateApp.delete(t);
  }

  /** The app is uninstalled from the portal: its access and refresh tokens are gone (401, BAD_REFRESH_TOKEN). */
  revokePortalGrants(portalId: number): void {
    for (const [t, a] of this.access) if (a.portalId === portalId) this.access.delete(t);
    for (const [t, r] of this.refresh) if (r.portalId === portalId) this.refresh.delete(t);
  }

  expireAll(now = Date.now()): void {
    for (const a of this.access.values()) a.expiresAt = Math.min(a.expiresAt, now - 1);
  }

  /**
   * The portal a bearer token acts for and its scopes (null: a private-app token, granted everything),
   * or HubSpot's 401.
   */
  authenticate(header: string | undefined, now = Date.now()): { portalId: number; scopes: string[] | null } | HubSpotHttpError {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!m) return authMissing();
    const t = m[1]!;
    const priv = this.privateApp.get(t);
    if (priv !== undefined) return { portalId: priv, scopes: null };
    const access = this.access.get(t);
    if (!access) return authMissing();
    if (access.expiresAt <= now) return authExpired(access.expiresAt, now);
    return { portalId: access.portalId, scopes: access.scopes };
  }

  clear(): void {
    this.privateApp.clear();
    this.codes.clear();
    this.access.clear();
    this.refresh.clear();
  }
}

const CONTACTS_READ = ['crm.objects.contacts.read', 'crm.objects.contacts.write'];
const CONTACTS_WRITE = ['crm.objects.contacts.write'];
const SCHEMAS_READ = ['crm.schemas.contacts.read', 'crm.schemas.contacts.write', 'crm.objects.contacts.read'];
const SCHEMAS_WRITE = ['crm.schemas.contacts.write'];

/** Scopes of which a token needs one for the call (contacts and tasks: contacts scopes; properties: schemas). */
export function requiredScopes(path: string, write: boolean): string[] {
  if (path.startsWith('/crm/v3/properties/')) return write ? SCHEMAS_WRITE : SCHEMAS_READ;
  if (path.startsWith('/crm/v3/objects/')) return write ? CONTACTS_WRITE : CONTACTS_READ;
  return [];
}

/** HubSpot's 403 MISSING_SCOPES when an OAuth token lacks every scope that would allow the call. */
export function checkScopes(granted: string[] | null, required: string[]): HubSpotHttpError | null {
  if (granted === null || required.length === 0 || required.some((s) => granted.includes(s))) return null;
  return fail(
    403,
    'MISSING_SCOPES',
    "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
    {
      errors: [{ message: 'One or more of the following scopes are required.', context: { requiredGranularScopes: required } }],
      links: { scopes: 'https://developers.hubspot.com/scopes' },
    },
  );
}
