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
  await db.query(
    `UPDATE stripe_events SET status = $2, status_reason = $3, customer_id = COALESCE($4, customer_id),
            customer_version = COALESCE($5, customer_version), processed_at = now()
      WHERE id = $1`,
    [eventId, status, reason, customer?.customerId ?? null, customer?.version ?? null],
  );
}

/** Settles the applied events of a customer that the CRM write of `version` carried. */
export async function settleCustomerEvents(
  db: Queryable,
  key: CustomerKey,
  version: number,
  status: 'synced' | 'failed' | 'skipped',
  reason: string | null,
): Promise<number> {
  const r = await db.query(
    `UPDATE stripe_events SET status = $5, status_reason = $6, processed_at = now()
      WHERE COALESCE(account_id, '') = $1 AND livemode = $2 AND customer_id = $3
        AND status IN ('applied', 'failed') AND customer_version <= $4`,
    [key.account, key.livemode, key.customerId, version, status, reason],
  );
  return r.rowCount;
}
