import type { Queryable } from './db';
import type { CustomerKey } from './sync-store';

/**
 * The HubSpot card's Refresh reads a customer from the Stripe API (four requests). At most one read per customer
 * per interval, across every instance: the read is claimed in the database first (`card_refreshes`).
 */

export type RefreshClaim = { claimed: true } | { claimed: false; ageSeconds: number };

/**
 * Claims a refresh of `key` unless one was claimed less than `minIntervalSeconds` ago (then answers how long ago).
 * One statement: two claims at once, from any instances, let one through.
 */
export async function claimCardRefresh(db: Queryable, key: CustomerKey, minIntervalSeconds: number): Promise<RefreshClaim> {
  const { rows } = await db.query<{ claimed: boolean; age: string }>(
    `WITH claim AS (
       INSERT INTO card_refreshes AS r (account_key, livemode, customer_id, refreshed_at) VALUES ($1, $2, $3, now())
       ON CONFLICT (account_key, livemode, customer_id) DO UPDATE SET refreshed_at = now()
        WHERE r.refreshed_at <= now() - make_interval(secs => $4)
       RETURNING true AS claimed)
     SELECT true AS claimed, 0 AS age FROM claim
     UNION ALL
     SELECT false, extract(epoch FROM now() - refreshed_at)
       FROM card_refreshes WHERE account_key = $1 AND livemode = $2 AND customer_id = $3 AND NOT EXISTS (SELECT 1 FROM claim)`,
    [key.account, key.livemode, key.customerId, minIntervalSeconds],
  );
  const r = rows[0];
  if (!r || r.claimed) return { claimed: true };
  return { claimed: false, ageSeconds: Math.max(0, Math.floor(Number(r.age))) };
}
