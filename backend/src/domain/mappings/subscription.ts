import { SUBSCRIPTION_STATUSES } from '@stripe-hubspot-sync/contracts';
import type { EventMeta, MapOutcome, SubscriptionData, SubscriptionStatus } from '../records';
import { versionOf } from '../ordering';
import { countsTowardMrr, monthlyAmountOfItems } from '../mrr';
import { itemName, subscriptionItems } from '../prices';
import { customerRef } from './customer-ref';
import { subscriptionProducts } from './products';
import { currency, field, list, malformed, timestamp, type Json } from './read';

const STATUSES = new Set<string>(SUBSCRIPTION_STATUSES.filter((s) => s !== 'none'));

/**
 * The end of the current period: on the subscription (API versions before 2025-03-31.basil) or on each item
 * (since then; the earliest item end is the next renewal).
 */
export function currentPeriodEnd(o: Json): number | null {
  const own = timestamp(o.current_period_end);
  if (own !== null) return own;
  const ends = list(field(o, 'items'))
    .map((i) => timestamp(field(i, 'current_period_end')))
    .filter((t): t is number => t !== null);
  return ends.length > 0 ? Math.min(...ends) : null;
}

/**
 * customer.subscription.created | updated | trial_will_end | paused | resumed | deleted → a `subscription` record
 * (status, plan, MRR, renewal, trial end, products). `paused` is Stripe's status `paused` (a trial that ended
 * without a payment method, or a paused subscription); a paused payment collection (`pause_collection`) leaves
 * the status as Stripe reports it (active).
 */
export function mapSubscription(object: unknown, meta: EventMeta): MapOutcome {
  const bad = malformed(object, 'subscription');
  if (bad) return { skip: bad };
  const o = object as Json;
  const customer = customerRef(o.customer);
  if (!customer.id) return { skip: 'subscription has no customer' };
  const rawStatus = meta.type === 'customer.subscription.deleted' ? 'canceled' : o.status;
  if (typeof rawStatus !== 'string' || !STATUSES.has(rawStatus)) {
    return { skip: `malformed subscription: unknown status ${JSON.stringify(rawStatus ?? null)}` };
  }
  const status = rawStatus as SubscriptionStatus;
  const items = subscriptionItems(o);
  const cur = currency(o.currency) ?? items.map((i) => i.price.currency).find((c) => c !== null) ?? null;
  const names = [...new Set(items.map((i) => itemName(i, cur)))];
  const monthlyAmount = monthlyAmountOfItems(items);
  const data: SubscriptionData = {
    status,
    created: timestamp(o.created),
    currency: cur,
    plan: names.length > 0 ? names.join(' + ') : null,
    monthlyAmount,
    mrr: countsTowardMrr(status) ? monthlyAmount : 0,
    currentPeriodEnd: currentPeriodEnd(o),
    cancelAtPeriodEnd: o.cancel_at_period_end === true,
    cancelAt: timestamp(o.cancel_at),
    endedAt: timestamp(o.ended_at),
    trialEnd: timestamp(o.trial_end),
    products: subscriptionProducts(o),
  };
  const id = o.id as string;
  return {
    records: [{ kind: 'subscription', objectId: id, customerId: customer.id, version: versionOf(meta, 'subscription', o), data }],
    customerId: customer.id,
    email: customer.email,
  };
}
