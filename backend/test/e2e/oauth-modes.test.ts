import { dbKinds } from '../helpers/db';
import { startSyncHarness, type SyncHarness } from '../helpers/sync-harness';
import { stripeEvent, stripeObject } from '../helpers/stripe-fixtures';
import { appRequest, TEST_APP_SECRET } from '../helpers/app-api';
import { connectHubSpot, oauthAttempt, requestAuthorizeUrl } from '../helpers/hubspot-oauth';

const ACCOUNT = 'acct_oauthmerchant';
const PORTAL = 777;
const caller = { accountId: ACCOUNT };
let clock = 1_791_000_000;
const customerEvent = (id: string, email: string, livemode: boolean, type = 'customer.created') =>
  stripeEvent(type, stripeObject('customer', { id, email, created: clock }), { created: ++clock, livemode, account: ACCOUNT });

describe.each(dbKinds())('OAuth installs and modes on %s', (kind) => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await startSyncHarness({
      kind,
      privateApp: false,
      hubspot: { tokenLifetimeSeconds: 1800 },
      env: {
        STRIPE_APP_SECRET: TEST_APP_SECRET,
        STRIPE_APP_ID: 'com.stripe-hubspot-sync.app',
        HUBSPOT_CLIENT_ID: 'test-client-id',
        HUBSPOT_CLIENT_SECRET: 'test-client-secret',
        TOKEN_ENCRYPTION_KEY: 'ab'.repeat(32),
      },
    });
  });
  afterAll(async () => {
    await h?.stop();
  });
  const tokenCalls = (grant: string) =>
    h.hubspot.requests.filter((r) => r.path.endsWith('/token') && (r.body as { grant_type?: string })?.grant_type === grant).length;

  it('builds the HubSpot authorize URL for the mode, with least-privilege scopes', async () => {
    const attempt = oauthAttempt();
    const r = await requestAuthorizeUrl(h.server.url, caller, 'test', attempt);
    expect(r.status).toBe(200);
    const url = new URL(r.body.url);
    expect(url.origin + url.pathname).toBe('https://app.hubspot.com/oauth/authorize');
    expect(url.searchParams.get('client_id')).toBe('test-client-id');
    expect(url.searchParams.get('state')).toBe(attempt.state);
    expect(url.searchParams.get('code_challenge')).toBe(attempt.challenge);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('redirect_uri')).toBe('https://dashboard.stripe.com/test/apps-oauth/com.stripe-hubspot-sync.app');
    expect(url.searchParams.get('scope')!.split(' ').sort()).toEqual(
      ['crm.objects.contacts.read', 'crm.objects.contacts.write', 'crm.schemas.contacts.write', 'oauth'].sort(),
    );
    // Companies, deals, tickets and timeline are optional: a portal that does not grant them still syncs contacts.
    expect(url.searchParams.get('optional_scope')!.split(' ').sort()).toEqual(
      [
        'crm.objects.companies.read', 'crm.objects.companies.write', 'crm.schemas.companies.read', 'crm.schemas.companies.write',
        'crm.objects.deals.read', 'crm.objects.deals.write', 'crm.schemas.deals.read', 'crm.schemas.deals.write',
        'tickets', 'crm.schemas.tickets.write', 'timeline',
      ].sort(),
    );
  });

  it('answers 400 for a code HubSpot refuses (unknown or already used), and connects nothing', async () => {
    const attempt = oauthAttempt();
    expect((await requestAuthorizeUrl(h.server.url, caller, 'test', attempt)).status).toBe(200);
    const r = await appRequest(h.server.url, 'POST', '/hubspot/connect', caller, {
      mode: 'test',
      code: 'code-never-issued',
      state: attempt.state,
      verifier: attempt.verifier,
    });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'bad_request', message: expect.stringMatching(/^HubSpot refused the authorization code/) });
    expect((await appRequest(h.server.url, 'GET', '/settings?mode=test', caller)).body.connection).toBeNull();
  });

  it('connects live mode through OAuth; test events never reach the live portal', async () => {
    const { connection } = await connectHubSpot(h.server.url, h.hubspot, { caller, mode: 'live', portalId: PORTAL, hubDomain: 'acme.hubspot.com' });
    expect(connection).toMatchObject({ portalId: PORTAL, hubDomain: 'acme.hubspot.com', kind: 'oauth' });

    const live = customerEvent('cus_live1', 'live1@example.com', true);
    const test = customerEvent('cus_test1', 'test1@example.com', false);
    await h.send(live, test);
    await h.idle();
    const portal = h.hubspot.portal(PORTAL);
    expect(portal.contactByProperty('stripe_customer_id', 'cus_live1')?.properties.stripe_dashboard_url).toBe(
      `https://dashboard.stripe.com/${ACCOUNT}/customers/cus_live1`,
    );
    expect(portal.contactByEmail('test1@example.com')).toBeUndefined();
    expect(await h.eventStatus(test.id as string)).toEqual({ status: 'skipped', status_reason: 'No HubSpot portal is connected for test mode' });
    expect((await appRequest(h.server.url, 'GET', '/settings?mode=test', caller)).body.connection).toBeNull();

    // Tokens are stored encrypted.
    const { rows } = await h.server.db.query<{ access_token_enc: string }>('SELECT access_token_enc FROM hubspot_installs');
    const issued = h.hubspot.requests.find((r) => r.path.endsWith('/token'));
    expect(issued).toBeDefined();
    expect(rows[0].access_token_enc).not.toMatch(/^[A-Za-z0-9-]{20,}$/);
  });

  it('refreshes an access token HubSpot no longer accepts, once, and writes on', async () => {
    const before = tokenCalls('refresh_token');
    h.hubspot.expireAccessTokens();
    await h.send(customerEvent('cus_live1', 'live1-new@example.com', true, 'customer.updated'));
    await h.idle();
    expect(h.hubspot.portal(PORTAL).contactByProperty('stripe_customer_id', 'cus_live1')?.properties.email).toBe('live1-new@example.com');
    expect(tokenCalls('refresh_token')).toBe(before + 1);
  });

  it('disconnecting stops writes for that mode', async () => {
    const r = await appRequest(h.server.url, 'DELETE', '/hubspot/connection?mode=live', caller);
    expect(r.body).toEqual({ disconnected: true });
    const after = customerEvent('cus_live2', 'live2@example.com', true);
    await h.send(after);
    await h.idle();
    expect(h.hubspot.portal(PORTAL).contactByEmail('live2@example.com')).toBeUndefined();
    expect((await h.eventStatus(after.id as string))?.status).toBe('skipped');
  });
});

describe.each(dbKinds())('a token about to expire on %s', (kind) => {
  // A 4-second token: past half its life it is refreshed ahead of use, while HubSpot would still accept it.
  it('is refreshed before use, not after a 401', async () => {
    const h = await startSyncHarness({
      kind,
      privateApp: false,
      hubspot: { tokenLifetimeSeconds: 4 },
      env: { STRIPE_APP_SECRET: TEST_APP_SECRET, HUBSPOT_CLIENT_ID: 'test-client-id', HUBSPOT_CLIENT_SECRET: 'test-client-secret', TOKEN_ENCRYPTION_KEY: 'cd'.repeat(32) },
    });
    try {
      await connectHubSpot(h.server.url, h.hubspot, { caller, mode: 'test', portalId: 778 });
      await new Promise((r) => setTimeout(r, 2500));
      await h.send(customerEvent('cus_short', 'short@example.com', false));
      await h.idle();
      expect(h.hubspot.portal(778).contactByEmail('short@example.com')).toBeDefined();
      const refreshes = h.hubspot.requests.filter((r) => r.path.endsWith('/token') && (r.body as { grant_type?: string }).grant_type === 'refresh_token');
      expect(refreshes.length).toBeGreaterThanOrEqual(1);
      expect(h.hubspot.requests.filter((r) => r.status === 401)).toHaveLength(0);
    } finally {
      await h.stop();
    }
  }, 180_000);
});
