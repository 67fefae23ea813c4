import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Db } from '../../adapters/store/db';
import type { CardResponse } from '@stripe-hubspot-sync/contracts';
import { sendError } from '../respond';
import { refuseSignature } from '../app';
import { answerOf, foundMessage, lookUpContact, notFoundAnswer, refreshLinked, untilLinked, type AnswerDeps, type Refresher } from './card-answers';
import { signatureErrorCode, verifyHubSpotRequestOfApps, type SigningApp } from './hubspot-signature';
import { oauthOnlyAccess, readableCustomers, type PortalAccess } from './portal-accounts';
import type { ContactLookup } from './stripe-lookup';
import { answerCache, generationSource } from './read-cache';

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
  r.use(rawBody(BODY_LIMIT));
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
  // The status answer of a linked contact, kept as the JSON sent (read-cache.ts says when it is given again).
  const generation = generationSource(deps.db);
  const kept = generation ? answerCache<{ linked: boolean; json: string }>(generation) : undefined;
  const statusJson = async (portalId: number, contactId: string) => {
    const readable = await readNow(portalId, contactId);
    return { linked: readable.links.length > 0, json: JSON.stringify(answerOf(readable, answers) satisfies CardResponse) };
  };

  const status = async (_req: Request, res: Response) => {
    const { portalId, contactId } = res.locals.card as { portalId: number; contactId: string };
    const answer = kept
      ? await kept.get(`${portalId}:${contactId}`, () => statusJson(portalId, contactId), (a) => a.linked)
      : await statusJson(portalId, contactId);
    // The JSON as it was sent before (res.json's headers), without Express's send: no ETag, no freshness to check.
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(answer.json) }).end(answer.json);
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

/** Largest body the card API reads. */
const BODY_LIMIT = 64 * 1024;

/**
 * The raw body as a Buffer in `req.body`, like `express.raw({ type: '*' })`, read directly in the common case
 * (JSON of a declared length within the limit, no Content-Encoding: what hubspot.fetch sends) — the body parser costs more
 * than the rest of a kept answer; anything else (chunked, compressed, too large) goes through `express.raw`, whose
 * refusals the error handler turns into answers.
 */
function rawBody(limit: number) {
  const parser = express.raw({ type: '*/*', limit });
  return (req: Request, res: Response, next: NextFunction) => {
    const declared = req.headers['content-length'];
    const length = declared !== undefined && /^\d{1,6}$/.test(declared) ? Number(declared) : NaN;
    const encoding = req.headers['content-encoding'];
    const json = /^application\/json\s*(?:;|$)/i.test(req.headers['content-type'] ?? '');
    if (!json || !(length <= limit) || (encoding !== undefined && encoding.toLowerCase() !== 'identity') || req.headers['transfer-encoding'] !== undefined) {
      return parser(req, res, next);
    }
    if (length === 0) {
      req.body = Buffer.alloc(0);
      return next();
    }
    const chunks: Buffer[] = [];
    let received = 0;
    const done = (err?: Error & { status?: number }) => {
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      req.removeListener('error', onError);
      next(err);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      chunks.push(chunk);
    };
    const onEnd = () => {
      if (received !== length) return done(Object.assign(new Error('request size did not match content length'), { status: 400 }));
      req.body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received);
      done();
    };
    const onError = (err: Error) => done(Object.assign(err, { status: 400 }));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  };
}

/** Longest a refresh waits for the pusher to link the customers a lookup found. */
const LINK_WAIT_MS = 4000;
