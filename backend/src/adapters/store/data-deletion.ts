import type { Db, Queryable } from './db';
import type { CustomerKey } from './sync-store';
import { lockAccountExclusively, recordUninstall } from './tombstones';

/**
 * Forgetting data: everything of a Stripe account in one mode (the app was uninstalled), and what we hold of one
 * HubSpot contact (deleted in HubSpot, or deleted for privacy).
 */

/** Rows deleted per table. */
export type DeletionCounts = Record<string, number>;

/** Tables keyed by the account (column) and mode, deleted when the app is uninstalled from that account. */
const ACCOUNT_TABLES: readonly (readonly [table: string, accountColumn: string])[] = [
  ['deleted_contact_links', 'account_key'],
  ['hubspot_installs', 'stripe_account_id'],
  ['sync_settings', 'account_key'],
  ['contact_links', 'account_key'],
  ['crm_companies', 'account_key'],
  ['dead_letters', 'account_key'],
  ['stripe_objects', 'account_key'],
  ['stripe_object_versions', 'account_key'],
  ['revenue_movements', 'account_key'],
  ['customers', 'account_key'],
  ['backfills', 'account_key'],
  ['privacy_suppressions', 'account_key'],
  ['card_refreshes', 'account_key'],
  ['hubspot_oauth_states', 'account_key'],
  ['hubspot_pending_connections', 'account_key'],
  ['hubspot_connection_health', 'account_key'],
  ['ingest_rates', 'account_key'],
  // Klaviyo, Loops, …: their sealed keys, settings, and (by cascade) what each holds of each customer.
  ['destinations', 'account_key'],
  // Unfinished OAuth connections of a destination (their sealed PKCE verifiers).
  ['destination_oauth_states', 'account_key'],
];

/**
 * Deletes, in one transaction, everything we hold of `account` in that mode: the HubSpot connection and its
 * tokens, settings, stored events (except `keepEventId`, the uninstall event itself, which holds no personal
 * data), Stripe objects, the read model, contact links, dead letters, backfills, privacy suppressions, card
 * refresh times, OAuth states, unconfirmed HubSpot connections (their tokens too) and the connection's health. A running backfill of it stops at its next checkpoint (its row is gone). Other accounts and the
 * other mode are untouched.
 *
 * With `uninstall` (the `account.application.deauthorized` event), the same transaction first waits for the
 * appliers of that account that are running (see tombstones.ts) and records the tombstone, so nothing created up
 * to the uninstall comes back; when an install newer than that uninstall was already seen, nothing is deleted and
 * the answer is null.
 */
export async function deleteAccountData(
  db: Db,
  account: string,
  livemode: boolean,
  opts: { keepEventId?: string; uninstall?: { created: number } } = {},
): Promise<DeletionCounts | null> {
  return db.transaction(async (tx) => {
    if (opts.uninstall) {
      await lockAccountExclusively(tx, { account, livemode });
      const holds = await recordUninstall(tx, { account, livemode }, opts.uninstall.created);
      if (!holds) return null;
    }
    const counts: DeletionCounts = {};
    for (const [table, column] of ACCOUNT_TABLES) {
      const r = await tx.query(`DELETE FROM ${table} WHERE ${column} = $1 AND livemode = $2`, [account, livemode]);
      counts[table] = r.rowCount;
    }
    const events = await tx.query(
      `DELETE FROM stripe_events WHERE COALESCE(account_id, '') = $1 AND livemode = $2 AND id IS DISTINCT FROM $3`,
      [account, livemode, opts.keepEventId ?? null],
    );
    counts.stripe_events = events.rowCount;
    return counts;
  });
}

export type ContactDeletionKind = 'deletion' | 'privacy_deletion';

/**
 * A HubSpot contact of `portalId` was deleted. Its links are removed in every account and mode that linked it.
 * - `deletion`: what HubSpot held from us is forgotten (the last written properties and status, the sync
 *   bookkeeping); nothing is written until the customer changes in Stripe again, which matches or creates a
 *   contact afresh. The customer's Stripe facts stay (the Stripe App shows them).
 * - `privacy_deletion` (GDPR): the linked customers' read model, stored Stripe objects, stored events and dead
 *   letters are deleted too, and the customers are suppressed: never written to HubSpot again.
 * Answers the customers that were linked.
 */
export async function forgetContact(db: Db, portalId: number, contactId: string, kind: ContactDeletionKind): Promise<CustomerKey[]> {
  return db.transaction(async (tx) => {
    type KeyRow = { account_key: string; livemode: boolean; customer_id: string };
    const { rows } = await tx.query<KeyRow>(
      `DELETE FROM contact_links WHERE portal_id = $1 AND contact_id = $2 RETURNING account_key, livemode, customer_id`,
      [portalId, contactId],
    );
    if (kind === 'privacy_deletion') {
      // HubSpot also sends `contact.deletion`, in either order: that one may already have removed the link.
      const earlier = await tx.query<KeyRow>(
        `DELETE FROM deleted_contact_links WHERE portal_id = $1 AND contact_id = $2 RETURNING account_key, livemode, customer_id`,
        [portalId, contactId],
      );
      rows.push(...earlier.rows);
    }
    const unique = new Map(rows.map((r) => [`${r.account_key}|${r.livemode}|${r.customer_id}`, r]));
    const keys = [...unique.values()].map((r) => ({ account: r.account_key, livemode: r.livemode, customerId: r.customer_id }));
    for (const key of keys) {
      if (kind === 'deletion') await forgetHubSpotSide(tx, key, portalId, contactId);
      else await forgetCustomer(tx, key, portalId);
    }
    return keys;
  });
}

/** Forgets removed links older than `days` (they only serve a privacy deletion that follows a deletion). */
export async function purgeDeletedContactLinks(db: Queryable, days = 30): Promise<number> {
  const r = await db.query(`DELETE FROM deleted_contact_links WHERE deleted_at < now() - make_interval(days => $1)`, [days]);
  return r.rowCount;
}

const KEY = 'account_key = $1 AND livemode = $2 AND customer_id = $3';
const keyParams = (k: CustomerKey) => [k.account, k.livemode, k.customerId];

async function forgetHubSpotSide(tx: Queryable, key: CustomerKey, portalId: number, contactId: string): Promise<void> {
  await tx.query(
    `INSERT INTO deleted_contact_links (portal_id, contact_id, account_key, livemode, customer_id) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT DO NOTHING`,
    [portalId, contactId, ...keyParams(key)],
  );
  await tx.query(
    `UPDATE customers SET synced_properties = NULL, synced_status = NULL, synced_version = version, last_synced_at = NULL,
            sync_state = 'skipped', sync_reason = 'The linked HubSpot contact was deleted in HubSpot',
            claimed_until = NULL, claim_token = NULL, attempts = 0, next_attempt_at = NULL, dirty_since = NULL
      WHERE ${KEY}`,
    keyParams(key),
  );
}

async function forgetCustomer(tx: Queryable, key: CustomerKey, portalId: number): Promise<void> {
  for (const table of ['customers', 'stripe_objects', 'stripe_object_versions', 'revenue_movements', 'dead_letters', 'card_refreshes']) {
    await tx.query(`DELETE FROM ${table} WHERE ${KEY}`, keyParams(key));
  }
  await tx.query(`DELETE FROM stripe_events WHERE COALESCE(account_id, '') = $1 AND livemode = $2 AND customer_id = $3`, keyParams(key));
  // What the other destinations hold of the customer in our books (its email among it).
  await tx.query(
    `DELETE FROM destination_customers dc USING destinations d
      WHERE d.id = dc.destination_id AND d.account_key = $1 AND d.livemode = $2 AND dc.customer_id = $3`,
    keyParams(key),
  );
  await tx.query(
    `DELETE FROM destination_event_sends s USING destinations d
      WHERE d.id = s.destination_id AND d.account_key = $1 AND d.livemode = $2 AND s.customer_id = $3`,
    keyParams(key),
  );
  await tx.query(
    `INSERT INTO privacy_suppressions (account_key, livemode, customer_id, portal_id) VALUES ($1, $2, $3, $4)
     ON CONFLICT (account_key, livemode, customer_id) DO UPDATE SET portal_id = EXCLUDED.portal_id, created_at = now()`,
    [...keyParams(key), portalId],
  );
}

/** The customers among `customerIds` whose contact was deleted for privacy: the pusher must not write them. */
export async function suppressedCustomers(db: Queryable, account: string, livemode: boolean, customerIds: string[]): Promise<Set<string>> {
  if (customerIds.length === 0) return new Set();
  const { rows } = await db.query<{ customer_id: string }>(
    `SELECT customer_id FROM privacy_suppressions WHERE account_key = $1 AND livemode = $2 AND customer_id = ANY($3::text[])`,
    [account, livemode, customerIds],
  );
  return new Set(rows.map((r) => r.customer_id));
}
