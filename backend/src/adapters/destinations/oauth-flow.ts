import { createHash, randomBytes } from 'node:crypto';
import { DESTINATION_LABELS, OAUTH_STATE_PREFIXES, type OAuthDestinationKind } from '@stripe-hubspot-sync/contracts';
import type { Db, Queryable } from '../store/db';
import type { TokenCipher } from '../hubspot/crypto';
import { newPkcePair, type DestinationOAuthClient, type DestinationOAuthTokens } from './oauth';

/**
 * "Connect with …" a destination (Klaviyo, Salesforce, Intercom) from the Stripe App, in two steps:
 *
 * 1. `begin`: the backend makes the state (32 random bytes, prefixed with the kind's OAUTH_STATE_PREFIXES entry so the
 *    app tells it from HubSpot's and from another destination's) and a PKCE pair, records the state's hash bound to
 *    the kind, the account, the mode and the Dashboard user of the verified signature, and to the environment asked
 *    for (Salesforce: production or sandbox, whose login host the code must be exchanged at; Intercom: the
 *    workspace's region us, eu or au, whose API host the code must be exchanged at; both in the state's
 *    `environment` column), with the verifier sealed (TOKEN_ENCRYPTION_KEY, bound to the state's hash), for 10
 *    minutes, and answers the destination's authorize URL with `state`, `code_challenge` and
 *    `code_challenge_method=S256`. The verifier never leaves the backend except to the destination's token endpoint.
 *    Intercom documents no PKCE: its client sends neither challenge nor verifier (the pair is made and unused), so
 *    for Intercom this state alone is the CSRF protection, and a code is useless without our client secret.
 * 2. `complete`: the app posts the code and state the Dashboard handed back. The state must be one we issued for this
 *    kind, unexpired, unused, for this account, mode and user; it is consumed in one statement (of two concurrent
 *    attempts one wins), before anything is exchanged. Then the code is exchanged with the recorded verifier at the
 *    environment recorded with the state (never one the caller names at this step).
 *
 * A code from someone else's authorization (a CSRF link) carries a state we did not issue to this caller, or none,
 * and is refused before anything reaches the destination.
 */

export const DESTINATION_STATE_TTL_SECONDS = 10 * 60;

export type DestinationOAuthRefusal = 'unknown_state' | 'expired_state' | 'used_state';

const MESSAGES: Record<DestinationOAuthRefusal, (label: string) => string> = {
  unknown_state: (l) => `This ${l} authorization was not started by you from this app, for this account and mode. Connect again.`,
  expired_state: (l) => `This ${l} authorization took longer than 10 minutes and expired. Connect again.`,
  used_state: (l) => `This ${l} authorization was already used. Connect again.`,
};

export class DestinationOAuthFlowError extends Error {
  override readonly name = 'DestinationOAuthFlowError';
  constructor(
    readonly reason: DestinationOAuthRefusal,
    kind: OAuthDestinationKind,
  ) {
    super(MESSAGES[reason](DESTINATION_LABELS[kind]));
  }
}

export interface OAuthWho {
  account: string;
  livemode: boolean;
  userId: string;
}

export interface DestinationOAuthFlow {
  /** The authorize URL; `environment` (Salesforce's environment, Intercom's region) is recorded with the state. */
  begin(who: OAuthWho, environment?: string | null): Promise<string>;
  /** The tokens, and the environment the state was issued for (null: the kind has none). */
  complete(args: OAuthWho & { code: string; state: string }): Promise<{ tokens: DestinationOAuthTokens; environment: string | null }>;
}

const hashState = (state: string) => createHash('sha256').update(state, 'utf8').digest('hex');
const sealContext = (stateHash: string) => `destination_oauth_states:${stateHash}`;

export function createDestinationOAuthFlow(options: {
  db: Db;
  cipher: TokenCipher;
  kind: OAuthDestinationKind;
  /** The kind's OAuth client for an environment (null: the kind has none). */
  clientFor(environment: string | null): DestinationOAuthClient;
  redirectUri(livemode: boolean): string;
}): DestinationOAuthFlow {
  const { db, cipher, kind } = options;

  const refusalOf = async (q: Queryable, stateHash: string, who: OAuthWho): Promise<DestinationOAuthRefusal> => {
    const r = await q.query<{ account_key: string; livemode: boolean; user_id: string; used: boolean }>(
      `SELECT account_key, livemode, user_id, used_at IS NOT NULL AS used
         FROM destination_oauth_states WHERE state_hash = $1 AND kind = $2`,
      [stateHash, kind],
    );
    const row = r.rows[0];
    if (!row || row.account_key !== who.account || row.livemode !== who.livemode || row.user_id !== who.userId) return 'unknown_state';
    return row.used ? 'used_state' : 'expired_state';
  };

  return {
    async begin(who, environment = null) {
      const client = options.clientFor(environment);
      await db.query(`DELETE FROM destination_oauth_states WHERE expires_at < now() - interval '1 day'`);
      const state = `${OAUTH_STATE_PREFIXES[kind]}${randomBytes(32).toString('base64url')}`;
      const stateHash = hashState(state);
      const { verifier, challenge } = newPkcePair();
      await db.query(
        `INSERT INTO destination_oauth_states (state_hash, kind, account_key, livemode, user_id, verifier_sealed, environment, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, now() + $8::int * interval '1 second')`,
        [stateHash, kind, who.account, who.livemode, who.userId, cipher.encrypt(verifier, sealContext(stateHash)), environment, DESTINATION_STATE_TTL_SECONDS],
      );
      return client.authorizeUrl({ redirectUri: options.redirectUri(who.livemode), state, challenge });
    },

    async complete({ code, state, ...who }) {
      const stateHash = hashState(state);
      // One statement checks and consumes: of two attempts with one state, one gets the row.
      const consumed = await db.query<{ verifier_sealed: string; environment: string | null }>(
        `UPDATE destination_oauth_states SET used_at = now()
          WHERE state_hash = $1 AND kind = $2 AND account_key = $3 AND livemode = $4 AND user_id = $5
            AND used_at IS NULL AND expires_at > now()
          RETURNING verifier_sealed, environment`,
        [stateHash, kind, who.account, who.livemode, who.userId],
      );
      const row = consumed.rows[0];
      if (row === undefined) throw new DestinationOAuthFlowError(await refusalOf(db, stateHash, who), kind);
      const verifier = cipher.decrypt(row.verifier_sealed, sealContext(stateHash));
      const tokens = await options.clientFor(row.environment).exchangeCode({ code, verifier, redirectUri: options.redirectUri(who.livemode) });
      return { tokens, environment: row.environment };
    },
  };
}
