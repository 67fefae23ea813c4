import { EVENT_CATALOG } from '@stripe-hubspot-sync/contracts';
import { stripeEvent, stripeObject } from '../../test/helpers/stripe-fixtures';
import { EVENT_MAPPERS, mapEvent, mapStripeObject } from './events';

const RESOURCE: Record<string, string> = {
  customer: 'customer',
  checkout: 'checkout.session',
  subscription: 'subscription',
  invoice: 'invoice',
  charge: 'charge',
};

describe('event table', () => {
  it('has a mapper for every event type of the catalog, and nothing else', () => {
    expect(Object.keys(EVENT_MAPPERS).sort()).toEqual(EVENT_CATALOG.map((e) => e.type).sort());
  });

  it('maps every catalog event built from Stripe’s fixtures', () => {
    for (const { type, group } of EVENT_CATALOG) {
      const resource = type === 'charge.dispute.created' ? 'dispute' : type.startsWith('payment_intent.') ? 'payment_intent' : RESOURCE[group];
      const object = stripeObject(resource, { customer: 'cus_A' });
      if (type === 'invoice.upcoming') delete object.id;
      const out = mapEvent(stripeEvent(type, object));
      expect('records' in out && out.records.length).toBe(1);
    }
  });

  it('skips, with a reason, what it cannot map', () => {
    expect(mapEvent(stripeEvent('payout.paid', stripeObject('payout')))).toEqual({ skip: 'payout.paid is not an event type we sync' });
    expect(mapEvent(stripeEvent('constructor', {}))).toEqual({ skip: 'constructor is not an event type we sync' });
    expect(mapEvent(null)).toEqual({ skip: 'malformed event: not an object' });
    expect(mapEvent({ id: 'evt_1', type: 'customer.created', created: 'yesterday', data: { object: {} } })).toEqual({
      skip: 'malformed event: created is not a unix timestamp',
    });
    expect(mapEvent({ id: 'evt_1', type: 'customer.created', created: 1 })).toEqual({ skip: 'malformed event: no data.object' });
    expect(mapEvent({ type: 'customer.created', created: 1, data: { object: {} } })).toEqual({ skip: 'malformed event: no id' });
  });

  it('maps objects listed from the API by their object type', () => {
    const meta = { id: 'backfill_1', type: 'subscription.backfill', created: 1_700_000_000, livemode: true };
    const out = mapStripeObject(stripeObject('subscription', { customer: 'cus_A' }), meta);
    expect('records' in out && out.records[0]).toMatchObject({ kind: 'subscription', customerId: 'cus_A', version: { eventId: 'backfill_1' } });
    expect(mapStripeObject(stripeObject('payout'), meta)).toEqual({ skip: 'no mapper for Stripe object payout' });
  });
});
