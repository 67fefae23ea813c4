import { completenessPlugin } from '../../src/jobs/backfill/plugin';
import { dbKinds } from '../helpers/db';
import { startSyncHarness, type SyncHarness } from '../helpers/sync-harness';
import { stripeEvent, stripeObject } from '../helpers/stripe-fixtures';
import { appRequest, TEST_APP_SECRET, type AppCaller } from '../helpers/app-api';
import { approveAtHubSpot, oauthAttempt, requestAuthorizeUrl, startConnection, type OAuthAttempt } from '../helpers/hubspot-oauth';
import { startFakeStripe, type FakeStripe } from '../fakes/stripe';
import { until } from '../backfill/helpers';

/**
 * OAuth state and PKCE, end to end (signed app-API calls in, the fake HubSpot's token endpoint and CRM out): a
 * HubSpot code connects an account only when it comes back with a state we issued to that account, mode and user —
 * unexpired, unused — and the PKCE verifier of the challenge we recorded; and only after the merchant confirmed the
 * portal. Before that nothing is written to HubSpot and no import starts.
 */
const ACCOUNT = 'acct_oauthstate';
const OTHER_ACCOUNT = 'acct_oauthother';
const USER = 'usr_owner';
const PORTAL = 5150;
const owner: AppCaller = { accountId: ACCOUNT, userId: USER };
let clock = 1_793_000_000;

describe.each(dbKinds())('OAuth state and PKCE on %s', (kind) => {
  let h: SyncHarness;
  let stripe: FakeStripe;
  const url = () => h.server.url;
  const tokenExchanges = () => h.hubspot.requests.filter((r) => r.path.endsWith('/token') && (r.body as { grant_type?: string })?.grant_type === 'authorization_code');
  const crmCalls = () => h.hubspot.requestCount({ portalId: PORTAL, pathPrefix: '/crm/' });
  const connection = async (caller: AppCaller = owner) => (await appRequest(url(), 'GET', '/settings?mode=test', caller)).body.connection;
  const stateRows = async () => (await h.server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM hubspot_oauth_states')).rows[0].n;
  const pendingRows = async () => (await h.server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM hubspot_pending_connections')).rows[0].n;

  /** authorize-url for `caller`, then HubSpot's approval: the code and state the Dashboard would hand back. */
  async function authorized(caller: AppCaller = owner, attempt: OAuthAttempt = oauthAttempt()) {
    const r = await requestAuthorizeUrl(url(), caller, 'test', attempt);
    expect(r.status).toBe(200);
    return { attempt, ...approveAtHubSpot(h.hubspot, r.body.url, PORTAL, { hubDomain: 'acme.hubspot.com' }) };
  }
  const connect = (caller: AppCaller, body: Record<string, unknown>) => appRequest(url(), 'POST', '/hubspot/connect', caller, { mode: 'test', ...body });

  beforeAll(async () => {
    stripe = await startFakeStripe({ ratePerSecond: 100_000 });
    for (let i = 0; i < 3; i++) stripe.account(ACCOUNT, false).addCustomer({ email: `existing${i}@example.com` });
    h = await startSyncHarness({
      kind,
      privateApp: false,
      env: {
        STRIPE_APP_SECRET: TEST_APP_SECRET,
        STRIPE_APP_ID: 'com.stripe-hubspot-sync.app',
        STRIPE_API_KEY: 'sk_test_fake',
        STRIPE_API_BASE_URL: stripe.url,
        HUBSPOT_CLIENT_ID: 'test-client-id',
        HUBSPOT_CLIENT_SECRET: 'test-client-secret',
        TOKEN_ENCRYPTION_KEY: 'ef'.repeat(32),
      },
      engine: { plugins: [completenessPlugin({ runner: { pollMs: 100, ratePerSecond: { test: 1000 } }, recovery: { tickMs: 3_600_000 } })] },
    });
  });
  afterAll(async () => {
    await h?.stop();
    await stripe?.close();
  });

  it('gives HubSpot’s authorize URL the state, the S256 challenge and the redirect, and keeps only a hash of the state', async () => {
    const attempt = oauthAttempt();
    const r = await requestAuthorizeUrl(url(), owner, 'test', attempt);
    expect(r.status).toBe(200);
    const authorize = new URL(r.body.url);
    expect(authorize.origin + authorize.pathname).toBe('https://app.hubspot.com/oauth/authorize');
    expect(Object.fromEntries(authorize.searchParams)).toMatchObject({
      client_id: 'test-client-id',
      state: attempt.state,
      code_challenge: attempt.challenge,
      code_challenge_method: 'S256',
      redirect_uri: 'https://dashboard.stripe.com/test/apps-oauth/com.stripe-hubspot-sync.app',
    });
    const { rows } = await h.server.db.query<Record<string, unknown>>(
      'SELECT state_hash, account_key, livemode, user_id, code_challenge, expires_at > now() + interval \'9 minutes\' AS ten_minutes FROM hubspot_oauth_states',
    );
    expect(rows).toEqual([
      { state_hash: expect.stringMatching(/^[0-9a-f]{64}$/), account_key: ACCOUNT, livemode: false, user_id: USER, code_challenge: attempt.challenge, ten_minutes: true },
    ]);
    expect(JSON.stringify(rows)).not.toContain(attempt.state);

    // The same state twice is refused; so are a missing or malformed challenge. Nothing more is stored.
    expect((await requestAuthorizeUrl(url(), owner, 'test', attempt)).body.error.code).toBe('invalid_oauth_state');
    const bad = await appRequest(url(), 'GET', `/hubspot/authorize-url?mode=test&state=${oauthAttempt().state}&challenge=plain`, owner);
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'bad_request' } } });
    expect((await appRequest(url(), 'GET', `/hubspot/authorize-url?mode=test&state=${oauthAttempt().state}`, owner)).status).toBe(400);
    expect(await stateRows()).toBe(1);
  });

  it('refuses a forged or unknown state before any token exchange, and connects nothing', async () => {
    const { code, attempt } = await authorized();
    const exchanges = tokenExchanges().length;
    for (const state of ['forged-state', oauthAttempt().state]) {
      const r = await connect(owner, { code, state, verifier: attempt.verifier });
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'invalid_oauth_state', message: expect.stringMatching(/not started by you/) });
    }
    // A body without state or verifier (the old flow) is refused as such.
    expect((await connect(owner, { code })).status).toBe(400);
    expect(tokenExchanges()).toHaveLength(exchanges);
    expect(await pendingRows()).toBe(0);
    expect(await connection()).toBeNull();
  });

  it('refuses a state issued to another account or another user, and leaves it usable by its owner', async () => {
    const { code, state, attempt } = await authorized();
    const otherAccount = await connect({ accountId: OTHER_ACCOUNT, userId: USER }, { code, state, verifier: attempt.verifier });
    const otherUser = await connect({ accountId: ACCOUNT, userId: 'usr_someone_else' }, { code, state, verifier: attempt.verifier });
    const otherMode = await appRequest(url(), 'POST', '/hubspot/connect', owner, { mode: 'live', code, state, verifier: attempt.verifier });
    for (const r of [otherAccount, otherUser, otherMode]) expect(r.body.error?.code).toBe('invalid_oauth_state');
    expect(await pendingRows()).toBe(0);
    expect(await connection({ accountId: OTHER_ACCOUNT, userId: USER })).toBeNull();

    const mine = await connect(owner, { code, state, verifier: attempt.verifier });
    expect(mine.status).toBe(200);
    expect(await appRequest(url(), 'POST', '/hubspot/connect/cancel', owner, { mode: 'test' })).toMatchObject({ status: 200, body: { canceled: true } });
  });

  it('refuses a replayed state: it works once', async () => {
    const { code, state, attempt } = await authorized();
    expect((await connect(owner, { code, state, verifier: attempt.verifier })).status).toBe(200);
    const again = await connect(owner, { code, state, verifier: attempt.verifier });
    expect(again.status).toBe(400);
    expect(again.body.error).toMatchObject({ code: 'invalid_oauth_state', message: expect.stringMatching(/already used/) });
    await appRequest(url(), 'POST', '/hubspot/connect/cancel', owner, { mode: 'test' });
  });

  it('lets one of two concurrent connects with one state through', async () => {
    const { code, state, attempt } = await authorized();
    const both = await Promise.all([0, 1].map(() => connect(owner, { code, state, verifier: attempt.verifier })));
    expect(both.map((r) => r.status).sort()).toEqual([200, 400]);
    expect(await pendingRows()).toBe(1);
    await appRequest(url(), 'POST', '/hubspot/connect/cancel', owner, { mode: 'test' });
  });

  it('refuses an expired state', async () => {
    const { code, state, attempt } = await authorized();
    await h.server.db.query(`UPDATE hubspot_oauth_states SET expires_at = now() - interval '1 second' WHERE used_at IS NULL`);
    const r = await connect(owner, { code, state, verifier: attempt.verifier });
    expect(r.body.error).toMatchObject({ code: 'invalid_oauth_state', message: expect.stringMatching(/expired/) });
    expect(await pendingRows()).toBe(0);
  });

  it('refuses a verifier that is not the challenge’s, before exchanging the code', async () => {
    const { code, state } = await authorized();
    const exchanges = tokenExchanges().length;
    const r = await connect(owner, { code, state, verifier: oauthAttempt().verifier });
    expect(r.body.error).toMatchObject({ code: 'invalid_oauth_state', message: expect.stringMatching(/PKCE/) });
    expect(tokenExchanges()).toHaveLength(exchanges);
    expect(await pendingRows()).toBe(0);
    expect(await connection()).toBeNull();
  });

  it('connects only once the merchant confirmed the portal they were shown; the import starts only then', async () => {
    // A customer the backend already knows (its event arrived while no portal was connected).
    const known = stripeEvent('customer.created', stripeObject('customer', { id: 'cus_known', email: 'known@example.com', created: clock }), {
      created: ++clock,
      livemode: false,
      account: ACCOUNT,
    });
    await h.send(known);
    await h.idle();

    const { connect: pending } = await startConnection(url(), h.hubspot, { caller: owner, mode: 'test', portalId: PORTAL, hubDomain: 'acme.hubspot.com' });
    expect(pending.status).toBe(200);
    expect(pending.body.pending).toMatchObject({
      portalId: PORTAL,
      hubDomain: 'acme.hubspot.com',
      authorizedBy: 'fake-user@example.com',
      confirmBy: expect.any(String),
      willSend: { knownCustomers: 1, createContacts: true, setLifecycleCustomer: true, importExisting: true },
    });
    expect(pending.body.pending.willSend.properties).toEqual(expect.arrayContaining(['stripe_customer_id']));
    // The exchange sent the PKCE verifier; the fake checked it against the challenge of the authorize URL.
    const exchange = tokenExchanges().at(-1)!;
    expect(exchange.status).toBe(200);
    expect((exchange.body as Record<string, string>).code_verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);

    // Pending: not connected, nothing written to HubSpot, no import, the tokens sealed.
    expect(await connection()).toBeNull();
    expect((await appRequest(url(), 'GET', '/backfill?mode=test', owner)).body).toEqual({ backfill: null });
    const { rows } = await h.server.db.query<{ access_token_enc: string }>('SELECT access_token_enc FROM hubspot_pending_connections');
    expect(rows[0].access_token_enc).toMatch(/^v1\./);
    await h.send(
      stripeEvent('customer.updated', stripeObject('customer', { id: 'cus_known', email: 'known2@example.com', created: clock }), {
        created: ++clock,
        livemode: false,
        account: ACCOUNT,
      }),
    );
    await h.idle();
    expect(crmCalls()).toBe(0);

    // Only the user who started it, for the portal they saw.
    const stranger = await appRequest(url(), 'POST', '/hubspot/connect/confirm', { accountId: ACCOUNT, userId: 'usr_other' }, { mode: 'test', portalId: PORTAL });
    expect(stranger).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    const wrongPortal = await appRequest(url(), 'POST', '/hubspot/connect/confirm', owner, { mode: 'test', portalId: PORTAL + 1 });
    expect(wrongPortal.status).toBe(409);
    expect(await connection()).toBeNull();

    const confirmed = await appRequest(url(), 'POST', '/hubspot/connect/confirm', owner, { mode: 'test', portalId: PORTAL });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.connection).toMatchObject({ portalId: PORTAL, hubDomain: 'acme.hubspot.com', kind: 'oauth' });
    expect(await connection()).toMatchObject({ portalId: PORTAL });
    expect(await pendingRows()).toBe(0);
    // Confirming twice has nothing left to confirm.
    expect((await appRequest(url(), 'POST', '/hubspot/connect/confirm', owner, { mode: 'test', portalId: PORTAL })).status).toBe(404);

    const done = await until(async () => {
      const b = (await appRequest(url(), 'GET', '/backfill?mode=test', owner)).body.backfill;
      return b?.status === 'completed' ? b : null;
    }, 'the import', 60_000, 100);
    expect(done).toMatchObject({ status: 'completed' });
    await h.idle();
    const portal = h.hubspot.portal(PORTAL);
    expect(portal.contactByEmail('known2@example.com')).toBeDefined();
    for (let i = 0; i < 3; i++) expect(portal.contactByEmail(`existing${i}@example.com`)).toBeDefined();
  });

  it('a pending connection nobody confirmed in time cannot be confirmed, and is dropped with its refresh token revoked', async () => {
    const caller = { accountId: OTHER_ACCOUNT, userId: USER };
    const { connect: pending } = await startConnection(url(), h.hubspot, { caller, mode: 'live', portalId: 7170 });
    expect(pending.status).toBe(200);
    await h.server.db.query(`UPDATE hubspot_pending_connections SET confirm_by = now() - interval '1 second'`);
    const late = await appRequest(url(), 'POST', '/hubspot/connect/confirm', caller, { mode: 'live', portalId: 7170 });
    expect(late).toMatchObject({ status: 404, body: { error: { code: 'not_found', message: expect.stringMatching(/expired/) } } });
    const revokes = () => h.hubspot.requests.filter((q) => q.method === 'DELETE' && q.path.startsWith('/oauth/v1/refresh-tokens/')).length;
    const before = revokes();
    // The next connection attempt (anyone's) sweeps it away.
    expect((await requestAuthorizeUrl(url(), owner, 'test', oauthAttempt())).status).toBe(200);
    expect(await pendingRows()).toBe(0);
    expect(revokes()).toBe(before + 1);
    expect((await appRequest(url(), 'GET', '/settings?mode=live', caller)).body.connection).toBeNull();
  });

  it('cancelling drops the pending connection and revokes its refresh token', async () => {
    const { connect: pending } = await startConnection(url(), h.hubspot, { caller: { accountId: OTHER_ACCOUNT, userId: USER }, mode: 'test', portalId: 6160 });
    expect(pending.status).toBe(200);
    const revokes = () => h.hubspot.requests.filter((q) => q.method === 'DELETE' && q.path.startsWith('/oauth/v1/refresh-tokens/')).length;
    const before = revokes();
    const other = { accountId: OTHER_ACCOUNT, userId: USER };
    expect((await appRequest(url(), 'POST', '/hubspot/connect/cancel', { accountId: OTHER_ACCOUNT, userId: 'usr_x' }, { mode: 'test' })).status).toBe(403);
    expect((await appRequest(url(), 'POST', '/hubspot/connect/cancel', other, { mode: 'test' })).body).toEqual({ canceled: true });
    expect(revokes()).toBe(before + 1);
    expect((await appRequest(url(), 'POST', '/hubspot/connect/confirm', other, { mode: 'test', portalId: 6160 })).status).toBe(404);
    expect(await connection(other)).toBeNull();
  });
});
