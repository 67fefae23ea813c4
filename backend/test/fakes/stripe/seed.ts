import { FakeAccount } from './account';
import { addInterval, buildSubscriptionItem, type Interval } from './builders';
import type { FakeStripeAccount, StripeJson } from './types';
import { seededRandom } from '../../helpers/seeded-random';

/**
 * Deterministic, realistic merchant data for backfill and load tests. The same (account id, mode,
 * n, seed, emailPrefix, now) on a fresh account always gives the same objects, ids included.
 *
 * Per customer i (0-based, email `${emailPrefix}${i}@example.com`, created increasing with i over the
 * two years before `now`): ~70% have one subscription (statuses active, trialing, past_due, unpaid,
 * canceled, incomplete, paused; monthly, quarterly, yearly and weekly prices; usd, eur, gbp, jpy)
 * with the invoices of its last two periods (paid with a succeeded charge; an open invoice and a failed
 * charge when the payment is failing); ~30% have no subscription and one-off invoices or charges.
 * About 8% of succeeded charges are (partly) refunded.
 */

/** Default `now` of the seeded data: a fixed instant (2026-09-21T...Z), so the data never depends on the clock. */
export const SEED_NOW = 1_790_000_000;

export interface SeedOptions {
  seed?: number;
  emailPrefix?: string;
  /** The seeded data's present (unix s); default SEED_NOW. Pass `Date.now()/1000` for periods around today. */
  now?: number;
}

const DAY = 86_400;
const FIRST = ['Ada', 'Grace', 'Alan', 'Barbara', 'Donald', 'Margaret', 'Ken', 'Radia', 'Linus', 'Frances', 'John', 'Hedy', 'Dennis', 'Katherine', 'Tim', 'Sophie'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Liskov', 'Knuth', 'Hamilton', 'Thompson', 'Perlman', 'Torvalds', 'Allen', 'Backus', 'Lamarr', 'Ritchie', 'Johnson', 'Berners-Lee', 'Wilson'];
const PRICES: Record<string, number[]> = { usd: [900, 1900, 4900, 9900], eur: [900, 1900, 4500], gbp: [800, 1500, 3900], jpy: [980, 1980, 4980] };

type Rng = () => number;

const rngFrom = (seed: number): Rng => seededRandom(seed);

function pick<T>(rng: Rng, weighted: readonly (readonly [T, number])[]): T {
  const total = weighted.reduce((s, [, w]) => s + w, 0);
  let r = rng() * total;
  for (const [v, w] of weighted) {
    if ((r -= w) < 0) return v;
  }
  return (weighted[weighted.length - 1] as readonly [T, number])[0];
}

const int = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));

export function seedAccount(account: FakeStripeAccount, n: number, opts: SeedOptions = {}): void {
  if (!(account instanceof FakeAccount)) throw new Error('seedAccount needs an account from startFakeStripe().account()');
  const rng = rngFrom(opts.seed ?? 1);
  const prefix = opts.emailPrefix ?? 'c';
  const now = opts.now ?? SEED_NOW;
  const start = now - 730 * DAY;
  for (let i = 0; i < n; i++) {
    const created = start + Math.floor(((i + 0.5) * 700 * DAY) / Math.max(1, n));
    const name = `${FIRST[int(rng, 0, FIRST.length - 1)]} ${LAST[int(rng, 0, LAST.length - 1)]}`;
    const customer = account.addCustomer({ email: `${prefix}${i}@example.com`, name, created });
    const id = customer.id as string;
    if (rng() < 0.7) seedSubscription(account, rng, id, created, now);
    else seedOneOff(account, rng, id, created, now);
  }
}

function seedSubscription(account: FakeAccount, rng: Rng, customerId: string, customerCreated: number, now: number): void {
  const currency = pick(rng, [['usd', 55], ['eur', 20], ['gbp', 12], ['jpy', 13]] as const);
  const [interval, intervalCount] = pick(rng, [[['month', 1], 70], [['year', 1], 15], [['month', 3], 10], [['week', 1], 5]] as const) as readonly [Interval, number];
  const tiers = PRICES[currency] as number[];
  const unitAmount = (tiers[int(rng, 0, tiers.length - 1)] as number) * (interval === 'year' ? 10 : 1);
  const quantity = rng() < 0.8 ? 1 : int(rng, 2, 10);
  const status = pick(rng, [['active', 62], ['trialing', 8], ['past_due', 8], ['canceled', 12], ['unpaid', 3], ['incomplete', 3], ['paused', 4]] as const);
  const recent = status === 'trialing' || status === 'incomplete';
  const created = recent ? now - int(rng, 1, 10 * DAY) : customerCreated + int(rng, 60, 3 * DAY);
  // Period k starts k intervals after the anchor (`created`); they run up to now, and a canceled
  // subscription stops after a few periods.
  const periodAt = (k: number) => addInterval(created, interval, intervalCount * k);
  const starts = [created];
  while (periodAt(starts.length) <= now) starts.push(periodAt(starts.length));
  if (status === 'canceled') starts.splice(Math.min(starts.length, int(rng, 1, 6)));
  const periodStart = starts[starts.length - 1] as number;
  const periodEnd = status === 'trialing' ? created + 14 * DAY : periodAt(starts.length);
  const endedAt = status === 'canceled' ? Math.min(periodEnd, now - DAY) : null;

  const subId = account.ctx.newId('sub');
  const item = buildSubscriptionItem(account.ctx, { subscriptionId: subId, created, currency, unitAmount, interval, intervalCount, quantity, periodStart, periodEnd });
  account.addSubscription(customerId, {
    id: subId, status, currency, created,
    items: { object: 'list', data: [item], has_more: false, total_count: 1, url: `/v1/subscription_items?subscription=${subId}` },
    trial_start: status === 'trialing' ? created : null, trial_end: status === 'trialing' ? periodEnd : null,
    canceled_at: endedAt, ended_at: endedAt,
    cancel_at_period_end: status === 'active' && rng() < 0.1,
  });
  const customer = account.customers.get(customerId);
  if (customer && (status === 'past_due' || status === 'unpaid')) customer.delinquent = true;

  if (status === 'trialing') {
    account.addInvoice(customerId, { subscription: subId, created, amount_due: 0, billing_reason: 'subscription_create' });
    return;
  }
  const failing = status === 'past_due' || status === 'unpaid' || status === 'incomplete';
  const billed = starts.slice(-2);
  billed.forEach((at, k) => {
    const last = k === billed.length - 1;
    if (failing && last) {
      const attempts = status === 'incomplete' ? 1 : int(rng, 1, 4);
      account.addInvoice(customerId, { subscription: subId, created: at, status: 'open', attempt_count: attempts });
      account.addCharge(customerId, { created: at + 3600, status: 'failed', currency, amount: unitAmount * quantity });
      return;
    }
    account.addInvoice(customerId, { subscription: subId, created: at });
    seedCharge(account, rng, customerId, at + 3600, currency, unitAmount * quantity);
  });
}

function seedOneOff(account: FakeAccount, rng: Rng, customerId: string, customerCreated: number, now: number): void {
  const currency = pick(rng, [['usd', 60], ['eur', 20], ['gbp', 10], ['jpy', 10]] as const);
  const kind = pick(rng, [['invoices', 40], ['charge', 20], ['nothing', 40]] as const);
  const amount = currency === 'jpy' ? int(rng, 5, 200) * 100 : int(rng, 5, 500) * 100;
  if (kind === 'charge') {
    seedCharge(account, rng, customerId, customerCreated + int(rng, 60, 30 * DAY), currency, amount);
    return;
  }
  if (kind === 'nothing') return;
  const count = int(rng, 1, 2);
  for (let k = 0; k < count; k++) {
    const at = Math.min(now - DAY, customerCreated + int(rng, 60, 200 * DAY) + k * 30 * DAY);
    const status = pick(rng, [['paid', 70], ['open', 18], ['void', 5], ['uncollectible', 4], ['draft', 3]] as const);
    account.addInvoice(customerId, { created: at, status, currency, amount_due: amount, attempt_count: status === 'open' ? int(rng, 0, 2) : status === 'paid' ? 1 : 0 });
    if (status === 'paid') seedCharge(account, rng, customerId, at + 3600, currency, amount);
  }
}

function seedCharge(account: FakeAccount, rng: Rng, customerId: string, created: number, currency: string, amount: number): StripeJson {
  const refund = amount > 0 && rng() < 0.08 ? (rng() < 0.5 ? amount : Math.max(1, Math.floor(amount / 2))) : 0;
  return account.addCharge(customerId, { created, currency, amount, amount_refunded: refund });
}
