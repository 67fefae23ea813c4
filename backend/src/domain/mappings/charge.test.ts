import { stripeEvent, stripeObject } from '../../../test/helpers/stripe-fixtures';
import { mapEvent } from '../events';
import type { ChargeData, CheckoutSessionData, DisputeData } from '../records';

type Json = Record<string, unknown>;

function mapped(type: string, resource: string, overrides: Json) {
  const out = mapEvent(stripeEvent(type, stripeObject(resource, overrides)));
  if ('skip' in out) throw new Error(out.skip);
  return out;
}

describe('charge mapper', () => {
  it('keeps status, amounts, refunds, currency and created', () => {
    const out = mapped('charge.refunded', 'charge', {
      id: 'ch_1',
      customer: 'cus_A',
      amount: 5000,
      amount_captured: 5000,
      amount_refunded: 5000,
      refunded: true,
      currency: 'JPY',
      created: 1_700_000_000,
      receipt_email: 'r@x.io',
      billing_details: { email: null },
    });
    expect(out.customerId).toBe('cus_A');
    expect(out.records[0].data as ChargeData).toMatchObject({
      status: 'succeeded',
      amount: 5000,
      amountCaptured: 5000,
      amountRefunded: 5000,
      refunded: true,
      currency: 'jpy',
      created: 1_700_000_000,
      failureMessage: null,
      email: 'r@x.io',
    });
  });

  it('keeps why a failed charge failed: failure_message, else the outcome seller message', () => {
    const withMessage = mapped('charge.succeeded', 'charge', { customer: 'cus_A', status: 'failed', failure_message: 'Card declined' });
    expect((withMessage.records[0].data as ChargeData).failureMessage).toBe('Card declined');
    const withOutcome = mapped('charge.succeeded', 'charge', {
      customer: 'cus_A',
      status: 'failed',
      failure_message: null,
      outcome: { seller_message: 'The bank did not return any further details.' },
    });
    expect((withOutcome.records[0].data as ChargeData).failureMessage).toBe('The bank did not return any further details.');
  });

  it('skips guest charges (no customer)', () => {
    expect(mapEvent(stripeEvent('charge.succeeded', stripeObject('charge', { customer: null })))).toEqual({
      skip: 'charge has no customer (a guest payment)',
    });
  });
});

describe('dispute mapper', () => {
  it('keeps amount, status and the charge; the customer is left to the engine', () => {
    const out = mapped('charge.dispute.created', 'dispute', { id: 'dp_1', charge: 'ch_1', amount: 1500, status: 'needs_response' });
    expect(out.customerId).toBeNull();
    expect(out.records[0]).toMatchObject({ kind: 'dispute', objectId: 'dp_1', customerId: null });
    expect(out.records[0].data as DisputeData).toMatchObject({ chargeId: 'ch_1', amount: 1500, status: 'needs_response', currency: 'usd' });
  });

  it('knows the customer when the charge is expanded', () => {
    const out = mapped('charge.dispute.created', 'dispute', { charge: stripeObject('charge', { id: 'ch_2', customer: 'cus_B' }) });
    expect(out.customerId).toBe('cus_B');
    expect((out.records[0].data as DisputeData).chargeId).toBe('ch_2');
  });
});

describe('checkout session mapper', () => {
  it('links the buyer email to the customer', () => {
    const out = mapped('checkout.session.completed', 'checkout.session', {
      id: 'cs_1',
      customer: 'cus_A',
      mode: 'subscription',
      payment_status: 'paid',
      status: 'complete',
      subscription: 'sub_1',
      customer_details: { email: 'buyer@x.io', name: 'Buyer' },
    });
    expect(out).toMatchObject({ customerId: 'cus_A', email: 'buyer@x.io' });
    expect(out.records[0].data as CheckoutSessionData).toMatchObject({
      email: 'buyer@x.io',
      name: 'Buyer',
      mode: 'subscription',
      paymentStatus: 'paid',
      subscriptionId: 'sub_1',
    });
  });

  it('skips a session without a customer', () => {
    expect(mapEvent(stripeEvent('checkout.session.completed', stripeObject('checkout.session', { customer: null })))).toEqual({
      skip: 'checkout session has no customer',
    });
  });
});

describe('charge mapper: charge.failed and refunds', () => {
  it('maps charge.failed as a failed payment with its reason, and no refund', () => {
    const out = mapped('charge.failed', 'charge', {
      id: 'ch_f',
      customer: 'cus_A',
      status: 'failed',
      amount: 1200,
      amount_captured: 0,
      amount_refunded: 0,
      captured: false,
      paid: false,
      invoice: null,
      payment_intent: 'pi_f',
      failure_code: 'card_declined',
      failure_message: 'Your card was declined.',
    });
    expect(out.records[0]).toMatchObject({ kind: 'charge', objectId: 'ch_f', customerId: 'cus_A' });
    expect(out.records[0].data as ChargeData).toMatchObject({
      status: 'failed',
      amount: 1200,
      failureMessage: 'Your card was declined.',
      invoiceId: null,
      paymentIntentId: 'pi_f',
      refundedAt: null,
    });
  });

  it('dates the latest refund: the newest refund of the list, else the charge.refunded event', () => {
    const refunds = {
      object: 'list',
      data: [
        stripeObject('refund', { id: 're_1', created: 1_700_000_100, status: 'succeeded' }),
        stripeObject('refund', { id: 're_2', created: 1_700_000_300, status: 'failed' }),
        stripeObject('refund', { id: 're_3', created: 1_700_000_200, status: 'pending' }),
      ],
    };
    const listed = mapEvent(stripeEvent('charge.refunded', stripeObject('charge', { customer: 'cus_A', amount_refunded: 500, refunds }), { created: 1_700_000_900 }));
    if ('skip' in listed) throw new Error(listed.skip);
    expect((listed.records[0].data as ChargeData).refundedAt).toBe(1_700_000_200);
    const unlisted = mapEvent(stripeEvent('charge.refunded', stripeObject('charge', { customer: 'cus_A', amount_refunded: 500, refunds: null }), { created: 1_700_000_900 }));
    if ('skip' in unlisted) throw new Error(unlisted.skip);
    expect((unlisted.records[0].data as ChargeData).refundedAt).toBe(1_700_000_900);
    // Read from the API without its refunds: the date is not known from the charge alone.
    const read = mapEvent(stripeEvent('charge.succeeded', stripeObject('charge', { customer: 'cus_A', amount_refunded: 500, refunds: null })));
    if ('skip' in read) throw new Error(read.skip);
    expect((read.records[0].data as ChargeData).refundedAt).toBeNull();
  });
});
