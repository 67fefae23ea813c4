import { randomId, stripeEvent, stripeObject } from '../../helpers/stripe-fixtures';
import { seededRandom } from '../../helpers/seeded-random';

/**
 * A stream of Stripe events over many customers in which each customer's facts change several times (email,
 * delinquent flag, subscription status), so "HubSpot holds the newest state" is a real claim: an event applied
 * twice, lost or applied out of order would leave a stale value behind.
 */

export type Json = Record<string, unknown>;

export interface Expected {
  customerId: string;
  email: string;
  delinquent: 'true' | 'false';
  subscriptionStatus: string;
}

export interface Workload {
  /** Every event, in a delivery order that interleaves customers (a customer's events are not adjacent). */
  events: Json[];
  /** What HubSpot must hold per customer once every event is applied: the values of its newest events. */
  expected: Map<string, Expected>;
}

const STATUSES = ['trialing', 'active', 'past_due', 'unpaid'] as const;

/**
 * `customers` customers with `eventsPerCustomer` (≥ 3) events each: customer.created, a subscription, then
 * alternating customer.updated (new email, delinquent flipped) and customer.subscription.updated (new status).
 * Each customer's events are one second apart; the delivery order is round-robin over customers, and
 * `shuffleSeed` (optional) swaps neighbours so some customers' events also arrive out of order.
 */
export function buildWorkload(customers: number, eventsPerCustomer: number, opts: { shuffleSeed?: number } = {}): Workload {
  if (eventsPerCustomer < 3) throw new RangeError('eventsPerCustomer must be at least 3');
  const perCustomer: Json[][] = [];
  const expected = new Map<string, Expected>();
  const base = 1_780_000_000;
  for (let c = 0; c < customers; c++) {
    const id = randomId('cus');
    const sub = randomId('sub');
    const events: Json[] = [];
    let created = base + c * 100;
    let email = `${id}.v0@example.com`;
    let delinquent = false;
    let status: string = STATUSES[c % 2];
    const customer = () =>
      stripeObject('customer', { id, email, delinquent, created: base, name: `Fault ${c}`, metadata: {} });
    const subscription = () =>
      stripeObject('subscription', { id: sub, customer: id, status, cancel_at_period_end: false, created: base });
    events.push(stripeEvent('customer.created', customer(), { created: created++ }));
    events.push(stripeEvent('customer.subscription.created', subscription(), { created: created++ }));
    for (let n = 2; n < eventsPerCustomer; n++) {
      if (n % 2 === 0) {
        const previous = email;
        email = `${id}.v${n}@example.com`;
        delinquent = !delinquent;
        events.push(
          stripeEvent('customer.updated', customer(), { created: created++, previousAttributes: { email: previous } }),
        );
      } else {
        const previous = status;
        status = STATUSES[(STATUSES.indexOf(status as (typeof STATUSES)[number]) + 1 + (c % 3)) % STATUSES.length];
        if (status === previous) status = STATUSES[(STATUSES.indexOf(previous as (typeof STATUSES)[number]) + 1) % STATUSES.length];
        events.push(
          stripeEvent('customer.subscription.updated', subscription(), { created: created++, previousAttributes: { status: previous } }),
        );
      }
    }
    perCustomer.push(events);
    expected.set(id, { customerId: id, email, delinquent: delinquent ? 'true' : 'false', subscriptionStatus: status });
  }
  const events: Json[] = [];
  for (let n = 0; n < eventsPerCustomer; n++) for (const list of perCustomer) events.push(list[n]);
  if (opts.shuffleSeed !== undefined) {
    const random = seeded(opts.shuffleSeed);
    for (let i = 0; i + 1 < events.length; i++) {
      if (random() < 0.3) [events[i], events[i + 1]] = [events[i + 1], events[i]];
    }
  }
  return { events, expected };
}

const seeded = seededRandom;
