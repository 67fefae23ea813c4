import Stripe from 'stripe';

/** A Stripe API client; `baseUrl` points it elsewhere (a local fake in tests). */
export function stripeClient(apiKey: string, baseUrl?: string, opts: { timeoutMs?: number; maxNetworkRetries?: number } = {}): Stripe {
  const config: Stripe.StripeConfig = {
    maxNetworkRetries: opts.maxNetworkRetries ?? 2,
    timeout: opts.timeoutMs ?? 10_000,
    appInfo: { name: 'stripe-hubspot-sync' },
  };
  if (baseUrl) {
    const u = new URL(baseUrl);
    config.host = u.hostname;
    config.port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
    config.protocol = u.protocol === 'https:' ? 'https' : 'http';
  }
  return new Stripe(apiKey, config);
}

/** The request options that act for a connected account ('' = the key's own account). */
export function asAccount(account: string): Stripe.RequestOptions {
  return account ? { stripeAccount: account } : {};
}

export interface CustomerSnapshot {
  customer: Stripe.Customer | Stripe.DeletedCustomer;
  subscriptions: Stripe.Subscription[];
  invoices: Stripe.Invoice[];
  charges: Stripe.Charge[];
}

/** The live state of one customer: the customer, all its subscriptions, and its recent invoices and charges. */
export async function readCustomerSnapshot(
  stripe: Stripe,
  account: string,
  customerId: string,
  opts: { recent?: number; signal?: AbortSignal } = {},
): Promise<CustomerSnapshot> {
  const req = asAccount(account);
  const limit = opts.recent ?? 20;
  const [customer, subscriptions, invoices, charges] = await Promise.all([
    stripe.customers.retrieve(customerId, {}, req),
    stripe.subscriptions.list({ customer: customerId, status: 'all', limit: 100 }, req),
    stripe.invoices.list({ customer: customerId, limit }, req),
    stripe.charges.list({ customer: customerId, limit, expand: ['data.refunds'] }, req), // refunds: when each was issued
  ]);
  opts.signal?.throwIfAborted();
  return { customer, subscriptions: subscriptions.data, invoices: invoices.data, charges: charges.data };
}
