import { stripeEvent, stripeObject } from '../helpers/stripe-fixtures';

/** Signed-event stories that give customers a known read model (subscription, payment, failures, refunds). */

export const T0 = 1_760_000_000;
const DAY = 86_400;

type Json = Record<string, unknown>;

export interface StoryOptions {
  account?: string;
  livemode?: boolean;
  /** Per-seat price in cents (default 2000) and seats (default 2). */
  unitAmount?: number;
  quantity?: number;
  subscriptionStatus?: string;
  currency?: string;
  /** Add a failed renewal: an open invoice and a failed charge. */
  failedRenewal?: boolean;
  /** Amount refunded of the first charge (default 0). */
  refunded?: number;
}

function price(id: string, amount: number, currency: string): Json {
  return stripeObject('price', {
    id,
    nickname: 'Pro',
    unit_amount: amount,
    currency,
    transform_quantity: null,
    recurring: { interval: 'month', interval_count: 1, usage_type: 'licensed', meter: null, trial_period_days: null },
  });
}

export function subscriptionOf(customerId: string, status: string, o: StoryOptions = {}, extra: Json = {}): Json {
  const currency = o.currency ?? 'usd';
  const subId = `sub_${customerId.slice(4)}`;
  const base = stripeObject('subscription', { id: subId, customer: customerId, status, cancel_at_period_end: false, currency, created: T0 + 10 });
  const item = {
    ...(base.items as { data: Json[] }).data[0],
    price: price(`price_${customerId.slice(4)}`, o.unitAmount ?? 2000, currency),
    quantity: o.quantity ?? 2,
    current_period_end: T0 + 30 * DAY,
  };
  return { ...base, items: { object: 'list', data: [item], has_more: false }, ...extra };
}

/** customer.created, subscription.created, invoice.paid and charge.succeeded (and optionally a failed renewal, a refund). */
export function customerStory(customerId: string, email: string, o: StoryOptions = {}): Json[] {
  const ev = { livemode: o.livemode ?? false, ...(o.account ? { account: o.account } : {}) };
  const currency = o.currency ?? 'usd';
  const amount = (o.unitAmount ?? 2000) * (o.quantity ?? 2);
  const subId = `sub_${customerId.slice(4)}`;
  const parent = { type: 'subscription_details', subscription_details: { subscription: subId, metadata: {} } };
  const customer = stripeObject('customer', { id: customerId, email, name: `Name of ${customerId}`, created: T0, currency, delinquent: false });
  const chargeId = `ch_${customerId.slice(4)}_1`;
  const events: Json[] = [
    stripeEvent('customer.created', customer, { ...ev, created: T0 }),
    stripeEvent('customer.subscription.created', subscriptionOf(customerId, o.subscriptionStatus ?? 'active', o), { ...ev, created: T0 + 10 }),
    stripeEvent(
      'invoice.paid',
      stripeObject('invoice', {
        id: `in_${customerId.slice(4)}_1`, customer: customerId, currency, parent, status: 'paid', amount_due: amount, amount_paid: amount,
        amount_remaining: 0, attempt_count: 1, created: T0 + 10,
        status_transitions: { paid_at: T0 + 11, finalized_at: T0 + 10, marked_uncollectible_at: null, voided_at: null },
      }),
      { ...ev, created: T0 + 11 },
    ),
    stripeEvent(
      'charge.succeeded',
      stripeObject('charge', { id: chargeId, customer: customerId, currency, status: 'succeeded', paid: true, captured: true, amount, amount_captured: amount, amount_refunded: 0, created: T0 + 11 }),
      { ...ev, created: T0 + 11 },
    ),
  ];
  if (o.failedRenewal) {
    events.push(
      stripeEvent(
        'invoice.payment_failed',
        stripeObject('invoice', { id: `in_${customerId.slice(4)}_2`, customer: customerId, currency, parent, status: 'open', amount_due: amount, amount_paid: 0, amount_remaining: amount, attempt_count: 1, created: T0 + 30 * DAY }),
        { ...ev, created: T0 + 30 * DAY },
      ),
      stripeEvent('customer.subscription.updated', subscriptionOf(customerId, 'past_due', o), { ...ev, created: T0 + 30 * DAY + 1, previousAttributes: { status: 'active' } }),
    );
  }
  if (o.refunded) {
    events.push(
      stripeEvent(
        'charge.refunded',
        stripeObject('charge', { id: chargeId, customer: customerId, currency, status: 'succeeded', paid: true, captured: true, amount, amount_captured: amount, amount_refunded: o.refunded, refunded: o.refunded >= amount, created: T0 + 11 }),
        { ...ev, created: T0 + 31 * DAY },
      ),
    );
  }
  return events;
}
