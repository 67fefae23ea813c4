import type { Queryable } from './db';
import type { ActivityEvent, DeadLetter, EventOutcome } from '@stripe-hubspot-sync/contracts';

/** Inbox status → what the merchant sees. */
const OUTCOME_OF: Record<string, EventOutcome> = {
  received: 'pending',
  applied: 'pending',
  processed: 'synced',
  synced: 'synced',
  skipped: 'skipped',
  failed: 'failed',
  ignored: 'ignored',
};
const STATUSES_OF: Record<EventOutcome, string[]> = {
  pending: ['received', 'applied'],
  synced: ['synced', 'processed'],
  skipped: ['skipped'],
  failed: ['failed'],
  ignored: ['ignored'],
};
export const EVENT_OUTCOMES = Object.keys(STATUSES_OF) as EventOutcome[];

export async function recentEvents(
  db: Queryable,
  account: string,
  livemode: boolean,
  opts: { outcome?: EventOutcome; limit: number; customerId?: string },
): Promise<ActivityEvent[]> {
  const statuses = opts.outcome ? STATUSES_OF[opts.outcome] : Object.keys(OUTCOME_OF);
  const { rows } = await db.query<{
    id: string;
    type: string;
    created: string;
    received_at: Date;
    status: string;
    status_reason: string | null;
    customer_id: string | null;
  }>(
    `SELECT id, type, created, received_at, status, status_reason, customer_id FROM stripe_events
      WHERE COALESCE(account_id, '') = $1 AND livemode = $2 AND status = ANY($3::text[])
        AND ($5::text IS NULL OR customer_id = $5)
      ORDER BY received_at DESC, created DESC LIMIT $4`,
    [account, livemode, statuses, opts.limit, opts.customerId ?? null],
  );
  return rows.map((r) => ({
    id: r.id,
    type: r.type,
    created: Number(r.created),
    receivedAt: new Date(r.received_at).toISOString(),
    outcome: OUTCOME_OF[r.status] ?? 'pending',
    reason: r.status_reason,
    customerId: r.customer_id,
  }));
}

export async function outcomeCounts24h(db: Queryable, account: string, livemode: boolean): Promise<Record<EventOutcome, number>> {
  const { rows } = await db.query<{ status: string; n: string }>(
    `SELECT status, count(*) AS n FROM stripe_events
      WHERE COALESCE(account_id, '') = $1 AND livemode = $2 AND received_at > now() - interval '24 hours'
      GROUP BY status`,
    [account, livemode],
  );
  const counts = Object.fromEntries(EVENT_OUTCOMES.map((o) => [o, 0])) as Record<EventOutcome, number>;
  for (const r of rows) counts[OUTCOME_OF[r.status] ?? 'pending'] += Number(r.n);
  return counts;
}

export async function openDeadLetters(db: Queryable, account: string, livemode: boolean, limit = 100): Promise<DeadLetter[]> {
  const { rows } = await db.query<{
    id: string;
    customer_id: string | null;
    event_id: string | null;
    message: string;
    created_at: Date;
    attempts: number;
  }>(
    `SELECT id, customer_id, event_id, message, created_at, attempts FROM dead_letters
      WHERE account_key = $1 AND livemode = $2 AND replayed_at IS NULL ORDER BY created_at DESC LIMIT $3`,
    [account, livemode, limit],
  );
  return rows.map((r) => ({
    id: String(r.id),
    customerId: r.customer_id,
    eventId: r.event_id,
    message: r.message,
    createdAt: new Date(r.created_at).toISOString(),
    attempts: r.attempts,
  }));
}

/**
 * Replays dead letters: each one's customer is queued for a full write again. Only letters of this account and
 * mode are touched. Answers the customers to push.
 */
export async function replayDeadLetters(
  db: Queryable,
  account: string,
  livemode: boolean,
  ids: string[] | 'all',
): Promise<number> {
  const { rows } = await db.query<{ customer_id: string | null }>(
    `UPDATE dead_letters SET replayed_at = now()
      WHERE account_key = $1 AND livemode = $2 AND replayed_at IS NULL
        AND ($3::boolean OR id = ANY($4::bigint[]))
      RETURNING customer_id`,
    [account, livemode, ids === 'all', ids === 'all' ? [] : ids.filter((i) => /^\d+$/.test(i))],
  );
  const customers = [...new Set(rows.map((r) => r.customer_id).filter((c): c is string => !!c))];
  if (customers.length > 0) {
    await db.query(
      `UPDATE customers SET synced_version = LEAST(synced_version, version - 1), synced_properties = NULL,
              sync_state = 'pending', sync_reason = NULL, attempts = 0, next_attempt_at = NULL, dirty_since = now()
        WHERE account_key = $1 AND livemode = $2 AND customer_id = ANY($3::text[]) AND version > 0`,
      [account, livemode, customers],
    );
    await db.query(
      `UPDATE stripe_events SET status = 'applied', status_reason = 'Replayed'
        WHERE COALESCE(account_id, '') = $1 AND livemode = $2 AND customer_id = ANY($3::text[]) AND status = 'failed'`,
      [account, livemode, customers],
    );
  }
  return rows.length;
}
