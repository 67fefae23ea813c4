import { stripeEvent, stripeObject } from '../../../test/helpers/stripe-fixtures';
import { mapEvent } from '../events';
import type { CheckoutSessionData, InvoiceData, SubscriptionData } from '../records';

type Json = Record<string, unknown>;

function data<T>(type: string, resource: string, overrides: Json): T {
  const out = mapEvent(stripeEvent(type, stripeObject(resource, { customer: 'cus_A', ...overrides })));
  if ('skip' in out) throw new Error(out.skip);
  return out.records[0].data as T;
}

const price = (product: unknown): Json => stripeObject('price', { product });

describe('products named by mapped records', () => {
  it('keeps a subscription’s item products, by id, with the name of an expanded product, sorted and distinct', () => {
    const items = {
      object: 'list',
      data: [
        { id: 'si_1', price: price('prod_B'), quantity: 1 },
        { id: 'si_2', price: price(stripeObject('product', { id: 'prod_A', name: 'Analytics add-on' })), quantity: 1 },
        { id: 'si_3', price: price('prod_B'), quantity: 2 },
      ],
    };
    expect(data<SubscriptionData>('customer.subscription.updated', 'subscription', { items }).products).toEqual([
      { id: 'prod_A', name: 'Analytics add-on' },
      { id: 'prod_B', name: null },
    ]);
    // Stripe's fixture item: a price naming its product by id.
    expect(data<SubscriptionData>('customer.subscription.created', 'subscription', {}).products).toEqual([{ id: 'prod_QXg1hqf4jFNsqG', name: null }]);
  });

  it('reads invoice lines: pricing.price_details (API 2025-03-31.basil and later), else the line’s price or plan', () => {
    const lines = {
      object: 'list',
      data: [
        { id: 'il_1', pricing: { type: 'price_details', price_details: { price: 'price_1', product: 'prod_new' } } },
        { id: 'il_2', price: price('prod_old'), pricing: null },
        { id: 'il_3', plan: { id: 'plan_1', product: 'prod_plan' } },
        { id: 'il_4', description: 'A one-off item without a price' },
      ],
    };
    expect(data<InvoiceData>('invoice.paid', 'invoice', { lines }).products?.map((p) => p.id)).toEqual(['prod_new', 'prod_old', 'prod_plan']);
  });

  it('reads a Checkout session’s line items when included (the description names the product), nothing otherwise', () => {
    const line_items = {
      object: 'list',
      data: [stripeObject('item', { description: 'T-shirt' }), stripeObject('item', { description: 'Mug', price: price({ id: 'prod_mug', object: 'product', deleted: true }) })],
    };
    expect(data<CheckoutSessionData>('checkout.session.completed', 'checkout.session', { line_items }).products).toEqual([
      { id: 'prod_QXg1hqf4jFNsqG', name: 'T-shirt' },
      { id: 'prod_mug', name: 'Mug' },
    ]);
    expect(data<CheckoutSessionData>('checkout.session.completed', 'checkout.session', {}).products).toEqual([]);
  });

  it('drops ids HubSpot could not take as an option value', () => {
    const items = { data: [{ id: 'si_1', price: price('prod;evil'), quantity: 1 }] };
    expect(data<SubscriptionData>('customer.subscription.updated', 'subscription', { items }).products).toEqual([]);
  });
});
