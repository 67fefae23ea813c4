import PgBoss from 'pg-boss';
import type { Db, Queryable } from '../adapters/store/db';
import type { Logger } from '../logger';
import { bossDb, txBossDb, type TrackedBossDb } from './sql-adapter';

/** The queue of stored Stripe events waiting for the processor; job data `{eventId}`. */
export const EVENTS_QUEUE = 'stripe-events';
/** Where pg-boss moves an event job whose retries are exhausted. */
export const EVENTS_DEAD_LETTER_QUEUE = 'stripe-events-dead';

export interface EventJobData {
  eventId: string;
}

export interface JobQueueOptions {
  /** A job held longer than this (a crashed or hung worker) fails and is retried. */
  expireSeconds: number;
  retryLimit: number;
  /** How often expired jobs are looked for; defaults to half the expiry, at most 30 s. */
  maintenanceIntervalSeconds?: number;
  /** Worker polling interval when not woken by `notifyWorker` (default 2 s). */
  pollingIntervalSeconds?: number;
  /**
   * `notifyWorker` wakes the worker after this delay, once for all the calls meanwhile (default 0: at once).
   * On PGlite every statement is costly and runs on the server's only thread: waking less often lets the
   * worker take fuller batches.
   */
  wakeDelayMs?: number;
}

/**
 * pg-boss 10 on our `Db` (PGlite or PostgreSQL), with the events queue and its dead-letter queue created.
 * `boss` is exposed for other queues and schedules.
 */
export class JobQueue {
  private readonly workers = new Map<string, string>();
  private stopping = false;
  private wakeTimers = new Map<string, NodeJS.Timeout>();

  private constructor(
    readonly boss: PgBoss,
    private readonly sql: TrackedBossDb,
    private readonly db: Db,
    readonly options: Required<JobQueueOptions>,
  ) {}

  static async start(db: Db, opts: JobQueueOptions, logger: Logger): Promise<JobQueue> {
    const options: Required<JobQueueOptions> = {
      maintenanceIntervalSeconds: Math.max(1, Math.min(30, Math.ceil(opts.expireSeconds / 2))),
      pollingIntervalSeconds: 2,
      wakeDelayMs: 0,
      ...opts,
    };
    const sql = bossDb(db);
    const boss = new PgBoss({
      db: sql,
      expireInSeconds: options.expireSeconds,
      retryLimit: options.retryLimit,
      retryBackoff: true,
      maintenanceIntervalSeconds: options.maintenanceIntervalSeconds,
    });
    boss.on('error', (err: Error) => logger.error({ err }, 'queue error'));
    await boss.start();
    const queue = new JobQueue(boss, sql, db, options);
    await queue.ensureQueues();
    if (db.kind === 'pglite') await queue.failOrphanedJobs(logger);
    return queue;
  }

  private async ensureQueues(): Promise<void> {
    const { retryLimit, expireSeconds } = this.options;
    await this.boss.createQueue(EVENTS_DEAD_LETTER_QUEUE, { name: EVENTS_DEAD_LETTER_QUEUE, retentionMinutes: 60 * 24 * 30 });
    const events: PgBoss.Queue = {
      name: EVENTS_QUEUE,
      retryLimit,
      retryBackoff: true,
      retryDelay: 1,
      expireInSeconds: expireSeconds,
      deadLetter: EVENTS_DEAD_LETTER_QUEUE,
    };
    await this.boss.createQueue(EVENTS_QUEUE, events);
    // createQueue keeps an existing queue's options: apply the current configuration.
    await this.boss.updateQueue(EVENTS_QUEUE, events);
  }

  /**
   * PGlite is opened by one process only, so a job still active at start was held by a process that died:
   * fail it now (it is retried) instead of waiting for its expiry.
   */
  private async failOrphanedJobs(logger: Logger): Promise<void> {
    const { rows } = await this.db.query<{ id: string }>(
      `SELECT id FROM pgboss.job WHERE name = $1 AND state = 'active'`,
      [EVENTS_QUEUE],
    );
    if (rows.length === 0) return;
    for (const { id } of rows) {
      await this.boss.fail(EVENTS_QUEUE, id, { message: 'worker stopped while the job was active' });
    }
    logger.warn({ jobs: rows.length }, 'retrying jobs left active by a previous process');
  }

  /** Enqueues one job per event id inside the caller's transaction (committed or rolled back with it). */
  async enqueueEvents(tx: Queryable, eventIds: readonly string[]): Promise<void> {
    if (eventIds.length === 0) return;
    const jobs = eventIds.map((eventId) => ({ name: EVENTS_QUEUE, data: { eventId } satisfies EventJobData }));
    await this.boss.insert(jobs, { db: txBossDb(tx) });
  }

  /** Starts a worker on `name`; answers its id (for `notifyWorker`). */
  async work<T extends object>(
    name: string,
    options: PgBoss.WorkOptions,
    handler: (jobs: PgBoss.JobWithMetadata<T>[], workerId: () => string | undefined) => Promise<void>,
  ): Promise<string> {
    // The handler closure reads the id pg-boss answers once `work` returns.
    const worker: { id?: string } = {};
    const id = await this.boss.work<T>(
      name,
      { pollingIntervalSeconds: this.options.pollingIntervalSeconds, ...options, includeMetadata: true },
      (jobs) => {
        // A fetch that was in flight when `stop` began still hands over jobs: leave them to be retried.
        if (this.stopping) return Promise.reject(new Error('queue stopping'));
        return this.sql.track(handler(jobs, () => worker.id));
      },
    );
    worker.id = id;
    this.workers.set(name, id);
    return id;
  }

  /** Wakes this process's worker of `name` (default: the events queue) so new jobs run without polling delay. */
  notifyWorker(name: string = EVENTS_QUEUE): void {
    const id = this.workers.get(name);
    if (!id || this.stopping) return;
    const delay = this.options.wakeDelayMs;
    if (delay <= 0) return this.boss.notifyWorker(id);
    if (this.wakeTimers.has(name)) return;
    const timer = setTimeout(() => {
      this.wakeTimers.delete(name);
      this.boss.notifyWorker(id);
    }, delay);
    timer.unref();
    this.wakeTimers.set(name, timer);
  }

  /** Jobs of `name` waiting to run (created or retry). */
  depth(name: string = EVENTS_QUEUE): Promise<number> {
    return this.boss.getQueueSize(name);
  }

  /**
   * Stops fetching, waits for the jobs in progress up to `timeoutMs` (then fails them, so they are retried),
   * and waits for pg-boss's last statements. Does not close the database.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    for (const t of this.wakeTimers.values()) clearTimeout(t);
    this.wakeTimers.clear();
    await this.boss.stop({ graceful: true, wait: true, close: false, timeout: timeoutMs });
    await this.sql.idle(5_000);
  }
}
