import type { ConnectionHealth } from '@stripe-hubspot-sync/contracts';
import type { Queryable } from './db';

/**
 * HubSpot connections that HubSpot refuses (table `hubspot_connection_health`), keyed like the customers they
 * serve: (Stripe account key, mode). No row means healthy. A row is written when a call is refused for the
 * connection (401/403, a refused OAuth refresh), checked again at `next_check_at`, and deleted when a check
 * succeeds or the merchant reconnects; customers held for it are then woken.
 */

export type ConnectionState = 'paused' | 'broken';

export interface ConnectionFailure {
  accountKey: string;
  livemode: boolean;
  portalId: number | null;
  state: ConnectionState;
  code: string | null;
  message: string;
  since: Date;
  checkedAt: Date;
  nextCheckAt: Date;
}

interface Row {
  account_key: string;
  livemode: boolean;
  portal_id: string | number | null;
  state: ConnectionState;
  code: string | null;
  message: string;
  since: Date | string;
  checked_at: Date | string;
  next_check_at: Date | string;
}

function toFailure(r: Row): ConnectionFailure {
  return {
    accountKey: r.account_key,
    livemode: r.livemode,
    portalId: r.portal_id === null ? null : Number(r.portal_id),
    state: r.state,
    code: r.code,
    message: r.message,
    since: new Date(r.since),
    checkedAt: new Date(r.checked_at),
    nextCheckAt: new Date(r.next_check_at),
  };
}

/** Records (or refreshes) a refusal; `since` keeps the first one. The next check is `recheckMs` from now. */
export async function recordConnectionFailure(
  db: Queryable,
  f: { accountKey: string; livemode: boolean; portalId: number | null; state: ConnectionState; code: string | null; message: string },
  recheckMs: number,
): Promise<void> {
  await db.query(
    `INSERT INTO hubspot_connection_health (account_key, livemode, portal_id, state, code, message, next_check_at)
     VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7::double precision / 1000))
     ON CONFLICT (account_key, livemode) DO UPDATE SET
       portal_id = COALESCE(EXCLUDED.portal_id, hubspot_connection_health.portal_id), state = EXCLUDED.state,
       code = EXCLUDED.code, message = EXCLUDED.message, checked_at = now(), next_check_at = EXCLUDED.next_check_at`,
    [f.accountKey, f.livemode, f.portalId, f.state, f.code, f.message.slice(0, 1000), recheckMs],
  );
}

/**
 * The refusal recorded for (account, mode), or null. A refusal older than the connection's credentials (the
 * merchant reconnected, or a token was refreshed since) is stale: it is deleted and null answered, so the next
 * write tries the new credentials.
 */
export async function connectionFailure(db: Queryable, accountKey: string, livemode: boolean): Promise<ConnectionFailure | null> {
  const { rows } = await db.query<Row & { stale: boolean }>(
    `SELECT h.account_key, h.livemode, h.portal_id, h.state, h.code, h.message, h.since, h.checked_at, h.next_check_at,
            COALESCE(i.updated_at > h.checked_at, false) AS stale
       FROM hubspot_connection_health h
       LEFT JOIN hubspot_installs i ON i.stripe_account_id = h.account_key AND i.livemode = h.livemode
      WHERE h.account_key = $1 AND h.livemode = $2`,
    [accountKey, livemode],
  );
  const row = rows[0];
  if (!row) return null;
  if (row.stale) {
    await db.query(
      `DELETE FROM hubspot_connection_health h USING hubspot_installs i
        WHERE h.account_key = $1 AND h.livemode = $2 AND i.stripe_account_id = h.account_key AND i.livemode = h.livemode
          AND i.updated_at > h.checked_at`,
      [accountKey, livemode],
    );
    return null;
  }
  return toFailure(row);
}

/** What the Stripe App shows of a connection's health. */
export async function connectionHealth(db: Queryable, accountKey: string, livemode: boolean, portalId: number): Promise<ConnectionHealth> {
  const [failure, problems, waiting] = await Promise.all([
    connectionFailure(db, accountKey, livemode),
    propertyProblems(db, portalId),
    db.query<{ n: string }>(
      'SELECT count(*) AS n FROM customers WHERE account_key = $1 AND livemode = $2 AND version > synced_version AND status IS NOT NULL',
      [accountKey, livemode],
    ),
  ]);
  return {
    state: failure?.state ?? 'ok',
    code: failure?.code ?? null,
    message: failure?.message ?? null,
    since: failure?.since.toISOString() ?? null,
    waiting: Number(waiting.rows[0]?.n ?? 0),
    propertyProblems: problems.map((p) => ({ property: p.property, message: p.message, since: p.since.toISOString() })),
  };
}

/**
 * Refused connections whose check is due, claimed for `recheckMs` (one instance checks each; if it dies the
 * check is simply due again later).
 */
export async function claimDueChecks(db: Queryable, recheckMs: number, limit = 20): Promise<ConnectionFailure[]> {
  const { rows } = await db.query<Row>(
    `UPDATE hubspot_connection_health h SET next_check_at = now() + make_interval(secs => $1::double precision / 1000)
       FROM (SELECT account_key, livemode FROM hubspot_connection_health WHERE next_check_at <= now()
              ORDER BY next_check_at LIMIT $2 FOR UPDATE SKIP LOCKED) due
      WHERE h.account_key = due.account_key AND h.livemode = due.livemode
     RETURNING h.account_key, h.livemode, h.portal_id, h.state, h.code, h.message, h.since, h.checked_at, h.next_check_at`,
    [recheckMs, limit],
  );
  return rows.map(toFailure);
}

/** The connection works again (a check succeeded, or the merchant reconnected). True when it was refused. */
export async function clearConnectionFailure(db: Queryable, accountKey: string, livemode: boolean): Promise<boolean> {
  const r = await db.query('DELETE FROM hubspot_connection_health WHERE account_key = $1 AND livemode = $2', [accountKey, livemode]);
  return r.rowCount > 0;
}

/** Properties of ours HubSpot would not create in this portal, oldest first. */
export async function propertyProblems(
  db: Queryable,
  portalId: number,
): Promise<{ property: string; category: string | null; message: string; since: Date }[]> {
  const { rows } = await db.query<{ property: string; category: string | null; message: string; since: Date | string }>(
    'SELECT property, category, message, since FROM hubspot_property_problems WHERE portal_id = $1 ORDER BY since, property',
    [portalId],
  );
  return rows.map((r) => ({ property: r.property, category: r.category, message: r.message, since: new Date(r.since) }));
}

/**
 * After a provisioning run: `failed` is what HubSpot refused to create now; every other property of `checked` is
 * in place again. One statement each way; `since` of a lasting problem is kept.
 */
export async function savePropertyProblems(
  db: Queryable,
  portalId: number,
  checked: string[],
  failed: { name: string; category: string | null; message: string }[],
): Promise<void> {
  const failedNames = new Set(failed.map((f) => f.name));
  const fixed = checked.filter((n) => !failedNames.has(n));
  if (fixed.length > 0) {
    await db.query('DELETE FROM hubspot_property_problems WHERE portal_id = $1 AND property = ANY($2::text[])', [portalId, fixed]);
  }
  if (failed.length > 0) {
    await db.query(
      `INSERT INTO hubspot_property_problems (portal_id, property, category, message)
       SELECT $1, f.property, f.category, f.message
         FROM unnest($2::text[], $3::text[], $4::text[]) AS f(property, category, message)
       ON CONFLICT (portal_id, property) DO UPDATE SET category = EXCLUDED.category, message = EXCLUDED.message`,
      [portalId, failed.map((f) => f.name), failed.map((f) => f.category), failed.map((f) => f.message.slice(0, 1000))],
    );
  }
}
