import type { Queryable } from './db';
import type { CustomerKey } from './sync-store';
import { dirtyCustomerOf, type ContactLink, type DirtyCustomer } from './push-store';
import type { CustomerStatus } from '@stripe-hubspot-sync/contracts';

/**
 * A contact's customers are written together: the pusher leases every customer linked to a contact before it
 * writes the contact's roll-up, all or none, so two pushers never write one contact from different snapshots of its
 * customers. Rows are locked in key byte order (as the worker locks them), so a lease never waits in a cycle.
 */

/** A customer leased with the others of its contact. */
export interface LeasedCustomer extends DirtyCustomer {
  /** Its version is not yet in HubSpot (a customer leased only because it shares the contact may be up to date). */
  dirty: boolean;
  lastSyncedAt: Date | null;
}

const keyArrays = (keys: readonly CustomerKey[]) => [keys.map((k) => k.account), keys.map((k) => k.livemode), keys.map((k) => k.customerId)];

/** Every customer (of this account and mode) linked to each of these contacts: contact id → customer id → link. */
export async function linksOfContacts(
  db: Queryable,
  account: string,
  livemode: boolean,
  portalId: number,
  contactIds: readonly string[],
): Promise<Map<string, Map<string, ContactLink>>> {
  const out = new Map<string, Map<string, ContactLink>>();
  if (contactIds.length === 0) return out;
  const { rows } = await db.query<{ customer_id: string; contact_id: string; matched_by: ContactLink['matchedBy']; matched_email: string | null }>(
    `SELECT customer_id, contact_id, matched_by, matched_email FROM contact_links
      WHERE portal_id = $3 AND contact_id = ANY($4::text[]) AND account_key = $1 AND livemode = $2`,
    [account, livemode, portalId, [...contactIds]],
  );
  for (const r of rows) {
    const links = out.get(r.contact_id) ?? new Map<string, ContactLink>();
    links.set(r.customer_id, { contactId: r.contact_id, matchedBy: r.matched_by, matchedEmail: r.matched_email });
    out.set(r.contact_id, links);
  }
  return out;
}

/**
 * Leases every customer of each group to `token` when none of them is leased to another pusher; a group with one
 * customer held elsewhere is left alone whole. Answers the leased groups' customers as they are now (status and
 * version read under the lease), by group id. Links only change under their customer's lease, so links read after
 * this are the leased customers' links for as long as the lease lasts.
 */
export async function leaseGroups(
  db: Queryable,
  token: string,
  leaseSeconds: number,
  groups: readonly { id: string; members: readonly CustomerKey[] }[],
): Promise<Map<string, LeasedCustomer[]>> {
  const out = new Map<string, LeasedCustomer[]>();
  const rows = groups.flatMap((g, grp) => g.members.map((key) => ({ key, grp })));
  if (rows.length === 0) return out;
  const { rows: leased } = await db.query<{
    grp: number;
    account_key: string;
    livemode: boolean;
    customer_id: string;
    version: string;
    synced_version: string;
    status: CustomerStatus | null;
    synced_status: CustomerStatus | null;
    synced_properties: Record<string, string> | null;
    attempts: number;
    push_priority: string;
    last_synced_at: Date | null;
  }>(
    `WITH wanted AS (
       SELECT v.grp, c.account_key, c.livemode, c.customer_id,
              COALESCE(c.claim_token = $5, false) OR c.claimed_until IS NULL OR c.claimed_until < now() AS free
         FROM customers c
         JOIN unnest($1::text[], $2::boolean[], $3::text[], $4::int[]) AS v(account_key, livemode, customer_id, grp)
           ON c.account_key = v.account_key AND c.livemode = v.livemode AND c.customer_id = v.customer_id
        ORDER BY c.account_key COLLATE "C", c.livemode, c.customer_id COLLATE "C"
        FOR UPDATE OF c),
     ok AS (SELECT grp FROM wanted GROUP BY grp HAVING bool_and(free))
     UPDATE customers c SET claimed_until = now() + make_interval(secs => $6::double precision), claim_token = $5
       FROM wanted w JOIN ok ON ok.grp = w.grp
      WHERE c.account_key = w.account_key AND c.livemode = w.livemode AND c.customer_id = w.customer_id
     RETURNING w.grp, c.account_key, c.livemode, c.customer_id, c.version, c.synced_version, c.status, c.synced_status,
               c.synced_properties, c.attempts, c.push_priority, c.last_synced_at`,
    [...keyArrays(rows.map((r) => r.key)), rows.map((r) => r.grp), token, leaseSeconds],
  );
  for (const r of leased) {
    const group = groups[r.grp]!;
    if (!r.status) continue;
    const members = out.get(group.id) ?? [];
    members.push({
      ...dirtyCustomerOf({ ...r, status: r.status }),
      dirty: Number(r.version) > Number(r.synced_version),
      lastSyncedAt: r.last_synced_at ? new Date(r.last_synced_at) : null,
    });
    out.set(group.id, members);
  }
  return out;
}

/** Gives back leases this pusher still holds (nothing else changes). */
export async function releaseLeases(db: Queryable, keys: readonly CustomerKey[], token: string): Promise<void> {
  if (keys.length === 0) return;
  await db.query(
    `UPDATE customers c SET claimed_until = NULL, claim_token = NULL
       FROM unnest($1::text[], $2::boolean[], $3::text[]) AS v(account_key, livemode, customer_id)
      WHERE c.account_key = v.account_key AND c.livemode = v.livemode AND c.customer_id = v.customer_id AND c.claim_token = $4`,
    [...keyArrays(keys), token],
  );
}

/**
 * Another pusher holds a customer of the same contact: give these back to be tried again shortly (a jittered
 * moment, so two pushers that met do not meet again), without counting an attempt.
 */
export async function deferLeases(db: Queryable, keys: readonly CustomerKey[], token: string): Promise<void> {
  if (keys.length === 0) return;
  await db.query(
    `UPDATE customers c SET claimed_until = NULL, claim_token = NULL,
            next_attempt_at = now() + make_interval(secs => (0.2 + random() * 0.8))
       FROM unnest($1::text[], $2::boolean[], $3::text[]) AS v(account_key, livemode, customer_id)
      WHERE c.account_key = v.account_key AND c.livemode = v.livemode AND c.customer_id = v.customer_id AND c.claim_token = $4`,
    [...keyArrays(keys), token],
  );
}

/**
 * These customers no longer belong to their contact (it was deleted, or an email-matched customer's email changed):
 * forget their links and queue them to be matched afresh and written in full.
 */
export async function unlinkAndRequeue(db: Queryable, keys: readonly CustomerKey[], token: string, reason: string): Promise<void> {
  if (keys.length === 0) return;
  await db.query(
    `WITH v AS (SELECT * FROM unnest($1::text[], $2::boolean[], $3::text[]) AS v(account_key, livemode, customer_id)),
     gone AS (DELETE FROM contact_links l USING v
               WHERE l.account_key = v.account_key AND l.livemode = v.livemode AND l.customer_id = v.customer_id)
     UPDATE customers c SET synced_properties = NULL, synced_version = LEAST(c.synced_version, c.version - 1),
            sync_state = 'pending', sync_reason = $5, attempts = 0, next_attempt_at = NULL, dirty_since = now(),
            claimed_until = CASE WHEN c.claim_token = $4 THEN NULL ELSE c.claimed_until END,
            claim_token = CASE WHEN c.claim_token = $4 THEN NULL ELSE c.claim_token END
       FROM v WHERE c.account_key = v.account_key AND c.livemode = v.livemode AND c.customer_id = v.customer_id`,
    [...keyArrays(keys), token, reason],
  );
}
