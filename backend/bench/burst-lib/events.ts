/**
 * Deterministic Stripe event plans for the burst and end-to-end latency benches: the same seed gives the same
 * events (ids included) in the load-generator process and in the bench process that checks the results.
 * Objects are Stripe's example shapes (fixtures) with our ids, emails and amounts.
 */
import { stripeEvent, stripeObject, succeededCharge } from '../../test/helpers/stripe-fixtures';
import { seededRandom } from '../../test/helpers/seeded-random';

type Json = Record<string, unknown>;

export interface PlannedEvent {
  customerId: string;
  type: string;
  event: Json;
  /** The HubSpot contact property this event changes, and its new value (latency plans only). */
  expect?: { property: string; value: string };
}

/** A seeded PRNG in [0, 1) (mulberry32). */
export const rng = seededRandom;

const DAY = 86_400;

export function benchPrice(unitAmount: number): Json {
  return stripeObject('price', {
    id: `price_bench_${unitAmount}`,
    nickname: `Plan ${unitAmount / 100}`,
    unit_amount: unitAmount,
    unit_amount_decimal: String(unitAmount),
    currency: 'usd',
    transform_quantity: null,
    recurring: { interval: 'month', interval_count: 1, usage_type: 'licensed', meter: null, trial_period_days: null },
  });
}

function customerObject(id: string, email: string, created: number, extra: Json = {}): Json {
  return stripeObject('customer', { id, email, name: `Customer ${id.slice(-6)}`, created, currency: 'usd', delinquent: false, ...extra });
}

function subscriptionObject(id: string, customer: string, status: string, unitAmount: number, quantity: number, created: number): Json {
  const base = stripeObject('subscription', { id, customer, status, cancel_at_period_end: false, currency: 'usd', created });
  const item = { ...(base.items as { data: Json[] }).data[0], id: `si_${id.slice(4)}`, price: benchPrice(unitAmount), quantity, current_period_end: created + 30 * DAY };
  return { ...base, items: { object: 'list', data: [item], has_more: false } };
}

function invoiceObject(id: string, customer: string, sub: string | null, amount: number, at: number, paid: boolean, attempts = 1): Json {
  return stripeObject('invoice', {
    id,
    customer,
    currency: 'usd',
    amount_due: amount,
    amount_paid: paid ? amount : 0,
    amount_remaining: paid ? 0 : amount,
    status: paid ? 'paid' : 'open',
    attempt_count: attempts,
    attempted: true,
    created: at - 30,
    parent: sub ? { type: 'subscription_details', subscription_details: { subscription: sub, metadata: {} } } : null,
    status_transitions: { paid_at: paid ? at : null, finalized_at: at - 30, marked_uncollectible_at: null, voided_at: null },
  });
}

export interface BurstPlanOptions {
  customers: number;
  events: number;
  seed: number;
  /** Unix seconds the customers' histories start at (default: 200 days before now, renewals are monthly). */
  start?: number;
  /**
   * Subscribers' events beyond their story alternate a renewal and a plan change (an upgrade to twice the price,
   * then back down), each renewal at the price of the moment (default false: renewals only, as the bench runs).
   */
  planChanges?: boolean;
}

/**
 * A burst over `customers` customers: each customer's events follow one of three realistic stories (a
 * subscriber who pays, a subscriber whose payment fails, a one-off buyer with a refund), extended with renewals
 * when there are more than five events per customer. Customers are interleaved at random; each customer's own
 * events keep their order.
 */
export function burstPlan(opts: BurstPlanOptions): PlannedEvent[] {
  const random = rng(opts.seed);
  const start = opts.start ?? Math.floor(Date.now() / 1000) - 200 * DAY;
  const perCustomer: PlannedEvent[][] = [];
  const base = Math.floor(opts.events / opts.customers);
  const extra = opts.events % opts.customers;
  for (let c = 0; c < opts.customers; c++) {
    const n = base + (c < extra ? 1 : 0);
    perCustomer.push(customerStory(c, n, start + c * 7, opts.seed, random, opts.planChanges ?? false));
  }
  // Shuffle a multiset of customer indices, then hand each customer's next event to each slot.
  const slots: number[] = perCustomer.flatMap((events, c) => events.map(() => c));
  for (let i = slots.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [slots[i], slots[j]] = [slots[j], slots[i]];
  }
  const next = perCustomer.map(() => 0);
  return slots.map((c) => perCustomer[c][next[c]++]);
}

/**
 * A B2B merchant's customers: three in four on a company domain that two customers share (their company is found
 * or created by that domain when companies are on), the fourth on free mail (no company).
 */
export function burstEmail(seed: number, c: number): string {
  return c % 4 === 3 ? `burst-${seed}-${c}@gmail.com` : `burst-${seed}-${c}@company-${seed}-${Math.floor(c / 2)}.example`;
}

function customerStory(c: number, n: number, t: number, seed: number, random: () => number, planChanges: boolean): PlannedEvent[] {
  const cus = `cus_b${seed}x${c}`;
  const email = burstEmail(seed, c);
  const sub = `sub_b${seed}x${c}`;
  const unit = [900, 2900, 4900, 9900][c % 4];
  const kind = random();
  const ev = (type: string, object: Json, created: number, k: number, previous?: Json): PlannedEvent => ({
    customerId: cus,
    type,
    event: stripeEvent(type, object, { id: `evt_b${seed}x${c}x${k}`, created, previousAttributes: previous }),
  });
  const out: PlannedEvent[] = [ev('customer.created', customerObject(cus, email, t), t, 0)];
  if (kind < 0.6) {
    out.push(
      ev('customer.subscription.created', subscriptionObject(sub, cus, 'active', unit, 1, t + 10), t + 10, 1),
      ev('invoice.paid', invoiceObject(`in_b${seed}x${c}x1`, cus, sub, unit, t + 11, true), t + 11, 2),
      ev('charge.succeeded', succeededCharge(`ch_b${seed}x${c}x1`, cus, unit, t + 11), t + 11, 3),
      // Most customer updates change nothing HubSpot holds (a name here); one in ten changes the email.
      c % 10 === 0
        ? ev('customer.updated', customerObject(cus, `renamed-${email}`, t), t + 20, 4, { email })
        : ev('customer.updated', customerObject(cus, email, t, { name: `Renamed ${c}` }), t + 20, 4, { name: `Customer ${cus.slice(-6)}` }),
    );
  } else if (kind < 0.8) {
    out.push(
      ev('customer.subscription.created', subscriptionObject(sub, cus, 'active', unit, 1, t + 10), t + 10, 1),
      ev('invoice.payment_failed', invoiceObject(`in_b${seed}x${c}x1`, cus, sub, unit, t + 11, false), t + 11, 2),
      ev('customer.subscription.updated', subscriptionObject(sub, cus, 'past_due', unit, 1, t + 10), t + 12, 3, { status: 'active' }),
      ev('customer.updated', customerObject(cus, email, t, { delinquent: true }), t + 13, 4, { delinquent: false }),
    );
  } else {
    const amount = unit * 3;
    out.push(
      ev(
        'checkout.session.completed',
        stripeObject('checkout.session', {
          id: `cs_b${seed}x${c}`,
          customer: cus,
          mode: 'payment',
          status: 'complete',
          payment_status: 'paid',
          amount_total: amount,
          currency: 'usd',
          subscription: null,
          customer_details: { email, name: `Customer ${c}` },
          created: t + 5,
        }),
        t + 5,
        1,
      ),
      ev('charge.succeeded', succeededCharge(`ch_b${seed}x${c}x1`, cus, amount, t + 6), t + 6, 2),
      ev('charge.refunded', succeededCharge(`ch_b${seed}x${c}x1`, cus, amount, t + 6, unit), t + 30, 3),
      ev('customer.updated', customerObject(cus, email, t, { name: `Renamed ${c}` }), t + 31, 4, { name: `Customer ${cus.slice(-6)}` }),
    );
  }
  // More events than the story: monthly renewals (invoice.paid), or with plan changes, for a subscriber, a renewal
  // then a plan change in turn; fewer: the story's beginning.
  const subscriber = kind < 0.8;
  let price = unit;
  let status = kind < 0.6 ? 'active' : 'past_due';
  for (let k = out.length; k < n; k++) {
    const at = t + (k - 3) * 30 * DAY;
    const j = k - 5;
    if (planChanges && subscriber && j % 2 === 1) {
      const before = subscriptionObject(sub, cus, status, price, 1, t + 10);
      const next = j % 4 === 1 ? unit * 2 : unit;
      const previous: Json = { items: before.items };
      if (status !== 'active') previous.status = status;
      out.push(ev('customer.subscription.updated', subscriptionObject(sub, cus, 'active', next, 1, t + 10), at, k, previous));
      price = next;
      status = 'active';
    } else {
      out.push(ev('invoice.paid', invoiceObject(`in_b${seed}x${c}x${k}`, cus, sub, price, at, true), at, k));
    }
  }
  return out.slice(0, n);
}

export interface SteadyPlanOptions {
  customers: number;
  events: number;
  seed: number;
  start?: number;
}

/**
 * Events for the latency bench: each customer's first event is `customer.created` (its contact is created);
 * later ones are `invoice.paid` with an amount unique to that customer (→ last payment amount) or
 * `customer.subscription.updated` with a new quantity (→ MRR). Every event names the property and value it
 * changes, so its HubSpot write can be found in the fake's log.
 */
export function steadyPlan(opts: SteadyPlanOptions): PlannedEvent[] {
  const random = rng(opts.seed);
  const start = opts.start ?? Math.floor(Date.now() / 1000) - DAY;
  const seen = new Array<number>(opts.customers).fill(0);
  const out: PlannedEvent[] = [];
  const unit = 1000;
  for (let i = 0; i < opts.events; i++) {
    const c = Math.floor(random() * opts.customers);
    const k = seen[c]++;
    const cus = `cus_l${opts.seed}x${c}`;
    const sub = `sub_l${opts.seed}x${c}`;
    const t = start + i;
    const id = `evt_l${opts.seed}x${c}x${k}`;
    if (k === 0) {
      const object = customerObject(cus, `latency-${opts.seed}-${c}@example.com`, t);
      out.push({ customerId: cus, type: 'customer.created', event: stripeEvent('customer.created', object, { id, created: t }), expect: { property: 'stripe_customer_id', value: cus } });
    } else if (k % 2 === 1) {
      const amount = 1000 + k;
      const object = invoiceObject(`in_l${opts.seed}x${c}x${k}`, cus, null, amount, t, true);
      out.push({
        customerId: cus,
        type: 'invoice.paid',
        event: stripeEvent('invoice.paid', object, { id, created: t }),
        expect: { property: 'stripe_last_payment_amount', value: (amount / 100).toFixed(2) },
      });
    } else {
      const quantity = k;
      const object = subscriptionObject(sub, cus, 'active', unit, quantity, start);
      out.push({
        customerId: cus,
        type: 'customer.subscription.updated',
        event: stripeEvent('customer.subscription.updated', object, { id, created: t, previousAttributes: { quantity: quantity - 2 } }),
        expect: { property: 'stripe_mrr', value: ((unit * quantity) / 100).toFixed(2) },
      });
    }
  }
  return out;
}
