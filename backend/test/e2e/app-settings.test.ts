import { dbKinds } from '../helpers/db';
import { startSyncHarness, type SyncHarness } from '../helpers/sync-harness';
import { stripeEvent, stripeObject } from '../helpers/stripe-fixtures';
import { appRequest, TEST_APP_SECRET } from '../helpers/app-api';
import { defaultSettings } from '@stripe-hubspot-sync/contracts';

const OWN_ACCOUNT = 'acct_selfhosted2';
const caller = { accountId: OWN_ACCOUNT };

describe.each(dbKinds())('settings saved in the Stripe App steer the sync on %s', (kind) => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await startSyncHarness({ kind, env: { STRIPE_APP_SECRET: TEST_APP_SECRET, STRIPE_ACCOUNT_ID: OWN_ACCOUNT } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('rejects invalid settings with field paths and changes nothing', async () => {
    const bad = defaultSettings();
    bad.fields.mrr.property = 'Bad Name';
    bad.fields.plan.property = 'hs_plan';
    const r = await appRequest(h.server.url, 'PUT', '/settings', caller, { mode: 'test', settings: bad });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('invalid_settings');
    expect(r.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['fields.mrr.property', 'fields.plan.property']);
    const after = await appRequest(h.server.url, 'GET', '/settings?mode=test', caller);
    expect(after.body.isDefault).toBe(true);
    expect(after.body.settings.fields.mrr.property).toBe('stripe_mrr');
  });

  it('an event turned off is ignored and a renamed property is written under its new name', async () => {
    const settings = defaultSettings();
    settings.events = settings.events.filter((e) => e !== 'charge.succeeded');
    settings.fields.delinquent.property = 'payment_delinquent';
    const saved = await appRequest(h.server.url, 'PUT', '/settings', caller, { mode: 'test', settings });
    expect(saved.status).toBe(200);
    expect(saved.body.isDefault).toBe(false);
    expect(saved.body.connection).toMatchObject({ portalId: h.portalId, kind: 'private_app' });

    const charge = stripeEvent('charge.succeeded', stripeObject('charge', { id: 'ch_off', customer: 'cus_set', amount: 500, amount_captured: 500, status: 'succeeded', currency: 'usd' }), { created: 1_790_000_001 });
    await h.send(
      stripeEvent('customer.created', stripeObject('customer', { id: 'cus_set', email: 'settings@example.com', delinquent: true, created: 1_790_000_000 }), { created: 1_790_000_000 }),
      charge,
    );
    await h.idle();
    const props = h.contactOf('cus_set')!.properties;
    expect(props.payment_delinquent).toBe('true');
    expect(props.stripe_delinquent).toBeUndefined();
    expect(props.stripe_lifetime_value).toBe('0.00');
    expect(h.hubspot.portal(h.portalId).properties.get('payment_delinquent')?.groupName).toBe('stripe');
    expect(await h.eventStatus(charge.id as string)).toEqual({ status: 'ignored', status_reason: 'charge.succeeded is turned off in the sync settings' });

    // Live mode keeps its own (default) settings.
    const live = await appRequest(h.server.url, 'GET', '/settings?mode=live', caller);
    expect(live.body.isDefault).toBe(true);
  });

  it('the customer view answers the linked contact and what HubSpot received; sync now writes again', async () => {
    const view = await appRequest(h.server.url, 'GET', '/customers/cus_set?mode=test', caller);
    expect(view.status).toBe(200);
    expect(view.body.state).toBe('synced');
    expect(view.body.contact.id).toBe(h.contactOf('cus_set')!.id);
    expect(view.body.syncedFields.find((f: { key: string }) => f.key === 'delinquent')).toEqual({ key: 'delinquent', property: 'payment_delinquent', value: 'true' });
    h.hubspot.portal(h.portalId).contacts.get(view.body.contact.id)!.properties.payment_delinquent = 'false';
    const sync = await appRequest(h.server.url, 'POST', '/customers/cus_set/sync', caller, { mode: 'test' });
    expect(sync.body).toEqual({ queued: true });
    await h.idle();
    expect(h.contactOf('cus_set')!.properties.payment_delinquent).toBe('true');
  });

  it('refuses unsigned, wrongly signed, stale and other-account requests', async () => {
    expect((await appRequest(h.server.url, 'GET', '/settings?mode=test', { ...caller, secret: 'absec_wrong' })).status).toBe(401);
    const stale = await appRequest(h.server.url, 'GET', '/settings?mode=test', { ...caller, timestamp: Math.floor(Date.now() / 1000) - 3600 });
    expect(stale.status).toBe(401);
    expect(stale.body.error.code).toBe('stale_signature');
    const missing = await fetch(`${h.server.url}/api/app/v1/settings?mode=test`);
    expect(missing.status).toBe(401);
    // A valid signature for another account sees that account's (empty) data, never ours.
    const other = await appRequest(h.server.url, 'GET', '/customers/cus_set?mode=test', { accountId: 'acct_someoneelse' });
    expect(other.status).toBe(200);
    expect(other.body.state).toBe('not_synced');
    expect(other.body.contact).toBeNull();
    const otherSettings = await appRequest(h.server.url, 'GET', '/settings?mode=test', { accountId: 'acct_someoneelse' });
    expect(otherSettings.body.isDefault).toBe(true);
    const preflight = await fetch(`${h.server.url}/api/app/v1/settings`, { method: 'OPTIONS' });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
  });
});
