import { dbKinds } from '../helpers/db';
import { startSyncHarness, type SyncHarness } from '../helpers/sync-harness';
import { stripeEvent, stripeObject } from '../helpers/stripe-fixtures';
import { appRequest, TEST_APP_SECRET } from '../helpers/app-api';
import { connectHubSpot } from '../helpers/hubspot-oauth';

/**
 * Disconnecting HubSpot from the Stripe App (`DELETE /hubspot/connection`, the install registry's `disconnect`):
 * the refresh token is revoked at HubSpot, both tokens are wiped from our database, and nothing more is written
 * to the portal — a later change of the customer is settled as "no portal connected".
 */
const ACCOUNT = 'acct_disconnect';
const PORTAL = 888;
const caller = { accountId: ACCOUNT };
let clock = 1_792_000_000;
const customerEvent = (email: string, type = 'customer.created') =>
  stripeEvent(type, stripeObject('customer', { id: 'cus_disc1', email, created: clock }), { created: ++clock, livemode: true, account: ACCOUNT });

describe.each(dbKinds())('disconnecting HubSpot (%s)', (kind) => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await startSyncHarness({
      kind,
      privateApp: false,
      env: {
        STRIPE_APP_SECRET: TEST_APP_SECRET,
        HUBSPOT_CLIENT_ID: 'test-client-id',
        HUBSPOT_CLIENT_SECRET: 'test-client-secret',
        TOKEN_ENCRYPTION_KEY: 'cd'.repeat(32),
      },
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('revokes and deletes the tokens and stops writes', async () => {
    await connectHubSpot(h.server.url, h.hubspot, { caller, mode: 'live', portalId: PORTAL });
    await h.send(customerEvent('first@example.com'));
    await h.idle();
    const contact = h.hubspot.portal(PORTAL).contactByProperty('stripe_customer_id', 'cus_disc1');
    expect(contact?.properties.email).toBe('first@example.com');
    const writesBefore = h.hubspot.requestCount({ portalId: PORTAL, pathPrefix: '/crm/' });

    const r = await appRequest(h.server.url, 'DELETE', '/hubspot/connection?mode=live', caller);
    expect(r).toEqual({ status: 200, body: { disconnected: true } });
    const { rows } = await h.server.db.query<{ access_token_enc: string; refresh_token_enc: string | null; disconnected_at: Date | null }>(
      'SELECT access_token_enc, refresh_token_enc, disconnected_at FROM hubspot_installs WHERE stripe_account_id = $1',
      [ACCOUNT],
    );
    expect(rows).toEqual([{ access_token_enc: '', refresh_token_enc: null, disconnected_at: expect.any(Date) }]);
    const revoked = h.hubspot.requests.filter((q) => q.method === 'DELETE' && q.path.startsWith('/oauth/v1/refresh-tokens/'));
    expect(revoked).toHaveLength(1);
    expect(revoked[0].status).toBeLessThan(300);
    expect((await appRequest(h.server.url, 'GET', '/settings?mode=live', caller)).body.connection).toBeNull();

    const later = customerEvent('second@example.com', 'customer.updated');
    await h.send(later);
    await h.idle();
    expect(await h.eventStatus(later.id as string)).toEqual({ status: 'skipped', status_reason: 'No HubSpot portal is connected for live mode' });
    expect(h.hubspot.requestCount({ portalId: PORTAL, pathPrefix: '/crm/' })).toBe(writesBefore);
    expect(h.hubspot.portal(PORTAL).contactByProperty('stripe_customer_id', 'cus_disc1')?.properties.email).toBe('first@example.com');
    // A second disconnect has nothing left to do.
    expect((await appRequest(h.server.url, 'DELETE', '/hubspot/connection?mode=live', caller)).body).toEqual({ disconnected: false });
  });
});
