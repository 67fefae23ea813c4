import type PgBoss from 'pg-boss';
import type { Db } from '../adapters/store/db';
import { loadEvents, markFailed } from '../adapters/store/inbox';
import type { EventProcessor } from '../jobs/types';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { IngestPressure } from '../ingest/pressure';
import { EVENTS_QUEUE, type EventJobData, type JobQueue } from './job-queue';

export interface EventWorkerDeps {
  db: Db;
  queue: JobQueue;
  processor: EventProcessor;
  logger: Logger;
  metrics: Metrics;
  batchSize: number;
  /**
   * The queue's job expiry: a batch never spends more than a quarter of it waiting for floods to pass, so its jobs
   * are not taken for a dead worker's while it waits.
   */
  expireSeconds?: number;
  /**
   * While the webhook route is flooded, the worker takes its batch in slices of `PRESSURE_SLICE` jobs and waits a
   * bounded moment before each (acknowledgements first); once the flood passes, the rest of the batch goes at once.
   */
  pressure?: IngestPressure;
}

/** Jobs handled between two waits while the webhook route is flooded. */
export const PRESSURE_SLICE = 25;

/**
 * Runs the events queue: each batch of jobs is loaded from the inbox and handed to the processor at once.
 * A processor error fails the whole batch (pg-boss retries it with backoff); on the last attempt the events are
 * marked `failed` and pg-boss moves the jobs to the dead-letter queue.
 */
export async function startEventWorker(deps: EventWorkerDeps): Promise<string> {
  const { db, queue, processor, logger, metrics, batchSize, pressure } = deps;
  return queue.work<EventJobData>(EVENTS_QUEUE, { batchSize }, async (jobs, workerId) => {
    // A failure in a later slice fails the whole batch and pg-boss retries all of it: applying is idempotent.
    let waitBudgetMs = ((deps.expireSeconds ?? 60) * 1000) / 4;
    for (let done = 0; done < jobs.length; ) {
      if (pressure?.busy() && waitBudgetMs > 0) {
        const waited = await pressure.yieldToAcknowledgements(waitBudgetMs);
        waitBudgetMs -= waited;
        metrics.workerDeferredSeconds.inc(waited / 1000);
      }
      const take = pressure?.busy() ? PRESSURE_SLICE : jobs.length - done;
      await handleBatch(jobs.slice(done, done + take));
      done += take;
    }
    // A full batch means more may be waiting: fetch again at once instead of after the polling interval.
    const id = workerId();
    if (jobs.length >= batchSize && id) queue.boss.notifyWorker(id);
  });

  async function handleBatch(jobs: PgBoss.JobWithMetadata<EventJobData>[]): Promise<void> {
    const ids = [...new Set(jobs.map((j) => j.data.eventId))];
    const events = await loadEvents(db, ids);
    if (events.length < ids.length) {
      const found = new Set(events.map((e) => e.id));
      logger.warn({ missing: ids.filter((id) => !found.has(id)) }, 'event jobs without a stored event; completing them');
    }
    try {
      if (events.length > 0) await processor.process(events);
    } catch (err) {
      const last = jobs.filter((j) => j.retryCount >= j.retryLimit);
      const retried = jobs.length - last.length;
      if (retried > 0) metrics.jobs.inc({ outcome: 'retried' }, retried);
      if (last.length > 0) {
        metrics.jobs.inc({ outcome: 'dead_lettered' }, last.length);
        await markFailed(db, [...new Set(last.map((j) => j.data.eventId))], errorMessage(err)).catch((e: unknown) =>
          logger.error({ err: e }, 'could not mark dead-lettered events failed'),
        );
      }
      for (const e of events) {
        logger.warn(
          { eventId: e.id, eventType: e.type, account: e.accountId, err },
          last.length > 0 ? 'event processing failed for the last time' : 'event processing failed; will retry',
        );
      }
      throw err;
    }
    metrics.jobs.inc({ outcome: 'completed' }, jobs.length);
    for (const e of events) logger.debug({ eventId: e.id, eventType: e.type, account: e.accountId }, 'event processed');
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
