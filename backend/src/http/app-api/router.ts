import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { appAuth, appCors, modeOf, tenantOf, type AppAuthOptions } from './auth';
import type { AppApiDeps } from './services';
import { getSettings, putSettings } from './settings';
import { deleteConnection, getAuthorizeUrl, postCancel, postConfirm, postConnect, postTestConnection } from './hubspot-connection';
import { getActivity, postReplay, postReplayEvents, type ActivityDeps } from './activity';
import { getCustomer, postCustomerSync } from './customers';
import {
  connectDestinationOAuthRoute,
  createDestinationRoute,
  deleteDestinationRoute,
  destinationActivityRoute,
  destinationAuthorizeUrlRoute,
  listDestinationsRoute,
  putDestinationSettingsRoute,
  replayDestinationRoute,
  testDestinationRoute,
} from './destinations';
import { sendError } from '../respond';
import { bodyParserError } from '../errors';
import { tombstoneOf } from '../../adapters/store/tombstones';

type Handler = (req: Request, res: Response) => Promise<void>;

/**
 * The Stripe App's API (mount at APP_API_PREFIX): CORS for the null-origin iframe, signature on every call. The
 * signature covers the ids in the headers, so it is checked before the body is read: a request that is not signed
 * right is refused without its JSON ever being parsed.
 */
export function appApiRouter(deps: ActivityDeps, auth: AppAuthOptions): Router {
  const r = Router();
  const wrap = (h: Handler) => (req: Request, res: Response, next: NextFunction) => h(req, res).catch(next);
  r.use(appCors);
  r.use(appAuth(auth));
  r.use(express.json({ limit: '256kb' }));
  r.get('/settings', wrap(getSettings(deps)));
  r.put('/settings', wrap(putSettings(deps)));
  r.get('/hubspot/authorize-url', wrap(getAuthorizeUrl(deps)));
  r.post('/hubspot/connect', wrap(postConnect(deps)));
  r.post('/hubspot/connect/confirm', wrap(postConfirm(deps)));
  r.post('/hubspot/connect/cancel', wrap(postCancel(deps)));
  r.delete('/hubspot/connection', wrap(deleteConnection(deps)));
  r.post('/hubspot/connection/test', wrap(postTestConnection(deps)));
  r.get('/activity', wrap(getActivity(deps)));
  r.post('/dead-letters/replay', wrap(postReplay(deps)));
  r.post('/events/replay', wrap(postReplayEvents(deps)));
  r.get('/customers/:id', wrap(getCustomer(deps)));
  r.post('/customers/:id/sync', wrap(postCustomerSync(deps)));
  r.get('/destinations', wrap(listDestinationsRoute(deps)));
  r.post('/destinations', wrap(createDestinationRoute(deps)));
  // "Connect with …" of any OAuth destination (Klaviyo, Salesforce); `/destinations/klaviyo/…` answer as before.
  r.get('/destinations/:kind/authorize-url', wrap(destinationAuthorizeUrlRoute(deps)));
  r.post('/destinations/:kind/connect', wrap(connectDestinationOAuthRoute(deps)));
  r.put('/destinations/:id/settings', wrap(putDestinationSettingsRoute(deps)));
  r.post('/destinations/:id/test', wrap(testDestinationRoute(deps)));
  r.delete('/destinations/:id', wrap(deleteDestinationRoute(deps)));
  r.get('/destinations/:id/activity', wrap(destinationActivityRoute(deps)));
  r.post('/destinations/:id/dead-letters/replay', wrap(replayDestinationRoute(deps)));
  r.get('/backfill', wrap(backfillHandler(deps, 'progress')));
  r.post('/backfill', wrap(backfillHandler(deps, 'start')));
  r.post('/backfill/cancel', wrap(backfillHandler(deps, 'cancel')));
  r.use((req: Request, res: Response) => sendError(res, 404, 'not_found', `No route ${req.method} ${req.path}`));
  // Malformed JSON and anything unexpected: a JSON error, never an HTML page.
  r.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    void _next;
    // Body-parser refusals (bad JSON, too large, unsupported charset or encoding) are the caller's: a 4xx.
    const known = bodyParserError(err);
    if (known) return sendError(res, known.status, known.code, known.message);
    sendError(res, 500, 'internal', 'Something went wrong on our side');
  });
  return r;
}

function backfillHandler(deps: AppApiDeps, action: 'progress' | 'start' | 'cancel'): Handler {
  return async (req, res) => {
    const mode = modeOf(req, res);
    if (!mode) return;
    if (!deps.backfill) return sendError(res, 404, 'not_found', 'Backfill is not available on this backend');
    const account = tenantOf(res).accountKey;
    // Nothing of an uninstalled account comes back until the app's install event arrives (see tombstones.ts).
    if (action === 'start' && (await tombstoneOf(deps.db, { account, livemode: mode === 'live' })) !== null) {
      return sendError(res, 409, 'uninstalled', 'The app was uninstalled from this Stripe account; the import can start once its new install has reached us.');
    }
    const backfill = await deps.backfill[action](account, mode === 'live');
    res.json({ backfill });
  };
}
