import Stripe from 'stripe';
import { FakeAccount, seedAccount, SEED_NOW, startFakeStripe, type StripeJson } from '.';

/** seedAccount: deterministic, realistic and internally consistent data. */

const snapshot = (a: FakeAccount) =>
  JSON.stringify([a.customers, a.subscriptions, a.invoices, a.charges].map((m) => [...m.values()]));

describe('seedAccount', () => {
  let big: FakeAccount;

  beforeAll(() => {
    // No time bound here: speed is measured by `npm run bench`, never by a timed test (this one failed at 2,010 ms
    // of CPU against 2,000 on a busy run).
    big = new FakeAccount('acct_seed', false);
    seedAccount(big, 5000);
  });

  it('makes n customers c{i}@example.com with created increasing, ~70% of them subscribed', () => {
    const customers = [...big.customers.values()];
    expect(customers).toHaveLength(5000);
    expect(customers[0]?.email).toBe('c0@example.com');
    expect(customers[4999]?.email).toBe('c4999@example.com');
    const created = customers.map((c) => c.created as number);
    expect(created.every((t, i) => i === 0 || t > (created[i - 1] as number))).toBe(true);
    expect(Math.max(...created)).toBeLessThan(SEED_NOW);
    const subscribed = new Set([...big.subscriptions.values()].map((s) => s.customer));
    expect(subscribed.size / 5000).toBeGreaterThan(0.66);
    expect(subscribed.size / 5000).toBeLessThan(0.74);
  });

  it('mixes statuses, intervals and currencies (jpy included), invoices and refunds', () => {
    const subs = [...big.subscriptions.values()];
    const statuses = new Set(subs.map((s) => s.status));
    for (const s of ['active', 'trialing', 'past_due', 'unpaid', 'canceled', 'incomplete', 'paused']) expect(statuses).toContain(s);
    const prices = subs.map((s) => ((s.items as { data: { price: StripeJson }[] }).data[0] as { price: StripeJson }).price);
    const intervals = new Set(prices.map((p) => { const r = p.recurring as { interval: string; interval_count: number }; return `${r.interval_count} ${r.interval}`; }));
    expect(intervals).toEqual(new Set(['1 month', '3 month', '1 year', '1 week']));
    expect(new Set(subs.map((s) => s.currency))).toEqual(new Set(['usd', 'eur', 'gbp', 'jpy']));
    const invoices = [...big.invoices.values()];
    const invoiceStatuses = new Set(invoices.map((i) => i.status));
    for (const s of ['paid', 'open', 'void', 'uncollectible', 'draft']) expect(invoiceStatuses).toContain(s);
    const charges = [...big.charges.values()];
    expect(charges.some((c) => c.refunded === true)).toBe(true);
    expect(charges.some((c) => (c.amount_refunded as number) > 0 && c.refunded === false)).toBe(true);
    expect(charges.some((c) => c.status === 'failed')).toBe(true);
  });

  it('keeps references consistent: customers, subscriptions, latest invoices, amounts', () => {
    // One expect per rule over all objects: thousands of expect() calls would make this test slow.
    const bad: string[] = [];
    const check = (ok: boolean, what: string, id: unknown) => {
      if (!ok) bad.push(`${what}: ${String(id)}`);
    };
    for (const s of big.subscriptions.values()) {
      check(big.customers.has(s.customer as string), 'subscription customer exists', s.id);
      if (s.latest_invoice !== null) check(big.invoices.get(s.latest_invoice as string)?.customer === s.customer, 'latest invoice of the same customer', s.id);
      const item = (s.items as { data: StripeJson[] }).data[0] as StripeJson;
      check((item.current_period_end as number) > (item.current_period_start as number), 'period ends after it starts', s.id);
      if (s.status === 'active') check((item.current_period_end as number) > SEED_NOW, 'active period runs now', s.id);
    }
    for (const inv of big.invoices.values()) {
      check(big.customers.has(inv.customer as string), 'invoice customer exists', inv.id);
      const sub = (inv.parent as { subscription_details: { subscription: string } } | null)?.subscription_details.subscription;
      if (sub) check(big.subscriptions.get(sub)?.customer === inv.customer, 'invoice subscription of the same customer', inv.id);
      if (inv.status === 'paid') check(inv.amount_paid === inv.amount_due && inv.amount_remaining === 0, 'paid invoice amounts', inv.id);
      if (inv.status === 'open') check(inv.amount_remaining === inv.amount_due, 'open invoice amounts', inv.id);
    }
    for (const ch of big.charges.values()) {
      check((ch.amount_refunded as number) <= (ch.amount as number), 'refund within amount', ch.id);
      check(big.customers.has(ch.customer as string), 'charge customer exists', ch.id);
    }
    expect(bad).toEqual([]);
  });

  it('is deterministic: same inputs give the same data, another seed other data', () => {
    const a = new FakeAccount('acct_det', true);
    const b = new FakeAccount('acct_det', true);
    const c = new FakeAccount('acct_det', true);
    seedAccount(a, 200, { seed: 7 });
    seedAccount(b, 200, { seed: 7 });
    seedAccount(c, 200, { seed: 8 });
    expect(snapshot(a)).toBe(snapshot(b));
    expect(snapshot(a)).not.toBe(snapshot(c));
    expect([...a.customers.values()].every((x) => x.livemode === true)).toBe(true);
  });

  it('takes an email prefix, and is served through the SDK with auto-pagination', async () => {
    const fake = await startFakeStripe({ ratePerSecond: 10_000 });
    try {
      seedAccount(fake.account('acct_served', false), 1200, { emailPrefix: 'shop-a-' });
      const stripe = new Stripe('sk_test_fake', { host: '127.0.0.1', port: fake.port, protocol: 'http', maxNetworkRetries: 0 });
      const emails: string[] = [];
      for await (const c of stripe.customers.list({ limit: 100 }, { stripeAccount: 'acct_served' })) emails.push((c as Stripe.Customer).email as string);
      expect(emails).toHaveLength(1200);
      expect(emails[0]).toBe('shop-a-1199@example.com');
      expect(emails[1199]).toBe('shop-a-0@example.com');
      expect(fake.requestCount({ account: 'acct_served' })).toBe(12);
    } finally {
      await fake.close();
    }
  });
});
