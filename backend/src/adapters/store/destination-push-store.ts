import type { CustomerStatus } from '@stripe-hubspot-sync/contracts';
import type { Queryable } from './db';
import type { ChargeState, InvoiceState, MovementRow } from '../../domain/destinations/events';
import { linkChargesToInvoices } from '../../domain/payment-history';
import type { RecordOf } from '../../domain/records';

/**
 * Push bookkeeping of each destination: which customers are out of date in it (customers.version above what the
 * destination holds), leased to one pusher at a time like HubSpot writes, retried with backoff, refused for good as
 * dead letters (until replayed or until the customer changes again), and which events it already received.
 */

export interface DestinationLease {
  destinationId: string;
  customerId: string;
  version: number;
  status: CustomerStatus;
  externalId: string | null;
  syncedEmail: string | null;
  attempts: number;
  backfill: boolean;
}

/**
 * Leases up to `limit` out-of-date customers of the given destinations for `leaseSeconds`: taken in turns across
 * destinations (each one's longest-waiting customer first, live changes before backfill writes), so a destination
 * or a merchant with a flood never starves another. One upsert statement: a customer never written to the
 * destination gets its row here; a row another pusher holds, or one waiting for a retry, is left alone.
 */
export async function claimDestinationCustomers(
  db: Queryable,
  opts: { destinationIds: readonly string[]; limit: number; leaseSeconds: number; settleMs: number; token: string },
): Promise<DestinationLease[]> {
  if (opts.destinationIds.length === 0) return [];
  const { rows } = await db.query<{
    destination_id: string;
    customer_id: string;
    version: string;
    status: CustomerStatus;
    external_id: string | null;
    synced_email: string | null;
    attempts: number;
    backfill: boolean;
  }>(
    `WITH ready AS (
       SELECT d.id AS destination_id, c.customer_id, c.version, c.status, (c.push_priority = 'backfill') AS backfill,
              row_number() OVER (PARTITION BY d.id ORDER BY (c.push_priority = 'backfill'), c.dirty_since NULLS FIRST, c.customer_id) AS turn
         FROM destinations d
         JOIN customers c ON c.account_key = d.account_key AND c.livemode = d.livemode
         LEFT JOIN destination_customers dc ON dc.destination_id = d.id AND dc.customer_id = c.customer_id
        WHERE d.id = ANY($1::text[]) AND c.status IS NOT NULL
          AND c.version > COALESCE(dc.synced_version, 0)
          AND (dc.dead_version IS NULL OR c.version > dc.dead_version)
          AND (dc.claimed_until IS NULL OR dc.claimed_until < now())
          AND (dc.next_attempt_at IS NULL OR dc.next_attempt_at <= now())
          AND (c.dirty_since IS NULL OR c.dirty_since <= now() - make_interval(secs => $4::double precision / 1000))),
     picked AS (
       SELECT * FROM ready ORDER BY backfill, turn LIMIT $2),
     leased AS (
       INSERT INTO destination_customers AS dc (destination_id, customer_id, claimed_until, claim_token)
       SELECT destination_id, customer_id, now() + make_interval(secs => $3::double precision), $5 FROM picked
       ON CONFLICT (destination_id, customer_id) DO UPDATE
          SET claimed_until = EXCLUDED.claimed_until, claim_token = EXCLUDED.claim_token
        WHERE dc.claimed_until IS NULL OR dc.claimed_until < now()
       RETURNING dc.destination_id, dc.customer_id, dc.external_id, dc.synced_email, dc.attempts)
     SELECT l.destination_id, l.customer_id, p.version, p.status, l.external_id, l.synced_email, l.attempts, p.backfill
       FROM leased l JOIN picked p ON p.destination_id = l.destination_id AND p.customer_id = l.customer_id`,
    [opts.destinationIds, opts.limit, opts.leaseSeconds, opts.settleMs, opts.token],
  );
  return rows.map((r) => ({
    destinationId: r.destination_id,
    customerId: r.customer_id,
    version: Number(r.version),
    status: r.status,
    externalId: r.external_id,
    syncedEmail: r.synced_email,
    attempts: Number(r.attempts),
    backfill: r.backfill,
  }));
}

/** Written: the destination holds `version` (never moves back: a slower pusher's older version is ignored). */
export async function markDestinationSynced(
  db: Queryable,
  token: string,
  done: readonly {
    destinationId: string;
    customerId: string;
    version: number;
    externalId: string | null;
    email: string | null;
    removed?: boolean;
    /** Why nothing was written although nothing is pending (e.g. no email where one is needed), shown to the merchant. */
    note?: string | null;
  }[],
): Promise<void> {
  if (done.length === 0) return;
  await db.query(
    `UPDATE destination_customers dc
        SET synced_version = greatest(dc.synced_version, x.version), external_id = COALESCE(x.external_id, dc.external_id),
            synced_email = CASE WHEN x.note IS NULL THEN x.email ELSE dc.synced_email END,
            synced_at = CASE WHEN x.note IS NULL THEN now() ELSE dc.synced_at END,
            attempts = 0, next_attempt_at = NULL, last_error = x.note,
            dead_version = NULL, dead_at = NULL, removed_at = CASE WHEN x.removed THEN now() ELSE dc.removed_at END,
            claimed_until = CASE WHEN dc.claim_token = $1 THEN NULL ELSE dc.claimed_until END,
            claim_token = CASE WHEN dc.claim_token = $1 THEN NULL ELSE dc.claim_token END
       FROM unnest($2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::boolean[], $8::text[])
            AS x(destination_id, customer_id, version, external_id, email, removed, note)
      WHERE dc.destination_id = x.destination_id AND dc.customer_id = x.customer_id`,
    [
      token,
      done.map((d) => d.destinationId),
      done.map((d) => d.customerId),
      done.map((d) => d.version),
      done.map((d) => d.externalId),
      done.map((d) => d.email),
      done.map((d) => d.removed ?? false),
      done.map((d) => d.note ?? null),
    ],
  );
}

/**
 * Not written this time. `retryInMs`: wait that long (a rate limit's Retry-After doesn't count as an attempt when
 * `countAttempt` is false). `dead`: refused for good at `version` — a dead letter until replayed or changed again.
 */
export async function markDestinationFailed(
  db: Queryable,
  token: string,
  failed: readonly { destinationId: string; customerId: string; version: number; message: string; retryInMs: number; countAttempt: boolean; dead: boolean }[],
): Promise<void> {
  if (failed.length === 0) return;
  await db.query(
    `UPDATE destination_customers dc
        SET attempts = dc.attempts + CASE WHEN x.count_attempt THEN 1 ELSE 0 END,
            next_attempt_at = CASE WHEN x.dead THEN NULL ELSE now() + make_interval(secs => x.retry_ms::double precision / 1000) END,
            last_error = left(x.message, 1000),
            dead_version = CASE WHEN x.dead THEN x.version ELSE dc.dead_version END,
            dead_at = CASE WHEN x.dead THEN now() ELSE dc.dead_at END,
            claimed_until = CASE WHEN dc.claim_token = $1 THEN NULL ELSE dc.claimed_until END,
            claim_token = CASE WHEN dc.claim_token = $1 THEN NULL ELSE dc.claim_token END
       FROM unnest($2::text[], $3::text[], $4::bigint[], $5::text[], $6::bigint[], $7::boolean[], $8::boolean[])
            AS x(destination_id, customer_id, version, message, retry_ms, count_attempt, dead)
      WHERE dc.destination_id = x.destination_id AND dc.customer_id = x.customer_id`,
    [
      token,
      failed.map((f) => f.destinationId),
      failed.map((f) => f.customerId),
      failed.map((f) => f.version),
      failed.map((f) => f.message),
      failed.map((f) => Math.max(0, Math.round(f.retryInMs))),
      failed.map((f) => f.countAttempt),
      failed.map((f) => f.dead),
    ],
  );
}

/** Gives back leases without a verdict (e.g. the destination's key was refused: nothing is counted against them). */
export async function releaseDestinationLeases(db: Queryable, token: string, destinationId: string): Promise<void> {
  await db.query(
    `UPDATE destination_customers SET claimed_until = NULL, claim_token = NULL WHERE destination_id = $1 AND claim_token = $2`,
    [destinationId, token],
  );
}

/** Dead letters written again: all, or these customers. Answers how many. */
export async function replayDestinationDeadLetters(db: Queryable, destinationId: string, customerIds: readonly string[] | 'all'): Promise<number> {
  const r = await db.query(
    `UPDATE destination_customers SET dead_version = NULL, dead_at = NULL, attempts = 0, next_attempt_at = NULL, synced_version = 0
      WHERE destination_id = $1 AND dead_at IS NOT NULL AND ($2::text[] IS NULL OR customer_id = ANY($2::text[]))`,
    [destinationId, customerIds === 'all' ? null : customerIds],
  );
  return r.rowCount;
}

export async function destinationDeadLetters(
  db: Queryable,
  destinationId: string,
  limit = 100,
): Promise<{ customerId: string; message: string; attempts: number; failedAt: string }[]> {
  const { rows } = await db.query<{ customer_id: string; last_error: string | null; attempts: number; dead_at: Date | string }>(
    `SELECT customer_id, last_error, attempts, dead_at FROM destination_customers
      WHERE destination_id = $1 AND dead_at IS NOT NULL ORDER BY dead_at DESC LIMIT $2`,
    [destinationId, limit],
  );
  return rows.map((r) => ({
    customerId: r.customer_id,
    message: r.last_error ?? 'Refused',
    attempts: Number(r.attempts),
    failedAt: new Date(r.dead_at).toISOString(),
  }));
}

export async function recentDestinationWrites(
  db: Queryable,
  destinationId: string,
  limit = 50,
): Promise<{ customerId: string; syncedAt: string; events: number }[]> {
  const { rows } = await db.query<{ customer_id: string; synced_at: Date | string; events: number }>(
    `SELECT dc.customer_id, dc.synced_at,
            (SELECT count(*)::int FROM destination_event_sends s WHERE s.destination_id = dc.destination_id AND s.customer_id = dc.customer_id) AS events
       FROM destination_customers dc
      WHERE dc.destination_id = $1 AND dc.synced_at IS NOT NULL
      ORDER BY dc.synced_at DESC, dc.customer_id LIMIT $2`,
    [destinationId, limit],
  );
  return rows.map((r) => ({ customerId: r.customer_id, syncedAt: new Date(r.synced_at).toISOString(), events: Number(r.events) }));
}

/** The folded state events are computed from, for these customers of one account and mode. */
export async function customersEventState(
  db: Queryable,
  account: string,
  livemode: boolean,
  customerIds: readonly string[],
): Promise<Map<string, { invoices: InvoiceState[]; charges: ChargeState[]; movements: MovementRow[] }>> {
  const out = new Map<string, { invoices: InvoiceState[]; charges: ChargeState[]; movements: MovementRow[] }>();
  for (const id of customerIds) out.set(id, { invoices: [], charges: [], movements: [] });
  if (customerIds.length === 0) return out;
  const objects = await db.query<{ kind: string; object_id: string; customer_id: string; version_event: string; data: Record<string, unknown> }>(
    `SELECT kind, object_id, customer_id, version_event, data FROM stripe_objects
      WHERE account_key = $1 AND livemode = $2 AND customer_id = ANY($3::text[]) AND kind IN ('invoice', 'charge')`,
    [account, livemode, customerIds],
  );
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  const numOrNull = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  // Which invoice each charge paid, as the read model links them (explicit ids, else matching facts): since Stripe's
  // 2025-03-31 API a charge no longer names its invoice, and one payment must stay one "Successfully Paid".
  const records = (kind: 'invoice' | 'charge', customerId: string) =>
    objects.rows
      .filter((o) => o.kind === kind && o.customer_id === customerId)
      .map((o) => ({ kind, objectId: o.object_id, customerId, data: o.data }) as unknown as RecordOf<typeof kind>);
  const paidBy = new Map<string, string>();
  for (const id of customerIds) {
    const links = linkChargesToInvoices(records('charge', id) as RecordOf<'charge'>[], records('invoice', id) as RecordOf<'invoice'>[]);
    for (const [chargeId, invoice] of links) paidBy.set(chargeId, invoice.objectId);
  }
  for (const o of objects.rows) {
    const bucket = out.get(o.customer_id);
    if (!bucket) continue;
    const d = o.data;
    if (o.kind === 'invoice') {
      bucket.invoices.push({
        id: o.object_id,
        status: str(d.status),
        amountDue: num(d.amountDue),
        amountPaid: num(d.amountPaid),
        currency: str(d.currency),
        created: numOrNull(d.created),
        paidAt: numOrNull(d.paidAt),
        number: str(d.number),
        subscriptionId: str(d.subscriptionId),
        eventId: o.version_event,
      });
    } else {
      bucket.charges.push({
        id: o.object_id,
        status: str(d.status),
        amount: num(d.amount),
        currency: str(d.currency),
        created: numOrNull(d.created),
        invoiceId: str(d.invoiceId) ?? paidBy.get(o.object_id) ?? null,
        eventId: o.version_event,
      });
    }
  }
  const movements = await db.query<{
    movement_id: string;
    customer_id: string;
    kind: MovementRow['kind'];
    occurred_at: string;
    currency: string | null;
    amount: string;
    mrr_before: string | null;
    mrr_after: string | null;
    subject_id: string;
    source_event: string;
  }>(
    `SELECT movement_id, customer_id, kind, occurred_at, currency, amount, mrr_before, mrr_after, subject_id, source_event
       FROM revenue_movements
      WHERE account_key = $1 AND livemode = $2 AND customer_id = ANY($3::text[]) AND retracted_at IS NULL`,
    [account, livemode, customerIds],
  );
  for (const m of movements.rows) {
    out.get(m.customer_id)?.movements.push({
      movementId: m.movement_id,
      kind: m.kind,
      occurredAt: Number(m.occurred_at),
      currency: m.currency,
      amount: Number(m.amount),
      mrrBefore: m.mrr_before === null ? null : Number(m.mrr_before),
      mrrAfter: m.mrr_after === null ? null : Number(m.mrr_after),
      subjectId: m.subject_id,
      sourceEvent: m.source_event,
    });
  }
  return out;
}

/** The keys among `keys` the destination already received. */
export async function sentEventKeys(db: Queryable, destinationId: string, keys: readonly string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const { rows } = await db.query<{ event_key: string }>(
    `SELECT event_key FROM destination_event_sends WHERE destination_id = $1 AND event_key = ANY($2::text[])`,
    [destinationId, keys],
  );
  return new Set(rows.map((r) => r.event_key));
}

export async function recordEventsSent(db: Queryable, destinationId: string, sent: readonly { key: string; customerId: string }[]): Promise<void> {
  if (sent.length === 0) return;
  await db.query(
    `INSERT INTO destination_event_sends (destination_id, event_key, customer_id)
     SELECT $1, k, c FROM unnest($2::text[], $3::text[]) AS x(k, c) ON CONFLICT DO NOTHING`,
    [destinationId, sent.map((s) => s.key), sent.map((s) => s.customerId)],
  );
}
