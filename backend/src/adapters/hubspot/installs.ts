import { randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../store/db';
import type { PortalAuth } from './call';
import type { TokenCipher } from './crypto';
import { ConnectionHubSpotError, PermanentHubSpotError, RetryableHubSpotError } from './errors';
import {
  HubSpotOAuthError,
  asHubSpotError,
  exchangeCode,
  getAccessTokenInfo,
  getAccountDetails,
  refreshAccessToken,
  revokeRefreshToken,
  type AccessTokenInfo,
  type OAuthAppConfig,
  type TokenSet,
} from './oauth';

/**
 * HubSpot connections (table `hubspot_installs`), one per Stripe account *and mode*: an event only ever goes to
 * the connection of its own `livemode`. OAuth installs keep their tokens encrypted; `getAccessToken` refreshes
 * an access token with less than 5 minutes left, under a lease on the row so that concurrent instances refresh
 * once (see refreshLeased).
 * A private-app token (HUBSPOT_ACCESS_TOKEN) is a synthetic install serving events without `account`, in the
 * modes of HUBSPOT_PRIVATE_APP_MODES.
 */

export type InstallKind = 'oauth' | 'private_app';
export type Mode = 'test' | 'live';

export interface InstallKey {
  /** The Stripe account; null for events without `account` (the private-app install). */
  accountId: string | null;
  livemode: boolean;
}

/** A connection, without its tokens (safe to log). */
export interface Install {
  readonly accountId: string | null;
  readonly livemode: boolean;
  readonly portalId: number;
  readonly hubDomain: string | null;
  readonly kind: InstallKind;
  readonly scopes: string[];
  readonly expiresAt: Date | null;
  readonly createdAt: Date | null;
  readonly updatedAt: Date | null;
}

export interface PrivateAppConfig {
  accessToken: string;
  /** Modes it serves (HUBSPOT_PRIVATE_APP_MODES). Default both. */
  modes?: Mode[];
  /** Its portal, when known; otherwise read once from `GET /account-info/v3/details`. */
  portalId?: number;
}

export interface InstallRegistryOptions {
  cipher: TokenCipher;
  /** The OAuth app (needed to connect and refresh OAuth installs). */
  oauth?: OAuthAppConfig;
  /** HUBSPOT_API_BASE_URL, for the private app's portal lookup (default: the OAuth app's, then api.hubapi.com). */
  apiBaseUrl?: string;
  privateApp?: PrivateAppConfig;
  /** Refresh when less than this is left. Default 5 minutes. */
  refreshMarginMs?: number;
}

export interface InstallRegistry {
  resolveInstall(db: Queryable, key: InstallKey): Promise<Install | null>;
  /** Exchanges an authorization code and stores the connection of (account, mode). */
  connectOAuth(
    db: Db,
    args: { accountId: string; livemode: boolean; code: string; redirectUri: string; codeVerifier?: string },
  ): Promise<Install>;
  /** Stores (or replaces) the OAuth connection of (account, mode). */
  saveOAuthInstall(db: Queryable, key: { accountId: string; livemode: boolean }, tokens: TokenSet, info: AccessTokenInfo): Promise<Install>;
  /** Forgets the tokens and marks the connection disconnected; revokes the refresh token unless told not to. */
  disconnect(db: Db, key: { accountId: string; livemode: boolean }, options?: { revoke?: boolean }): Promise<boolean>;
  /** A valid access token (refreshed ahead of expiry, or after a 401 on `rejected`). */
  getAccessToken(db: Db, install: Install, options?: { forceRefresh?: boolean; rejected?: string }): Promise<string>;
  /** How `callHubSpot` authenticates as this install. */
  portalAuth(db: Db, install: Install): PortalAuth;
  /** Live connections to a portal (e.g. to check a HubSpot card request's portal). */
  installsOfPortal(db: Queryable, portalId: number): Promise<Install[]>;
}

interface Row {
  stripe_account_id: string;
  livemode: boolean;
  portal_id: string | number;
  hub_domain: string | null;
  kind: InstallKind;
  access_token_enc: string;
  refresh_token_enc: string | null;
  expires_at: Date | string | null;
  scopes: string[] | null;
  created_at: Date | string;
  updated_at: Date | string;
  disconnected_at: Date | string | null;
}

const COLUMNS = `stripe_account_id, livemode, portal_id, hub_domain, kind, access_token_enc, refresh_token_enc,
  expires_at, scopes, created_at, updated_at, disconnected_at`;

export function createInstallRegistry(options: InstallRegistryOptions): InstallRegistry {
  const { cipher } = options;
  const margin = options.refreshMarginMs ?? 5 * 60_000;
  const apiBaseUrl = options.apiBaseUrl ?? options.oauth?.apiBaseUrl;
  const privateModes = new Set(options.privateApp?.modes ?? ['test', 'live']);
  /** Newest known access token per install (after a refresh), sealed. */
  const latest = new Map<string, SealedAccess>();
  /** Refresh when less than the margin is left, or half the token's lifetime when that is shorter. */
  const due = (t: SealedAccess) => t.expiresAtMs - Date.now() <= Math.min(margin, t.lifetimeMs / 2);
  let privatePortal: Promise<number> | null = null;

  const ctx = (accountId: string, livemode: boolean, which: 'access' | 'refresh') =>
    `hubspot_installs:${accountId}:${livemode ? 'live' : 'test'}:${which}`;
  const cacheKey = (i: { accountId: string | null; livemode: boolean }) => `${i.accountId}:${i.livemode}`;

  const privatePortalId = (): Promise<number> => {
    const app = options.privateApp!;
    if (app.portalId) return Promise.resolve(app.portalId);
    privatePortal ??= getAccountDetails({ apiBaseUrl }, app.accessToken).then(
      (d) => d.portalId,
      (err: unknown) => {
        privatePortal = null;
        throw asHubSpotError(err, 'account.details');
      },
    );
    return privatePortal;
  };

  const oauthConfig = (): OAuthAppConfig => {
    if (!options.oauth) throw new Error('HubSpot OAuth app is not configured (client id and secret)');
    return options.oauth;
  };

  /** Refreshes under way in this process, per install. */
  const refreshing = new Map<string, Promise<string>>();

  /**
   * The refresh itself. The row is leased (refresh_lease_until, committed at once), HubSpot is called outside any
   * transaction (up to 15 s: a row lock held that long would stall every other statement of the embedded
   * database's one connection, webhook ingest included), then the new token is stored and the lease ended. An
   * instance that finds the row leased waits for the lease to end and uses the token stored by its holder, so
   * concurrent instances still refresh once; a lease whose holder died expires.
   */
  async function refreshLeased(db: Db, install: Install, opts: { forceRefresh?: boolean; rejected?: string }, known: SealedAccess | undefined): Promise<string> {
    const accountId = install.accountId!;
    const key = [accountId, install.livemode] as const;
    const giveUpAt = Date.now() + REFRESH_LEASE_MS + 5_000;
    for (;;) {
      const r = await db.query<Row & { leased: boolean }>(
        `SELECT ${COLUMNS}, COALESCE(refresh_lease_until > now(), false) AS leased
           FROM hubspot_installs WHERE stripe_account_id = $1 AND livemode = $2`,
        [...key],
      );
      const row = r.rows[0];
      if (!row || row.disconnected_at !== null) {
        throw new PermanentHubSpotError({
          status: 401,
          category: 'INSTALL_DISCONNECTED',
          message: 'The HubSpot connection of this account was disconnected',
          operation: 'oauth.refresh',
        });
      }
      const current = cipher.decrypt(row.access_token_enc, ctx(accountId, install.livemode, 'access'));
      const stored = sealedAccess(row);
      // Another instance may have refreshed meanwhile.
      const fresh = opts.forceRefresh
        ? opts.rejected !== undefined && current !== opts.rejected
        : row.access_token_enc !== known?.sealed || !due(stored);
      if (fresh) {
        latest.set(cacheKey(install), stored);
        return current;
      }
      if (!row.refresh_token_enc) throw new Error('OAuth install without a refresh token');
      if (Date.now() > giveUpAt) {
        throw new RetryableHubSpotError({
          reason: 'server',
          message: 'Another instance is still refreshing the HubSpot token',
          operation: 'oauth.refresh',
          attempts: 0,
        });
      }
      if (row.leased) {
        await new Promise((resolve) => setTimeout(resolve, LEASE_POLL_MS));
        continue;
      }
      // Take the lease only while the row still holds the token judged above (else read again).
      const lease = randomUUID();
      const took = await db.query(
        `UPDATE hubspot_installs SET refresh_lease_until = now() + make_interval(secs => $5::double precision / 1000),
                refresh_lease_token = $3
          WHERE stripe_account_id = $1 AND livemode = $2 AND disconnected_at IS NULL AND access_token_enc = $4
            AND (refresh_lease_until IS NULL OR refresh_lease_until <= now())`,
        [...key, lease, row.access_token_enc, REFRESH_LEASE_MS],
      );
      if (took.rowCount === 0) continue;

      const refreshToken = cipher.decrypt(row.refresh_token_enc, ctx(accountId, install.livemode, 'refresh'));
      let tokens: TokenSet;
      try {
        tokens = await refreshAccessToken(oauthConfig(), refreshToken);
      } catch (err) {
        await db
          .query(
            `UPDATE hubspot_installs SET refresh_lease_until = NULL, refresh_lease_token = NULL
              WHERE stripe_account_id = $1 AND livemode = $2 AND refresh_lease_token = $3`,
            [...key, lease],
          )
          .catch(() => undefined); // it expires anyway
        throw refreshFailure(err);
      }
      const sealed = cipher.encrypt(tokens.accessToken, ctx(accountId, install.livemode, 'access'));
      const refreshSealed =
        tokens.refreshToken === refreshToken
          ? row.refresh_token_enc
          : cipher.encrypt(tokens.refreshToken, ctx(accountId, install.livemode, 'refresh'));
      const saved = await db.query<{ updated_at: Date | string }>(
        `UPDATE hubspot_installs SET access_token_enc = $4, refresh_token_enc = $5, expires_at = $6, updated_at = now(),
                refresh_lease_until = NULL, refresh_lease_token = NULL
          WHERE stripe_account_id = $1 AND livemode = $2 AND refresh_lease_token = $3 AND disconnected_at IS NULL
            AND refresh_token_enc = $7
          RETURNING updated_at`,
        [...key, lease, sealed, refreshSealed, tokens.expiresAt, row.refresh_token_enc],
      );
      // The lease was lost (it expired and another instance refreshed, or the connection was replaced or
      // disconnected): what the row holds now decides.
      if (saved.rowCount === 0) continue;
      const expiresAtMs = tokens.expiresAt.getTime();
      latest.set(cacheKey(install), {
        sealed,
        expiresAtMs,
        lifetimeMs: expiresAtMs - Date.now(),
        savedAtMs: new Date(saved.rows[0]!.updated_at).getTime(),
      });
      return tokens.accessToken;
    }
  }

  const registry: InstallRegistry = {
    async resolveInstall(db, key) {
      if (key.accountId === null) {
        if (!options.privateApp || !privateModes.has(key.livemode ? 'live' : 'test')) return null;
        return {
          accountId: null,
          livemode: key.livemode,
          portalId: await privatePortalId(),
          hubDomain: null,
          kind: 'private_app',
          scopes: [],
          expiresAt: null,
          createdAt: null,
          updatedAt: null,
        };
      }
      const r = await db.query<Row>(
        `SELECT ${COLUMNS} FROM hubspot_installs
          WHERE stripe_account_id = $1 AND livemode = $2 AND disconnected_at IS NULL`,
        [key.accountId, key.livemode],
      );
      return r.rows[0] ? toInstall(r.rows[0]) : null;
    },

    async connectOAuth(db, args) {
      const config = oauthConfig();
      const tokens = await exchangeCode(config, args).catch((e: unknown) => {
        throw asHubSpotError(e, 'oauth.exchange');
      });
      const info = await getAccessTokenInfo(config, tokens.accessToken).catch((e: unknown) => {
        throw asHubSpotError(e, 'oauth.token_info');
      });
      return registry.saveOAuthInstall(db, args, tokens, info);
    },

    async saveOAuthInstall(db, key, tokens, info) {
      const r = await db.query<Row>(
        `INSERT INTO hubspot_installs (stripe_account_id, livemode, portal_id, hub_domain, kind, access_token_enc,
           refresh_token_enc, expires_at, scopes)
         VALUES ($1, $2, $3, $4, 'oauth', $5, $6, $7, $8)
         ON CONFLICT (stripe_account_id, livemode) DO UPDATE SET
           portal_id = EXCLUDED.portal_id, hub_domain = EXCLUDED.hub_domain, kind = 'oauth',
           access_token_enc = EXCLUDED.access_token_enc, refresh_token_enc = EXCLUDED.refresh_token_enc,
           expires_at = EXCLUDED.expires_at, scopes = EXCLUDED.scopes, updated_at = now(), disconnected_at = NULL
         RETURNING ${COLUMNS}`,
        [
          key.accountId,
          key.livemode,
          info.portalId,
          info.hubDomain,
          cipher.encrypt(tokens.accessToken, ctx(key.accountId, key.livemode, 'access')),
          cipher.encrypt(tokens.refreshToken, ctx(key.accountId, key.livemode, 'refresh')),
          tokens.expiresAt,
          info.scopes,
        ],
      );
      latest.delete(cacheKey(key));
      return toInstall(r.rows[0]!);
    },

    async disconnect(db, key, opts = {}) {
      const refresh = await db.transaction(async (tx) => {
        const r = await tx.query<Pick<Row, 'refresh_token_enc'>>(
          `SELECT refresh_token_enc FROM hubspot_installs
            WHERE stripe_account_id = $1 AND livemode = $2 AND disconnected_at IS NULL FOR UPDATE`,
          [key.accountId, key.livemode],
        );
        if (!r.rows[0]) return undefined;
        await tx.query(
          `UPDATE hubspot_installs SET disconnected_at = now(), updated_at = now(), access_token_enc = '',
             refresh_token_enc = NULL, expires_at = NULL
           WHERE stripe_account_id = $1 AND livemode = $2`,
          [key.accountId, key.livemode],
        );
        return r.rows[0].refresh_token_enc;
      });
      latest.delete(cacheKey(key));
      if (refresh === undefined) return false;
      if (refresh && opts.revoke !== false && options.oauth) {
        const token = cipher.decrypt(refresh, ctx(key.accountId, key.livemode, 'refresh'));
        await revokeRefreshToken(options.oauth, token).catch(() => undefined); // best effort: we forgot it anyway
      }
      return true;
    },

    async getAccessToken(db, install, opts = {}) {
      if (install.kind === 'private_app') {
        if (!options.privateApp) throw new Error('No private-app token configured');
        return options.privateApp.accessToken;
      }
      const accountId = install.accountId!;
      // The newest of the token this process refreshed and the one the install was read with: a connection saved
      // since (reconnected, perhaps to another portal, by another instance) wins over an older refresh.
      const own = sealedOf.get(install);
      const cached = latest.get(cacheKey(install));
      const known = cached && (!own || cached.savedAtMs >= own.savedAtMs) ? cached : own;
      if (!opts.forceRefresh && known && !due(known)) {
        return cipher.decrypt(known.sealed, ctx(accountId, install.livemode, 'access'));
      }
      // One refresh per install in this process; across instances the row's lease decides (refreshLeased).
      const flightKey = cacheKey(install);
      let flight = refreshing.get(flightKey);
      if (!flight) {
        flight = refreshLeased(db, install, opts, known).finally(() => refreshing.delete(flightKey));
        refreshing.set(flightKey, flight);
      }
      return flight;
    },

    portalAuth(db, install) {
      return {
        portalId: install.portalId,
        accessToken: () => registry.getAccessToken(db, install),
        ...(install.kind === 'oauth'
          ? { refreshAfterUnauthorized: (rejected: string) => registry.getAccessToken(db, install, { forceRefresh: true, rejected }) }
          : {}),
      };
    },

    async installsOfPortal(db, portalId) {
      const r = await db.query<Row>(
        `SELECT ${COLUMNS} FROM hubspot_installs WHERE portal_id = $1 AND disconnected_at IS NULL
          ORDER BY stripe_account_id, livemode`,
        [portalId],
      );
      return r.rows.map(toInstall);
    },
  };
  return registry;
}

interface SealedAccess {
  sealed: string;
  expiresAtMs: number;
  /** How long the token was issued for (about 30 minutes at HubSpot). */
  lifetimeMs: number;
  /** The row's updated_at when it held this token. */
  savedAtMs: number;
}

/** The sealed access token an Install was read with (kept off the object so it never gets logged). */
const sealedOf = new WeakMap<Install, SealedAccess>();

function sealedAccess(row: Row): SealedAccess {
  const expiresAtMs = row.expires_at ? new Date(row.expires_at).getTime() : 0;
  const savedAtMs = new Date(row.updated_at).getTime();
  return { sealed: row.access_token_enc, expiresAtMs, lifetimeMs: expiresAtMs - savedAtMs, savedAtMs };
}

function toInstall(row: Row): Install {
  const install: Install = {
    accountId: row.stripe_account_id,
    livemode: row.livemode,
    portalId: Number(row.portal_id),
    hubDomain: row.hub_domain,
    kind: row.kind,
    scopes: row.scopes ?? [],
    expiresAt: row.expires_at ? new Date(row.expires_at) : null,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
  sealedOf.set(install, sealedAccess(row));
  return install;
}

/** Longer than the OAuth call's own timeout (15 s): a live holder always finishes within its lease. */
const REFRESH_LEASE_MS = 30_000;
const LEASE_POLL_MS = 100;

/**
 * A refresh HubSpot refuses (BAD_REFRESH_TOKEN: the app was uninstalled or the grant revoked; bad client
 * credentials) breaks the connection until the merchant reconnects; one HubSpot did not answer is retried.
 */
function refreshFailure(err: unknown): Error {
  if (err instanceof HubSpotOAuthError && !err.retryable) {
    return new ConnectionHubSpotError({
      status: err.status,
      category: err.code,
      message: `HubSpot refused to refresh the access token: ${err.message}`,
      operation: 'oauth.refresh',
      severity: 'broken',
    });
  }
  return asHubSpotError(err, 'oauth.refresh');
}
