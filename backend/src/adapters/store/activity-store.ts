import type { Queryable } from './db';
import type { ActivityEvent, DeadLetter, EventOutcome, FailedEvent } from '@stripe-hubspot-sync/contracts';
import type { SqlFragment } from '../../queue/job-queue';

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

/**
 * `OUTCOME_OF` in SQL: the outcome of a stripe_events row. The index `stripe_events_account_outcome` (migration
 * 010) is on this very expression, so a filtered page reads only the rows of that outcome, newest first.
 */
export const OUTCOME_SQL = `(CASE status WHEN 'received' THEN 'pending' WHEN 'applied' THEN 'pending' WHEN 'processed' THEN 'synced' ELSE status END)`;

/** A failed event that HubSpot did not refuse: it failed before it reached a customer (no customer version). */
const PROCESSING_FAILED = `status = 'failed' AND customer_version IS NULL`;

export async function recentEvents(
  db: Queryable,
  account: string,
  livemode: boolean,
  opts: { outcome?: EventOutcome; limit: number; customerId?: string },
): Promise<ActivityEvent[]> {
  const { rows } = await db.query<{
    id: string;
    type: string;
    created: string;
    received_at: Date;
    status: string;
    status_reason: string | null;
    customer_id: string | null;
    customer_version: string | null;
  }>(
    `SELECT id, type, created, received_at, status, status_reason, customer_id, customer_version FROM stripe_events
      WHERE COALESCE(account_id, '') = $1 AND livemode = $2 ${opts.outcome ? `AND ${OUTCOME_SQL} = $5` : ''}
        AND ($4::text IS NULL OR customer_id = $4)
      ORDER BY received_at DESC, created DESC LIMIT $3`,
    [account, livemode, opts.limit, opts.customerId ?? null, ...(opts.outcome ? [opts.outcome] : [])],
  );
  return rows.map((r) => ({
    id: r.id,
    type: r.type,
    created: Number(r.created),
    receivedAt: new Date(r.received_at).toISOString(),
    outcome: OUTCOME_OF[r.status] ?? 'pending',
    reason: r.status_reason,
    customerId: r.customer_id,
    ...(r.status === 'failed' ? { failure: r.customer_version === null ? ('processing' as const) : ('hubspot' as const) } : {}),
  }));
}

/** Events of this account and mode that could not be processed, most recently failed first. */
export async function failedEvents(db: Queryable, account: string, livemode: boolean, limit = 100): Promise<FailedEvent[]> {
  const { rows } = await db.query<{
    id: string;
    type: string;
    created: string;
    received_at: Date;
    processed_at: Date | null;
    status_reason: string | null;
    payload_purged_at: Date | null;
  }>(
    `SELECT id, type, created, received_at, processed_at, status_reason, payload_purged_at FROM stripe_events
      WHERE COALESCE(account_id, '') = $1 AND livemode = $2 AND ${OUTCOME_SQL} = 'failed' AND ${PROCESSING_FAILED}
      ORDER BY processed_at DESC NULLS LAST, id LIMIT $3`,
    [account, livemode, limit],
  );
  return rows.map((r) => ({
    id: r.id,
    type: r.type,
    created: Number(r.created),
    receivedAt: new Date(r.received_at).toISOString(),
    failedAt: new Date(r.processed_at ?? r.received_at).toISOString(),
    reason: r.status_reason ?? 'Could not be processed',
    replayable: r.payload_purged_at === null,
  }));
}

/**
 * Processes failed events again (`ids` of this account and mode, or all of them): each goes back to `received`
 * and gets a new job, in one statement (`enqueue`: the queue's job insert reading the CTE `replayed`), so two
 * replays at once enqueue each event once. Events whose payload was removed cannot be replayed. Answers how many.
 */
export async function replayFailedEvents(
  db: Queryable,
  account: string,
  livemode: boolean,
  ids: readonly string[] | 'all',
  enqueue: (source: string) => SqlFragment,
): Promise<number> {
  const jobs = enqueue('replayed');
  const p = (n: number) => `$${jobs.params.length + n}`;
  const { rows } = await db.query<{ id: string }>(
    `WITH replayed AS (
       UPDATE stripe_events SET status = 'received', status_reason = NULL, processed_at = NULL, requeued_at = NULL
        WHERE COALESCE(account_id, '') = ${p(1)}::text AND livemode = ${p(2)}::boolean AND ${PROCESSING_FAILED}
          AND payload_purged_at IS NULL AND (${p(3)}::boolean OR id = ANY(${p(4)}::text[]))
        RETURNING id, status, account_id, livemode),
     ${jobs.ctes ? `${jobs.ctes},` : ''}
     new_jobs AS (${jobs.sql})
     SELECT id FROM replayed`,
    [...jobs.params, account, livemode, ids === 'all', ids === 'all' ? [] : [...ids]],
  );
  return rows.length;
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
