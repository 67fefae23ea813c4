import express, { Router, type ErrorRequestHandler, type Response } from 'express';
import { GroupCommitClosedError } from '../ingest/group-commit';
import type { Ingestor } from '../ingest/ingestor';
import { verifyStripeWebhook } from '../ingest/verify';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import { bodyParserError, sendError, type ErrorCode } from './errors';
import type { SignatureFailureLimit } from './signature-limit';

export const WEBHOOK_PATH = '/webhooks/stripe';
/** Stripe's events are far smaller; anything above is refused unread. */
export const WEBHOOK_BODY_LIMIT = '1mb';
/** Refusals that count against the sender's address: its signature did not check out. */
const SIGNATURE_CODES: ReadonlySet<string> = new Set(['missing_signature', 'invalid_signature', 'stale_signature']);

export interface StripeWebhookDeps {
  ingestor: Ingestor;
  /** Signing secrets; empty → the route answers 503 `not_configured`. */
  secrets: readonly string[];
  toleranceSeconds: number;
  metrics: Metrics;
  logger: Logger;
  /** Per-IP limit on refused signatures (a correctly signed delivery is never limited). */
  signatureFailures?: SignatureFailureLimit;
}

/**
 * `POST /webhooks/stripe`: raw body (this route only), signature checked against each secret, then stored
 * through the group commit. 200 `{received, duplicate}` only once the event is committed; 400/413 for bodies
 * that are refused (nothing stored), 429 instead of 400 once an address sent too many bad signatures; 503 when
 * the database write fails (Stripe retries). An event of an account the app was uninstalled from, created before
 * the uninstall, answers 200 `{received, duplicate: false, discarded}` and is not stored.
 */
export function stripeWebhookRouter(deps: StripeWebhookDeps): Router {
  const { ingestor, secrets, toleranceSeconds, metrics, logger } = deps;
  const router = Router();

  const reject = (res: Response, status: number, code: ErrorCode, message: string) => {
    metrics.webhooksRejected.inc({ reason: code });
    sendError(res, status, code, message);
  };

  router.post(
    WEBHOOK_PATH,
    (_req, res, next) => {
      if (secrets.length > 0) return next();
      reject(res, 503, 'not_configured', 'Webhook signing secret is not configured (STRIPE_WEBHOOK_SECRET).');
    },
    express.raw({ type: () => true, limit: WEBHOOK_BODY_LIMIT }),
    async (req, res) => {
      const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const verified = verifyStripeWebhook(body, req.get('stripe-signature'), secrets, toleranceSeconds);
      if (!verified.ok) {
        logger.warn({ reason: verified.code, ip: req.ip }, 'stripe webhook rejected');
        const refuse = () => reject(res, 400, verified.code, verified.message);
        if (!deps.signatureFailures || !SIGNATURE_CODES.has(verified.code)) return refuse();
        return deps.signatureFailures.refuse(req, res, refuse, (seconds) =>
          reject(res, 429, 'too_many_requests', `Too many requests with a bad signature from this address; retry in ${seconds} s.`),
        );
      }
      const event = verified.event;
      try {
        const { duplicate, discarded } = await ingestor.ingest(event);
        res.status(200).json({ received: true, duplicate, ...(discarded ? { discarded: 'the app was uninstalled from this account' } : {}) });
      } catch (err) {
        const closing = err instanceof GroupCommitClosedError;
        logger.error(
          { eventId: event.id, eventType: event.type, account: event.accountId, err: closing ? undefined : err },
          closing ? 'stripe event refused: shutting down' : 'stripe event could not be stored',
        );
        if (closing) res.set('Connection', 'close');
        reject(res, 503, 'service_unavailable', 'The event could not be stored; retry later.');
      }
    },
  );

  const onBodyError: ErrorRequestHandler = (err, _req, res, next) => {
    const known = bodyParserError(err);
    if (!known) return next(err);
    reject(res, known.status, known.code, known.message);
  };
  router.use(WEBHOOK_PATH, onBodyError);
  return router;
}
