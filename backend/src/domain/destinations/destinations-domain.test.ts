import { defaultDestinationSettings, type CustomerStatus } from '@stripe-hubspot-sync/contracts';
import { customerEvents, type ChargeState, type InvoiceState, type MovementRow } from './events';
import { destinationProperties, destinationPropertyDefinitions, profileWrite, splitName } from './profile';

const status: CustomerStatus = {
  accountId: 'acct_1',
  livemode: false,
  customerId: 'cus_1',
  email: 'ada@example.com',
  name: 'Ada King Lovelace',
  currency: 'usd',
  customerSince: 1_700_000_000,
  subscription: { id: 'sub_1', status: 'active', plan: 'Pro', mrr: 4999, currency: 'usd', currentPeriodEnd: 1_702_592_000, cancelAtPeriodEnd: false },
  lastPayment: { amount: 4999, currency: 'usd', at: 1_700_000_100, status: 'succeeded' },
  lastFailureReason: null,
  failedPaymentCount: 0,
  openInvoiceCount: 0,
  openAmountDue: 0,
  lifetimeValue: 4999,
  totalRefunded: 0,
  disputedAmount: 0,
  productsBought: [{ id: 'prod_b', name: 'Pro' }, { id: 'prod_a', name: null }],
  nextInvoiceAmount: null,
  delinquent: false,
  deleted: false,
  dashboardUrl: 'https://dashboard.stripe.com/test/customers/cus_1',
  updatedAt: '2026-12-05T00:00:00.000Z',
  lastSyncedAt: null,
};

describe('destination profile', () => {
  it('types the facts: money in major units, flags, ISO dates, null for unknown; names as the merchant chose', () => {
    const loops = defaultDestinationSettings('loops');
    const p = destinationProperties(status, loops);
    expect(p.stripeMrr).toBe(49.99);
    expect(p.stripeLifetimeValue).toBe(49.99);
    expect(p.stripeCancelAtPeriodEnd).toBe(false);
    expect(p.stripeCustomerSince).toBe('2023-11-14');
    expect(p.stripeLastPaymentDate).toBe(new Date(1_700_000_100_000).toISOString());
    expect(p.stripeSubscriptionStatus).toBe('active');
    expect(p.stripeNextInvoiceAmount).toBeNull();
    expect(p.stripeCustomerId).toBe('cus_1');
    expect(p.stripeProductsBought).toBe('Pro, prod_a');
    const klaviyo = defaultDestinationSettings('klaviyo');
    klaviyo.fields.mrr = { enabled: true, property: 'Monthly revenue' };
    klaviyo.fields.plan = { enabled: false, property: 'stripe_plan' };
    const k = destinationProperties(status, klaviyo);
    expect(k['Monthly revenue']).toBe(49.99);
    expect(k).not.toHaveProperty('stripe_plan');
    expect(k).not.toHaveProperty('stripe_mrr');
  });

  it('declares each enabled field with its type, and splits the name', () => {
    const defs = destinationPropertyDefinitions(defaultDestinationSettings('loops'));
    expect(defs).toContainEqual({ name: 'stripeMrr', type: 'number' });
    expect(defs).toContainEqual({ name: 'stripeDelinquent', type: 'boolean' });
    expect(defs).toContainEqual({ name: 'stripeTrialEndDate', type: 'date' });
    expect(defs).toContainEqual({ name: 'stripePlan', type: 'string' });
    expect(splitName('Ada King Lovelace')).toEqual({ firstName: 'Ada King', lastName: 'Lovelace' });
    expect(splitName('  Cher ')).toEqual({ firstName: 'Cher', lastName: null });
    expect(splitName(null)).toEqual({ firstName: null, lastName: null });
    const w = profileWrite({ ...status, email: 'new@example.com' }, defaultDestinationSettings('klaviyo'), { externalId: 'k1', syncedEmail: 'ada@example.com' });
    expect(w).toMatchObject({ customerId: 'cus_1', email: 'new@example.com', previousEmail: 'ada@example.com', externalId: 'k1', firstName: 'Ada King' });
  });
});

describe('destination events', () => {
  const inv = (over: Partial<InvoiceState>): InvoiceState => ({
    id: 'in_1', status: 'open', amountDue: 4999, amountPaid: 0, currency: 'usd', created: 100, paidAt: null, number: 'A-1', subscriptionId: 'sub_1', eventId: 'evt_i', ...over,
  });
  const ch = (over: Partial<ChargeState>): ChargeState => ({ id: 'ch_1', status: 'succeeded', amount: 1000, currency: 'jpy', created: 300, invoiceId: null, eventId: 'evt_c', ...over });
  const mv = (over: Partial<MovementRow>): MovementRow => ({
    movementId: 'sub_1:evt_u:upgrade', kind: 'upgrade', occurredAt: 200, currency: 'usd', amount: 2000, mrrBefore: 2999, mrrAfter: 4999, subjectId: 'sub_1', sourceEvent: 'evt_u', ...over,
  });
  const all = ['issued_invoice', 'successfully_paid', 'failed_payment', 'refunded', 'revenue_movement'] as const;

  it('one event per fact, with stable keys, amounts in major units, oldest first', () => {
    const events = customerEvents(
      { customerId: 'cus_1', email: 'ada@example.com' },
      {
        invoices: [inv({ id: 'in_2', status: 'paid', amountPaid: 4999, paidAt: 150, created: 120 }), inv({ id: 'in_draft', status: 'draft' })],
        charges: [ch({}), ch({ id: 'ch_inv', invoiceId: 'in_2', currency: 'usd', amount: 4999 }), ch({ id: 'ch_failed', status: 'failed' })],
        movements: [mv({}), mv({ movementId: 'in_9:failed:1', kind: 'payment_failed', amount: 4999, mrrBefore: null, mrrAfter: null, occurredAt: 250 }), mv({ movementId: 'ch_1:re_1:refund', kind: 'refund', amount: 500, occurredAt: 400, currency: 'jpy' })],
      },
      all,
    );
    expect(events.map((e) => [e.key, e.name, e.value, e.currency, e.time])).toEqual([
      ['in_2:issued', 'Issued Invoice', 49.99, 'USD', 120],
      ['in_2:paid', 'Successfully Paid', 49.99, 'USD', 150],
      ['sub_1:evt_u:upgrade', 'Revenue Movement', 20, 'USD', 200],
      ['in_9:failed:1', 'Failed Payment', 49.99, 'USD', 250],
      ['ch_1:paid', 'Successfully Paid', 1000, 'JPY', 300],
      ['ch_1:re_1:refund', 'Refunded', 500, 'JPY', 400],
    ]);
    const upgrade = events.find((e) => e.key === 'sub_1:evt_u:upgrade')!;
    expect(upgrade.properties).toMatchObject({ movement: 'upgrade', mrrBefore: 29.99, mrrAfter: 49.99, stripeEventId: 'evt_u' });
    expect(Object.keys(upgrade.properties).length).toBeLessThanOrEqual(10);
  });

  it('sends only the kinds the merchant chose', () => {
    const events = customerEvents(
      { customerId: 'cus_1', email: null },
      { invoices: [inv({ status: 'paid', amountPaid: 4999, paidAt: 150 })], charges: [], movements: [mv({})] },
      ['revenue_movement'],
    );
    expect(events.map((e) => e.key)).toEqual(['sub_1:evt_u:upgrade']);
  });
});
