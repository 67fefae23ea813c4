import type { Application } from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openDb, type Db } from './adapters/store/db';
import { migrate } from './adapters/store/migrate';
import type { Config } from './config';
import { createApp, finishApp } from './http/app';
import { Health } from './http/healthz';
import { createIngestor, type Ingestor, type IngestorOptions } from './ingest/ingestor';
import { IngestPressure } from './ingest/pressure';
import { ApplyBacklog } from './queue/apply-backlog';
import { createDefaultProcessor } from './jobs/default-processor';
import type { EventProcessor } from './jobs/types';
import { createLogger, type Logger } from './logger';
import { createMetrics, type Metrics } from './metrics';
import { startEventWorker } from './queue/event-worker';
import { startEventMaintenance } from './queue/event-sweeper';
import { JobQueue, type JobQueueOptions } from './queue/job-queue';

/** On PGlite the worker is woken at most this often after commits, so it takes fuller batches (see JobQueue). */
const PGLITE_WAKE_DELAY_MS = 200;

/** What `extend` and processor factories get: add routers to `app`, background loops with `onShutdown`. */
export interface ServerContext {
  /** Add routers here (they are mounted before the 404 and error handlers). */
  app: Application;
  config: Config;
  db: Db;
  queue: JobQueue;
  logger: Logger;
  metrics: Metrics;
  /** How flooded the webhook route is: background work yields to acknowledgements while it is busy. */
  pressure: IngestPressure;
  /** Whether this instance's event worker has events waiting: the destination pusher yields to it (bounded). */
  backlog: ApplyBacklog;
  /** Runs `fn` at shutdown, after HTTP stops and before the queue and database close (last registered first). */
  onShutdown(fn: () => void | Promise<void>): void;
}

export type ProcessorFactory = (ctx: ServerContext) => EventProcessor | Promise<EventProcessor>;

export interface StartServerOptions {
  /** The event processor, or a factory called with the context after `extend`; default marks events processed. */
  processor?: EventProcessor | ProcessorFactory;
  /** Adds routes and background work. */
  extend?: (ctx: ServerContext) => void | Promise<void>;
  logger?: Logger;
  metrics?: Metrics;
  /** Group-commit tuning. */
  ingest?: IngestorOptions;
  /** Queue timing (tests shorten the maintenance interval). */
  queue?: Partial<Pick<JobQueueOptions, 'maintenanceIntervalSeconds' | 'pollingIntervalSeconds' | 'wakeDelayMs'>>;
}

export interface RunningServer {
  /** `http://host:port` */
  url: string;
  port: number;
  db: Db;
  queue: JobQueue;
  logger: Logger;
  metrics: Metrics;
  health: Health;
  /** Stops accepting, answers what is in flight, lets jobs finish (bounded), stops the queue, closes the database. */
  close(): Promise<void>;
}

/** Opens the database, migrates, starts the queue, listens (port 0 picks a free port), starts the worker. */
export async function startServer(config: Config, opts: StartServerOptions = {}): Promise<RunningServer> {
  const logger = opts.logger ?? createLogger({ level: config.logLevel });
  const metrics = opts.metrics ?? createMetrics();
  const health = new Health();
  const shutdownHooks: (() => void | Promise<void>)[] = [];
  let db: Db | undefined;
  let queue: JobQueue | undefined;
  let ingestor: Ingestor | undefined;
  let server: Server | undefined;

  if (config.stripe.webhookSecrets.length === 0) {
    logger.warn('STRIPE_WEBHOOK_SECRET is not set: POST /webhooks/stripe answers 503 not_configured');
  }

  try {
    db = await openDb(
      config.databaseUrl
        ? { databaseUrl: config.databaseUrl, poolSize: config.databasePoolSize }
        : { dataDir: config.dataDir },
    );
    const applied = await migrate(db);
    if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
    queue = await JobQueue.start(
      db,
      {
        expireSeconds: config.queue.expireSeconds,
        retryLimit: config.queue.retryLimit,
        wakeDelayMs: db.kind === 'pglite' ? PGLITE_WAKE_DELAY_MS : 0,
        ...opts.queue,
      },
      logger,
    );
    const q = queue;
    metrics.setQueueDepthSource(() => q.depth());
    const pressure = new IngestPressure({
      busyRate: config.queue.ingestPriorityRate,
      maxDeferMs: config.queue.ingestPriorityMaxDeferMs,
    });
    ingestor = createIngestor({ db, queue, metrics, logger, pressure }, opts.ingest);
    const backlog = new ApplyBacklog();

    const app = createApp({
      db,
      ingestor,
      health,
      metrics,
      logger,
      webhookSecrets: config.stripe.webhookSecrets,
      webhookToleranceSeconds: config.stripe.webhookToleranceSeconds,
      signatureFailuresPerMinute: config.limits.signatureFailuresPerMinute,
      markInteractive: db.kind === 'pglite',
    });
    const ctx: ServerContext = { app, config, db, queue, logger, metrics, pressure, backlog, onShutdown: (fn) => void shutdownHooks.push(fn) };
    await opts.extend?.(ctx);
    const processor = await resolveProcessor(opts.processor, ctx);
    finishApp(app, logger);

    server = await listen(app, config.port, config.host);
    await startEventWorker({
      db,
      queue,
      processor,
      logger,
      metrics,
      batchSize: config.queue.workerBatchSize,
      expireSeconds: config.queue.expireSeconds,
      pressure,
      backlog,
    });
    startEventMaintenance({ db, queue, logger, stuckMinutes: config.events.stuckMinutes, retentionDays: config.events.retentionDays });
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err;
  }
  health.markReady();
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  logger.info({ url, database: db.kind }, 'server ready');

  let closing: Promise<void> | undefined;
  async function stopAll(): Promise<void> {
    health.markStopping();
    if (server) await closeHttp(server, Math.min(config.shutdownTimeoutMs, 5_000));
    await ingestor?.close();
    for (const hook of shutdownHooks.reverse()) {
      await Promise.resolve()
        .then(hook)
        .catch((err: unknown) => logger.error({ err }, 'shutdown hook failed'));
    }
    await queue?.stop(config.shutdownTimeoutMs);
    await db?.close();
  }

  return {
    url,
    port,
    db,
    queue,
    logger,
    metrics,
    health,
    close() {
      closing ??= stopAll().then(() => logger.info('server stopped'));
      return closing;
    },
  };
}

async function resolveProcessor(
  p: EventProcessor | ProcessorFactory | undefined,
  ctx: ServerContext,
): Promise<EventProcessor> {
  if (!p) return createDefaultProcessor(ctx.db);
  return typeof p === 'function' ? p(ctx) : p;
}

function listen(app: Application, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once('listening', () => resolve(server));
    server.once('error', reject);
  });
}

/** Stops accepting connections and waits for in-flight requests; after `graceMs`, cuts what is left. */
function closeHttp(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}
