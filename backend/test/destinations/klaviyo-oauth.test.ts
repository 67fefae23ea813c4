import { createHash } from 'node:crypto';
import { FAST_DESTINATIONS } from './oauth-harness';
import { dbKinds } from '../helpers/db';
import { startSyncHarness, type SyncHarness } from '../helpers/sync-harness';
import { appRequest, TEST_APP_SECRET } from '../helpers/app-api';
import { randomId, stripeEvent, stripeObject } from '../helpers/stripe-fixtures';
import { postWebhook } from '../helpers/server';
import { startFakeKlaviyo, type FakeKlaviyo } from '../fakes/klaviyo/server';
import { createTokenCipher } from '../../src/adapters/hubspot/crypto';
import { parseCredentials } from '../../src/adapters/store/destinations-store';
import { createDbTokenSource } from '../../src/adapters/klaviyo/token-source';
import { createKlaviyoOAuthClient, KLAVIYO_OAUTH_SCOPES } from '../../src/adapters/klaviyo/oauth';
import type { DestinationSummary, Mode } from '@stripe-hubspot-sync/contracts';

/**
 * "Connect with Klaviyo" end to end: the Stripe App's signed calls, the backend's state and PKCE, the fake Klaviyo's
 * token and revoke endpoints over real HTTP (client authentication, S256 verification, rotating refresh tokens,
 * expiring access tokens), and the destination pusher writing profiles with the Bearer token.
 */

const OWN_ACCOUNT = 'acct_1KlaviyoOAuth0000';
const OTHER_ACCOUNT = 'acct_1KlaviyoOther0000';
const caller = { accountId: OWN_ACCOUNT };
const KEY = 'cd'.repeat(32);
const CLIENT = { clientId: 'kl-client-id-0001', clientSecret: 'kl-client-secret-0001' };
const REDIRECT_TEST = 'https://dashboard.stripe.com/test/apps-oauth/com.example.klaviyo-oauth';

describe.each(dbKinds())('Connect with Klaviyo (OAuth + PKCE) on %s', (kind) => {
  let h: SyncHarness;
  let klaviyo: FakeKlaviyo;
  const cipher = createTokenCipher(KEY);

  beforeAll(async () => {
    klaviyo = await startFakeKlaviyo({ organizationName: 'Acme OAuth', jobPollsBeforeComplete: 0, oauth: CLIENT });
    h = await startSyncHarness({
      kind,
      env: {
        STRIPE_APP_SECRET: TEST_APP_SECRET,
        STRIPE_ACCOUNT_ID: OWN_ACCOUNT,
        STRIPE_APP_ID: 'com.example.klaviyo-oauth',
        TOKEN_ENCRYPTION_KEY: KEY,
        KLAVIYO_API_BASE_URL: klaviyo.url,
        KLAVIYO_CLIENT_ID: CLIENT.clientId,
        KLAVIYO_CLIENT_SECRET: CLIENT.clientSecret,
        KLAVIYO_AUTHORIZE_URL: `${klaviyo.url}/oauth/authorize`,
      },
      engine: { destinations: FAST_DESTINATIONS },
    });
  });
  afterAll(async () => {
    await h?.stop();
    await klaviyo?.close();
  });

  async function authorize(who = caller, mode: Mode = 'test'): Promise<URL> {
    const r = await appRequest(h.server.url, 'GET', `/destinations/klaviyo/authorize-url?mode=${mode}`, who);
    expect(r.status).toBe(200);
    return new URL(r.body.url);
  }

  /** The merchant approves on Klaviyo's page: the code Klaviyo sends back for this authorize URL. */
  function approve(url: URL, challenge = url.searchParams.get('code_challenge')!): string {
    return klaviyo.controls.issueCode({ challenge, redirectUri: url.searchParams.get('redirect_uri')!, scope: url.searchParams.get('scope')! });
  }

  const connect = (body: object, who = caller) => appRequest(h.server.url, 'POST', '/destinations/klaviyo/connect', who, body);

  async function klaviyoRows(): Promise<{ id: string; key_sealed: string; auth_kind: string; health: string; health_message: string | null }[]> {
    return (await h.server.db.query<{ id: string; key_sealed: string; auth_kind: string; health: string; health_message: string | null }>(
      `SELECT id, key_sealed, auth_kind, health, health_message FROM destinations WHERE kind = 'klaviyo'`,
    )).rows;
  }

  async function list(): Promise<DestinationSummary[]> {
    const r = await appRequest(h.server.url, 'GET', '/destinations?mode=test', caller);
    expect(r.status).toBe(200);
    return r.body.destinations;
  }

  async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  const customer = (id: string) => stripeObject('customer', { id, email: `${id}@example.com`, name: 'Grace Hopper', created: 1_770_100_000, livemode: false });
  async function sendCustomer(): Promise<string> {
    const cus = randomId('cus');
    expect((await postWebhook(h.server.url, stripeEvent('customer.created', customer(cus), { created: 1_770_100_000 }))).status).toBe(200);
    return cus;
  }

  const tokenGrants = (grant: string) => klaviyo.state.oauth.tokenRequests.filter((t) => t.grantType === grant);

  let goodState = '';
  let destinationId = '';

  it('answers an authorize URL with a state it issued and an S256 challenge, keeping the verifier', async () => {
    const url = await authorize();
    expect(`${url.origin}${url.pathname}`).toBe(`${klaviyo.url}/oauth/authorize`);
    const p = url.searchParams;
    expect(p.get('response_type')).toBe('code');
    expect(p.get('client_id')).toBe(CLIENT.clientId);
    expect(p.get('redirect_uri')).toBe(REDIRECT_TEST);
    expect(p.get('scope')!.split(' ').sort()).toEqual([...KLAVIYO_OAUTH_SCOPES].sort());
    expect(p.get('code_challenge_method')).toBe('S256');
    expect(p.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const state = p.get('state')!;
    expect(state).toMatch(/^klaviyo\.[A-Za-z0-9_-]{43}$/);
    // Only the state's hash is kept, with the verifier sealed: neither the state nor a verifier in the clear.
    const rows = await h.server.db.query<{ state_hash: string; verifier_sealed: string; account_key: string; livemode: boolean }>(
      'SELECT state_hash, verifier_sealed, account_key, livemode FROM destination_oauth_states',
    );
    const row = rows.rows.find((r) => r.state_hash === createHash('sha256').update(state).digest('hex'))!;
    expect(row).toMatchObject({ account_key: '', livemode: false });
    expect(row.verifier_sealed.startsWith('v1.')).toBe(true);
    expect(JSON.stringify(rows.rows)).not.toContain(state);
    // A second call issues another state and challenge.
    const again = await authorize();
    expect(again.searchParams.get('state')).not.toBe(state);
    expect(again.searchParams.get('code_challenge')).not.toBe(p.get('code_challenge'));
  });

  it('refuses a wrong, expired, other-account or other-mode state, and a code of another challenge, storing nothing', async () => {
    const exchangesBefore = tokenGrants('authorization_code').length;
    // A state never issued.
    const url = await authorize();
    const code = approve(url);
    const wrong = await connect({ mode: 'test', code, state: `klaviyo.${'x'.repeat(43)}` });
    expect(wrong).toMatchObject({ status: 400, body: { error: { code: 'invalid_oauth_state' } } });
    // A state issued to another Stripe account.
    const theirs = await authorize({ accountId: OTHER_ACCOUNT });
    const stolen = await connect({ mode: 'test', code: approve(theirs), state: theirs.searchParams.get('state') });
    expect(stolen.status).toBe(400);
    expect(stolen.body.error.code).toBe('invalid_oauth_state');
    // A state issued for test mode, posted for live.
    const otherMode = await connect({ mode: 'live', code, state: url.searchParams.get('state') });
    expect(otherMode.body.error.code).toBe('invalid_oauth_state');
    // An expired state.
    const late = await authorize();
    await h.server.db.query(`UPDATE destination_oauth_states SET expires_at = now() - interval '1 second' WHERE state_hash = $1`, [
      createHash('sha256').update(late.searchParams.get('state')!).digest('hex'),
    ]);
    const expired = await connect({ mode: 'test', code: approve(late), state: late.searchParams.get('state') });
    expect(expired.status).toBe(400);
    expect(expired.body.error.message).toMatch(/expired/);
    // None of those reached Klaviyo's token endpoint.
    expect(tokenGrants('authorization_code').length).toBe(exchangesBefore);

    // A code Klaviyo issued for another challenge: the verifier this backend sends does not match it.
    const mismatched = await authorize();
    const foreign = approve(mismatched, 'A'.repeat(43));
    const pkce = await connect({ mode: 'test', code: foreign, state: mismatched.searchParams.get('state') });
    expect(pkce.status).toBe(400);
    expect(pkce.body.error.message).toMatch(/refused the authorization code/);
    const exchange = tokenGrants('authorization_code').at(-1)!;
    expect(exchange).toMatchObject({ clientAuthenticated: true, status: 400, error: 'invalid_grant' });

    expect(await klaviyoRows()).toEqual([]);
    expect(await list()).toEqual([]);
  });

  it('connects with a good state: tokens sealed as OAuth credentials, profiles written with Bearer', async () => {
    const url = await authorize();
    goodState = url.searchParams.get('state')!;
    const r = await connect({ mode: 'test', code: approve(url), state: goodState });
    expect(r.status).toBe(201);
    const d: DestinationSummary = r.body.destination;
    expect(d).toMatchObject({ kind: 'klaviyo', mode: 'test', label: 'Acme OAuth', auth: 'oauth', health: { state: 'ok' } });
    destinationId = d.id;
    expect(tokenGrants('authorization_code').at(-1)).toMatchObject({ clientAuthenticated: true, status: 200 });

    const [row] = await klaviyoRows();
    expect(row).toMatchObject({ id: d.id, auth_kind: 'oauth' });
    const [refreshToken] = klaviyo.state.oauth.activeRefreshTokens();
    expect(refreshToken).toBeDefined();
    // Sealed: no token in the clear in the row or in the answer; the document says it holds OAuth tokens.
    expect(row!.key_sealed).not.toContain(refreshToken!);
    expect(JSON.stringify(r.body)).not.toContain(refreshToken!);
    const doc = parseCredentials(cipher.decrypt(row!.key_sealed, d.id));
    expect(doc).toMatchObject({ kind: 'oauth', refreshToken });
    if (doc.kind !== 'oauth') throw new Error('not oauth');
    expect(JSON.stringify(r.body)).not.toContain(doc.accessToken);
    expect(Date.parse(doc.expiresAt)).toBeGreaterThan(Date.now() + 50 * 60_000);

    const cus = await sendCustomer();
    await until('the profile', async () => klaviyo.state.profileByExternalId(cus));
    const writes = klaviyo.state.requests.filter((q) => q.operation === 'create_or_update_profile' || q.operation === 'get_accounts');
    expect(writes.length).toBeGreaterThanOrEqual(2);
    expect(writes.every((q) => q.auth === 'bearer' && q.status < 300)).toBe(true);
    // The same state works once.
    const replay = await connect({ mode: 'test', code: approve(url), state: goodState });
    expect(replay.status).toBe(409); // already connected is answered before any state is consumed
  });

  it('refreshes an expired access token once, persisting the rotated refresh token', async () => {
    const [before] = klaviyo.state.oauth.activeRefreshTokens();
    const refreshesBefore = tokenGrants('refresh_token').length;
    klaviyo.controls.expireAccessTokens();
    const cus = await sendCustomer();
    await until('the profile after a refresh', async () => klaviyo.state.profileByExternalId(cus));
    expect(tokenGrants('refresh_token').length).toBe(refreshesBefore + 1);
    expect(tokenGrants('refresh_token').at(-1)).toMatchObject({ clientAuthenticated: true, status: 200 });
    const [after] = klaviyo.state.oauth.activeRefreshTokens();
    expect(after).not.toBe(before);
    const [row] = await klaviyoRows();
    expect(parseCredentials(cipher.decrypt(row!.key_sealed, destinationId))).toMatchObject({ kind: 'oauth', refreshToken: after });
    expect((await list())[0]!.health.state).toBe('ok');
  });

  it('two instances refreshing at once make one refresh and lose no rotated refresh token', async () => {
    const client = createKlaviyoOAuthClient({ ...CLIENT, authorizeUrl: `${klaviyo.url}/oauth/authorize`, apiBaseUrl: klaviyo.url });
    const a = createDbTokenSource({ db: h.server.db, cipher, destinationId, client });
    const b = createDbTokenSource({ db: h.server.db, cipher, destinationId, client });
    const stale = await a.accessToken();
    const refreshesBefore = tokenGrants('refresh_token').length;
    const [ta, tb] = await Promise.all([a.refreshAfter(stale), b.refreshAfter(stale)]);
    expect(ta).toBe(tb);
    expect(ta).not.toBe(stale);
    expect(tokenGrants('refresh_token').length).toBe(refreshesBefore + 1);
    const [row] = await klaviyoRows();
    const doc = parseCredentials(cipher.decrypt(row!.key_sealed, destinationId));
    expect(doc).toMatchObject({ kind: 'oauth', accessToken: ta, refreshToken: klaviyo.state.oauth.activeRefreshTokens()[0] });
  });

  it('a refused refresh marks the destination broken', async () => {
    klaviyo.controls.refuseRefreshTokens();
    klaviyo.controls.expireAccessTokens();
    const cus = await sendCustomer();
    const broken = await until('a broken destination', async () => (await list()).find((d) => d.health.state === 'broken'));
    expect(broken.health.message).toMatch(/refused to refresh/);
    expect(klaviyo.state.profileByExternalId(cus)).toBeUndefined();
    expect(JSON.stringify(broken)).not.toMatch(/krt_|kat_/);
  });

  it('disconnecting revokes the refresh token at Klaviyo, then a used state stays refused', async () => {
    // Reconnect so there is a live refresh token to revoke.
    await h.server.db.query(`DELETE FROM destinations WHERE id = $1`, [destinationId]);
    const url = await authorize();
    const r = await connect({ mode: 'test', code: approve(url), state: url.searchParams.get('state') });
    expect(r.status).toBe(201);
    const id = r.body.destination.id;
    const [live] = klaviyo.state.oauth.activeRefreshTokens();
    const gone = await appRequest(h.server.url, 'DELETE', `/destinations/${id}`, caller, { mode: 'test', confirm: id });
    expect(gone.body).toEqual({ disconnected: true });
    expect(klaviyo.state.oauth.revoked).toContain(live);
    expect(klaviyo.state.oauth.tokenRequests.filter((t) => t.path === '/oauth/revoke').at(-1)).toMatchObject({ clientAuthenticated: true, status: 200 });
    expect(await klaviyoRows()).toEqual([]);

    // Both states were consumed: neither connects again.
    for (const state of [goodState, url.searchParams.get('state')]) {
      const used = await connect({ mode: 'test', code: approve(url), state });
      expect(used.status).toBe(400);
      expect(used.body.error.message).toMatch(/already used/);
    }
    expect(await klaviyoRows()).toEqual([]);
  });
});
