import type { Db } from '../adapters/store/db';
import { readCustomerSnapshot, stripeClient } from '../adapters/stripe/client';
import { applyCustomerRecords } from '../jobs/apply-events';
import { mapStripeObject } from '../domain/events';
import type { ObjectRecord } from '../domain/records';
import { claimCardRefresh } from '../adapters/store/card-refreshes';
import { tombstoneOf } from '../adapters/store/tombstones';

/**
 * The refresh cannot be done for that customer; `cardWarning` tells the card why (the card shows the last synced
 * state). `reason`: the API key reads the other mode (`mode`), the customer was read from Stripe less than the
 * minimum interval ago (`throttled`), or the app was uninstalled from the account (`uninstalled`); the last two
 * warnings are worded for the merchant.
 */
export class RefreshNotPossible extends Error {
  constructor(
    readonly cardWarning: string,
    readonly reason: 'mode' | 'throttled' | 'uninstalled' = 'mode',
  ) {
    super(cardWarning);
    this.name = 'RefreshNotPossible';
  }
}

export interface RefresherOptions {
  /**
   * CARD_REFRESH_MIN_INTERVAL_SECONDS: a customer is read from Stripe at most once per this many seconds, across
   * every instance; a refresh sooner answers the stored state and says when it was read (0: no limit).
   */
  minIntervalSeconds?: number;
}

/**
 * Reads a customer's live state from the Stripe API and folds it in like an event created now: it wins over
 * every older webhook, and any later webhook wins over it. The pusher then writes the change to HubSpot.
 * Refused (`RefreshNotPossible`, the card shows the stored state and why) for an account the app was uninstalled
 * from, and for a customer read less than `minIntervalSeconds` ago.
 */
export function createCustomerRefresher(db: Db, apiKey: string, apiBaseUrl: string | undefined, onChanged: () => void, opts: RefresherOptions = {}) {
  // One attempt each: the card waits, and HubSpot gives up after 15 s.
  const stripe = stripeClient(apiKey, apiBaseUrl, { timeoutMs: 7000, maxNetworkRetries: 0 });
  // A secret key reads one mode: a test key never sees live objects (Stripe would answer "No such customer").
  const keyIsLive = /^(sk|rk)_live_/.test(apiKey);
  return async (account: string, livemode: boolean, customerId: string, signal: AbortSignal): Promise<void> => {
    if (livemode !== keyIsLive) {
      const mode = livemode ? 'live' : 'test';
      throw new RefreshNotPossible(
        `Live refresh reads ${keyIsLive ? 'live' : 'test'} mode only (STRIPE_API_KEY); showing the last synced state of this ${mode} customer.`,
      );
    }
    if ((await tombstoneOf(db, { account, livemode })) !== null) {
      throw new RefreshNotPossible('The Stripe App was uninstalled from this Stripe account; showing the last synced state.', 'uninstalled');
    }
    const minInterval = opts.minIntervalSeconds ?? 0;
    if (minInterval > 0) {
      const claim = await claimCardRefresh(db, { account, livemode, customerId }, minInterval);
      if (!claim.claimed) {
        const wait = Math.max(1, minInterval - claim.ageSeconds);
        throw new RefreshNotPossible(
          `Refreshed from Stripe ${claim.ageSeconds} s ago; showing that state. A new refresh is possible in ${wait} s.`,
          'throttled',
        );
      }
    }
    const snapshot = await readCustomerSnapshot(stripe, account, customerId, { signal });
    const created = Math.floor(Date.now() / 1000);
    const meta = { id: `refresh_${Date.now()}`, created, livemode, account: account || null };
    const records: ObjectRecord[] = [];
    for (const object of [snapshot.customer, ...snapshot.subscriptions, ...snapshot.invoices, ...snapshot.charges]) {
      const kind = (object as { object?: string }).object ?? 'object';
      const mapped = mapStripeObject(object, { ...meta, type: `${kind}.refresh` });
      if ('records' in mapped) records.push(...mapped.records.map((r) => (r.customerId ? r : ({ ...r, customerId } as ObjectRecord))));
    }
    signal.throwIfAborted();
    const { changed } = await applyCustomerRecords(db, { account, livemode, customerId }, [{ eventId: null, records }]);
    if (changed) onChanged();
  };
}
