import type Stripe from 'stripe';
import type { Db } from '../../adapters/store/db';
import { insertFailedBackfill, latestBackfill, requestCancel, startBackfill } from '../../adapters/store/backfill-store';
import { stripeClient } from '../../adapters/stripe/client';
import type { BackfillService } from '../../http/app-api/services';
import { toBackfillProgress } from './progress';

/** The Stripe App's backfill API (progress / start / cancel) over the `backfills` table and a runner. */
export function createBackfillService(deps: {
  db: Db;
  /** Wakes this instance's runner after a start (any instance's runner would take it within its poll). */
  wake?(): void;
  /** Whether a Stripe API key can read that mode. */
  hasKey(livemode: boolean): boolean;
}): BackfillService {
  const { db } = deps;
  return {
    async progress(account, livemode) {
      const run = await latestBackfill(db, account, livemode);
      return run ? toBackfillProgress(run) : null;
    },
    async start(account, livemode) {
      if (!deps.hasKey(livemode)) {
        const failed = await insertFailedBackfill(
          db,
          account,
          livemode,
          `No Stripe API key is configured for ${livemode ? 'live' : 'test'} mode: set STRIPE_API_KEY to a ${livemode ? 'live' : 'test'} key`,
        );
        return toBackfillProgress(failed);
      }
      const { run } = await startBackfill(db, account, livemode);
      deps.wake?.();
      return toBackfillProgress(run);
    },
    async cancel(account, livemode) {
      const run = await requestCancel(db, account, livemode);
      return run ? toBackfillProgress(run) : null;
    },
  };
}

export interface StripeKeys {
  test?: string;
  live?: string;
}

/** Which mode a secret or restricted key reads: `sk_test_…`/`rk_test_…` test, `sk_live_…`/`rk_live_…` live. */
export function stripeKeys(...keys: (string | undefined)[]): StripeKeys {
  const out: StripeKeys = {};
  for (const key of keys) {
    if (!key) continue;
    if (/^(sk|rk)_test_/.test(key)) out.test ??= key;
    else if (/^(sk|rk)_live_/.test(key)) out.live ??= key;
  }
  return out;
}

/** One Stripe client per mode for backfills and recovery: SDK retries off (our limiter counts every request). */
export function stripeForMode(keys: StripeKeys, baseUrl?: string): (livemode: boolean) => Stripe | null {
  const clients = new Map<boolean, Stripe>();
  return (livemode) => {
    const key = livemode ? keys.live : keys.test;
    if (!key) return null;
    let client = clients.get(livemode);
    if (!client) clients.set(livemode, (client = stripeClient(key, baseUrl, { maxNetworkRetries: 0, timeoutMs: 30_000 })));
    return client;
  };
}
