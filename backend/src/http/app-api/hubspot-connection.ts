import type { Request, Response } from 'express';
import { z } from 'zod';
import { FIELD_KEYS, type PendingHubSpotConnection, type TestHubSpotConnectionResponse } from '@stripe-hubspot-sync/contracts';
import type { ConnectionCheck } from '../../domain/destinations/port';
import { modeOf, tenantOf } from './auth';
import type { AppApiDeps } from './services';
import { markAllForPush } from '../../adapters/store/sync-store';
import { loadSettings } from '../../adapters/store/settings-store';
import type { Queryable } from '../../adapters/store/db';
import { sendError } from '../respond';
import { HubSpotError, PermanentHubSpotError } from '../../adapters/hubspot/errors';
import {
  OAuthFlowError,
  PKCE_CHALLENGE_PATTERN,
  PKCE_VERIFIER_PATTERN,
  type OAuthRefusal,
  type PendingConnection,
} from '../../adapters/hubspot/oauth-flow';

/**
 * Connecting and disconnecting HubSpot (the flow is described in `@stripe-hubspot-sync/contracts`, api.ts):
 * authorize URL (state + PKCE recorded for this caller) → connect (state, verifier and code checked; a pending
 * connection, nothing written) → confirm (the connection is made, customers queued, the import started) or cancel.
 */

const NOT_CONFIGURED = 'HubSpot OAuth is not configured on this backend';
/** An OAuth `state` as the SDK's createOAuthState() makes it: printable ASCII, bounded. */
const stateSchema = z.string().regex(/^[\x21-\x7e]{1,512}$/, 'state must be 1–512 printable characters');

const authorizeQuery = z.object({
  state: stateSchema,
  challenge: z.string().regex(PKCE_CHALLENGE_PATTERN, 'challenge must be a PKCE S256 challenge (43 base64url characters)'),
});

/** GET /hubspot/authorize-url?mode=&state=&challenge= */
export function getAuthorizeUrl(deps: AppApiDeps) {
  return async (req: Request, res: Response) => {
    const mode = modeOf(req, res);
    if (!mode) return;
    const q = authorizeQuery.safeParse(req.query);
    if (!q.success) return sendError(res, 400, 'bad_request', firstIssue(q.error, 'state and challenge are required'));
    const oauth = deps.installs.oauth;
    if (!oauth) return sendError(res, 503, 'not_connected', NOT_CONFIGURED);
    const { accountKey, userId } = tenantOf(res);
    try {
      const url = await oauth.begin({ account: accountKey, livemode: mode === 'live', userId, ...q.data });
      res.json({ url });
    } catch (err) {
      if (err instanceof OAuthFlowError) return sendRefusal(res, err);
      throw err;
    }
  };
}

const connectBody = z.object({
  mode: z.enum(['test', 'live']),
  code: z.string().min(1).max(2048),
  state: stateSchema,
  verifier: z.string().regex(PKCE_VERIFIER_PATTERN, 'verifier must be a PKCE code verifier (43–128 characters)'),
});

/** POST /hubspot/connect {mode, code, state, verifier} — checks, exchanges, and answers the pending connection. */
export function postConnect(deps: AppApiDeps) {
  return async (req: Request, res: Response) => {
    const body = connectBody.safeParse(req.body);
    if (!body.success) return sendError(res, 400, 'bad_request', firstIssue(body.error, 'mode, code, state and verifier are required'));
    const oauth = deps.installs.oauth;
    if (!oauth) return sendError(res, 503, 'not_connected', NOT_CONFIGURED);
    const { accountKey, userId } = tenantOf(res);
    const { mode, code, state, verifier } = body.data;
    try {
      const pending = await oauth.complete({ account: accountKey, livemode: mode === 'live', userId, code, state, verifier });
      res.json({ pending: await describePending(deps, pending) });
    } catch (err) {
      if (err instanceof OAuthFlowError) return sendRefusal(res, err);
      // A code HubSpot refuses (expired, used, for another app, a verifier it does not match) is the caller's to fix.
      if (err instanceof PermanentHubSpotError && err.status >= 400 && err.status < 500) {
        return sendError(res, 400, 'bad_request', `HubSpot refused the authorization code: ${err.message}`);
      }
      if (err instanceof HubSpotError) return sendError(res, 502, 'hubspot_error', `HubSpot did not answer the authorization: ${err.message}`);
      throw err;
    }
  };
}

const confirmBody = z.object({ mode: z.enum(['test', 'live']), portalId: z.number().int().positive() });

/** POST /hubspot/connect/confirm {mode, portalId} — the pending connection becomes the connection; the sync starts. */
export function postConfirm(deps: AppApiDeps) {
  return async (req: Request, res: Response) => {
    const body = confirmBody.safeParse(req.body);
    if (!body.success) return sendError(res, 400, 'bad_request', 'mode and portalId are required');
    const oauth = deps.installs.oauth;
    if (!oauth) return sendRefusal(res, new OAuthFlowError('no_pending'));
    const { accountKey, userId } = tenantOf(res);
    const livemode = body.data.mode === 'live';
    try {
      const connection = await oauth.confirm({ account: accountKey, livemode, userId, portalId: body.data.portalId });
      await markAllForPush(deps.db, accountKey, livemode);
      deps.wakePusher();
      // A new connection starts complete: the customers we never saw through webhooks come from a backfill.
      await deps.backfill?.start(accountKey, livemode).catch(() => undefined);
      res.json({ connection });
    } catch (err) {
      if (err instanceof OAuthFlowError) return sendRefusal(res, err);
      throw err;
    }
  };
}

/** POST /hubspot/connect/cancel {mode} — drops the pending connection (its refresh token revoked). */
export function postCancel(deps: AppApiDeps) {
  return async (req: Request, res: Response) => {
    const mode = modeOf(req, res);
    if (!mode) return;
    const oauth = deps.installs.oauth;
    if (!oauth) {
      res.json({ canceled: false });
      return;
    }
    const { accountKey, userId } = tenantOf(res);
    try {
      res.json({ canceled: await oauth.cancel({ account: accountKey, livemode: mode === 'live', userId }) });
    } catch (err) {
      if (err instanceof OAuthFlowError) return sendRefusal(res, err);
      throw err;
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

/** POST /hubspot/connection/test {mode} — the destination port's check of this mode's HubSpot connection, now. */
export function postTestConnection(deps: AppApiDeps) {
  return async (req: Request, res: Response) => {
    const mode = modeOf(req, res);
    if (!mode) return;
    const account = tenantOf(res).accountKey;
    const livemode = mode === 'live';
    const checked = await deps.installs.check(account, livemode);
    const connection = checked && (await deps.installs.connection(account, livemode));
    if (!checked || !connection) return sendError(res, 404, 'not_connected', `No HubSpot portal is connected for ${mode} mode`);
    const body: TestHubSpotConnectionResponse = { ok: checked.ok, message: checkMessage(checked), connection };
    res.json(body);
  };
}

function checkMessage(checked: ConnectionCheck): string {
  if (checked.ok) {
    const waiting = checked.woken === 0 ? '' : ` The ${checked.woken} ${checked.woken === 1 ? 'customer' : 'customers'} kept while it was refused ${checked.woken === 1 ? 'is' : 'are'} being written now.`;
    return `${checked.label} answers: the connection works.${waiting}`;
  }
  switch (checked.errorClass) {
    case 'connection':
      return `HubSpot refuses our access: ${checked.message}. Writing is paused and every change is kept.`;
    case 'rate_limited':
      return 'HubSpot asks us to slow down right now; nothing is lost. Check again in a minute.';
    default:
      return `HubSpot did not answer (${checked.message}); nothing is lost. Check again in a minute.`;
  }
}

const REFUSAL_STATUS: Record<OAuthRefusal, { status: number; code: 'invalid_oauth_state' | 'not_found' | 'forbidden' | 'bad_request' }> = {
  unknown_state: { status: 400, code: 'invalid_oauth_state' },
  expired_state: { status: 400, code: 'invalid_oauth_state' },
  used_state: { status: 400, code: 'invalid_oauth_state' },
  state_in_use: { status: 400, code: 'invalid_oauth_state' },
  pkce_mismatch: { status: 400, code: 'invalid_oauth_state' },
  no_pending: { status: 404, code: 'not_found' },
  other_user: { status: 403, code: 'forbidden' },
  other_portal: { status: 409, code: 'bad_request' },
};

function sendRefusal(res: Response, err: OAuthFlowError): void {
  const { status, code } = REFUSAL_STATUS[err.reason];
  sendError(res, status, code, err.message);
}

function firstIssue(error: z.ZodError, fallback: string): string {
  const issue = error.issues[0];
  return issue && issue.code !== 'invalid_type' ? issue.message : fallback;
}

/** The pending portal, and what confirming it sends there (this mode's settings and the customers known). */
async function describePending(deps: AppApiDeps, p: PendingConnection): Promise<PendingHubSpotConnection> {
  const { settings } = await loadSettings(deps.db, p.accountKey, p.livemode);
  return {
    portalId: p.portalId,
    hubDomain: p.hubDomain,
    authorizedBy: p.authorizedBy,
    confirmBy: p.confirmBy.toISOString(),
    willSend: {
      properties: FIELD_KEYS.filter((k) => settings.fields[k].enabled).map((k) => settings.fields[k].property),
      knownCustomers: await knownCustomers(deps.db, p.accountKey, p.livemode),
      createContacts: settings.options.createContacts,
      setLifecycleCustomer: settings.options.setLifecycleCustomer,
      createTaskOnFailure: settings.options.createTaskOnFailure,
      importExisting: deps.backfill !== undefined,
    },
  };
}

/** Customers a new connection writes at once (those markAllForPush queues). */
async function knownCustomers(db: Queryable, account: string, livemode: boolean): Promise<number> {
  const r = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM customers WHERE account_key = $1 AND livemode = $2 AND status IS NOT NULL AND version > 0',
    [account, livemode],
  );
  return Number(r.rows[0]?.n ?? 0);
}
