import { claimDirty } from '../../src/adapters/store/push-store';
import { dbKinds } from '../helpers/db';
import { waitFor } from '../helpers/server';
import { startSyncHarness, type SyncHarness } from '../helpers/sync-harness';
import { randomId, stripeEvent, stripeObject } from '../helpers/stripe-fixtures';

/**
 * The pusher's lease on the customers it is writing is short (so a crashed instance's customers are soon free)
 * and renewed while the pass runs (so a pass slower than the lease — a slow HubSpot — keeps its customers and
 * no other pusher writes them at the same time).
 */
describe.each(dbKinds())('push lease on %s', (kind) => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await startSyncHarness({ kind, engine: { pusher: { settleMs: 20, pollMs: 50, leaseSeconds: 1 } } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('a pass slower than the lease keeps its customers until it is done', async () => {
    const id = randomId('cus');
    h.hubspot.inject.latency(1_000); // each HubSpot call takes a second: the pass takes several
    await h.send(stripeEvent('customer.created', stripeObject('customer', { id, email: `${id}@example.com` })));
    const claim = () =>
      h.server.db.query<{ claim_token: string | null }>('SELECT claim_token FROM customers WHERE customer_id = $1', [id]);
    await waitFor(async () => (await claim()).rows[0]?.claim_token, { what: 'the pusher to claim the customer' });
    // Two lease lengths later the pass is still running (HubSpot is slow), and nobody else can take the customer.
    await new Promise((r) => setTimeout(r, 2_200));
    expect((await claim()).rows[0].claim_token).not.toBeNull();
    const stolen = await claimDirty(h.server.db, { limit: 10, leaseSeconds: 1, settleMs: 0, token: 'another-pusher' });
    expect(stolen).toEqual([]);

    h.hubspot.inject.latency(0);
    await h.idle(30_000);
    const contacts = h.contacts().filter((c) => c.properties.stripe_customer_id === id);
    expect(contacts).toHaveLength(1);
    expect(contacts[0].properties.email).toBe(`${id}@example.com`);
    // Written once: one create, no second writer.
    expect(h.hubspot.requests.filter((r) => r.path === '/crm/v3/objects/contacts/batch/create' && r.status === 201)).toHaveLength(1);
  }, 60_000);
});
