import type PgBoss from 'pg-boss';
import type { Db } from '../adapters/store/db';
import { loadEvents, markFailed } from '../adapters/store/inbox';
import type { EventProcessor } from '../jobs/types';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { IngestPressure } from '../ingest/pressure';
import type { ApplyBacklog } from './apply-backlog';
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
   * While the webhook route is flooded, the worker waits a bounded moment before each fetch (acknowledgements
   * first) and takes at most `PRESSURE_SLICE` jobs; once the flood passes, it takes full batches again.
   */
  pressure?: IngestPressure;
  /** Told of each fetch, so background work (the destination pusher) can see that events wait to be applied. */
  backlog?: ApplyBacklog;
}

/** The largest batch taken while the webhook route is flooded (one per bounded wait). */
export const PRESSURE_SLICE = 25;

type EventJob = PgBoss.JobWithMetadata<EventJobData>;

/** Jobs whose events failed together, with the error. */
interface Failure {
  jobs: EventJob[];
  err: unknown;
}

/**
 * Runs the events queue: each batch of jobs is loaded from the inbox and handed to the processor at once.
 *
 * When a batch fails, it is split in halves and each half tried again, down to single events (within a quarter of
 * the job expiry), so one event that cannot be processed fails alone instead of failing its neighbours: the jobs of
 * the events that went through complete, the others fail and pg-boss retries them with backoff. On a job's last
 * attempt its event is marked `failed` with the error — whatever failed, loading the event or processing it — so
 * the merchant sees it in the activity drawer and can replay it; pg-boss then moves the job to the dead-letter
 * queue. An event whose marking did not land (the database was away) is found by the sweeper (event-sweeper.ts).
 */
export async function startEventWorker(deps: EventWorkerDeps): Promise<string> {
  const { db, queue, processor, logger, metrics, batchSize, pressure } = deps;
  const expireMs = (deps.expireSeconds ?? 60) * 1000;
  return queue.workSized<EventJobData>(
    EVENTS_QUEUE,
    {
      // While the webhook route is flooded: a bounded wait first, then a small batch, so acknowledgements keep the
      // CPU and the jobs pg-boss ranks first (a quiet merchant's, by priority) are never behind a large batch.
      batchSize: () => (pressure?.busy() ? Math.min(PRESSURE_SLICE, batchSize) : batchSize),
      beforeFetch: async () => {
        if (!pressure?.busy()) return;
        const waited = await pressure.yieldToAcknowledgements(expireMs / 4);
        metrics.workerDeferredSeconds.inc(waited / 1000);
      },
      onFetched: (taken, asked) => deps.backlog?.recordFetch(taken, asked),
      onError: (err) => logger.error({ err }, 'events worker error'),
    },
    async (jobs) => {
      const failures = await runIsolating(jobs, Date.now() + expireMs / 4);
      await settle(jobs, failures);
    },
  );

  /** Tries `jobs` together; on failure, each half alone (until `isolateUntil`). Answers what failed. */
  async function runIsolating(jobs: EventJob[], isolateUntil: number): Promise<Failure[]> {
    const ids = [...new Set(jobs.map((j) => j.data.eventId))];
    try {
      const events = await loadEvents(db, ids);
      if (events.length < ids.length) {
        const found = new Set(events.map((e) => e.id));
        logger.warn({ missing: ids.filter((id) => !found.has(id)) }, 'event jobs without a stored event; completing them');
      }
      if (events.length > 0) await processor.process(events);
      for (const e of events) logger.debug({ eventId: e.id, eventType: e.type, account: e.accountId }, 'event processed');
      return [];
    } catch (err) {
      if (ids.length <= 1 || Date.now() >= isolateUntil) return [{ jobs, err }];
      const first = new Set(ids.slice(0, Math.ceil(ids.length / 2)));
      const a = await runIsolating(
        jobs.filter((j) => first.has(j.data.eventId)),
        isolateUntil,
      );
      const b = await runIsolating(
        jobs.filter((j) => !first.has(j.data.eventId)),
        isolateUntil,
      );
      return [...a, ...b];
    }
  }

  /**
   * Counts the batch's outcomes, marks the events of failed jobs on their last attempt `failed`, and fails those
   * jobs: by throwing when every job failed (pg-boss fails the batch), else one by one (pg-boss then completes the
   * rest).
   */
  async function settle(jobs: EventJob[], failures: Failure[]): Promise<void> {
    const failedJobs = failures.flatMap((f) => f.jobs);
    metrics.jobs.inc({ outcome: 'completed' }, jobs.length - failedJobs.length);
    if (failures.length === 0) return;
    for (const { jobs: group, err } of failures) {
      const last = group.filter((j) => j.retryCount >= j.retryLimit);
      if (group.length > last.length) metrics.jobs.inc({ outcome: 'retried' }, group.length - last.length);
      if (last.length > 0) {
        metrics.jobs.inc({ outcome: 'dead_lettered' }, last.length);
        const attempts = last[0].retryLimit + 1;
        const reason = `Could not be processed (${attempts} ${attempts === 1 ? 'attempt' : 'attempts'}): ${errorMessage(err)}`;
        await markFailed(db, [...new Set(last.map((j) => j.data.eventId))], reason).catch((e: unknown) =>
          logger.error({ err: e }, 'could not mark dead-lettered events failed; the sweeper will find them'),
        );
      }
      logger.warn(
        { eventIds: [...new Set(group.map((j) => j.data.eventId))], err },
        last.length > 0 ? 'event processing failed for the last time' : 'event processing failed; will retry',
      );
    }
    if (failedJobs.length === jobs.length) throw failures[0].err;
    await queue.failJobs(
      EVENTS_QUEUE,
      failedJobs.map((j) => j.id),
      errorMessage(failures[0].err),
    );
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
