import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Db } from '../../adapters/store/db';
import type { CardResponse } from '@stripe-hubspot-sync/contracts';
import { sendError } from '../respond';
import { refuseSignature } from '../app';
import { answerOf, foundMessage, lookUpContact, notFoundAnswer, refreshLinked, untilLinked, type AnswerDeps, type Refresher } from './card-answers';
import { signatureErrorCode, verifyHubSpotRequestOfApps, type SigningApp } from './hubspot-signature';
import { oauthOnlyAccess, readableCustomers, type PortalAccess, type ReadableCustomers } from './portal-accounts';
import type { ContactLookup } from './stripe-lookup';

export interface CardApiDeps {
  db: Db;
  /** The marketplace HubSpot app's client secret (HUBSPOT_CLIENT_SECRET): HubSpot signs its card's requests with it. */
  clientSecret: string | undefined;
  /** The self-hosted HubSpot app's client secret (HUBSPOT_CARD_CLIENT_SECRET). Without either, the API answers 503. */
  cardClientSecret?: string;
  /** Our public base URL (e.g. https://sync.example.com): the URL HubSpot signed is rebuilt from it behind a proxy. */
  publicUrl?: string;
  /** Reads the customer's live state from Stripe into the read model (throws when Stripe is slow or down). */
  refresh?: Refresher;
  /** Looks an unlinked contact's email up in Stripe (when the backend can read Stripe). */
  lookup?: ContactLookup;
  refreshTimeoutMs?: number;
  /** Which accounts a portal reads besides its OAuth installs (the engine adds the private-app token's portal). */
  portalAccounts?: PortalAccess;
  /** The data centre of the private-app token's portal (`pat-eu1-…` → eu1), for the card's links to HubSpot records. */
  privateAppHublet?: string | null;
}

const cardBody = z.object({ portalId: z.coerce.number().int().positive(), contactId: z.coerce.string().regex(/^\d{1,20}$/) });

/** The HubSpot card's API (mount at CARD_API_PREFIX). */
export function cardApiRouter(deps: CardApiDeps): Router {
  const r = Router();
  const apps: SigningApp<'marketplace' | 'self_hosted'>[] = [
    ...(deps.clientSecret ? [{ app: 'marketplace' as const, secret: deps.clientSecret }] : []),
    ...(deps.cardClientSecret ? [{ app: 'self_hosted' as const, secret: deps.cardClientSecret }] : []),
  ];
  r.use(express.raw({ type: '*/*', limit: '64kb' }));
  r.use((req: Request, res: Response, next: NextFunction) => {
    if (apps.length === 0) return sendError(res, 503, 'not_configured', 'The Stripe sync service is not set up for this HubSpot card yet.');
    const rawBody = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    const verified = verifyHubSpotRequestOfApps(req, rawBody, apps, deps.publicUrl);
    if (verified.check !== 'ok') {
      return refuseSignature(req, res, () => sendError(res, 401, signatureErrorCode(verified.check), `HubSpot request signature: ${verified.check}`));
    }
    // hubspot.fetch appends the calling portal (and user and app) to the URL it signs: without it, this request did
    // not come from a card, and the body may not name another portal than it.
    const signedPortal = req.query.portalId;
    if (typeof signedPortal !== 'string' || !/^\d{1,20}$/.test(signedPortal)) {
      return sendError(res, 403, 'forbidden', 'The request does not carry the portal HubSpot signed (portalId)');
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(rawBody);
    } catch {
      return sendError(res, 400, 'malformed_json', 'The body is not valid JSON');
    }
    const body = cardBody.safeParse(parsed);
    if (!body.success) return sendError(res, 400, 'bad_request', 'portalId and contactId are required');
    if (signedPortal !== String(body.data.portalId)) return sendError(res, 403, 'forbidden', 'portalId does not match the calling portal');
    res.locals.card = body.data;
    next();
  });

  const access = deps.portalAccounts ?? oauthOnlyAccess;
  const answers: AnswerDeps = { refresh: deps.refresh, lookup: deps.lookup, timeoutMs: deps.refreshTimeoutMs ?? 8000 };
  const readNow = (portalId: number, contactId: string) =>
    readableCustomers(deps.db, access, portalId, contactId, { privateAppHublet: deps.privateAppHublet });
  const read = readThrough(deps.db, readNow);

  const status = async (_req: Request, res: Response) => {
    const { portalId, contactId } = res.locals.card as { portalId: number; contactId: string };
    res.json(answerOf(await read(portalId, contactId), answers) satisfies CardResponse);
  };
  const refresh = async (_req: Request, res: Response) => {
    const { portalId, contactId } = res.locals.card as { portalId: number; contactId: string };
    // A refresh reads what is stored now (the status path may answer what it read before if nothing changed since).
    const readable = await readNow(portalId, contactId);
    if (readable.links.length > 0) {
      const warning = await refreshLinked(answers, readable.links);
      // Read again: what the refresh folded in (all of it, or the customers Stripe did answer for).
      return res.json(answerOf(await readNow(portalId, contactId), answers, warning) satisfies CardResponse);
    }
    if (!readable.connected || !answers.lookup) return res.json(answerOf(readable, answers) satisfies CardResponse);
    const started = Date.now();
    const lookup = await lookUpContact({ ...answers, lookup: answers.lookup }, portalId, contactId);
    if (lookup.found === 0) return res.json(notFoundAnswer(readable, answers, lookup.message, lookup.warning) satisfies CardResponse);
    // The pusher links what was found; wait for it within what is left of our deadline.
    const after = await untilLinked(() => readNow(portalId, contactId), Math.min(LINK_WAIT_MS, answers.timeoutMs - (Date.now() - started)));
    res.json(notFoundAnswer(after, answers, foundMessage(lookup.found)) satisfies CardResponse);
  };
  const wrap = (h: (req: Request, res: Response) => Promise<unknown>) => (req: Request, res: Response, next: NextFunction) =>
    h(req, res).catch(next);
  r.post('/status', wrap(status));
  r.post('/refresh', wrap(refresh));
  r.use((req: Request, res: Response) => sendError(res, 404, 'not_found', `No route ${req.method} ${req.path}`));
  r.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    void _next;
    const e = err as { type?: string; status?: unknown };
    if (e.type === 'entity.too.large') return sendError(res, 413, 'payload_too_large', 'The body is too large');
    // The body parser's other refusals (unknown Content-Encoding: 415; bytes that do not decompress: 400).
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      return sendError(res, e.status, 'bad_request', 'The request body could not be read');
    }
    sendError(res, 500, 'internal', 'Something went wrong on our side');
  });
  return r;
}

/** Longest a refresh waits for the pusher to link the customers a lookup found. */
const LINK_WAIT_MS = 4000;

/** Most contacts whose answer the status path keeps (the oldest read goes first). */
const READ_CACHE_ENTRIES = 10_000;

/**
 * When this process is the database's only writer (the embedded database), the card's read of a contact is kept
 * until anything writes the read model again (`Db.readModelGeneration`), so repeated views of a contact cost no
 * query. Elsewhere (PostgreSQL, where other instances write) every call reads.
 */
function readThrough(
  db: Db,
  load: (portalId: number, contactId: string) => Promise<ReadableCustomers>,
): (portalId: number, contactId: string) => Promise<ReadableCustomers> {
  const generation = db.readModelGeneration?.bind(db);
  if (!generation) return load;
  const kept = new Map<string, { generation: number; value: ReadableCustomers }>();
  return async (portalId, contactId) => {
    const key = `${portalId}:${contactId}`;
    const now = generation();
    const hit = kept.get(key);
    if (hit && hit.generation === now) return hit.value;
    // Marked with the generation from before the read: a write that lands meanwhile makes it stale at once.
    const value = await load(portalId, contactId);
    kept.delete(key);
    // Only linked answers are kept: "not linked" may hang on something outside the database (HubSpot telling the
    // private-app token's portal), so it is asked again each time.
    if (value.links.length > 0) kept.set(key, { generation: now, value });
    if (kept.size > READ_CACHE_ENTRIES) kept.delete(kept.keys().next().value as string);
    return value;
  };
}
