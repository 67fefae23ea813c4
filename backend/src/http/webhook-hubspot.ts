import express, { Router, type ErrorRequestHandler, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Db } from '../adapters/store/db';
import type { Install } from '../adapters/hubspot/installs';
import { forgetContact, type ContactDeletionKind } from '../adapters/store/data-deletion';
import type { BackfillMetrics } from '../jobs/backfill/metrics';
import { hubspotContactReader } from '../jobs/hubspot-read';
import type { Logger } from '../logger';
import { CARD_FETCH_QUERY, signatureErrorCode, verifyHubSpotRequestOfApps, type SigningApp } from './card-api/hubspot-signature';
import type { PortalInstalls } from './card-api/portal-installs';
import { bodyParserError, sendError } from './errors';
import { refuseSignature } from './app';

export const HUBSPOT_WEBHOOK_PATH = '/webhooks/hubspot';

/**
 * `POST /webhooks/hubspot`: HubSpot's webhook deliveries for our apps — a JSON array of events, signed with
 * `X-HubSpot-Signature-v3` (the app's client secret over method + URL + raw body + timestamp). Two apps may
 * deliver: the marketplace app (HUBSPOT_CLIENT_SECRET) and the self-hosted app (HUBSPOT_CARD_CLIENT_SECRET).
 *
 * - `contact.privacyDeletion` (GDPR delete in HubSpot): the contact's links and the linked customers' read model,
 *   Stripe objects and events are deleted, and the customers are never written to HubSpot again.
 * - `contact.deletion`: the links are removed and what HubSpot held from us is forgotten (a later Stripe change
 *   matches or creates a contact afresh).
 * - Anything else is acknowledged and ignored. HubSpot does not deliver app uninstalls to this URL (those are
 *   `APP_LIFECYCLE_EVENT`s of the webhooks journal API, which is polled); an uninstalled app's refresh token is
 *   refused (400 BAD_REFRESH_TOKEN / 401), which the install registry reports as a permanent error.
 *
 * HubSpot signs a card's `hubspot.fetch` with the same secret and scheme, so a signature alone does not prove a
 * webhook delivery. Hence, before anything is forgotten:
 * - a request carrying the query HubSpot appends to every card fetch (portalId, userId, userEmail, appId) is refused;
 * - an event counts only for a portal where the signing app is installed now (the marketplace app: a live OAuth
 *   install; the self-hosted app: the private-app token's portal); events of other portals are ignored;
 * - the contacts are read back from HubSpot through that portal's connection: one that still exists is kept.
 *
 * The whole batch is validated and confirmed before anything changes; 200 once it is applied, 503 when the
 * database or HubSpot failed (HubSpot retries).
 */

export type HubSpotApp = 'marketplace' | 'self_hosted';

export interface HubSpotWebhookDeps {
  db: Db;
  /** The marketplace app's client secret. */
  clientSecret: string | undefined;
  /** The self-hosted app's client secret. Without either secret the route answers 503 `not_configured`. */
  cardClientSecret?: string;
  /** Our public base URL: the URL HubSpot signed is rebuilt from it behind a proxy. */
  publicUrl?: string;
  /** Which portals are installed now, and a client for each (to confirm deletions). */
  portals: Pick<PortalInstalls, 'installsOf' | 'client'>;
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

interface Deletion {
  kind: ContactDeletionKind;
  portalId: number;
  contactId: string;
}

/** Which installs a delivery signed by `app` may speak for. */
const installedFor = (app: HubSpotApp) => (i: Install) => (app === 'marketplace' ? i.kind === 'oauth' : i.kind === 'private_app');

export function hubspotWebhookRouter(deps: HubSpotWebhookDeps): Router {
  const { db, logger } = deps;
  const router = Router();
  const apps: SigningApp<HubSpotApp>[] = [
    ...(deps.clientSecret ? [{ app: 'marketplace' as const, secret: deps.clientSecret }] : []),
    ...(deps.cardClientSecret ? [{ app: 'self_hosted' as const, secret: deps.cardClientSecret }] : []),
  ];

  const refuseCardFetch = (req: Request, res: Response, next: NextFunction) => {
    const names = Object.keys(req.query).map((k) => k.toLowerCase());
    if (!CARD_FETCH_QUERY.some((q) => names.includes(q.toLowerCase()))) return next();
    logger.warn({ ip: req.ip }, 'hubspot webhook refused: a card fetch (HubSpot-appended query)');
    sendError(res, 403, 'forbidden', 'HubSpot card requests cannot deliver webhooks.');
  };

  router.post(
    HUBSPOT_WEBHOOK_PATH,
    (_req, res, next) => {
      if (apps.length > 0) return next();
      sendError(res, 503, 'not_configured', 'HubSpot webhooks are not configured on this backend (HUBSPOT_CLIENT_SECRET or HUBSPOT_CARD_CLIENT_SECRET).');
    },
    refuseCardFetch,
    express.raw({ type: () => true, limit: '1mb' }),
    async (req: Request, res: Response) => {
      const rawBody = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
      const verified = verifyHubSpotRequestOfApps(req, rawBody, apps, deps.publicUrl);
      if (verified.check !== 'ok') {
        logger.warn({ reason: verified.check, ip: req.ip }, 'hubspot webhook rejected');
        return refuseSignature(req, res, () => sendError(res, 401, signatureErrorCode(verified.check), `HubSpot request signature: ${verified.check}`));
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
        .map((e) => ({ kind: HANDLED[e.subscriptionType]!, portalId: Number(e.portalId), contactId: e.objectId }));
      if (deletions.some((d) => d.contactId === undefined)) {
        return sendError(res, 400, 'bad_request', 'A contact deletion event has no objectId.');
      }
      try {
        const { confirmed, ignored, kept } = await confirmDeletions(deps, verified.app, deletions as Deletion[]);
        // A privacy deletion needs the link a plain deletion removes: handle those first.
        confirmed.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'privacy_deletion' ? -1 : 1));
        let customers = 0;
        for (const d of confirmed) {
          const keys = await forgetContact(db, d.portalId, d.contactId, d.kind);
          customers += keys.length;
          deps.metrics?.contactDeletions.inc({ kind: d.kind });
          logger.info({ portalId: d.portalId, contactId: d.contactId, kind: d.kind, customers: keys.length }, 'hubspot contact deleted: our data forgotten');
        }
        res.status(200).json({ received: events.data.length, handled: confirmed.length, customers, ignored, kept });
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

/**
 * The deletions to apply: those of portals where `app` is installed, whose contact HubSpot no longer has.
 * Throws when HubSpot cannot be asked (the delivery is retried).
 */
async function confirmDeletions(
  deps: Pick<HubSpotWebhookDeps, 'portals' | 'logger'>,
  app: HubSpotApp,
  deletions: Deletion[],
): Promise<{ confirmed: Deletion[]; ignored: number; kept: number }> {
  const confirmed: Deletion[] = [];
  let ignored = 0;
  let kept = 0;
  const byPortal = new Map<number, Deletion[]>();
  for (const d of deletions) byPortal.set(d.portalId, [...(byPortal.get(d.portalId) ?? []), d]);
  for (const [portalId, ofPortal] of byPortal) {
    const install = (await deps.portals.installsOf(portalId)).find(installedFor(app));
    if (!install) {
      ignored += ofPortal.length;
      deps.logger.warn({ portalId, app, events: ofPortal.length }, 'hubspot webhook: events of a portal the app is not installed in, ignored');
      continue;
    }
    const reader = hubspotContactReader(deps.portals.client(install, { share: 0.5 }));
    const existing = await reader.readContacts([...new Set(ofPortal.map((d) => d.contactId))], []);
    for (const d of ofPortal) {
      if (existing.has(d.contactId)) {
        kept += 1;
        deps.logger.warn({ portalId, contactId: d.contactId, kind: d.kind }, 'hubspot webhook: the contact still exists in HubSpot, kept');
      } else {
        confirmed.push(d);
      }
    }
  }
  return { confirmed, ignored, kept };
}
