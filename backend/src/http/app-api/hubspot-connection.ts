import type { Request, Response } from 'express';
import { z } from 'zod';
import { modeOf, tenantOf } from './auth';
import type { AppApiDeps } from './services';
import { markAllForPush } from '../../adapters/store/sync-store';
import { sendError } from '../respond';
import { PermanentHubSpotError } from '../../adapters/hubspot/errors';

/** GET /hubspot/authorize-url?mode=&state= */
export function getAuthorizeUrl(deps: AppApiDeps) {
  return async (req: Request, res: Response) => {
    const mode = modeOf(req, res);
    if (!mode) return;
    const state = typeof req.query.state === 'string' ? req.query.state : '';
    if (!state || state.length > 512) return sendError(res, 400, 'bad_request', 'state is required');
    const url = deps.installs.authorizeUrl(state, mode === 'live');
    if (!url) return sendError(res, 503, 'not_connected', 'HubSpot OAuth is not configured on this backend');
    res.json({ url });
  };
}

const connectBody = z.object({
  mode: z.enum(['test', 'live']),
  code: z.string().min(1).max(2048),
  state: z.string().max(512).optional(),
  verifier: z.string().max(512).optional(),
});

/** POST /hubspot/connect — exchanges the OAuth code for tokens and queues every known customer for a write. */
export function postConnect(deps: AppApiDeps) {
  return async (req: Request, res: Response) => {
    const body = connectBody.safeParse(req.body);
    if (!body.success) return sendError(res, 400, 'bad_request', 'mode and code are required');
    const account = tenantOf(res).accountKey;
    const livemode = body.data.mode === 'live';
    if (deps.installs.authorizeUrl(body.data.state ?? '', livemode) === null) {
      return sendError(res, 503, 'not_connected', 'HubSpot OAuth is not configured on this backend');
    }
    try {
      const connection = await deps.installs.connect(account, livemode, body.data.code);
      await markAllForPush(deps.db, account, livemode);
      deps.wakePusher();
      // A new connection starts complete: the customers we never saw through webhooks come from a backfill.
      await deps.backfill?.start(account, livemode).catch(() => undefined);
      res.json({ connection });
    } catch (err) {
      // A code HubSpot refuses (expired, used, for another app) is the caller's to fix: connect again.
      if (err instanceof PermanentHubSpotError && err.status >= 400 && err.status < 500) {
        return sendError(res, 400, 'bad_request', `HubSpot refused the authorization code: ${err.message}`);
      }
      sendError(res, 502, 'hubspot_error', `HubSpot did not answer the authorization: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
}

/** DELETE /hubspot/connection?mode= — stops writes and deletes the tokens. */
export function deleteConnection(deps: AppApiDeps) {
  return async (req: Request, res: Response) => {
    const mode = modeOf(req, res);
    if (!mode) return;
    const disconnected = await deps.installs.disconnect(tenantOf(res).accountKey, mode === 'live');
    res.json({ disconnected });
  };
}
