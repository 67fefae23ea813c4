import fc from 'fast-check';
import { defaultSettings, type CustomerStatus, type SubscriptionSummary } from '@stripe-hubspot-sync/contracts';
import { byPrimary, rollUp } from './contact-rollup';
import { clearedProperties, contactProperties, desiredProperties } from './contact-write';

const T0 = 1_700_000_000;

function customer(id: string, over: Partial<CustomerStatus> = {}): CustomerStatus {
  return {
    accountId: '',
    livemode: false,
    customerId: id,
    email: 'buyer@example.com',
    name: null,
    currency: 'usd',
    customerSince: T0,
    subscription: null,
    lastPayment: null,
    lastFailureReason: null,
    failedPaymentCount: 0,
    openInvoiceCount: 0,
    openAmountDue: 0,
    lifetimeValue: 0,
    totalRefunded: 0,
    disputedAmount: 0,
    nextInvoiceAmount: null,
    delinquent: false,
    deleted: false,
    dashboardUrl: `https://dashboard.stripe.com/test/customers/${id}`,
    updatedAt: '2026-01-01T00:00:00.000Z',
    lastSyncedAt: null,
    ...over,
  };
}

const sub = (status: SubscriptionSummary['status'], mrr: number, end: number): SubscriptionSummary => ({
  id: `sub_${status}_${mrr}`,
  status,
  plan: `Plan ${status}`,
  mrr,
  currency: 'usd',
  currentPeriodEnd: end,
  cancelAtPeriodEnd: false,
});

describe('rollUp: one contact, several customers', () => {
  it('is the customer itself when there is one (what a single customer always got)', () => {
    const one = customer('cus_one', {
      subscription: sub('past_due', 1500, T0 + 100),
      lastPayment: { amount: 1500, currency: 'usd', at: T0 + 50, status: 'failed' },
      lastFailureReason: 'Card declined',
      failedPaymentCount: 1,
      nextInvoiceAmount: 1500,
      delinquent: true,
    });
    expect(rollUp([one])).toEqual({ ...one, customerIds: ['cus_one'] });
    expect(contactProperties([one], 'buyer@example.com', defaultSettings())).toEqual(desiredProperties(one, defaultSettings()));
  });

  it('names the customer created first as primary, lists every id and adds up money, counts and MRR', () => {
    const first = customer('cus_zz_first', {
      customerSince: T0,
      subscription: sub('canceled', 0, T0 + 10),
      lastPayment: { amount: 1000, currency: 'usd', at: T0 + 10, status: 'succeeded' },
      lifetimeValue: 1000,
      failedPaymentCount: 1,
      openInvoiceCount: 1,
      openAmountDue: 300,
      totalRefunded: 100,
      disputedAmount: 50,
      nextInvoiceAmount: null,
    });
    const second = customer('cus_aa_second', {
      customerSince: T0 + 500,
      subscription: sub('active', 2500, T0 + 900),
      lastPayment: { amount: 2500, currency: 'usd', at: T0 + 600, status: 'succeeded' },
      lifetimeValue: 2500,
      failedPaymentCount: 2,
      openInvoiceCount: 2,
      openAmountDue: 200,
      nextInvoiceAmount: 2500,
      delinquent: true,
    });
    const facts = rollUp([second, first]);
    expect(facts).toMatchObject({
      customerId: 'cus_zz_first',
      customerIds: ['cus_zz_first', 'cus_aa_second'],
      dashboardUrl: first.dashboardUrl,
      customerSince: T0,
      subscription: { ...second.subscription, mrr: 2500 },
      lastPayment: second.lastPayment,
      lifetimeValue: 3500,
      failedPaymentCount: 3,
      openInvoiceCount: 3,
      openAmountDue: 500,
      totalRefunded: 100,
      disputedAmount: 50,
      nextInvoiceAmount: 2500,
      delinquent: true,
    });
    const props = contactProperties([first, second], 'buyer@example.com', defaultSettings());
    expect(props).toMatchObject({
      stripe_customer_id: 'cus_zz_first',
      stripe_customer_ids: 'cus_zz_first;cus_aa_second',
      stripe_subscription_status: 'active',
      stripe_mrr: '25.00',
      stripe_lifetime_value: '35.00',
      stripe_last_payment_amount: '25.00',
      email: 'buyer@example.com',
    });
  });

  it('keeps one currency: customers in another are listed but add nothing', () => {
    const usd = customer('cus_usd', { customerSince: T0, lifetimeValue: 1000, subscription: sub('canceled', 0, T0) });
    const eur = customer('cus_eur', {
      customerSince: T0 + 1,
      currency: 'eur',
      lifetimeValue: 9000,
      subscription: { ...sub('active', 9000, T0 + 5), currency: 'eur' },
      lastPayment: { amount: 9000, currency: 'eur', at: T0 + 5, status: 'succeeded' },
      delinquent: true,
    });
    const facts = rollUp([eur, usd]);
    expect(facts).toMatchObject({ currency: 'usd', lifetimeValue: 1000, lastPayment: null, delinquent: false, customerIds: ['cus_usd', 'cus_eur'] });
    expect(facts.subscription).toMatchObject({ status: 'canceled', mrr: 0 });
    // Without a currency yet, the first customer that has one sets it.
    expect(rollUp([customer('cus_new', { currency: null, customerSince: T0 - 5 }), eur]).currency).toBe('eur');
  });

  it('carries the last payer’s payment and failure reason together', () => {
    const paid = customer('cus_p', { lastPayment: { amount: 100, currency: 'usd', at: T0 + 9, status: 'succeeded' }, lastFailureReason: null });
    const failed = customer('cus_f', {
      customerSince: T0 + 1,
      lastPayment: { amount: 700, currency: 'usd', at: T0 + 3, status: 'failed' },
      lastFailureReason: 'Insufficient funds',
    });
    expect(rollUp([failed, paid])).toMatchObject({ lastPayment: paid.lastPayment, lastFailureReason: null });
  });

  it('clears every mapped property, and nothing else, for a contact left without customers', () => {
    const cleared = clearedProperties(defaultSettings());
    expect(cleared.stripe_customer_id).toBe('');
    expect(cleared.stripe_customer_ids).toBe('');
    expect(Object.values(cleared).every((v) => v === '')).toBe(true);
    expect(cleared).not.toHaveProperty('email');
    expect(cleared).not.toHaveProperty('lifecyclestage');
  });

  it('lists whole ids only when they do not all fit in one text value', () => {
    const many = Array.from({ length: 80 }, (_, i) => customer(`cus_${String(i).padStart(20, '0')}`, { customerSince: T0 + i }));
    const value = contactProperties(many, null, defaultSettings()).stripe_customer_ids!;
    expect(value.length).toBeLessThanOrEqual(1000);
    expect(value.endsWith(';…')).toBe(true);
    for (const id of value.slice(0, -2).split(';')) expect(id).toMatch(/^cus_\d{20}$/);
  });

  it('gives the same contact whatever order the customers come in', () => {
    const status = fc.constantFrom('active', 'trialing', 'past_due', 'unpaid', 'canceled', 'incomplete', 'paused', 'incomplete_expired' as const);
    const member = fc.record({
      since: fc.option(fc.integer({ min: 0, max: 5 }), { nil: null }),
      currency: fc.constantFrom('usd', 'eur', null),
      sub: fc.option(fc.tuple(status, fc.nat(5000), fc.integer({ min: 0, max: 3 })), { nil: null }),
      pay: fc.option(fc.tuple(fc.nat(5000), fc.integer({ min: 0, max: 3 }), fc.constantFrom('succeeded', 'failed', 'refunded' as const)), { nil: null }),
      ltv: fc.nat(10_000),
      failed: fc.nat(3),
      delinquent: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(member, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { minLength: 5, maxLength: 5 }), (ms, keys) => {
        const statuses = ms.map((m, i) =>
          customer(`cus_${i}`, {
            customerSince: m.since === null ? null : T0 + m.since,
            currency: m.currency,
            subscription: m.sub ? { ...sub(m.sub[0], m.sub[1], T0 + m.sub[2]), currency: m.currency ?? 'usd' } : null,
            lastPayment: m.pay ? { amount: m.pay[0], currency: m.currency ?? 'usd', at: T0 + m.pay[1], status: m.pay[2] } : null,
            lastFailureReason: m.pay?.[2] === 'failed' ? `reason ${i}` : null,
            lifetimeValue: m.ltv,
            failedPaymentCount: m.failed,
            delinquent: m.delinquent,
          }),
        );
        const shuffled = statuses.map((s, i) => ({ s, k: keys[i]! })).sort((a, b) => a.k - b.k).map((x) => x.s);
        expect(contactProperties(shuffled, null, defaultSettings())).toEqual(contactProperties(statuses, null, defaultSettings()));
        expect(rollUp(shuffled).customerId).toBe([...statuses].sort(byPrimary)[0]!.customerId);
      }),
      { seed: 12, numRuns: 300 },
    );
  });
});
