import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Db } from '../../adapters/store/db';
import type { CardResponse, CustomerStatus } from '@stripe-hubspot-sync/contracts';
import { sendError } from '../respond';
import { signatureErrorCode, verifyHubSpotRequest } from './hubspot-signature';
import { oauthOnlyAccess, readableCustomers, type LinkedCustomer, type PortalAccess, type ReadableCustomers } from './portal-accounts';

export interface CardApiDeps {
  db: Db;
  /** The HubSpot app's client secret: HubSpot signs card requests with it. Without it the card API answers 503. */
  clientSecret: string | undefined;
  /** Our public base URL (e.g. https://sync.example.com): the URL HubSpot signed is rebuilt from it behind a proxy. */
  publicUrl?: string;
  /** Reads the customer's live state from Stripe into the read model (throws when Stripe is slow or down). */
  refresh?(account: string, livemode: boolean, customerId: string, signal: AbortSignal): Promise<void>;
  refreshTimeoutMs?: number;
  /** Which accounts a portal reads besides its OAuth installs (the engine adds the private-app token's portal). */
  portalAccounts?: PortalAccess;
}

const cardBody = z.object({ portalId: z.coerce.number().int().positive(), contactId: z.coerce.string().regex(/^\d{1,20}$/) });

/** The HubSpot card's API (mount at CARD_API_PREFIX). */
export function cardApiRouter(deps: CardApiDeps): Router {
  const r = Router();
  r.use(express.raw({ type: '*/*', limit: '64kb' }));
  r.use((req: Request, res: Response, next: NextFunction) => {
    if (!deps.clientSecret) return sendError(res, 503, 'internal', 'The HubSpot card API is not configured (HUBSPOT_CLIENT_SECRET)');
    const rawBody = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    const check = verifyHubSpotRequest(req, rawBody, deps.clientSecret, deps.publicUrl);
    if (check !== 'ok') return sendError(res, 401, signatureErrorCode(check), `HubSpot request signature: ${check}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(rawBody);
    } catch {
      return sendError(res, 400, 'malformed_json', 'The body is not valid JSON');
    }
    const body = cardBody.safeParse(parsed);
    if (!body.success) return sendError(res, 400, 'bad_request', 'portalId and contactId are required');
    // HubSpot appends the calling portal to the URL it signs: the body may not name another portal.
    const signedPortal = req.query.portalId;
    if (signedPortal !== undefined && String(signedPortal) !== String(body.data.portalId)) {
      return sendError(res, 403, 'forbidden', 'portalId does not match the calling portal');
    }
    res.locals.card = body.data;
    next();
  });

  const access = deps.portalAccounts ?? oauthOnlyAccess;
  const read = readThrough(deps.db, (portalId, contactId) => readableCustomers(deps.db, access, portalId, contactId));
  const handle = (refresh: boolean) => async (req: Request, res: Response) => {
    const { portalId, contactId } = res.locals.card as { portalId: number; contactId: string };
    // A refresh reads what is stored now; the status path may answer what it read before if nothing changed since.
    const readable = refresh ? await readableCustomers(deps.db, access, portalId, contactId) : await read(portalId, contactId);
    let { links } = readable;
    if (links.length === 0) {
      if (!readable.connected) {
        return res.json({ state: 'not_linked', reason: 'no_install', message: 'This HubSpot account is not connected to a Stripe account yet. Connect it from the app’s settings in the Stripe Dashboard.' } satisfies CardResponse);
      }
      return res.json({ state: 'not_linked', reason: 'no_customer', message: 'No Stripe customer is linked to this contact. Customers are linked by their Stripe customer id or email when they pay.' } satisfies CardResponse);
    }
    let warning: string | undefined;
    if (refresh) {
      warning = await refreshAll(deps, links);
      // Read again: what the refresh folded in (all of it, or the customers Stripe did answer for).
      ({ links } = await readableCustomers(deps.db, access, portalId, contactId));
    }
    const customers: CustomerStatus[] = links.flatMap((l) => (l.status ? [l.status] : []));
    res.json({ state: 'linked', customers, ...(warning ? { warning } : {}) } satisfies CardResponse);
  };
  const wrap = (h: (req: Request, res: Response) => Promise<unknown>) => (req: Request, res: Response, next: NextFunction) =>
    h(req, res).catch(next);
  r.post('/status', wrap(handle(false)));
  r.post('/refresh', wrap(handle(true)));
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

/** Refreshes every linked customer from Stripe within our own deadline (HubSpot gives up after 15 s). */
async function refreshAll(deps: CardApiDeps, links: LinkedCustomer[]): Promise<string | undefined> {
  if (!deps.refresh) return 'Live refresh from Stripe is not configured (STRIPE_API_KEY); showing the last synced state.';
  const controller = new AbortController();
  const timeoutMs = deps.refreshTimeoutMs ?? 8000;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error('timeout'));
    }, timeoutMs);
  });
  try {
    await Promise.race([
      Promise.all(links.map((l) => deps.refresh!(l.account, l.livemode, l.customerId, controller.signal))),
      deadline,
    ]);
    return undefined;
  } catch (err) {
    // The refresher can say why it did not ask Stripe (e.g. a customer of the other mode than the API key).
    const told = (err as { cardWarning?: unknown } | null)?.cardWarning;
    if (typeof told === 'string') return told;
    const timedOut = err instanceof Error && err.message === 'timeout';
    return timedOut
      ? `Stripe did not answer within ${Math.round(timeoutMs / 1000)} s; showing the last synced state.`
      : 'Stripe could not be reached; showing the last synced state.';
  } finally {
    clearTimeout(timer);
  }
}
