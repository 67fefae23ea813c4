import { stripeEvent, stripeObject } from '../../../test/helpers/stripe-fixtures';
import { mapEvent } from '../events';
import type { PaymentIntentData } from '../records';

type Json = Record<string, unknown>;

function mapped(overrides: Json, created = 1_700_000_500) {
  const out = mapEvent(stripeEvent('payment_intent.payment_failed', stripeObject('payment_intent', overrides), { id: 'evt_pi', created }));
  if ('skip' in out) throw new Error(out.skip);
  return { ...out, record: out.records[0], data: out.records[0].data as PaymentIntentData };
}

describe('payment intent mapper (payment_intent.payment_failed)', () => {
  it('keeps a declined card attempt with its reason and the charge it made', () => {
    const { record, data, customerId } = mapped({
      id: 'pi_1',
      customer: 'cus_A',
      amount: 2500,
      currency: 'EUR',
      created: 1_700_000_000,
      status: 'requires_payment_method',
      latest_charge: 'ch_1',
      last_payment_error: { type: 'card_error', code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.', charge: 'ch_1' },
    });
    expect(customerId).toBe('cus_A');
    expect(record).toMatchObject({ kind: 'payment_intent', objectId: 'pi_1', customerId: 'cus_A', version: { created: 1_700_000_500, eventId: 'evt_pi' } });
    expect(data).toEqual({
      status: 'requires_payment_method',
      amount: 2500,
      currency: 'eur',
      created: 1_700_000_000,
      failedAt: 1_700_000_500,
      failureMessage: 'Your card has insufficient funds.',
      chargeId: 'ch_1',
      invoiceId: null,
    });
  });

  it('knows an attempt that made no charge (failed authentication), and falls back to the error code', () => {
    const { data } = mapped({
      customer: 'cus_A',
      latest_charge: null,
      last_payment_error: { type: 'invalid_request_error', code: 'payment_intent_authentication_failure' },
    });
    expect(data).toMatchObject({ chargeId: null, failureMessage: 'payment_intent_authentication_failure' });
  });

  it('reads the charge from latest_charge, or from the charges list of older API versions, and the invoice when named', () => {
    expect(mapped({ customer: 'cus_A', last_payment_error: { message: 'x' }, latest_charge: { id: 'ch_latest', object: 'charge' } }).data.chargeId).toBe('ch_latest');
    const old = mapped({ customer: 'cus_A', latest_charge: undefined, last_payment_error: null, charges: { object: 'list', data: [{ id: 'ch_old' }] }, invoice: 'in_1' });
    expect(old.data).toMatchObject({ chargeId: 'ch_old', invoiceId: 'in_1', failureMessage: null });
  });

  it('skips guest payments and other objects, with a reason', () => {
    expect(mapEvent(stripeEvent('payment_intent.payment_failed', stripeObject('payment_intent', { customer: null })))).toEqual({
      skip: 'payment intent has no customer (a guest payment)',
    });
    expect(mapEvent(stripeEvent('payment_intent.payment_failed', stripeObject('charge')))).toEqual({
      skip: 'malformed payment_intent: the event carries a charge object',
    });
  });
});
