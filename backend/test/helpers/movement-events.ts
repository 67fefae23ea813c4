import { stripeEvent, stripeObject, succeededCharge } from './stripe-fixtures';
import { mapEvent, type StripeEventInput } from '../../src/domain/events';
import { historyEntry, previousAttributesOf, type HistoryEntry } from '../../src/domain/movements-history';

/**
 * Stripe events for revenue-movement tests, built from Stripe's fixture objects: subscriptions with one monthly
 * price, `*.updated` events with the `previous_attributes` Stripe sends (the whole previous `items` list when the
 * price changed, the previous `status`), invoices with attempts, refunds and disputes.
 */

type Json = Record<string, unknown>;

export function monthlyItems(amount: number, nickname: string): Json {
  const price = stripeObject('price', {
    id: `price_${nickname}`,
    nickname,
    unit_amount: amount,
    unit_amount_decimal: String(amount),
    currency: 'usd',
    billing_scheme: 'per_unit',
    transform_quantity: null,
    recurring: { interval: 'month', interval_count: 1, usage_type: 'licensed', meter: null },
  });
  return { object: 'list', has_more: false, data: [{ object: 'subscription_item', id: `si_${nickname}`, quantity: 1, price }] };
}

export interface SubState {
  status: string;
  amount: number;
  plan: string;
}

/** A subscription event; `before` (for `*.updated`) becomes `previous_attributes` with only what changed. */
export function subscriptionEvent(
  type: 'created' | 'updated' | 'deleted' | 'trial_will_end',
  sub: { id: string; customer: string },
  state: SubState,
  opts: { id?: string; created: number; before?: SubState },
): Json {
  const object = stripeObject('subscription', {
    id: sub.id,
    customer: sub.customer,
    status: state.status,
    currency: 'usd',
    items: monthlyItems(state.amount, state.plan),
  });
  const previous: Json = {};
  if (opts.before) {
    if (opts.before.status !== state.status) previous.status = opts.before.status;
    if (opts.before.amount !== state.amount || opts.before.plan !== state.plan) previous.items = monthlyItems(opts.before.amount, opts.before.plan);
  }
  return stripeEvent(`customer.subscription.${type}`, object, {
    id: opts.id,
    created: opts.created,
    ...(type === 'updated' ? { previousAttributes: previous } : {}),
  });
}

/** An invoice event: `attempt` attempts so far; `payment_failed` leaves it open, `paid` pays it. */
export function invoiceEvent(
  type: 'payment_failed' | 'paid',
  inv: { id: string; customer: string; amount: number; subscription?: string },
  opts: { id?: string; created: number; attempt: number },
): Json {
  const paid = type === 'paid';
  const object = stripeObject('invoice', {
    id: inv.id,
    customer: inv.customer,
    status: paid ? 'paid' : 'open',
    currency: 'usd',
    amount_due: inv.amount,
    amount_paid: paid ? inv.amount : 0,
    amount_remaining: paid ? 0 : inv.amount,
    attempt_count: opts.attempt,
    attempted: true,
    paid_out_of_band: false,
    status_transitions: { paid_at: paid ? opts.created : null },
    subscription: inv.subscription ?? null,
    parent: null,
    lines: { object: 'list', data: [] },
    created: opts.created - 3600,
  });
  return stripeEvent(`invoice.${type}`, object, { id: opts.id, created: opts.created });
}

/** charge.refunded with `refunded` in total, and (unless `noPrevious`) the previous total Stripe sends. */
export function refundEvent(
  ch: { id: string; customer: string; amount: number },
  refunded: number,
  opts: { id?: string; created: number; previousRefunded?: number },
): Json {
  const charge = succeededCharge(ch.id, ch.customer, ch.amount, opts.created - 86_400, refunded);
  return stripeEvent('charge.refunded', charge, {
    id: opts.id,
    created: opts.created,
    ...(opts.previousRefunded !== undefined ? { previousAttributes: { amount_refunded: opts.previousRefunded } } : {}),
  });
}

export function chargeSucceeded(ch: { id: string; customer: string; amount: number }, opts: { id?: string; created: number }): Json {
  return stripeEvent('charge.succeeded', succeededCharge(ch.id, ch.customer, ch.amount, opts.created), { id: opts.id, created: opts.created });
}

export function disputeEvent(dp: { id: string; charge: string; customer: string; amount: number }, opts: { id?: string; created: number }): Json {
  const object = stripeObject('dispute', {
    id: dp.id,
    charge: stripeObject('charge', { id: dp.charge, customer: dp.customer }),
    amount: dp.amount,
    currency: 'usd',
    status: 'needs_response',
    reason: 'fraudulent',
    created: opts.created,
    payment_intent: null,
  });
  return stripeEvent('charge.dispute.created', object, { id: opts.id, created: opts.created });
}

/** The history entries of events, as the apply path makes them (`fromEvent: false`: as if read from the API). */
export function historyOf(events: readonly Json[], fromEvent = true): HistoryEntry[] {
  const out: HistoryEntry[] = [];
  for (const e of events) {
    const mapped = mapEvent(e as unknown as StripeEventInput);
    if ('skip' in mapped) throw new Error(mapped.skip);
    for (const r of mapped.records) {
      const record = r.customerId ? r : { ...r, customerId: mapped.customerId };
      const entry = historyEntry(record as typeof r, { fromEvent, eventType: e.type as string, previous: previousAttributesOf(e) });
      if (entry) out.push(entry);
    }
  }
  return out;
}
