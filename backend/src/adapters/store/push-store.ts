import type { Queryable } from './db';
import type { CustomerKey } from './sync-store';
import type { CustomerStatus } from '@stripe-hubspot-sync/contracts';
import type { MatchedBy } from '../../domain/sync/identity';

/** A customer whose HubSpot contact is out of date, leased to one pusher. */
export interface DirtyCustomer {
  key: CustomerKey;
  version: number;
  status: CustomerStatus;
  syncedStatus: CustomerStatus | null;
  syncedProperties: Record<string, string> | null;
  attempts: number;
  /** `backfill` writes use at most half of the portal's HubSpot budget, so live sync is never starved. */
  priority: 'live' | 'backfill';
}

/**
 * Leases up to `limit` out-of-date customers (settled for `settleMs`) to this pusher for `leaseSeconds`.
 * SKIP LOCKED + the lease make several instances share the work; a crashed pusher's lease simply expires.
 */
export async function claimDirty(
  db: Queryable,
  opts: { limit: number; leaseSeconds: number; settleMs: number; token: string },
): Promise<DirtyCustomer[]> {
  const { rows } = await db.query<{
    account_key: string;
    livemode: boolean;
    customer_id: string;
    version: string;
    status: CustomerStatus;
    synced_status: CustomerStatus | null;
    synced_properties: Record<string, string> | null;
    attempts: number;
    push_priority: string;
  }>(
    `WITH picked AS (
       SELECT account_key, livemode, customer_id FROM customers
        WHERE version > synced_version AND status IS NOT NULL
          AND (claimed_until IS NULL OR claimed_until < now())
          AND (next_attempt_at IS NULL OR next_attempt_at <= now())
          AND (dirty_since IS NULL OR dirty_since <= now() - make_interval(secs => $4::double precision / 1000))
        ORDER BY (push_priority = 'backfill'), dirty_since NULLS FIRST
        LIMIT $1
        FOR UPDATE SKIP LOCKED)
     UPDATE customers c SET claimed_until = now() + make_interval(secs => $2::double precision), claim_token = $3
       FROM picked
      WHERE c.account_key = picked.account_key AND c.livemode = picked.livemode AND c.customer_id = picked.customer_id
     RETURNING c.account_key, c.livemode, c.customer_id, c.version, c.status, c.synced_status, c.synced_properties, c.attempts,
               c.push_priority`,
    [opts.limit, opts.leaseSeconds, opts.token, opts.settleMs],
  );
  return rows.map((r) => ({
    key: { account: r.account_key, livemode: r.livemode, customerId: r.customer_id },
    version: Number(r.version),
    status: r.status,
    syncedStatus: r.synced_status,
    syncedProperties: r.synced_properties,
    attempts: r.attempts,
    priority: r.push_priority === 'backfill' ? 'backfill' : 'live',
  }));
}

/** Extends the lease of every customer this pusher still holds under `token` (a pass that is still running). */
export async function renewClaims(db: Queryable, token: string, leaseSeconds: number): Promise<void> {
  await db.query(
    `UPDATE customers SET claimed_until = now() + make_interval(secs => $2::double precision) WHERE claim_token = $1`,
    [token, leaseSeconds],
  );
}

const KEY = 'account_key = $1 AND livemode = $2 AND customer_id = $3';
const keyParams = (k: CustomerKey) => [k.account, k.livemode, k.customerId];

/** HubSpot holds `version`: record what it received. */
export async function markPushed(
  db: Queryable,
  c: DirtyCustomer,
  token: string,
  properties: Record<string, string>,
): Promise<void> {
  await db.query(
    `UPDATE customers SET synced_version = GREATEST(synced_version, $4), synced_properties = $5, synced_status = $6,
            sync_state = CASE WHEN version <= $4 THEN 'synced' ELSE 'pending' END, sync_reason = NULL,
            last_synced_at = now(), claimed_until = NULL, claim_token = NULL, attempts = 0, next_attempt_at = NULL
      WHERE ${KEY} AND claim_token = $7`,
    [...keyParams(c.key), c.version, JSON.stringify(properties), JSON.stringify(c.status), token],
  );
}

/**
 * Nothing can be written for these customers' versions (no email, no contact, no portal): stop retrying until the
 * next change. One statement for all of them.
 */
export async function markSettled(
  db: Queryable,
  customers: readonly DirtyCustomer[],
  token: string,
  state: 'skipped' | 'failed',
  reason: string,
): Promise<void> {
  if (customers.length === 0) return;
  await db.query(
    `UPDATE customers c SET synced_version = GREATEST(c.synced_version, v.version), sync_state = $5, sync_reason = $6,
            claimed_until = NULL, claim_token = NULL, attempts = 0, next_attempt_at = NULL
       FROM unnest($1::text[], $2::boolean[], $3::text[], $4::bigint[]) AS v(account_key, livemode, customer_id, version)
      WHERE c.account_key = v.account_key AND c.livemode = v.livemode AND c.customer_id = v.customer_id
        AND c.claim_token = $7`,
    [
      customers.map((c) => c.key.account),
      customers.map((c) => c.key.livemode),
      customers.map((c) => c.key.customerId),
      customers.map((c) => c.version),
      state,
      reason,
      token,
    ],
  );
}

/** A retryable failure: release the lease and try again after an exponential, jittered delay. */
export async function markRetry(db: Queryable, c: DirtyCustomer, token: string, reason: string): Promise<void> {
  const base = Math.min(300_000, 1000 * 2 ** Math.min(c.attempts, 8));
  const delayMs = Math.round(base / 2 + Math.random() * (base / 2));
  await db.query(
    `UPDATE customers SET attempts = attempts + 1, sync_reason = $4, claimed_until = NULL, claim_token = NULL,
            next_attempt_at = now() + make_interval(secs => $5::double precision / 1000)
      WHERE ${KEY} AND claim_token = $6`,
    [...keyParams(c.key), reason, delayMs, token],
  );
}

export async function addDeadLetter(
  db: Queryable,
  c: DirtyCustomer,
  portalId: number | null,
  message: string,
  category: string | null,
): Promise<void> {
  await db.query(
    `INSERT INTO dead_letters (account_key, livemode, customer_id, portal_id, category, message)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [...keyParams(c.key), portalId, category, message],
  );
}

/** How a customer is linked to its HubSpot contact (see `domain/sync/identity.ts`). */
export interface ContactLink {
  contactId: string;
  matchedBy: MatchedBy;
  /** For `email` links: the (lower-case) email the contact was matched on. */
  matchedEmail: string | null;
}

export async function linksOf(
  db: Queryable,
  account: string,
  livemode: boolean,
  portalId: number,
  customerIds: string[],
): Promise<Map<string, ContactLink>> {
  if (customerIds.length === 0) return new Map();
  const { rows } = await db.query<{ customer_id: string; contact_id: string; matched_by: MatchedBy; matched_email: string | null }>(
    `SELECT customer_id, contact_id, matched_by, matched_email FROM contact_links
      WHERE account_key = $1 AND livemode = $2 AND portal_id = $3 AND customer_id = ANY($4::text[])`,
    [account, livemode, portalId, customerIds],
  );
  return new Map(rows.map((r) => [r.customer_id, { contactId: r.contact_id, matchedBy: r.matched_by, matchedEmail: r.matched_email }]));
}

/** Links a customer to a contact, recording how (and, for an email match, on which email). */
export async function saveLink(
  db: Queryable,
  key: CustomerKey,
  portalId: number,
  contactId: string,
  matchedBy: MatchedBy,
  matchedEmail: string | null = null,
): Promise<void> {
  await db.query(
    `INSERT INTO contact_links (account_key, livemode, customer_id, portal_id, contact_id, matched_by, matched_email)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (account_key, livemode, customer_id) DO UPDATE
       SET portal_id = EXCLUDED.portal_id, contact_id = EXCLUDED.contact_id, matched_by = EXCLUDED.matched_by,
           matched_email = EXCLUDED.matched_email, linked_at = now()`,
    [...keyParams(key), portalId, contactId, matchedBy, matchedBy === 'email' ? matchedEmail : null],
  );
}

/**
 * Forgets a customer's link; what we wrote went to that contact, so the next contact it is linked to gets
 * everything (`synced_properties` is cleared).
 */
export async function deleteLink(db: Queryable, key: CustomerKey): Promise<void> {
  await db.query(
    `WITH gone AS (DELETE FROM contact_links WHERE ${KEY} RETURNING account_key, livemode, customer_id)
     UPDATE customers c SET synced_properties = NULL
       FROM gone WHERE c.account_key = gone.account_key AND c.livemode = gone.livemode AND c.customer_id = gone.customer_id`,
    keyParams(key),
  );
}
