import { dbKinds } from '../helpers/db';
import { startSyncHarness, TEST_PRIVATE_APP_TOKEN, type SyncHarness } from '../helpers/sync-harness';
import { subscriptionEvent, type SubState } from '../helpers/movement-events';
import { stripeEvent, stripeObject } from '../helpers/stripe-fixtures';
import { loseAnswers } from '../fakes/hubspot/lost-answers';
import { dealsWriter } from '../../src/jobs/crm-objects/deals';
import type { FakeObject } from '../fakes/hubspot/server';

type Json = Record<string, unknown>;

/**
 * Deals when HubSpot and we disagree: a create HubSpot applied but whose answer was lost, a deal table that forgot
 * its deals (a reinstall), a deal property or a deal deleted in HubSpot by a user. Never a second deal for one
 * subscription; what is gone is made again.
 */
describe.each(dbKinds())('deals after lost answers and deletions on %s', (kind) => {
  let h: SyncHarness;

  beforeAll(async () => {
    h = await startSyncHarness({
      kind,
      engine: { objectWriters: [dealsWriter], pusher: { settleMs: 20, pollMs: 50, minPassIntervalMs: 50, retry: { baseMs: 50, maxMs: 200 } } },
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  const T = 1_770_000_000;
  const active: SubState = { status: 'active', amount: 1000, plan: 'Basic' };
  const pastDue: SubState = { ...active, status: 'past_due' };
  const portal = () => h.hubspot.portal(h.portalId);
  const dealsOf = (subscriptionId: string): FakeObject[] =>
    portal()
      .deals()
      .filter((d) => d.properties.stripe_subscription_id === subscriptionId);
  const posts = (path: string) => h.hubspot.requests.filter((r) => r.method === 'POST' && r.path === path).length;
  const stored = async (key: string) =>
    (await h.server.db.query<{ deal_id: string; contact_id: string | null }>(`SELECT deal_id, contact_id FROM hubspot_deals WHERE deal_key = $1`, [key])).rows;

  async function deliver(...events: Json[]) {
    for (const e of events) {
      await h.send(e);
      await h.idle();
    }
  }
  const customer = (id: string) =>
    stripeEvent('customer.created', stripeObject('customer', { id, email: `${id}@example.com`, name: null, created: T - 100 }), { created: T - 100 });
  const hubspotCall = (method: string, path: string) =>
    fetch(`${h.hubspot.url}${path}`, { method, headers: { authorization: `Bearer ${TEST_PRIVATE_APP_TOKEN}` } });

  it('a create HubSpot applied but whose answer was lost: the deal is found by its key, never made twice', async () => {
    await deliver(customer('cus_r0'), subscriptionEvent('created', { id: 'sub_r0', customer: 'cus_r0' }, active, { created: T }));
    const creates = posts('/crm/v3/objects/deals/batch/create');
    loseAnswers(h.hubspot, 1, { method: 'POST', pathPrefix: '/crm/v3/objects/deals/batch/create', as: 'reset' });
    await deliver(customer('cus_r1'), subscriptionEvent('created', { id: 'sub_r1', customer: 'cus_r1' }, active, { created: T }));

    expect(posts('/crm/v3/objects/deals/batch/create')).toBeGreaterThan(creates + 1);
    const deals = dealsOf('sub_r1');
    expect(deals).toHaveLength(1);
    const contact = h.contactOf('cus_r1')!;
    expect(portal().associations('deals', 'contacts').filter((a) => a.fromId === deals[0]!.id).map((a) => a.toId)).toEqual([contact.id]);
    expect(await stored('sub_r1')).toEqual([{ deal_id: deals[0]!.id, contact_id: contact.id }]);

    await deliver(subscriptionEvent('updated', { id: 'sub_r1', customer: 'cus_r1' }, pastDue, { created: T + 10, before: active }));
    expect(dealsOf('sub_r1')).toHaveLength(1);
    expect(dealsOf('sub_r1')[0]!.properties.stripe_subscription_status).toBe('past_due');
  });

  it('deals we no longer remember (a reinstall) are found by their key and updated, not made again', async () => {
    await deliver(customer('cus_r2'), subscriptionEvent('created', { id: 'sub_r2', customer: 'cus_r2' }, active, { created: T }));
    const [deal] = dealsOf('sub_r2');
    await h.server.db.query(`DELETE FROM hubspot_deals WHERE deal_key = 'sub_r2'`);
    const reads = posts('/crm/v3/objects/deals/batch/read');

    await deliver(subscriptionEvent('updated', { id: 'sub_r2', customer: 'cus_r2' }, pastDue, { created: T + 10, before: active }));
    expect(posts('/crm/v3/objects/deals/batch/read')).toBe(reads + 1);
    expect(dealsOf('sub_r2').map((d) => [d.id, d.properties.stripe_subscription_status])).toEqual([[deal!.id, 'past_due']]);
    expect((await stored('sub_r2')).map((r) => r.deal_id)).toEqual([deal!.id]);
  });

  it('a deal property deleted in HubSpot is created again and the deal written in the same pass', async () => {
    await deliver(customer('cus_r3'), subscriptionEvent('created', { id: 'sub_r3', customer: 'cus_r3' }, active, { created: T }));
    expect((await hubspotCall('DELETE', '/crm/v3/properties/deals/stripe_subscription_status')).status).toBe(204);
    expect(portal().propertiesOf('deals').get('stripe_subscription_status')?.archived).toBe(true);

    await deliver(subscriptionEvent('updated', { id: 'sub_r3', customer: 'cus_r3' }, pastDue, { created: T + 10, before: active }));
    expect(portal().propertiesOf('deals').get('stripe_subscription_status')?.archived).not.toBe(true);
    expect(dealsOf('sub_r3')[0]!.properties.stripe_subscription_status).toBe('past_due');
    const dead = await h.server.db.query(`SELECT message FROM dead_letters WHERE customer_id = 'cus_r3'`);
    expect(dead.rows).toEqual([]);
    const { rows } = await h.server.db.query(`SELECT sync_state FROM customers WHERE customer_id = 'cus_r3'`);
    expect(rows).toEqual([{ sync_state: 'synced' }]);
  });

  it('a deal deleted in HubSpot is made again on the next change of its subscription', async () => {
    await deliver(customer('cus_r4'), subscriptionEvent('created', { id: 'sub_r4', customer: 'cus_r4' }, active, { created: T }));
    const [first] = dealsOf('sub_r4');
    expect((await hubspotCall('DELETE', `/crm/v3/objects/deals/${first!.id}`)).status).toBe(204);
    expect(dealsOf('sub_r4')).toEqual([]);

    await deliver(subscriptionEvent('updated', { id: 'sub_r4', customer: 'cus_r4' }, pastDue, { created: T + 10, before: active }));
    const again = dealsOf('sub_r4');
    expect(again).toHaveLength(1);
    expect(again[0]!.id).not.toBe(first!.id);
    expect(again[0]!.properties.stripe_subscription_status).toBe('past_due');
    expect((await stored('sub_r4')).map((r) => r.deal_id)).toEqual([again[0]!.id]);
  });
});
