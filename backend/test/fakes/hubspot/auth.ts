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

/** Object scopes (read: any of the list; write: any of the list) by object type path name. */
const OBJECT_SCOPES: Record<string, { read: string[]; write: string[] }> = {
  companies: { read: ['crm.objects.companies.read', 'crm.objects.companies.write'], write: ['crm.objects.companies.write'] },
  deals: { read: ['crm.objects.deals.read', 'crm.objects.deals.write'], write: ['crm.objects.deals.write'] },
  tickets: { read: ['tickets'], write: ['tickets'] },
  contacts: { read: CONTACTS_READ, write: CONTACTS_WRITE },
};
const SCHEMA_SCOPES: Record<string, { read: string[]; write: string[] }> = {
  companies: { read: ['crm.schemas.companies.read', 'crm.schemas.companies.write', 'crm.objects.companies.read'], write: ['crm.schemas.companies.write'] },
  deals: { read: ['crm.schemas.deals.read', 'crm.schemas.deals.write', 'crm.objects.deals.read'], write: ['crm.schemas.deals.write'] },
  tickets: { read: ['tickets', 'crm.schemas.tickets.read', 'crm.schemas.tickets.write'], write: ['tickets', 'crm.schemas.tickets.write'] },
  contacts: { read: SCHEMAS_READ, write: SCHEMAS_WRITE },
};
const PIPELINE_SCOPES: Record<string, { read: string[]; write: string[] }> = {
  deals: { read: ['crm.objects.deals.read', 'crm.objects.deals.write', 'crm.schemas.deals.read', 'crm.schemas.deals.write'], write: ['crm.schemas.deals.write'] },
  tickets: { read: ['tickets', 'crm.schemas.tickets.read'], write: ['tickets', 'crm.schemas.tickets.write'] },
};

/** The scope family of an object type path segment: companies, deals, tickets; everything else (contacts, notes, tasks) contacts. */
function family(segment: string | undefined): string {
  const s = (segment ?? '').toLowerCase();
  if (['companies', 'company', '0-2'].includes(s)) return 'companies';
  if (['deals', 'deal', '0-3'].includes(s)) return 'deals';
  if (['tickets', 'ticket', '0-5'].includes(s)) return 'tickets';
  return 'contacts';
}

/** Scopes of which a token needs one for the call (contacts and tasks: contacts scopes; properties: schemas). */
export function requiredScopes(path: string, write: boolean): string[] {
  return requiredScopeGroups(path, write)[0] ?? [];
}

/**
 * Every group of scopes the call needs (one scope of each group): objects and properties by their object type
 * (companies, deals and tickets have their own scopes; notes and tasks use the contacts ones, as HubSpot's specs
 * say), pipelines by deals/tickets, associations one group per side, timeline events `timeline`.
 */
export function requiredScopeGroups(path: string, write: boolean): string[][] {
  const pick = (table: Record<string, { read: string[]; write: string[] }>, segment: string | undefined): string[] => {
    const entry = table[family(segment)] ?? table.contacts!;
    return write ? entry.write : entry.read;
  };
  const seg = path.split('/');
  if (path.startsWith('/crm/v3/properties/')) return [pick(SCHEMA_SCOPES, seg[4])];
  if (path.startsWith('/crm/v3/objects/')) return [pick(OBJECT_SCOPES, seg[4])];
  if (path.startsWith('/crm/v3/pipelines/')) {
    const f = family(seg[4]);
    return f === 'deals' || f === 'tickets' ? [pick(PIPELINE_SCOPES, f)] : [];
  }
  if (path.startsWith('/crm/v4/associations/')) return [pick(OBJECT_SCOPES, seg[4]), pick(OBJECT_SCOPES, seg[5])];
  if (path.startsWith('/crm/v4/objects/')) {
    const to = seg[7] === 'default' ? seg[8] : seg[7];
    return [pick(OBJECT_SCOPES, seg[4]), pick(OBJECT_SCOPES, to)];
  }
  if (path.startsWith('/integrators/timeline/v3/events') || path.startsWith('/crm/v3/timeline/events')) return [['timeline']];
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
