import express, { type Application, type Request, type Response } from 'express';
import type { Queryable } from '../adapters/store/db';
import { runInLane } from '../adapters/store/db-gate';
import type { Ingestor } from '../ingest/ingestor';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import { errorHandler, notFound } from './errors';
import { healthzRouter, type Health } from './healthz';
import { metricsRouter } from './metrics';
import { stripeWebhookRouter } from './webhook-stripe';
import { signatureFailureLimit, type SignatureFailureLimit } from './signature-limit';
import { sendError } from './respond';

export interface AppDeps {
  db: Queryable;
  ingestor: Ingestor;
  health: Health;
  metrics: Metrics;
  logger: Logger;
  webhookSecrets: readonly string[];
  webhookToleranceSeconds: number;
  /** Failed signature checks allowed per IP per minute on the webhook and app API routes (0 or unset: no limit). */
  signatureFailuresPerMinute?: number;
  /**
   * Mark each request's work as what a client waits on, for the embedded database's connection gate (db-gate.ts).
   * Only the embedded database reads the mark: on PostgreSQL it would be per-request work for nothing.
   */
  markInteractive?: boolean;
}

const SIGNATURE_LIMIT = 'signatureFailureLimit';

/** The app's per-IP limit on failed signatures (shared by every route that checks one). */
export function signatureFailuresOf(app: Application): SignatureFailureLimit | undefined {
  return app.locals[SIGNATURE_LIMIT] as SignatureFailureLimit | undefined;
}

/**
 * Refuses a request whose signature failed: through the app's per-IP limit when it has one (429 past the limit),
 * else with `refuse` at once. For routers that reach the app only through `req.app`.
 */
export function refuseSignature(req: Request, res: Response, refuse: () => void): void {
  const limit = signatureFailuresOf(req.app);
  if (!limit) return refuse();
  limit.refuse(req, res, refuse).catch(() => {
    if (!res.headersSent) refuse();
  });
}

/**
 * The Express app with the core routes. Other routers are added after this and before `finishApp`, which
 * installs the 404 and error handlers. No global body parser: each router parses its own bodies.
 */
export function createApp(deps: AppDeps): Application {
  const app = express();
  app.disable('x-powered-by');
  // Our answers are small and never cached: skip hashing every body for an ETag.
  app.set('etag', false);
  app.set('trust proxy', 'loopback');
  const failures = signatureFailureLimit({
    perMinute: deps.signatureFailuresPerMinute ?? 0,
    tooMany: (_req, res, seconds) =>
      sendError(res, 429, 'too_many_requests', `Too many requests with a bad signature from this address; retry in ${seconds} s.`),
    logger: deps.logger,
  });
  app.locals[SIGNATURE_LIMIT] = failures;
  // A client waits on every request: its statements go before background work on the embedded database.
  if (deps.markInteractive) app.use((_req, _res, next) => runInLane('interactive', next));
  app.use(healthzRouter(deps.health, deps.db));
  app.use(metricsRouter(deps.metrics));
  app.use(
    stripeWebhookRouter({
      ingestor: deps.ingestor,
      secrets: deps.webhookSecrets,
      toleranceSeconds: deps.webhookToleranceSeconds,
      metrics: deps.metrics,
      logger: deps.logger,
      signatureFailures: failures,
    }),
  );
  return app;
}

export function finishApp(app: Application, logger: Logger): void {
  app.use(notFound);
  app.use(errorHandler(logger));
}
