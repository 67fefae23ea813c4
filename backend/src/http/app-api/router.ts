import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { appAuth, appCors, modeOf, tenantOf, type AppAuthOptions } from './auth';
import type { AppApiDeps } from './services';
import { getSettings, putSettings } from './settings';
import { deleteConnection, getAuthorizeUrl, postCancel, postConfirm, postConnect } from './hubspot-connection';
import { getActivity, postReplay } from './activity';
import { getCustomer, postCustomerSync } from './customers';
import { sendError } from '../respond';
import { bodyParserError } from '../errors';

type Handler = (req: Request, res: Response) => Promise<void>;

/** The Stripe App's API (mount at APP_API_PREFIX): CORS for the null-origin iframe, signature on every call. */
export function appApiRouter(deps: AppApiDeps, auth: AppAuthOptions): Router {
  const r = Router();
  const wrap = (h: Handler) => (req: Request, res: Response, next: NextFunction) => h(req, res).catch(next);
  r.use(appCors);
  r.use(express.json({ limit: '256kb' }));
  r.use(appAuth(auth));
  r.get('/settings', wrap(getSettings(deps)));
  r.put('/settings', wrap(putSettings(deps)));
  r.get('/hubspot/authorize-url', wrap(getAuthorizeUrl(deps)));
  r.post('/hubspot/connect', wrap(postConnect(deps)));
  r.post('/hubspot/connect/confirm', wrap(postConfirm(deps)));
  r.post('/hubspot/connect/cancel', wrap(postCancel(deps)));
  r.delete('/hubspot/connection', wrap(deleteConnection(deps)));
  r.get('/activity', wrap(getActivity(deps)));
  r.post('/dead-letters/replay', wrap(postReplay(deps)));
  r.get('/customers/:id', wrap(getCustomer(deps)));
  r.post('/customers/:id/sync', wrap(postCustomerSync(deps)));
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
    const backfill = await deps.backfill[action](account, mode === 'live');
    res.json({ backfill });
  };
}
