import type { Queryable } from './db';
import type { CustomerKey } from './sync-store';

/**
 * Inbox statuses after ingestion: `ignored` (type not handled or turned off), `skipped` (nothing to write,
 * with the reason), `applied` (folded into the customer; waiting for the CRM write of `customer_version`),
 * `synced`, `failed` (the CRM refused it; the reason is its message).
 */
export type EventStatus = 'received' | 'ignored' | 'skipped' | 'applied' | 'synced' | 'failed' | 'processed';

export async function markEvent(
  db: Queryable,
  eventId: string,
  status: EventStatus,
  reason: string | null,
  customer?: { customerId: string; version: number },
): Promise<void> {
  await markEvents(db, [{ eventId, status, reason, customer }]);
}

/**
 * Settles the applied events of customers that the CRM write of their versions carried (one statement; each customer
 * up to its own version).
 */
export async function settleCustomerEvents(
  db: Queryable,
  customers: readonly { key: CustomerKey; version: number }[],
  status: 'synced' | 'failed' | 'skipped',
  reason: string | null,
): Promise<number> {
  if (customers.length === 0) return 0;
  const r = await db.query(
    `UPDATE stripe_events e SET status = $5, status_reason = $6, processed_at = now()
       FROM unnest($1::text[], $2::boolean[], $3::text[], $4::bigint[]) AS v(account_key, livemode, customer_id, version)
      WHERE COALESCE(e.account_id, '') = v.account_key AND e.livemode = v.livemode AND e.customer_id = v.customer_id
        AND e.status IN ('applied', 'failed') AND e.customer_version <= v.version`,
    [
      customers.map((c) => c.key.account),
      customers.map((c) => c.key.livemode),
      customers.map((c) => c.key.customerId),
      customers.map((c) => c.version),
      status,
      reason,
    ],
  );
  return r.rowCount;
}

export interface EventOutcomeUpdate {
  eventId: string;
  status: EventStatus;
  reason: string | null;
  customer?: { customerId: string; version: number };
}

/** `markEvent` for many events in one statement (each event at most once). */
export async function markEvents(db: Queryable, outcomes: readonly EventOutcomeUpdate[]): Promise<void> {
  if (outcomes.length === 0) return;
  await db.query(
    `UPDATE stripe_events e SET status = v.status, status_reason = v.reason, customer_id = COALESCE(v.customer_id, e.customer_id),
            customer_version = COALESCE(v.version, e.customer_version), processed_at = now()
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[]) AS v(id, status, reason, customer_id, version)
      WHERE e.id = v.id`,
    [
      outcomes.map((o) => o.eventId),
      outcomes.map((o) => o.status),
      outcomes.map((o) => o.reason),
      outcomes.map((o) => o.customer?.customerId ?? null),
      outcomes.map((o) => o.customer?.version ?? null),
    ],
  );
}
