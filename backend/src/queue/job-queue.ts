import { randomUUID } from 'node:crypto';
import PgBoss from 'pg-boss';
import type { Db } from '../adapters/store/db';
import type { Logger } from '../logger';
import { bossDb, type TrackedBossDb } from './sql-adapter';

/** The queue of stored Stripe events waiting for the processor; job data `{eventId}`. */
export const EVENTS_QUEUE = 'stripe-events';
/** Where pg-boss moves an event job whose retries are exhausted. */
export const EVENTS_DEAD_LETTER_QUEUE = 'stripe-events-dead';

export interface EventJobData {
  eventId: string;
}

/** A statement fragment and its parameters, numbered from the offset it was built for. */
export interface SqlFragment {
  sql: string;
  params: unknown[];
  /** Data-modifying CTEs (`name AS (…)`, comma-separated) the statement places before the one made of `sql`. */
  ctes?: string;
}

/**
 * pg-boss's own job-insert statement with the default parameters it passes (expiry, retention, retries),
 * captured from `boss.insert` at start, so the ingest can enqueue inside its single INSERT statement (see
 * `eventJobsFrom`) exactly as `boss.insert` would.
 */
interface InsertPlan {
  text: string;
  defaults: unknown[];
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

/** A worker whose batch size is decided before each fetch (see `JobQueue.workSized`). */
export interface SizedWorkOptions {
  /** How many jobs the next fetch takes; asked before each fetch. */
  batchSize: () => number;
  /** Awaited before each fetch (a worker that yields to something more urgent waits here, holding no job). */
  beforeFetch?: () => Promise<void>;
  /** Told after each fetch how many jobs it took of the number asked (a full fetch: more are waiting). */
  onFetched?: (taken: number, asked: number) => void;
  /** Polling interval when not woken (default: the queue's). */
  pollingIntervalSeconds?: number;
  /** Called with errors of the loop itself (a fetch or a completion that failed). */
  onError?: (err: unknown) => void;
}

interface SizedLoop {
  wake(): void;
  running: Promise<void>;
  /** The batch being handled, if any: failed at stop when it does not finish in time. */
  inFlight: { ids: string[]; done: Promise<unknown> } | null;
}

/**
 * pg-boss 10 on our `Db` (PGlite or PostgreSQL), with the events queue and its dead-letter queue created.
 * `boss` is exposed for other queues and schedules.
 */
export class JobQueue {
  private readonly workers = new Map<string, string>();
  private stopping = false;
  private readonly tasks = new Set<{ timer: NodeJS.Timeout; running: Promise<void> }>();
  private wakeTimers = new Map<string, NodeJS.Timeout>();
  private readonly jobFragments = new Map<string, SqlFragment>();
  private readonly loops = new Map<string, SizedLoop>();

  private constructor(
    readonly boss: PgBoss,
    private readonly sql: TrackedBossDb,
    private readonly db: Db,
    readonly options: Required<JobQueueOptions>,
    private readonly insertPlan: InsertPlan,
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
    const queue = new JobQueue(boss, sql, db, options, await captureInsertPlan(boss));
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

  /**
   * A data-modifying CTE body that enqueues one events-queue job per row of `source` (a CTE with columns `id`,
   * `status`, `account_id` and `livemode`) whose status is `received` (a handled event), its priority from the
   * (account, mode)'s recent volume (`fairPriorities`): pg-boss's insert statement, fed from `source`
   * instead of a JSON parameter, its own parameters numbered from $1 (the statement's first ones). Lets the ingest
   * store events and enqueue their jobs in one statement (one round trip, atomic without BEGIN/COMMIT). Built once
   * per source.
   */
  eventJobsFrom(source: string): SqlFragment {
    let fragment = this.jobFragments.get(source);
    if (fragment) return fragment;
    if (!/^[a-z_]+$/.test(source)) throw new Error(`not a CTE name: ${source}`);
    const rates = `${source}_rates`;
    const jobs =
      `(SELECT COALESCE(json_agg(json_build_object('name', '${EVENTS_QUEUE}', 'data', json_build_object('eventId', s.id), 'priority', s.priority)), '[]'::json)` +
      ` FROM (${fairPriorities(source, rates)}) s)`;
    const sql = this.insertPlan.text
      .replace(JOBS_PARAM, `json_to_recordset(${jobs})`)
      .replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) - 1}`);
    fragment = { sql, params: this.insertPlan.defaults, ctes: ingestRatesUpsert(source, rates) };
    this.jobFragments.set(source, fragment);
    return fragment;
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

  /**
   * Starts a worker on `name` that decides its batch size before each fetch, unlike pg-boss's own workers (fixed
   * at start): the events worker takes small batches while the webhook route is flooded, so the jobs that pg-boss's
   * fetch ranks first — by priority, then age: a quiet merchant's before a flood's backlog — never wait behind a
   * large batch taken a moment earlier. Jobs are fetched, completed and failed through pg-boss (its statements, its
   * retries and dead letters); the handler failing or outliving the jobs' expiry fails the batch. A full batch is
   * followed by the next fetch at once; otherwise the worker waits the polling interval or a `notifyWorker`.
   */
  async workSized<T extends object>(
    name: string,
    options: SizedWorkOptions,
    handler: (jobs: PgBoss.JobWithMetadata<T>[]) => Promise<void>,
  ): Promise<string> {
    if (this.loops.has(name)) throw new Error(`a worker already runs on ${name}`);
    const id = randomUUID();
    const pollMs = (options.pollingIntervalSeconds ?? this.options.pollingIntervalSeconds) * 1000;
    const onError = options.onError ?? (() => undefined);
    let wakeUp: (() => void) | null = null;
    let woken = false;
    const loop: SizedLoop = {
      wake: () => {
        woken = true;
        wakeUp?.();
      },
      running: Promise.resolve(),
      inFlight: null,
    };
    const runBatch = async (jobs: PgBoss.JobWithMetadata<T>[]) => {
      const ids = jobs.map((j) => j.id);
      const handled = this.sql.track(handler(jobs));
      loop.inFlight = { ids, done: handled.catch(() => undefined) };
      const expireMs = Math.max(...jobs.map((j) => j.expireInSeconds)) * 1000;
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`handler did not finish within the jobs' expiry (${expireMs / 1000} s)`)), expireMs);
      });
      try {
        await Promise.race([handled, expired]);
        await this.boss.complete(name, ids);
      } catch (err) {
        await this.failJobs(name, ids, err instanceof Error ? err.message : String(err)).catch(onError);
      } finally {
        clearTimeout(timer);
        loop.inFlight = null;
      }
    };
    loop.running = (async () => {
      while (!this.stopping) {
        const started = Date.now();
        woken = false;
        let full = false;
        try {
          await options.beforeFetch?.();
          if (this.stopping) break;
          const size = Math.max(1, Math.floor(options.batchSize()));
          const jobs = await this.boss.fetch<T>(name, { batchSize: size, includeMetadata: true });
          options.onFetched?.(jobs.length, size);
          // A fetch that was in flight when `stop` began still hands over jobs: leave them to be retried.
          if (this.stopping && jobs.length > 0) {
            await this.failJobs(name, jobs.map((j) => j.id), 'queue stopping').catch(onError);
            break;
          }
          if (jobs.length > 0) await runBatch(jobs);
          full = jobs.length >= size;
        } catch (err) {
          onError(err);
        }
        const rest = pollMs - (Date.now() - started);
        if (full || woken || this.stopping || rest <= 0) continue;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, rest);
          wakeUp = () => {
            clearTimeout(t);
            resolve();
          };
        });
        wakeUp = null;
      }
    })();
    this.loops.set(name, loop);
    return id;
  }

  /** Wakes this process's worker of `name` (default: the events queue) so new jobs run without polling delay. */
  notifyWorker(name: string = EVENTS_QUEUE): void {
    const loop = this.loops.get(name);
    const id = this.workers.get(name);
    if ((!id && !loop) || this.stopping) return;
    const notify = () => (loop ? loop.wake() : this.boss.notifyWorker(id!));
    const delay = this.options.wakeDelayMs;
    if (delay <= 0) return notify();
    if (this.wakeTimers.has(name)) return;
    const timer = setTimeout(() => {
      this.wakeTimers.delete(name);
      notify();
    }, delay);
    timer.unref();
    this.wakeTimers.set(name, timer);
  }

  /** Fails these jobs of `name` now: pg-boss retries them with backoff, or dead-letters them on their last attempt. */
  async failJobs(name: string, ids: readonly string[], message: string): Promise<void> {
    if (ids.length === 0) return;
    const fail = this.boss.fail as unknown as (this: PgBoss, name: string, ids: string[], data: object) => Promise<void>;
    await fail.call(this.boss, name, [...ids], { message });
  }

  /**
   * Runs `task` every `everyMs` (the first time after `firstMs`), one run at a time, until `stop`, which waits for
   * a run in progress. A failed run is reported to `onError` and the next one runs as planned.
   */
  every(everyMs: number, task: () => Promise<unknown>, onError: (err: unknown) => void, firstMs = everyMs): void {
    if (this.stopping) return;
    const entry = { timer: undefined as unknown as NodeJS.Timeout, running: Promise.resolve() };
    const run = () => {
      if (this.stopping) return;
      entry.running = task().then(
        () => undefined,
        (err: unknown) => onError(err),
      );
      void entry.running.finally(() => {
        if (this.stopping) return;
        entry.timer = setTimeout(run, everyMs);
        entry.timer.unref();
      });
    };
    entry.timer = setTimeout(run, firstMs);
    entry.timer.unref();
    this.tasks.add(entry);
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
    for (const task of this.tasks) clearTimeout(task.timer);
    await Promise.all([...this.tasks].map((t) => t.running));
    this.tasks.clear();
    await this.stopLoops(timeoutMs);
    await this.boss.stop({ graceful: true, wait: true, close: false, timeout: timeoutMs });
    await this.sql.idle(5_000);
  }
  /** Wakes the sized workers, waits for their batches up to `timeoutMs`, then fails what is still running. */
  private async stopLoops(timeoutMs: number): Promise<void> {
    for (const loop of this.loops.values()) loop.wake();
    const all = Promise.all([...this.loops.values()].map((l) => l.running));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      all.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      for (const [name, loop] of this.loops) {
        if (loop.inFlight) await this.failJobs(name, loop.inFlight.ids, 'worker stopped while the job was active').catch(() => undefined);
      }
    }
    this.loops.clear();
  }

}

/** The time constant of each (account, mode)'s recent volume (`ingest_rates.level`), seconds. */
export const FAIRNESS_DECAY_SECONDS = 10;

/**
 * A data-modifying CTE named `rates` that adds the handled events of `source` to their (account, mode)'s row of
 * `ingest_rates` (decayed to now first) and answers the rows: one row per merchant of the statement, locked in key
 * order (two statements never wait for each other in a cycle).
 */
function ingestRatesUpsert(source: string, rates: string): string {
  return (
    `${rates} AS (INSERT INTO ingest_rates AS r (account_key, livemode, level, at)` +
    ` SELECT COALESCE(account_id, ''), livemode, count(*), now() FROM ${source} WHERE status = 'received' GROUP BY 1, 2 ORDER BY 1, 2` +
    ` ON CONFLICT (account_key, livemode) DO UPDATE` +
    ` SET level = r.level * exp(-GREATEST(0, extract(epoch FROM EXCLUDED.at - r.at)) / ${FAIRNESS_DECAY_SECONDS}) + EXCLUDED.level, at = EXCLUDED.at` +
    ` RETURNING account_key, livemode, level)`
  );
}

/**
 * The handled events of `source` (a CTE with columns `id`, `status`, `account_id`, `livemode`) with the priority
 * of their job: `-floor(log2(n))`, where n is the (account, mode)'s recent volume before this statement (its
 * `ingest_rates` level, decayed with a 10-s time constant: about the events of the last
 * 10 s) plus the event's rank among this batch's events of that (account, mode). `rates` is
 * the CTE of `ingestRatesUpsert` (the level after this batch: the batch's count is taken off again). pg-boss takes
 * jobs by `priority DESC, created_on`, so a flooding account's jobs sink below a quiet account's (a first event
 * has priority 0, an account at 5 events/s about -5, a flood of 1,000/s -13) while its own jobs still run whenever
 * no quieter account's job waits: fairness from state in the database, so it holds across instances, read and
 * written once per merchant and statement.
 */
function fairPriorities(source: string, rates: string): string {
  const key = `COALESCE(account_id, '')`;
  return (
    `SELECT e.id, (-floor(log(2::numeric, GREATEST(1, v.level - c.n + e.rank)::numeric)))::int AS priority` +
    ` FROM (SELECT id, ${key} AS k, livemode, row_number() OVER (PARTITION BY ${key}, livemode ORDER BY id) AS rank` +
    ` FROM ${source} WHERE status = 'received') e` +
    ` JOIN (SELECT ${key} AS k, livemode, count(*) AS n FROM ${source} WHERE status = 'received' GROUP BY 1, 2) c` +
    ` ON c.k = e.k AND c.livemode = e.livemode` +
    ` JOIN ${rates} v ON v.account_key = e.k AND v.livemode = e.livemode`
  );
}

/** Where pg-boss's insert statement reads its jobs (its parameter $1, a JSON array). */
const JOBS_PARAM = 'json_to_recordset($1)';

/**
 * Runs `boss.insert([])` against a database stand-in that records the statement and parameters instead of
 * executing them. Refuses to start when the statement no longer has the shape `eventJobsFrom` rewrites (a
 * pg-boss upgrade changed it): jobs as `json_to_recordset($1)`, used once, and defaults as $2….
 */
async function captureInsertPlan(boss: PgBoss): Promise<InsertPlan> {
  let captured: { text: string; values: unknown[] } | undefined;
  const recorder: PgBoss.Db = {
    executeSql: (text: string, values: unknown[]) => {
      captured = { text, values };
      return Promise.resolve({ rows: [] } as never);
    },
  };
  await boss.insert([], { db: recorder });
  const uses = captured ? captured.text.split(JOBS_PARAM).length - 1 : 0;
  const dollarOnes = captured ? (captured.text.match(/\$1(?!\d)/g) ?? []).length : 0;
  if (!captured || uses !== 1 || dollarOnes !== 1 || !Array.isArray(captured.values) || captured.values.length < 1) {
    throw new Error("pg-boss's job insert statement has an unexpected shape: the ingest cannot enqueue in its statement");
  }
  return { text: captured.text, defaults: captured.values.slice(1) };
}
