import Stripe from 'stripe';
import type { NextFunction, Request, Response } from 'express';
import { sendError } from '../respond';
import type { ApiErrorCode, Mode } from '@stripe-hubspot-sync/contracts';
import { signatureFailuresOf } from '../app';

/** Who is calling the app API: verified from the Stripe App signature. */
export interface AppTenant {
  /** The Stripe account the Dashboard user is signed in to. */
  accountId: string;
  userId: string;
  /** Our storage key for that account ('' when it is the self-hosted merchant's own account). */
  accountKey: string;
}

export interface AppAuthOptions {
  /** The app's signing secret (absec_…); without it the app API answers 503. */
  secret: string | undefined;
  toleranceSeconds?: number;
  /** The self-hosted merchant's own account id: its events come without `account` and are stored under ''. */
  ownAccountId?: string;
}

const verifier = Stripe.webhooks.signature!;

/**
 * Verifies `Stripe-Signature` over `JSON.stringify({user_id, account_id})` (that key order, as the Dashboard
 * signs it) with the app secret and a timestamp tolerance. The tenant comes only from the verified ids: a
 * signature for one account can never read or write another account's data. Only headers are read, so it runs
 * before the body parser. A refused signature counts against the caller's address (the app's per-IP limit on
 * failed signatures, see signature-limit.ts): past the limit it answers 429 instead of 401.
 */
export function appAuth(opts: AppAuthOptions) {
  const tolerance = opts.toleranceSeconds ?? 300;
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method === 'OPTIONS') return next();
    if (!opts.secret) return sendError(res, 503, 'internal', 'The Stripe App API is not configured (STRIPE_APP_SECRET)');
    const signature = req.header('stripe-signature');
    const userId = req.header('x-stripe-user-id');
    const accountId = req.header('x-stripe-account-id');
    const refuse = (code: ApiErrorCode, message: string) => {
      const limit = signatureFailuresOf(req.app);
      if (!limit) return sendError(res, 401, code, message);
      limit.refuse(req, res, () => sendError(res, 401, code, message)).catch(next);
    };
    if (!signature || !userId || !accountId) {
      return refuse('missing_signature', 'Stripe-Signature, X-Stripe-User-Id and X-Stripe-Account-Id are required');
    }
    try {
      verifier.verifyHeader(JSON.stringify({ user_id: userId, account_id: accountId }), signature, opts.secret, tolerance);
    } catch (err) {
      const stale = err instanceof Error && /timestamp outside the tolerance/i.test(err.message);
      return refuse(
        stale ? 'stale_signature' : 'invalid_signature',
        stale ? 'The signature is too old' : 'The signature does not match this user and account',
      );
    }
    const tenant: AppTenant = { accountId, userId, accountKey: accountId === opts.ownAccountId ? '' : accountId };
    res.locals.tenant = tenant;
    next();
  };
}

export function tenantOf(res: Response): AppTenant {
  return res.locals.tenant as AppTenant;
}

/** The mode of a request: `?mode=` or `mode` in the body; anything else is a 400. */
export function modeOf(req: Request, res: Response): Mode | null {
  const raw = (req.query.mode ?? (req.body as { mode?: unknown } | undefined)?.mode) as unknown;
  if (raw === 'test' || raw === 'live') return raw;
  sendError(res, 400, 'bad_request', 'mode must be "test" or "live"');
  return null;
}

/** CORS for the Dashboard's sandboxed iframe (origin `null`): auth is the signature, never cookies. */
export function appCors(req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Allow-Methods', 'GET, PUT, POST, DELETE, OPTIONS');
  res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Stripe-Signature, X-Stripe-User-Id, X-Stripe-Account-Id');
  res.setHeader('Access-Control-Max-Age', '600');
  if (req.method === 'OPTIONS') {
    res.status(204).end();
    return;
  }
  next();
}
