import { stripeEvent, stripeObject } from '../../test/helpers/stripe-fixtures';
import { deriveCustomerStatus, dashboardUrl } from './customer-view';
import { mapEvent } from './events';
import { foldRecords } from './ordering';
import type { ObjectRecord } from './records';

type Json = Record<string, unknown>;
const CUS = 'cus_A';
const META = { accountId: null, livemode: true, lastSyncedAt: null, updatedAt: '2026-01-01T00:00:00.000Z' };
let seq = 0;

/** An event of `type` carrying Stripe's fixture `resource` with overrides, at second `created`. */
function ev(type: string, resource: string, overrides: Json, created: number): Json {
  seq += 1;
  const object = stripeObject(resource, { customer: CUS, ...overrides });
  if (type === 'invoice.upcoming') delete object.id;
  return stripeEvent(type, object, { id: `evt_${String(seq).padStart(4, '0')}`, created, livemode: true });
}

function records(events: Json[]): ObjectRecord[] {
  const out: ObjectRecord[] = [];
  for (const e of events) {
    const m = mapEvent(e);
    if ('skip' in m) throw new Error(m.skip);
    out.push(...m.records.map((r) => ({ ...r, customerId: r.customerId ?? CUS }) as ObjectRecord));
  }
  return foldRecords(out);
}

const status = (events: Json[], meta: Partial<typeof META> & { accountId?: string | null } = {}) =>
  deriveCustomerStatus(records(events), { ...META, ...meta });

const price = (unit_amount: number, interval = 'month'): Json =>
  stripeObject('price', { unit_amount, transform_quantity: null, nickname: null, recurring: { interval, interval_count: 1, usage_type: 'licensed', meter: null } });
const sub = (id: string, st: string, amount: number, extra: Json = {}): Json => ({
  id,
  status: st,
  currency: 'usd',
  cancel_at_period_end: false,
  current_period_end: 1_800_000_000,
  items: { object: 'list', data: [{ id: `si_${id}`, object: 'subscription_item', quantity: 1, price: price(amount) }] },
  ...extra,
});
const charge = (id: string, extra: Json): Json => ({
  id, amount: 2000, amount_captured: 2000, amount_refunded: 0, refunded: false, status: 'succeeded', currency: 'usd', invoice: undefined, ...extra,
});

describe('deriveCustomerStatus', () => {
  it('builds the customer facts and the dashboard link', () => {
    const s = status([ev('customer.created', 'customer', { id: CUS, email: 'a@x.io', name: 'Ann', currency: 'usd', created: 1_600_000_000 }, 10)]);
    expect(s).toMatchObject({
      customerId: CUS, email: 'a@x.io', name: 'Ann', currency: 'usd', customerSince: 1_600_000_000,
      subscription: null, lastPayment: null, failedPaymentCount: 0, delinquent: false, deleted: false,
      dashboardUrl: `https://dashboard.stripe.com/customers/${CUS}`, accountId: '', livemode: true,
    });
    expect(dashboardUrl('acct_1', false, CUS)).toBe(`https://dashboard.stripe.com/acct_1/test/customers/${CUS}`);
  });

  it('picks a live subscription before a newer ended one, and sums MRR of the counting ones', () => {
    const s = status([
      ev('customer.subscription.created', 'subscription', sub('sub_old', 'active', 2000, { created: 100 }), 10),
      ev('customer.subscription.created', 'subscription', sub('sub_new', 'canceled', 9000, { created: 200 }), 11),
      ev('customer.subscription.created', 'subscription', sub('sub_pd', 'past_due', 1000, { created: 50 }), 12),
      ev('customer.subscription.created', 'subscription', sub('sub_trial', 'trialing', 5000, { created: 60 }), 13),
    ]);
    expect(s.subscription).toEqual({
      id: 'sub_old', status: 'active', plan: 'USD 20.00 / month', mrr: 3000, currency: 'usd',
      currentPeriodEnd: 1_800_000_000, cancelAtPeriodEnd: false,
    });
    expect(s.currency).toBe('usd');
    expect(s.delinquent).toBe(false);
  });

  it('reports the last payment and counts failures without double counting an invoice’s charge', () => {
    const s = status([
      ev('invoice.payment_failed', 'invoice', { id: 'in_1', status: 'open', attempt_count: 1, amount_due: 2000, amount_remaining: 2000, created: 100, charge: 'ch_f' }, 110),
      ev('charge.succeeded', 'charge', charge('ch_f', { status: 'failed', failure_message: 'Card declined', created: 105, invoice: 'in_1' }), 105),
      ev('charge.succeeded', 'charge', charge('ch_x', { status: 'failed', failure_message: 'Expired card', created: 90 }), 90),
    ]);
    expect(s.failedPaymentCount).toBe(2); // invoice in_1 once (its charge ch_f is the same attempt) + ch_x
    expect(s.lastPayment).toEqual({ amount: 2000, currency: 'usd', at: 110, status: 'failed' });
    expect(s.lastFailureReason).toBe('Card declined');
    expect(s.openInvoiceCount).toBe(1);
    expect(s.openAmountDue).toBe(2000);
  });

  it('matches an invoice and its charge by facts when the API version links neither (2025-03-31 and later)', () => {
    const s = status([
      ev('invoice.payment_failed', 'invoice', { id: 'in_1', status: 'open', attempt_count: 1, amount_due: 2000, created: 100, charge: undefined, payment_intent: undefined }, 110),
      ev('charge.succeeded', 'charge', charge('ch_f', { status: 'failed', failure_message: 'Card declined', created: 105, payment_intent: 'pi_1' }), 105),
    ]);
    expect(s.failedPaymentCount).toBe(1);
    expect(s.lastFailureReason).toBe('Card declined');
  });

  it('recovery: a paid invoice after failures; the charge carries the refund status', () => {
    const s = status([
      ev('invoice.payment_failed', 'invoice', { id: 'in_1', status: 'open', attempt_count: 2, amount_due: 2000, created: 100 }, 200),
      ev('invoice.paid', 'invoice', { id: 'in_1', status: 'paid', attempt_count: 3, amount_paid: 2000, amount_remaining: 0, status_transitions: { paid_at: 300 }, created: 100 }, 300),
      ev('charge.succeeded', 'charge', charge('ch_ok', { created: 299 }), 299),
      ev('charge.refunded', 'charge', charge('ch_ok', { created: 299, amount_refunded: 2000, refunded: true }), 400),
    ]);
    expect(s.failedPaymentCount).toBe(2);
    expect(s.lastPayment).toEqual({ amount: 2000, currency: 'usd', at: 299, status: 'refunded' });
    expect(s.lastFailureReason).toBe('Payment of invoice in_1 failed (attempt 2)');
    expect(s.openInvoiceCount).toBe(0);
    expect(s.lifetimeValue).toBe(0);
    expect(s.totalRefunded).toBe(2000);
  });

  it('lifetime value, refunds and disputes only add the customer’s currency', () => {
    const s = status([
      ev('customer.created', 'customer', { id: CUS, currency: 'eur' }, 1),
      ev('charge.succeeded', 'charge', charge('ch_1', { currency: 'eur', amount: 5000, amount_captured: 5000, created: 10 }), 10),
      ev('charge.refunded', 'charge', charge('ch_2', { currency: 'eur', amount: 3000, amount_captured: 3000, amount_refunded: 1000, created: 11 }), 12),
      ev('charge.succeeded', 'charge', charge('ch_3', { currency: 'usd', amount: 9999, amount_captured: 9999, created: 13 }), 13),
      ev('charge.dispute.created', 'dispute', { id: 'dp_1', charge: 'ch_1', amount: 5000, currency: 'eur', status: 'needs_response' }, 14),
      ev('charge.dispute.created', 'dispute', { id: 'dp_2', charge: 'ch_2', amount: 700, currency: 'eur', status: 'lost' }, 15),
    ]);
    expect(s.lifetimeValue).toBe(5000 + 2000);
    expect(s.totalRefunded).toBe(1000);
    expect(s.disputedAmount).toBe(5000);
    expect(s.lastPayment).toMatchObject({ amount: 9999, currency: 'usd', status: 'succeeded' });
  });

  it('shows the next invoice until the real invoice supersedes it, and not for an ended subscription', () => {
    const upcoming = ev('invoice.upcoming', 'invoice', { subscription: 'sub_1', parent: null, amount_due: 4900, next_payment_attempt: 1_000 }, 500);
    const live = ev('customer.subscription.updated', 'subscription', sub('sub_1', 'active', 4900), 400);
    expect(status([live, upcoming]).nextInvoiceAmount).toBe(4900);
    const real = ev('invoice.paid', 'invoice', { id: 'in_2', subscription: 'sub_1', parent: null, status: 'paid', created: 1_000 }, 1_001);
    expect(status([live, upcoming, real]).nextInvoiceAmount).toBeNull();
    const canceled = ev('customer.subscription.deleted', 'subscription', sub('sub_1', 'canceled', 4900), 600);
    expect(status([live, upcoming, canceled]).nextInvoiceAmount).toBeNull();
  });

  it('delinquent and deleted come from the customer; email falls back to other objects', () => {
    const s = status([
      ev('checkout.session.completed', 'checkout.session', { id: 'cs_1', customer_details: { email: 'buyer@x.io', name: 'B' } }, 5),
      ev('customer.subscription.updated', 'subscription', sub('sub_1', 'past_due', 1000), 6),
      ev('customer.deleted', 'deleted_customer', { id: CUS, customer: undefined }, 7),
    ]);
    expect(s).toMatchObject({ deleted: true, email: 'buyer@x.io', name: 'B', delinquent: true });
  });

  it('needs a customer id', () => {
    expect(() => deriveCustomerStatus([], META)).toThrow(/no customer id/);
    expect(deriveCustomerStatus([], { ...META, customerId: 'cus_Z' }).customerId).toBe('cus_Z');
  });
});
