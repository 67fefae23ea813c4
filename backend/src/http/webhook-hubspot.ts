import express, { Router, type ErrorRequestHandler, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Db } from '../adapters/store/db';
import { forgetContact, type ContactDeletionKind } from '../adapters/store/data-deletion';
import type { BackfillMetrics } from '../jobs/backfill/metrics';
import type { Logger } from '../logger';
import { signatureErrorCode, verifyHubSpotRequest } from './card-api/hubspot-signature';
import { bodyParserError, sendError } from './errors';

export const HUBSPOT_WEBHOOK_PATH = '/webhooks/hubspot';

/**
 * `POST /webhooks/hubspot`: HubSpot's webhook deliveries for our app — a JSON array of events, signed with
 * `X-HubSpot-Signature-v3` (the app's client secret over method + URL + raw body + timestamp).
 *
 * - `contact.privacyDeletion` (GDPR delete in HubSpot): the contact's links and the linked customers' read model,
 *   Stripe objects and events are deleted, and the customers are never written to HubSpot again.
 * - `contact.deletion`: the links are removed and what HubSpot held from us is forgotten (a later Stripe change
 *   matches or creates a contact afresh).
 * - Anything else is acknowledged and ignored. HubSpot does not deliver app uninstalls to this URL (those are
 *   `APP_LIFECYCLE_EVENT`s of the webhooks journal API, which is polled); an uninstalled app's refresh token is
 *   refused (400 BAD_REFRESH_TOKEN / 401), which the install registry reports as a permanent error.
 *
 * The whole batch is validated before anything changes; 200 once it is applied, 503 when the database failed
 * (HubSpot retries).
 */

export interface HubSpotWebhookDeps {
  db: Db;
  /** The HubSpot app's client secret; without it the route answers 503 `not_configured`. */
  clientSecret: string | undefined;
  /** Our public base URL: the URL HubSpot signed is rebuilt from it behind a proxy. */
  publicUrl?: string;
  logger: Logger;
  metrics?: Pick<BackfillMetrics, 'contactDeletions'>;
}

const id = z.union([z.number().int().nonnegative(), z.string().regex(/^\d{1,20}$/)]).transform((v) => String(v));
const event = z
  .object({
    subscriptionType: z.string().min(1).max(200),
    portalId: id,
    objectId: id.optional(),
    eventId: z.union([z.number(), z.string()]).optional(),
  })
  .passthrough();
const batch = z.array(event).max(1000);

const HANDLED: Record<string, ContactDeletionKind> = {
  'contact.privacyDeletion': 'privacy_deletion',
  'contact.deletion': 'deletion',
};

export function hubspotWebhookRouter(deps: HubSpotWebhookDeps): Router {
  const { db, logger } = deps;
  const router = Router();

  router.post(
    HUBSPOT_WEBHOOK_PATH,
    (_req, res, next) => {
      if (deps.clientSecret) return next();
      sendError(res, 503, 'not_configured', 'HubSpot webhooks are not configured on this backend (HUBSPOT_CLIENT_SECRET).');
    },
    express.raw({ type: () => true, limit: '1mb' }),
    async (req: Request, res: Response) => {
      const rawBody = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
      const check = verifyHubSpotRequest(req, rawBody, deps.clientSecret!, deps.publicUrl);
      if (check !== 'ok') {
        logger.warn({ reason: check, ip: req.ip }, 'hubspot webhook rejected');
        return sendError(res, 401, signatureErrorCode(check), `HubSpot request signature: ${check}`);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(rawBody);
      } catch {
        return sendError(res, 400, 'malformed_json', 'The body is not valid JSON.');
      }
      const events = batch.safeParse(parsed);
      if (!events.success) return sendError(res, 400, 'bad_request', 'Expected an array of HubSpot webhook events with subscriptionType and portalId.');
      const deletions = events.data
        .filter((e) => Object.hasOwn(HANDLED, e.subscriptionType))
        .map((e) => ({ kind: HANDLED[e.subscriptionType], portalId: Number(e.portalId), contactId: e.objectId }));
      if (deletions.some((d) => d.contactId === undefined)) {
        return sendError(res, 400, 'bad_request', 'A contact deletion event has no objectId.');
      }
      // A privacy deletion needs the link a plain deletion removes: handle those first.
      deletions.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'privacy_deletion' ? -1 : 1));
      try {
        let customers = 0;
        for (const d of deletions) {
          const keys = await forgetContact(db, d.portalId, d.contactId!, d.kind);
          customers += keys.length;
          deps.metrics?.contactDeletions.inc({ kind: d.kind });
          logger.info({ portalId: d.portalId, contactId: d.contactId, kind: d.kind, customers: keys.length }, 'hubspot contact deleted: our data forgotten');
        }
        res.status(200).json({ received: events.data.length, handled: deletions.length, customers });
      } catch (err) {
        logger.error({ err }, 'hubspot webhook could not be applied');
        sendError(res, 503, 'service_unavailable', 'The events could not be applied; retry later.');
      }
    },
  );

  const onBodyError: ErrorRequestHandler = (err, _req, res, next) => {
    const known = bodyParserError(err);
    if (!known) return next(err);
    sendError(res, known.status, known.code, known.message);
  };
  router.use(HUBSPOT_WEBHOOK_PATH, onBodyError);
  return router;
}
