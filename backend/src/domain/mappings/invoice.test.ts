import { stripeEvent, stripeObject } from '../../../test/helpers/stripe-fixtures';
import { mapEvent } from '../events';
import type { InvoiceData, UpcomingInvoiceData } from '../records';

type Json = Record<string, unknown>;

function mapInvoice(type: string, overrides: Json) {
  const out = mapEvent(stripeEvent(type, stripeObject('invoice', overrides)));
  if ('skip' in out) throw new Error(out.skip);
  return { ...out, record: out.records[0], data: out.records[0].data as InvoiceData };
}

describe('invoice mapper', () => {
  it('keeps status, amounts, attempts, paid_at and the subscription (parent: API 2025-03-31 and later)', () => {
    const { data, customerId, record } = mapInvoice('invoice.paid', {
      id: 'in_1',
      customer: 'cus_A',
      status: 'paid',
      amount_due: 2000,
      amount_paid: 2000,
      amount_remaining: 0,
      attempt_count: 2,
      attempted: true,
      currency: 'usd',
      customer_email: 'a@x.io',
      status_transitions: { paid_at: 1_700_000_100 },
      parent: { type: 'subscription_details', subscription_details: { subscription: 'sub_1', metadata: null } },
    });
    expect(record).toMatchObject({ kind: 'invoice', objectId: 'in_1', customerId: 'cus_A' });
    expect(customerId).toBe('cus_A');
    expect(data).toMatchObject({
      status: 'paid',
      subscriptionId: 'sub_1',
      amountDue: 2000,
      amountPaid: 2000,
      amountRemaining: 0,
      attemptCount: 2,
      paidAt: 1_700_000_100,
      lastAttemptFailed: false,
      email: 'a@x.io',
    });
  });

  it('reads the top-level subscription of older API versions, and line items as a last resort', () => {
    expect(mapInvoice('invoice.paid', { parent: null, subscription: 'sub_old' }).data.subscriptionId).toBe('sub_old');
    const lines = { data: [{ parent: { subscription_item_details: { subscription: 'sub_line' } } }] };
    expect(mapInvoice('invoice.paid', { parent: null, subscription: null, lines }).data.subscriptionId).toBe('sub_line');
  });

  it('flags a failed payment and reads the reason from an expanded charge', () => {
    const { data } = mapInvoice('invoice.payment_failed', {
      status: 'open',
      attempt_count: 1,
      charge: stripeObject('charge', { id: 'ch_1', status: 'failed', failure_message: 'Your card was declined.' }),
    });
    expect(data).toMatchObject({ lastAttemptFailed: true, failureReason: 'Your card was declined.', chargeId: 'ch_1' });
    const pi = mapInvoice('invoice.payment_failed', {
      status: 'open',
      payment_intent: { id: 'pi_1', object: 'payment_intent', last_payment_error: { message: 'Insufficient funds' } },
    }).data;
    expect(pi).toMatchObject({ failureReason: 'Insufficient funds', paymentIntentId: 'pi_1' });
  });

  it('reads payment links from the payments list when included', () => {
    const payments = { data: [{ object: 'invoice_payment', payment: { type: 'payment_intent', payment_intent: 'pi_9' } }] };
    expect(mapInvoice('invoice.paid', { payments }).data.paymentIntentId).toBe('pi_9');
  });

  it('skips invoices without a customer', () => {
    expect(mapEvent(stripeEvent('invoice.paid', stripeObject('invoice', { customer: null })))).toEqual({ skip: 'invoice has no customer' });
  });
});

describe('upcoming invoice mapper', () => {
  const upcoming = (overrides: Json): Json => {
    const o = stripeObject('invoice', overrides);
    delete o.id;
    return o;
  };

  it('keys the preview by its subscription, else by the customer', () => {
    const bySub = mapEvent(
      stripeEvent('invoice.upcoming', upcoming({ customer: 'cus_A', subscription: 'sub_1', parent: null, amount_due: 4900, next_payment_attempt: 1_800_000_000 })),
    );
    if ('skip' in bySub) throw new Error(bySub.skip);
    expect(bySub.records[0]).toMatchObject({ kind: 'upcoming_invoice', objectId: 'sub_1', customerId: 'cus_A' });
    expect(bySub.records[0].data as UpcomingInvoiceData).toEqual({
      subscriptionId: 'sub_1',
      amountDue: 4900,
      currency: 'usd',
      nextPaymentAttempt: 1_800_000_000,
      periodEnd: 1234567890,
    });
    const byCustomer = mapEvent(stripeEvent('invoice.upcoming', upcoming({ customer: 'cus_A', subscription: null, parent: null, lines: { data: [] }, next_payment_attempt: null })));
    if ('skip' in byCustomer) throw new Error(byCustomer.skip);
    expect(byCustomer.records[0]).toMatchObject({ objectId: 'cus_A', data: { subscriptionId: null, nextPaymentAttempt: 1234567890 } });
  });
});

describe('invoice mapper: finalized, voided, marked uncollectible', () => {
  it('maps each with the status Stripe gives, no failed attempt of its own, and the amount still due', () => {
    const finalized = mapInvoice('invoice.finalized', { id: 'in_f', customer: 'cus_A', status: 'open', amount_due: 3000, amount_remaining: 3000, attempt_count: 0, attempted: false });
    expect(finalized.data).toMatchObject({ status: 'open', amountRemaining: 3000, lastAttemptFailed: false, attemptCount: 0 });
    const voided = mapInvoice('invoice.voided', { id: 'in_v', customer: 'cus_A', status: 'void', amount_due: 3000, amount_remaining: 3000, attempt_count: 1 });
    expect(voided.data).toMatchObject({ status: 'void', amountRemaining: 3000, lastAttemptFailed: false, attemptCount: 1 });
    const uncollectible = mapInvoice('invoice.marked_uncollectible', { id: 'in_u', customer: 'cus_A', status: 'uncollectible', amount_remaining: 3000, attempt_count: 4 });
    expect(uncollectible.data).toMatchObject({ status: 'uncollectible', amountRemaining: 3000, lastAttemptFailed: false, attemptCount: 4 });
  });
});
