import type { Db } from '../adapters/store/db';
import { purgeSettledPayloads } from '../adapters/store/retention';
import type { Logger } from '../logger';
import { EVENTS_QUEUE, type JobQueue } from './job-queue';

/**
 * Every event ends somewhere. The webhook stores an event and enqueues its job in one statement, and the worker
 * marks it on its job's last attempt; but a process can die between two steps of that (or the database can be away
 * when the failure is recorded), leaving an event `received` with no job that will ever run it. The sweeper finds
 * those — older than `stuckMinutes`, with no job waiting, retrying or running — and enqueues a job for each again,
 * once: an event found stuck again after that is marked `failed` (the merchant can replay it), never left waiting.
 *
 * One statement claims the events (row locks, skipping rows another instance holds) and enqueues their jobs, so
 * several instances sweeping at once never enqueue an event twice.
 */

export interface SweepResult {
  /** Events given a new job. */
  requeued: string[];
  /** Events found stuck a second time, now `failed`. */
  failed: string[];
}

export const STUCK_REASON = 'Never processed: no job ran it, even after it was enqueued again. Replay it to try again.';

export async function sweepStuckEvents(db: Db, queue: JobQueue, opts: { stuckMinutes: number; limit?: number }): Promise<SweepResult> {
  const jobs = queue.eventJobsFrom('requeued');
  const p = (n: number) => `$${jobs.params.length + n}`;
  const { rows } = await db.query<{ id: string; requeued: boolean }>(
    `WITH stuck AS (
       SELECT e.id, e.requeued_at FROM stripe_events e
        WHERE e.status = 'received' AND e.received_at < now() - make_interval(mins => ${p(1)}::int)
          AND (e.requeued_at IS NULL OR e.requeued_at < now() - make_interval(mins => ${p(1)}::int))
          AND NOT EXISTS (SELECT 1 FROM pgboss.job j
                           WHERE j.name = '${EVENTS_QUEUE}' AND j.state IN ('created', 'retry', 'active') AND j.data->>'eventId' = e.id)
        ORDER BY e.received_at LIMIT ${p(2)}::int
        FOR UPDATE OF e SKIP LOCKED),
     given_up AS (
       UPDATE stripe_events e SET status = 'failed', status_reason = ${p(3)}::text, processed_at = now()
         FROM stuck s WHERE e.id = s.id AND s.requeued_at IS NOT NULL
       RETURNING e.id),
     requeued AS (
       UPDATE stripe_events e SET requeued_at = now()
         FROM stuck s WHERE e.id = s.id AND s.requeued_at IS NULL
       RETURNING e.id, e.status, e.account_id, e.livemode),
     ${jobs.ctes ? `${jobs.ctes},` : ''}
     new_jobs AS (${jobs.sql})
     SELECT id, true AS requeued FROM requeued UNION ALL SELECT id, false FROM given_up`,
    [...jobs.params, opts.stuckMinutes, opts.limit ?? 1000, STUCK_REASON],
  );
  const result: SweepResult = { requeued: [], failed: [] };
  for (const r of rows) (r.requeued ? result.requeued : result.failed).push(r.id);
  if (result.requeued.length > 0) queue.notifyWorker();
  return result;
}

export interface EventMaintenanceOptions {
  db: Db;
  queue: JobQueue;
  logger: Logger;
  /** STUCK_EVENT_MINUTES: how old a `received` event with no job must be to be swept. */
  stuckMinutes: number;
  /** EVENT_RETENTION_DAYS: payloads of settled events older than this are removed. */
  retentionDays: number;
  /** How often to sweep (default a minute) and to remove old payloads (default an hour). */
  sweepEveryMs?: number;
  purgeEveryMs?: number;
}

/** Schedules the sweeper and the payload retention on this instance (every instance runs them; both are safe so). */
export function startEventMaintenance(opts: EventMaintenanceOptions): void {
  const { db, queue, logger } = opts;
  const sweepEvery = opts.sweepEveryMs ?? 60_000;
  queue.every(
    sweepEvery,
    async () => {
      const r = await sweepStuckEvents(db, queue, { stuckMinutes: opts.stuckMinutes });
      if (r.requeued.length > 0) logger.warn({ eventIds: r.requeued }, 'events left without a job enqueued again');
      if (r.failed.length > 0) logger.error({ eventIds: r.failed }, 'events still unprocessed after being enqueued again: marked failed');
    },
    (err) => logger.warn({ err }, 'event sweep failed; will try again'),
  );
  const purgeEvery = opts.purgeEveryMs ?? 3_600_000;
  queue.every(
    purgeEvery,
    async () => {
      const removed = await purgeSettledPayloads(db, opts.retentionDays);
      if (removed > 0) logger.info({ removed, days: opts.retentionDays }, 'payloads of settled events past retention removed');
    },
    (err) => logger.warn({ err }, 'removing old event payloads failed; will try again'),
    // Soon after start: an instance that was down for a while catches up.
    Math.min(purgeEvery, 60_000),
  );
}
