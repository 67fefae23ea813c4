import type { Db, Queryable } from './db';
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

/** A customer the pusher may lease now (columns of `c`): out of date, not leased, not waiting for a retry, quiet for `settleMs` ($4). */
function claimable(c: string): string {
  return `${c}.version > ${c}.synced_version AND ${c}.status IS NOT NULL
          AND (${c}.claimed_until IS NULL OR ${c}.claimed_until < now())
          AND (${c}.next_attempt_at IS NULL OR ${c}.next_attempt_at <= now())
          AND (${c}.dirty_since IS NULL OR ${c}.dirty_since <= now() - make_interval(secs => $4::double precision / 1000))`;
}

/**
 * Leases up to `limit` out-of-date customers (settled for `settleMs`) to this pusher for `leaseSeconds`.
 * SKIP LOCKED + the lease make several instances share the work; a crashed pusher's lease simply expires.
 * Fair between merchants: customers are taken in turns across (account, mode) — each one's longest-waiting
 * customer, then each one's second, … (live changes before backfill writes) — so one merchant's flood of changed
 * customers never holds back another's: a quiet merchant's change goes in the next pass.
 */
export async function claimDirty(
  db: Queryable,
  opts: {
    limit: number;
    leaseSeconds: number;
    settleMs: number;
    token: string;
    /** Only these merchants (account, mode) (default: all): those whose batch is due now. */
    only?: readonly { account: string; livemode: boolean }[];
  },
): Promise<DirtyCustomer[]> {
  const only = opts.only ?? null;
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
    `WITH ready AS (
       SELECT account_key, livemode, customer_id, (push_priority = 'backfill') AS backfill, dirty_since,
              row_number() OVER (PARTITION BY account_key, livemode ORDER BY (push_priority = 'backfill'), dirty_since NULLS FIRST) AS turn
         FROM customers
        WHERE ${claimable('customers')}
          AND ($5::text[] IS NULL OR EXISTS (SELECT 1 FROM unnest($5::text[], $6::boolean[]) AS x(account_key, livemode)
                                              WHERE x.account_key = customers.account_key AND x.livemode = customers.livemode))),
     picked AS (
       SELECT c.account_key, c.livemode, c.customer_id FROM ready r
         JOIN customers c ON c.account_key = r.account_key AND c.livemode = r.livemode AND c.customer_id = r.customer_id
        WHERE ${claimable('c')}
        ORDER BY r.backfill, r.turn, r.dirty_since NULLS FIRST
        LIMIT $1
        FOR UPDATE OF c SKIP LOCKED)
     UPDATE customers c SET claimed_until = now() + make_interval(secs => $2::double precision), claim_token = $3
       FROM picked
      WHERE c.account_key = picked.account_key AND c.livemode = picked.livemode AND c.customer_id = picked.customer_id
     RETURNING c.account_key, c.livemode, c.customer_id, c.version, c.status, c.synced_status, c.synced_properties, c.attempts,
               c.push_priority`,
    [opts.limit, opts.leaseSeconds, opts.token, opts.settleMs, only && only.map((e) => e.account), only && only.map((e) => e.livemode)],
  );
  return rows.map(dirtyCustomerOf);
}

/** A leased `customers` row (the columns `claimDirty` returns) as the pusher's view of it. */
export function dirtyCustomerOf(r: {
  account_key: string;
  livemode: boolean;
  customer_id: string;
  version: number | string;
  status: DirtyCustomer['status'];
  synced_status: DirtyCustomer['syncedStatus'];
  synced_properties: DirtyCustomer['syncedProperties'];
  attempts: number;
  push_priority: string;
}): DirtyCustomer {
  return {
    key: { account: r.account_key, livemode: r.livemode, customerId: r.customer_id },
    version: Number(r.version),
    status: r.status,
    syncedStatus: r.synced_status,
    syncedProperties: r.synced_properties,
    attempts: r.attempts,
    priority: r.push_priority === 'backfill' ? 'backfill' : 'live',
  };
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

/** HubSpot holds each customer's `version`: record what it received, for a pass's customers in one statement. */
export async function markPushedMany(
  db: Queryable,
  pushed: readonly { c: DirtyCustomer; properties: Record<string, string> }[],
  token: string,
): Promise<void> {
  if (pushed.length === 0) return;
  await db.query(
    `UPDATE customers c SET synced_version = GREATEST(c.synced_version, v.version), synced_properties = v.properties,
            synced_status = v.status, sync_state = CASE WHEN c.version <= v.version THEN 'synced' ELSE 'pending' END,
            sync_reason = NULL, last_synced_at = now(), claimed_until = NULL, claim_token = NULL, attempts = 0,
            next_attempt_at = NULL, waiting_on_portal = NULL
       FROM unnest($1::text[], $2::boolean[], $3::text[], $4::bigint[], $5::jsonb[], $6::jsonb[])
            AS v(account_key, livemode, customer_id, version, properties, status)
      WHERE c.account_key = v.account_key AND c.livemode = v.livemode AND c.customer_id = v.customer_id AND c.claim_token = $7`,
    [
      pushed.map((p) => p.c.key.account),
      pushed.map((p) => p.c.key.livemode),
      pushed.map((p) => p.c.key.customerId),
      pushed.map((p) => p.c.version),
      pushed.map((p) => JSON.stringify(p.properties)),
      pushed.map((p) => JSON.stringify(p.c.status)),
      token,
    ],
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
            claimed_until = NULL, claim_token = NULL, attempts = 0, next_attempt_at = NULL, waiting_on_portal = NULL
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

/** Backoff of a customer's retries: attempt n waits between half and all of min(max, base·2^n). */
export interface RetryBackoff {
  /** Default 1 s. */
  baseMs?: number;
  /** Default 5 minutes. */
  maxMs?: number;
}

/**
 * A retryable failure: release the lease and try again after an exponential, jittered delay. `waitingOnPortal`
 * names the portal when the whole portal failed (outage, limits), so that the portal answering again wakes the
 * customer at once (wakePortal) instead of after its own backoff.
 */
/** Exponential backoff with jitter: half the doubled base plus up to as much again, capped at `maxMs`. */
function retryDelayMs(attempts: number, opts: RetryBackoff): number {
  const max = opts.maxMs ?? 300_000;
  const base = Math.min(max, (opts.baseMs ?? 1000) * 2 ** Math.min(attempts, 16));
  return Math.round(base / 2 + Math.random() * (base / 2));
}

export async function markRetry(
  db: Queryable,
  c: DirtyCustomer,
  token: string,
  reason: string,
  opts: RetryBackoff & { waitingOnPortal?: number | null } = {},
): Promise<void> {
  const delayMs = retryDelayMs(c.attempts, opts);
  await db.query(
    `UPDATE customers SET attempts = attempts + 1, sync_reason = $4, claimed_until = NULL, claim_token = NULL,
            next_attempt_at = now() + make_interval(secs => $5::double precision / 1000), waiting_on_portal = $7
      WHERE ${KEY} AND claim_token = $6`,
    [...keyParams(c.key), reason, delayMs, token, opts.waitingOnPortal ?? null],
  );
}

/**
 * The connection of these customers is refused (paused or broken): release them, their changes kept, until
 * `holdMs` from now — a connection check that succeeds wakes them sooner (wakeConnection). Their attempts are not
 * counted: nothing is wrong with them.
 */
/**
 * The contact holds this version (its properties are recorded, so the next pass sends it nothing) but the records
 * hanging off it (company, deals, tickets, timeline) failed for a reason that may pass: the customer stays out of
 * date and is tried again after the backoff of `markRetry`.
 */
export async function markObjectsRetry(
  db: Queryable,
  c: DirtyCustomer,
  token: string,
  properties: Record<string, string>,
  reason: string,
  opts: RetryBackoff = {},
): Promise<void> {
  const delayMs = retryDelayMs(c.attempts, opts);
  await db.query(
    `UPDATE customers SET synced_properties = $4, synced_status = $5, attempts = attempts + 1, sync_reason = $6,
            claimed_until = NULL, claim_token = NULL, next_attempt_at = now() + make_interval(secs => $7::double precision / 1000),
            waiting_on_portal = NULL
      WHERE ${KEY} AND claim_token = $8`,
    [...keyParams(c.key), JSON.stringify(properties), JSON.stringify(c.status), reason, delayMs, token],
  );
}

export async function holdForConnection(
  db: Queryable,
  customers: readonly DirtyCustomer[],
  token: string,
  reason: string,
  holdMs: number,
): Promise<void> {
  if (customers.length === 0) return;
  await db.query(
    `UPDATE customers c SET sync_reason = $5, claimed_until = NULL, claim_token = NULL, waiting_on_portal = NULL,
            next_attempt_at = now() + make_interval(secs => $6::double precision / 1000)
       FROM unnest($1::text[], $2::boolean[], $3::text[]) AS v(account_key, livemode, customer_id)
      WHERE c.account_key = v.account_key AND c.livemode = v.livemode AND c.customer_id = v.customer_id
        AND c.claim_token = $4`,
    [
      customers.map((c) => c.key.account),
      customers.map((c) => c.key.livemode),
      customers.map((c) => c.key.customerId),
      token,
      reason,
      holdMs,
    ],
  );
}

/**
 * The portal answers again: every customer waiting out its outage is due now. Answers how many were woken. Looks
 * first (an indexed read), so the usual answer — nobody waits — writes nothing.
 */
export async function wakePortal(db: Queryable, portalId: number): Promise<number> {
  const waiting = await db.query('SELECT 1 FROM customers WHERE waiting_on_portal = $1 LIMIT 1', [portalId]);
  if (waiting.rows.length === 0) return 0;
  const r = await db.query(
    `UPDATE customers SET next_attempt_at = NULL, attempts = 0, waiting_on_portal = NULL
      WHERE waiting_on_portal = $1`,
    [portalId],
  );
  return r.rowCount;
}

/** The connection of (account, mode) works again: its customers held or backing off are due now. */
export async function wakeConnection(db: Queryable, account: string, livemode: boolean): Promise<number> {
  const r = await db.query(
    `UPDATE customers SET next_attempt_at = NULL, attempts = 0, waiting_on_portal = NULL
      WHERE account_key = $1 AND livemode = $2 AND version > synced_version AND next_attempt_at IS NOT NULL`,
    [account, livemode],
  );
  return r.rowCount;
}

/**
 * Properties were created in this portal at `createdAt` while customers were linked there: created again after a
 * HubSpot user deleted them (their values went with them), or created at last after HubSpot had refused them
 * (writes went out without them). Every customer linked in the portal before then is written again — only those
 * properties, since they are no longer recorded as synced. Their own changes keep their priority; the rest go at
 * backfill priority. Answers how many customers were queued.
 */
export async function resendProperties(db: Queryable, portalId: number, names: string[], createdAt: Date | null): Promise<number> {
  if (names.length === 0 || !createdAt) return 0;
  const r = await db.query(
    `UPDATE customers c SET synced_properties = c.synced_properties - $2::text[],
            push_priority = CASE WHEN c.version > c.synced_version THEN c.push_priority ELSE 'backfill' END,
            dirty_since = CASE WHEN c.version > c.synced_version THEN c.dirty_since ELSE now() END,
            synced_version = LEAST(c.synced_version, c.version - 1), sync_state = 'pending'
       FROM contact_links l
      WHERE l.portal_id = $1 AND c.account_key = l.account_key AND c.livemode = l.livemode
        AND c.customer_id = l.customer_id AND c.status IS NOT NULL AND c.version > 0 AND l.linked_at < $3`,
    [portalId, names, createdAt],
  );
  return r.rowCount;
}

/**
 * Records properties just created again in a portal by the pass holding `passToken`: the rewrite of the contacts
 * linked there before `createdAt` is owed until `takePropertyResends` queues it. Nothing is recorded when no contact
 * was linked before then (a portal's first provisioning).
 */
export async function owePropertyResends(db: Queryable, portalId: number, names: string[], createdAt: Date, passToken: string): Promise<void> {
  if (names.length === 0) return;
  await db.query(
    `INSERT INTO property_resends AS r (portal_id, name, created_at, pass_token)
     SELECT $1, n, $3, $4 FROM unnest($2::text[]) AS n
      WHERE EXISTS (SELECT 1 FROM contact_links l WHERE l.portal_id = $1 AND l.linked_at < $3)
     ON CONFLICT (portal_id, name) DO UPDATE
        SET created_at = GREATEST(r.created_at, EXCLUDED.created_at), owed_at = now(), pass_token = EXCLUDED.pass_token`,
    [portalId, names, createdAt, passToken],
  );
}

/**
 * Queues the rewrites owed in a portal (see `resendProperties`) and clears them, in one transaction — those whose
 * pass holds no customer any more: it settled them (the creating pass calls this right after), or it stopped and
 * its leases ran out. Rows another caller holds are skipped. One query when nothing is owed. Answers the properties
 * and how many customers were queued.
 */
export async function takePropertyResends(db: Db, portalId: number): Promise<{ properties: string[]; resent: number }> {
  const none = { properties: [], resent: 0 };
  const { rows: owed } = await db.query('SELECT 1 FROM property_resends WHERE portal_id = $1 LIMIT 1', [portalId]);
  if (owed.length === 0) return none;
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ name: string; created_at: Date | string }>(
      `DELETE FROM property_resends WHERE (portal_id, name) IN (
         SELECT r.portal_id, r.name FROM property_resends r
          WHERE r.portal_id = $1
            AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.claim_token = r.pass_token AND c.claimed_until > now())
          FOR UPDATE SKIP LOCKED)
       RETURNING name, created_at`,
      [portalId],
    );
    if (rows.length === 0) return none;
    const latest = new Date(Math.max(...rows.map((r) => new Date(r.created_at).getTime())));
    const properties = rows.map((r) => r.name).sort();
    return { properties, resent: await resendProperties(tx, portalId, properties, latest) };
  });
}

/** Portals with customers waiting out an outage, with one connection (account, mode) that writes to each. */
export async function portalsWithWaitingWork(db: Queryable): Promise<{ portalId: number; account: string; livemode: boolean }[]> {
  const { rows } = await db.query<{ portal_id: string; account_key: string; livemode: boolean }>(
    `SELECT DISTINCT ON (waiting_on_portal) waiting_on_portal AS portal_id, account_key, livemode
       FROM customers WHERE waiting_on_portal IS NOT NULL
      ORDER BY waiting_on_portal`,
  );
  return rows.map((r) => ({ portalId: Number(r.portal_id), account: r.account_key, livemode: r.livemode }));
}

export async function addDeadLetter(
  db: Queryable,
  c: DirtyCustomer,
  portalId: number | null,
  message: string,
  category: string | null,
): Promise<void> {
  // Only while the customer exists: a pass still running when its account was uninstalled (or its data deleted)
  // must not bring a row back.
  await db.query(
    `INSERT INTO dead_letters (account_key, livemode, customer_id, portal_id, category, message)
     SELECT $1::text, $2::boolean, $3::text, $4::bigint, $5::text, $6::text
      WHERE EXISTS (SELECT 1 FROM customers WHERE ${KEY})`,
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
  // Only while the customer exists (as for dead letters): nothing comes back for an uninstalled account.
  await db.query(
    `INSERT INTO contact_links (account_key, livemode, customer_id, portal_id, contact_id, matched_by, matched_email)
     SELECT $1::text, $2::boolean, $3::text, $4::bigint, $5::text, $6::text, $7::text
      WHERE EXISTS (SELECT 1 FROM customers WHERE ${KEY})
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
