import type { Db } from '../../adapters/store/db';
import { suppressedCustomers } from '../../adapters/store/data-deletion';
import { asAccount, stripeClient } from '../../adapters/stripe/client';
import { hubspotContactReader } from '../../jobs/hubspot-read';
import { markForPush } from '../../adapters/store/sync-store';
import type { PortalInstalls } from './portal-installs';

/**
 * The card's "Check Stripe again" on a contact no customer is linked to: the contact's email (read from HubSpot
 * through the portal's connection) is looked up in Stripe, in every Stripe account connected to the portal in the
 * API key's mode. Each customer found (unless it is linked to a contact already, or was deleted for privacy) is
 * folded into the read model like a refresh and queued for a push: the pusher then links it by its own identity
 * rules (customer id, then email: this contact) and writes it. The card path never decides who is who.
 */

export interface LookupResult {
  /** Customers found in Stripe and queued to be linked and written. */
  found: number;
  /** Why none was, in words for the card's user. */
  message?: string;
}

export type ContactLookup = (portalId: number, contactId: string, signal: AbortSignal) => Promise<LookupResult>;

export interface StripeLookupOptions {
  db: Db;
  apiKey: string;
  apiBaseUrl?: string;
  portals: Pick<PortalInstalls, 'installsOf' | 'client'>;
  /** Folds a customer's live state into the read model (the card's refresher). */
  fold(account: string, livemode: boolean, customerId: string, signal: AbortSignal): Promise<void>;
  /** Called after customers were queued (wakes the pusher). */
  onFound?(): void;
}

/** Customers of one email we look at, at most (an email shared by more is unusual; the rest wait for webhooks). */
const MAX_CUSTOMERS = 10;

export function createStripeContactLookup(o: StripeLookupOptions): ContactLookup {
  // One attempt each: the card waits, and HubSpot gives up after 15 s.
  const stripe = stripeClient(o.apiKey, o.apiBaseUrl, { timeoutMs: 7000, maxNetworkRetries: 0 });
  // A secret key reads one mode only.
  const livemode = /^(sk|rk)_live_/.test(o.apiKey);
  const mode = livemode ? 'live' : 'test';

  return async (portalId, contactId, signal) => {
    const installs = (await o.portals.installsOf(portalId)).filter((i) => i.livemode === livemode);
    if (installs.length === 0) {
      return { found: 0, message: `This sync service looks customers up in Stripe's ${mode} mode only, and this HubSpot account is connected for the other mode.` };
    }
    const contacts = await hubspotContactReader(o.portals.client(installs[0]!)).readContacts([contactId], ['email']);
    const email = contacts.get(contactId)?.email?.trim();
    if (!email) return { found: 0, message: 'This contact has no email to look up in Stripe.' };

    let found = 0;
    let elsewhere = 0;
    for (const install of installs) {
      signal.throwIfAborted();
      const account = install.accountId ?? '';
      const listed = await stripe.customers.list({ email, limit: MAX_CUSTOMERS }, asAccount(account));
      const ids = listed.data.map((c) => c.id);
      const suppressed = await suppressedCustomers(o.db, account, livemode, ids);
      const linked = await linkedCustomers(o.db, account, livemode, ids);
      for (const customerId of ids.filter((id) => !suppressed.has(id))) {
        if (linked.has(customerId)) {
          elsewhere += 1;
          continue;
        }
        signal.throwIfAborted();
        const key = { account, livemode, customerId };
        // A customer read from Stripe moments ago is not read again (the refresher says so): its state is fresh.
        await o.fold(account, livemode, customerId, signal).catch((err: unknown) => {
          if (typeof (err as { cardWarning?: unknown } | null)?.cardWarning !== 'string') throw err;
        });
        // Written again even when Stripe told us nothing new (e.g. its contact was deleted in HubSpot before).
        if (await markForPush(o.db, key)) found += 1;
      }
    }
    if (found > 0) {
      o.onFound?.();
      return { found };
    }
    return {
      found: 0,
      message:
        elsewhere > 0
          ? `The Stripe customer with the email ${email} is linked to another contact.`
          : `Stripe has no ${mode}-mode customer with the email ${email}.`,
    };
  };
}

/** The customers among `ids` linked to a contact already. */
async function linkedCustomers(db: Db, account: string, livemode: boolean, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const { rows } = await db.query<{ customer_id: string }>(
    'SELECT customer_id FROM contact_links WHERE account_key = $1 AND livemode = $2 AND customer_id = ANY($3::text[])',
    [account, livemode, ids],
  );
  return new Set(rows.map((r) => r.customer_id));
}
