import type { Db } from '../adapters/store/db';
import { readCustomerSnapshot, stripeClient } from '../adapters/stripe/client';
import { applyCustomerRecords } from '../jobs/apply-events';
import { mapStripeObject } from '../domain/events';
import type { ObjectRecord } from '../domain/records';

/** The refresh cannot be done for that customer; `cardWarning` tells the card why (the card shows the last synced state). */
export class RefreshNotPossible extends Error {
  constructor(readonly cardWarning: string) {
    super(cardWarning);
    this.name = 'RefreshNotPossible';
  }
}

/**
 * Reads a customer's live state from the Stripe API and folds it in like an event created now: it wins over
 * every older webhook, and any later webhook wins over it. The pusher then writes the change to HubSpot.
 */
export function createCustomerRefresher(db: Db, apiKey: string, apiBaseUrl: string | undefined, onChanged: () => void) {
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
