import Stripe from 'stripe';
import { signatureHeader, stripeEvent, stripeObject } from './stripe-fixtures';

describe('stripe fixtures', () => {
  it('builds an event from the fixture shapes that the stripe library verifies', () => {
    const customer = stripeObject('customer', { id: 'cus_A', email: 'a@example.com' });
    expect(customer.object).toBe('customer');
    expect(customer.invoice_settings).toBeDefined();
    const event = stripeEvent('customer.created', customer, { id: 'evt_1', created: 1_700_000_000 });
    const payload = JSON.stringify(event);
    const header = signatureHeader(payload, 'whsec_test');
    const verified = Stripe.webhooks.constructEvent(payload, header, 'whsec_test');
    expect(verified.id).toBe('evt_1');
    expect((verified.data.object as { email: string }).email).toBe('a@example.com');
    expect(() => Stripe.webhooks.constructEvent(payload, header, 'whsec_other')).toThrow();
  });
});
