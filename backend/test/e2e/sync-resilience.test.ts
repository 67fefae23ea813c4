import { dbKinds } from '../helpers/db';
import { startSyncHarness, type SyncHarness } from '../helpers/sync-harness';
import { randomId, stripeEvent, stripeObject } from '../helpers/stripe-fixtures';

describe.each(dbKinds())('HubSpot storms on %s', (kind) => {
  let h: SyncHarness;
  beforeAll(async () => {
    // A portal far tighter than HubSpot's real limit, and our budget set above it: the 429s must be absorbed.
    h = await startSyncHarness({ kind, hubspot: { burstLimit: 8, burstWindowMs: 1000, seed: 7 }, env: { HUBSPOT_RATE_LIMIT_PER_10S: '100' } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('every customer lands exactly once through 429s, 20% 5xx and 423 locks', async () => {
    h.hubspot.inject.failRate(0.2, 503);
    h.hubspot.inject.lockNext(2);
    let clock = 1_780_000_000;
    const ids = Array.from({ length: 40 }, () => randomId('cus'));
    // Many small rounds: many pusher passes, many calls, each one exposed to the storm.
    for (let round = 0; round < 4; round++) {
      const slice = ids.slice(round * 10, round * 10 + 10);
      await h.send(...slice.map((id) => stripeEvent('customer.created', stripeObject('customer', { id, email: `${id}@example.com`, created: clock }), { created: ++clock })));
      await new Promise((r) => setTimeout(r, 150));
    }
    await h.send(...ids.map((id) => stripeEvent('customer.updated', stripeObject('customer', { id, email: `${id}@example.com`, delinquent: true, created: clock }), { created: ++clock })));
    await h.idle(40_000);
    h.hubspot.inject.clear();
    for (const id of ids) {
      const matches = h.contacts().filter((c) => c.properties.stripe_customer_id === id);
      expect(matches).toHaveLength(1);
      expect(matches[0].properties.stripe_delinquent).toBe('true');
    }
    const statuses = h.hubspot.requests.map((r) => r.status);
    expect(statuses.filter((s) => s === 429).length + statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
  }, 120_000);
});
