import type { Queryable } from './db';
import type { CustomerKey } from './sync-store';

/**
 * Personal data we stop keeping: the payloads of settled events after the retention period, and everything that
 * names a deleted customer. What replaces a payload is a stub with the event's own columns (id, type, created,
 * mode, account), so the activity log still shows the event and its outcome.
 */

/** The stub that replaces the payload of row `e` of stripe_events. */
export const PAYLOAD_STUB = `jsonb_build_object('id', e.id, 'object', 'event', 'type', e.type, 'created', e.created,
  'livemode', e.livemode, 'account', e.account_id, 'payload_removed', true)`;

/** Inbox statuses after which an event's payload is no longer needed (it will not be applied again). */
export const SETTLED_STATUSES = ['synced', 'processed', 'skipped', 'ignored', 'failed'] as const;

/**
 * Replaces the payloads of settled events received more than `days` ago, at most `batch` rows per statement and
 * `maxBatches` statements per call (several instances may run it at once: rows another one holds are skipped).
 * Answers how many payloads were removed.
 */
export async function purgeSettledPayloads(db: Queryable, days: number, opts: { batch?: number; maxBatches?: number } = {}): Promise<number> {
  const batch = opts.batch ?? 1000;
  let total = 0;
  for (let i = 0; i < (opts.maxBatches ?? 100); i++) {
    const r = await db.query(
      `WITH due AS (
         SELECT id FROM stripe_events
          WHERE payload_purged_at IS NULL AND received_at < now() - make_interval(days => $1) AND status = ANY($2::text[])
          ORDER BY received_at LIMIT $3
          FOR UPDATE SKIP LOCKED)
       UPDATE stripe_events e SET payload = ${PAYLOAD_STUB}, payload_purged_at = now() FROM due WHERE e.id = due.id`,
      [days, SETTLED_STATUSES, batch],
    );
    total += r.rowCount;
    if (r.rowCount < batch) break;
  }
  return total;
}

/**
 * For customers deleted in Stripe (their records already cleared, see domain/personal-data.ts): the payloads of
 * their events that were applied (and of `eventIds`, events just handled for them) are replaced by stubs, and what
 * HubSpot last received from us loses the email and name. One statement each, only when there is something to do.
 */
export async function forgetDeletedCustomers(tx: Queryable, keys: readonly CustomerKey[], eventIds: readonly string[]): Promise<void> {
  if (keys.length === 0 && eventIds.length === 0) return;
  const arrays = [keys.map((k) => k.account), keys.map((k) => k.livemode), keys.map((k) => k.customerId)];
  await tx.query(
    `UPDATE stripe_events e SET payload = ${PAYLOAD_STUB}, payload_purged_at = now()
      WHERE e.payload_purged_at IS NULL AND e.status <> 'received'
        AND (e.id = ANY($4::text[])
          OR (e.customer_id IS NOT NULL AND (COALESCE(e.account_id, ''), e.livemode, e.customer_id) IN
               (SELECT * FROM unnest($1::text[], $2::boolean[], $3::text[]))))`,
    [...arrays, eventIds],
  );
  if (keys.length === 0) return;
  await tx.query(
    `UPDATE customers c SET synced_properties = c.synced_properties - 'email',
            synced_status = c.synced_status || '{"email": null, "name": null}'::jsonb
       FROM unnest($1::text[], $2::boolean[], $3::text[]) AS v(account_key, livemode, customer_id)
      WHERE c.account_key = v.account_key AND c.livemode = v.livemode AND c.customer_id = v.customer_id
        AND (c.synced_properties ? 'email' OR c.synced_status->>'email' IS NOT NULL OR c.synced_status->>'name' IS NOT NULL)`,
    arrays,
  );
}
