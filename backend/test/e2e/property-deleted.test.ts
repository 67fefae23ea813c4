import { dbKinds } from '../helpers/db';
import { startSyncHarness, TEST_PORTAL_ID, TEST_PRIVATE_APP_TOKEN, type SyncHarness } from '../helpers/sync-harness';
import { randomId, stripeEvent, stripeObject } from '../helpers/stripe-fixtures';
import { appRequest, TEST_APP_SECRET } from '../helpers/app-api';
import { waitFor } from '../helpers/server';

/**
 * Our contact properties deleted by a HubSpot user, or refused by HubSpot: writes re-create what is missing and
 * land; a property that cannot be created never stops the others, and the problem is shown with the connection.
 */

const SELF = 'acct_1SelfHostedProperties';
let clock = 1_796_000_000;
const customer = (id: string, extra: Record<string, unknown> = {}, type = 'customer.created') =>
  stripeEvent(type, stripeObject('customer', { id, email: `${id}@example.com`, created: clock, ...extra }), { created: ++clock });

async function deadLetters(h: SyncHarness): Promise<number> {
  const { rows } = await h.server.db.query<{ n: string }>('SELECT count(*) AS n FROM dead_letters');
  return Number(rows[0].n);
}

async function deleteProperty(h: SyncHarness, name: string): Promise<void> {
  const r = await fetch(`${h.hubspot.url}/crm/v3/properties/contacts/${name}`, {
    method: 'DELETE',
    headers: { Authorization: `Bearer ${TEST_PRIVATE_APP_TOKEN}` },
  });
  expect(r.status).toBe(204);
}

const defined = (h: SyncHarness, name: string) => {
  const def = h.hubspot.portal(TEST_PORTAL_ID).properties.get(name);
  return !!def && def.archived !== true;
};

describe.each(dbKinds())('a property deleted in HubSpot on %s', (kind) => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await startSyncHarness({ kind });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('is created again by the next write, which lands, and the values it lost are written again', async () => {
    const [a, b] = [randomId('cus'), randomId('cus')];
    await h.send(customer(a), customer(b));
    await h.idle();
    expect(h.contactOf(b)?.properties.stripe_delinquent).toBe('false');

    await deleteProperty(h, 'stripe_delinquent');
    await deleteProperty(h, 'stripe_customer_id');
    expect(defined(h, 'stripe_delinquent')).toBe(false);

    // An update of a synced customer and a brand-new customer, both naming the deleted properties.
    const c = randomId('cus');
    await h.send(customer(a, { delinquent: true }, 'customer.updated'), customer(c));
    await h.idle();
    expect(defined(h, 'stripe_delinquent')).toBe(true);
    expect(defined(h, 'stripe_customer_id')).toBe(true);
    expect(h.contactOf(a)?.properties.stripe_delinquent).toBe('true');
    expect(h.contactOf(c)?.properties).toMatchObject({ stripe_delinquent: 'false', email: `${c}@example.com` });
    // b did not change, but its values went with the deleted properties: they are written again.
    expect(h.contactOf(b)?.properties.stripe_delinquent).toBe('false');
    expect(h.contacts()).toHaveLength(3);
    expect(await deadLetters(h)).toBe(0);
  }, 60_000);
});

describe.each(dbKinds())('a property HubSpot refuses to create on %s', (kind) => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await startSyncHarness({
      kind,
      env: { STRIPE_APP_SECRET: TEST_APP_SECRET, STRIPE_ACCOUNT_ID: SELF, HUBSPOT_PRIVATE_APP_PORTAL_ID: String(TEST_PORTAL_ID) },
      engine: { pusher: { settleMs: 20, pollMs: 50, minPassIntervalMs: 50, propertyRecheckMs: 1_000 } },
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('does not stop the other properties from landing, is shown with the connection, and lands once HubSpot allows it', async () => {
    const portal = h.hubspot.portal(TEST_PORTAL_ID);
    portal.refusePropertyCreation('stripe_dashboard_url', 'This portal has reached its limit of custom properties');
    const ids = [randomId('cus'), randomId('cus')];
    await h.send(...ids.map((id) => customer(id, { delinquent: true })));
    await h.idle();
    for (const id of ids) {
      expect(h.contactOf(id)?.properties).toMatchObject({ stripe_delinquent: 'true', email: `${id}@example.com` });
      expect(h.contactOf(id)?.properties.stripe_dashboard_url).toBeUndefined();
    }
    expect(await deadLetters(h)).toBe(0);
    const settings = await appRequest(h.server.url, 'GET', '/settings?mode=test', { accountId: SELF });
    expect(settings.body.connection.health.propertyProblems).toEqual([
      { property: 'stripe_dashboard_url', message: 'This portal has reached its limit of custom properties', since: expect.any(String) },
    ]);

    // HubSpot allows it again: the next check creates it and every linked contact gets its value.
    portal.allowPropertyCreation('stripe_dashboard_url');
    await new Promise((r) => setTimeout(r, 1_100)); // past the recheck interval: the next pass checks the properties
    await h.send(customer(ids[0], { delinquent: false }, 'customer.updated'));
    await waitFor(() => ids.every((id) => h.contactOf(id)?.properties.stripe_dashboard_url?.endsWith(`/customers/${id}`)), {
      what: 'the dashboard link on every contact',
    });
    await h.idle();
    expect((await appRequest(h.server.url, 'GET', '/settings?mode=test', { accountId: SELF })).body.connection.health.propertyProblems).toEqual([]);
    expect(await deadLetters(h)).toBe(0);
  }, 60_000);
});
