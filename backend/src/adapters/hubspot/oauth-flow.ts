import { createHash, timingSafeEqual } from 'node:crypto';
import type { Db, Queryable } from '../store/db';
import type { TokenCipher } from './crypto';
import type { Install, InstallRegistry } from './installs';
import { asHubSpotError, buildInstallUrl, exchangeCode, getAccessTokenInfo, revokeRefreshToken, type OAuthAppConfig } from './oauth';

/**
 * Connecting a HubSpot portal from the Stripe App, in three steps that each need the one before:
 *
 * 1. `begin`: the view brings `{state, challenge}` from the SDK's createOAuthState(). We record the state (a hash)
 *    bound to the account, the mode and the Dashboard user of the verified signature, with the PKCE challenge, for
 *    10 minutes, and answer HubSpot's authorize URL carrying `state`, `code_challenge` and `code_challenge_method=S256`.
 * 2. `complete`: the view posts the code HubSpot sent back with the state and the PKCE verifier. The state must be
 *    one we issued, unexpired, unused, for this account, mode and user; it is consumed in one statement (of two
 *    concurrent attempts one wins). The verifier's S256 must be the recorded challenge. Then the code is exchanged
 *    (sending `code_verifier`) and the authorization is kept as a *pending* connection: nothing is written to HubSpot.
 * 3. `confirm`: the merchant saw which portal it is and what will be sent, and confirms; the pending connection
 *    becomes the connection of (account, mode). `cancel` drops it and revokes its refresh token.
 *
 * A code from someone else's authorization (a CSRF link) carries a state we did not issue to this user, or none,
 * and is refused before anything is exchanged.
 */

export const OAUTH_STATE_TTL_SECONDS = 10 * 60;
export const PENDING_CONFIRM_TTL_SECONDS = 30 * 60;

/** RFC 7636: the verifier is 43–128 unreserved characters; its S256 challenge is 43 base64url characters. */
export const PKCE_VERIFIER_PATTERN = /^[A-Za-z0-9._~-]{43,128}$/;
export const PKCE_CHALLENGE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export type OAuthRefusal =
  /** Not issued by us, or issued to another account, mode or user. */
  | 'unknown_state'
  | 'expired_state'
  | 'used_state'
  /** `begin` with a state already recorded. */
  | 'state_in_use'
  | 'pkce_mismatch'
  /** Confirm/cancel: nothing waits in this mode (none, or it expired). */
  | 'no_pending'
  | 'other_user'
  | 'other_portal';

const MESSAGES: Record<OAuthRefusal, string> = {
  unknown_state: 'This HubSpot authorization was not started by you from this app, for this account and mode. Start the connection again.',
  expired_state: 'This HubSpot authorization took longer than 10 minutes and expired. Start the connection again.',
  used_state: 'This HubSpot authorization was already used. Start the connection again.',
  state_in_use: 'This OAuth state was already used. Start the connection again.',
  pkce_mismatch: 'The authorization does not match the connection this app started (PKCE). Start the connection again.',
  no_pending: 'No HubSpot connection is waiting for confirmation in this mode (it may have expired). Connect again.',
  other_user: 'The HubSpot connection waiting here was started by another user of this account: they confirm it, or you connect again.',
  other_portal: 'The HubSpot portal waiting for confirmation is not the one confirmed. Review it and confirm again.',
};

export class OAuthFlowError extends Error {
  override readonly name = 'OAuthFlowError';
  constructor(readonly reason: OAuthRefusal) {
    super(MESSAGES[reason]);
  }
}

/** An authorization exchanged and waiting for the merchant's confirmation (no tokens: safe to show and log). */
export interface PendingConnection {
  accountKey: string;
  livemode: boolean;
  userId: string;
  portalId: number;
  hubDomain: string | null;
  authorizedBy: string | null;
  scopes: string[];
  confirmBy: Date;
}

interface Who {
  account: string;
  livemode: boolean;
  userId: string;
}

export interface OAuthFlow {
  begin(args: Who & { state: string; challenge: string }): Promise<string>;
  complete(args: Who & { code: string; state: string; verifier: string }): Promise<PendingConnection>;
  pending(account: string, livemode: boolean): Promise<PendingConnection | null>;
  confirm(args: Who & { portalId: number }): Promise<Install>;
  cancel(args: Who): Promise<boolean>;
}

export interface OAuthFlowOptions {
  db: Db;
  installs: InstallRegistry;
  cipher: TokenCipher;
  oauth: OAuthAppConfig;
  redirectUri(livemode: boolean): string;
}

interface PendingRow {
  account_key: string;
  livemode: boolean;
  user_id: string;
  portal_id: string | number;
  hub_domain: string | null;
  authorized_by: string | null;
  scopes: string[] | null;
  access_token_enc: string;
  refresh_token_enc: string;
  token_expires_at: Date | string;
  confirm_by: Date | string;
}

const hashState = (state: string) => createHash('sha256').update(state, 'utf8').digest('hex');

/** base64url(SHA-256(verifier)) compared in constant time with the recorded challenge. */
export function verifierMatches(verifier: string, challenge: string): boolean {
  const actual = Buffer.from(createHash('sha256').update(verifier, 'ascii').digest('base64url'));
  const expected = Buffer.from(challenge);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export function createOAuthFlow(options: OAuthFlowOptions): OAuthFlow {
  const { db, installs, cipher, oauth } = options;
  const sealCtx = (account: string, livemode: boolean, which: 'access' | 'refresh') =>
    `hubspot_pending_connections:${account}:${livemode ? 'live' : 'test'}:${which}`;

  const revokeSealed = async (row: Pick<PendingRow, 'account_key' | 'livemode' | 'refresh_token_enc'>) => {
    const token = cipher.decrypt(row.refresh_token_enc, sealCtx(row.account_key, row.livemode, 'refresh'));
    await revokeRefreshToken(oauth, token).catch(() => undefined); // best effort: we forget it anyway
  };

  /** Drops states long past their expiry and pending connections nobody confirmed (their tokens revoked). */
  const sweep = async () => {
    await db.query(`DELETE FROM hubspot_oauth_states WHERE expires_at < now() - interval '1 day'`);
    const stale = await db.query<PendingRow>(
      'DELETE FROM hubspot_pending_connections WHERE confirm_by < now() RETURNING account_key, livemode, refresh_token_enc',
    );
    await Promise.all(stale.rows.map(revokeSealed));
  };

  /** Why a state could not be consumed by this caller. */
  const refusalOf = async (q: Queryable, stateHash: string, who: Who): Promise<OAuthRefusal> => {
    const r = await q.query<{ account_key: string; livemode: boolean; user_id: string; expired: boolean; used: boolean }>(
      `SELECT account_key, livemode, user_id, expires_at <= now() AS expired, used_at IS NOT NULL AS used
         FROM hubspot_oauth_states WHERE state_hash = $1`,
      [stateHash],
    );
    const row = r.rows[0];
    if (!row || row.account_key !== who.account || row.livemode !== who.livemode || row.user_id !== who.userId) return 'unknown_state';
    return row.used ? 'used_state' : 'expired_state';
  };

  const toPending = (row: PendingRow): PendingConnection => ({
    accountKey: row.account_key,
    livemode: row.livemode,
    userId: row.user_id,
    portalId: Number(row.portal_id),
    hubDomain: row.hub_domain,
    authorizedBy: row.authorized_by,
    scopes: row.scopes ?? [],
    confirmBy: new Date(row.confirm_by),
  });

  const pending = async (account: string, livemode: boolean): Promise<PendingConnection | null> => {
    const r = await db.query<PendingRow>(
      'SELECT * FROM hubspot_pending_connections WHERE account_key = $1 AND livemode = $2 AND confirm_by > now()',
      [account, livemode],
    );
    return r.rows[0] ? toPending(r.rows[0]) : null;
  };

  return {
    pending,

    async begin({ account, livemode, userId, state, challenge }) {
      await sweep();
      const r = await db.query(
        `INSERT INTO hubspot_oauth_states (state_hash, account_key, livemode, user_id, code_challenge, expires_at)
         VALUES ($1, $2, $3, $4, $5, now() + $6::int * interval '1 second')
         ON CONFLICT (state_hash) DO NOTHING`,
        [hashState(state), account, livemode, userId, challenge, OAUTH_STATE_TTL_SECONDS],
      );
      if (r.rowCount !== 1) throw new OAuthFlowError('state_in_use');
      return buildInstallUrl({ clientId: oauth.clientId, redirectUri: options.redirectUri(livemode), state, codeChallenge: challenge });
    },

    async complete(args) {
      const who: Who = { account: args.account, livemode: args.livemode, userId: args.userId };
      const stateHash = hashState(args.state);
      // One statement checks and consumes: of two attempts with one state, one gets the row.
      const consumed = await db.query<{ code_challenge: string }>(
        `UPDATE hubspot_oauth_states SET used_at = now()
          WHERE state_hash = $1 AND account_key = $2 AND livemode = $3 AND user_id = $4
            AND used_at IS NULL AND expires_at > now()
          RETURNING code_challenge`,
        [stateHash, who.account, who.livemode, who.userId],
      );
      const challenge = consumed.rows[0]?.code_challenge;
      if (challenge === undefined) throw new OAuthFlowError(await refusalOf(db, stateHash, who));
      if (!verifierMatches(args.verifier, challenge)) throw new OAuthFlowError('pkce_mismatch');

      const tokens = await exchangeCode(oauth, {
        code: args.code,
        redirectUri: options.redirectUri(args.livemode),
        codeVerifier: args.verifier,
      }).catch((e: unknown) => {
        throw asHubSpotError(e, 'oauth.exchange');
      });
      const info = await getAccessTokenInfo(oauth, tokens.accessToken).catch((e: unknown) => {
        throw asHubSpotError(e, 'oauth.token_info');
      });
      const { replaced, row } = await db.transaction(async (tx) => {
        const old = await tx.query<PendingRow>(
          'DELETE FROM hubspot_pending_connections WHERE account_key = $1 AND livemode = $2 RETURNING account_key, livemode, refresh_token_enc',
          [who.account, who.livemode],
        );
        const inserted = await tx.query<PendingRow>(
          `INSERT INTO hubspot_pending_connections (account_key, livemode, user_id, portal_id, hub_domain, authorized_by, scopes,
             access_token_enc, refresh_token_enc, token_expires_at, confirm_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now() + $11::int * interval '1 second')
           RETURNING *`,
          [
            who.account,
            who.livemode,
            who.userId,
            info.portalId,
            info.hubDomain,
            info.user ?? null,
            info.scopes,
            cipher.encrypt(tokens.accessToken, sealCtx(who.account, who.livemode, 'access')),
            cipher.encrypt(tokens.refreshToken, sealCtx(who.account, who.livemode, 'refresh')),
            tokens.expiresAt,
            PENDING_CONFIRM_TTL_SECONDS,
          ],
        );
        return { replaced: old.rows, row: inserted.rows[0]! };
      });
      await Promise.all(replaced.map(revokeSealed));
      return toPending(row);
    },

    async confirm({ account, livemode, userId, portalId }) {
      return db.transaction(async (tx) => {
        const r = await tx.query<PendingRow & { live: boolean }>(
          `SELECT *, confirm_by > now() AS live FROM hubspot_pending_connections
            WHERE account_key = $1 AND livemode = $2 FOR UPDATE`,
          [account, livemode],
        );
        const row = r.rows[0];
        if (!row || !row.live) throw new OAuthFlowError('no_pending');
        if (row.user_id !== userId) throw new OAuthFlowError('other_user');
        if (Number(row.portal_id) !== portalId) throw new OAuthFlowError('other_portal');
        await tx.query('DELETE FROM hubspot_pending_connections WHERE account_key = $1 AND livemode = $2', [account, livemode]);
        const tokens = {
          accessToken: cipher.decrypt(row.access_token_enc, sealCtx(account, livemode, 'access')),
          refreshToken: cipher.decrypt(row.refresh_token_enc, sealCtx(account, livemode, 'refresh')),
          expiresAt: new Date(row.token_expires_at),
        };
        const info = { portalId, hubDomain: row.hub_domain, scopes: row.scopes ?? [] };
        return installs.saveOAuthInstall(tx, { accountId: account, livemode }, tokens, info);
      });
    },

    async cancel({ account, livemode, userId }) {
      const r = await db.query<PendingRow>(
        `DELETE FROM hubspot_pending_connections WHERE account_key = $1 AND livemode = $2 AND user_id = $3
         RETURNING account_key, livemode, refresh_token_enc`,
        [account, livemode, userId],
      );
      if (r.rows.length === 0) {
        if (await pending(account, livemode)) throw new OAuthFlowError('other_user');
        return false;
      }
      await Promise.all(r.rows.map(revokeSealed));
      return true;
    },
  };
}
