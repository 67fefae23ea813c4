import { dbKinds } from '../helpers/db';
import { startSyncHarness, type SyncHarness } from '../helpers/sync-harness';
import { stripeEvent, stripeObject } from '../helpers/stripe-fixtures';

describe.each(dbKinds())('sync basics on %s', (kind) => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await startSyncHarness({ kind });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('creates one contact for a new customer, with the Stripe properties provisioned', async () => {
    const customer = stripeObject('customer', { id: 'cus_basic1', email: 'Ada@Example.com', name: 'Ada', created: 1_700_000_000 });
    await h.send(stripeEvent('customer.created', customer, { created: 1_700_000_000 }));
    await h.idle();
    const contact = h.contactOf('cus_basic1');
    expect(contact).toBeDefined();
    expect(contact!.properties.email).toBe('ada@example.com');
    expect(contact!.properties.stripe_customer_since).toBe(String(Date.UTC(2023, 10, 14)));
    expect(h.hubspot.portal(h.portalId).groups.has('stripe')).toBe(true);
    expect(h.hubspot.portal(h.portalId).properties.get('stripe_customer_id')?.hasUniqueValue).toBe(true);
  });
});
