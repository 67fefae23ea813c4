import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { captureLogLines, FAST_DESTINATIONS } from './oauth-harness';
import { dbKinds } from '../helpers/db';
import { startSyncHarness, type SyncHarness } from '../helpers/sync-harness';
import { appRequest, TEST_APP_SECRET } from '../helpers/app-api';
import { randomId, stripeEvent, stripeObject } from '../helpers/stripe-fixtures';
import { postWebhook } from '../helpers/server';
import { startFakeIntercom, type FakeIntercom } from '../fakes/intercom/server';
import { fakeIntercomOAuth, type FakeIntercomOAuth } from '../fakes/intercom/oauth';
import { createTokenCipher } from '../../src/adapters/hubspot/crypto';
import { parseCredentials } from '../../src/adapters/store/destinations-store';
import { createIntercomOAuthClient } from '../../src/adapters/intercom/oauth';
import { ConfigError, loadConfig, redactedConfig } from '../../src/config';
import { INTERCOM_REGIONS, type DestinationSummary, type IntercomRegion, type Mode } from '@stripe-hubspot-sync/contracts';

/**
 * "Connect with Intercom" end to end: the Stripe App's signed calls, the backend's state (bound to the account, mode,
 * user and the workspace's region; Intercom has no PKCE), a fake Intercom workspace over real HTTP with Intercom's
 * token endpoint (`POST /auth/eagle/token`: code, client id and secret; a token that never expires, no refresh
 * token), the adapter's check (GET /me), and the destination pusher writing contacts with the OAuth token.
 */

const OWN_ACCOUNT = 'acct_1IntercomOAuth0000';
const OTHER_ACCOUNT = 'acct_1IntercomOther0000';
const caller = { accountId: OWN_ACCOUNT };
const KEY = 'cd'.repeat(32);
const CLIENT = { clientId: 'ic-client-id-0001', clientSecret: 'ic-client-secret-0001' };
const REDIRECT_TEST = 'https://dashboard.stripe.com/test/apps-oauth/com.example.intercom-oauth';
const APP_HOSTS: Record<IntercomRegion, string> = {
  us: 'https://app.intercom.com/oauth',
  eu: 'https://app.eu.intercom.com/oauth',
  au: 'https://app.au.intercom.com/oauth',
};

describe('Intercom OAuth configuration', () => {
  it('takes the client id and secret together, with TOKEN_ENCRYPTION_KEY, and redacts the secret', () => {
    const error = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as ConfigError).variables;
      }
      throw new Error('accepted');
    };
    expect(error({ INTERCOM_CLIENT_ID: CLIENT.clientId, TOKEN_ENCRYPTION_KEY: KEY })).toEqual(['INTERCOM_CLIENT_SECRET']);
    expect(error({ INTERCOM_CLIENT_SECRET: CLIENT.clientSecret, TOKEN_ENCRYPTION_KEY: KEY })).toEqual(['INTERCOM_CLIENT_ID']);
    expect(error({ INTERCOM_CLIENT_ID: CLIENT.clientId, INTERCOM_CLIENT_SECRET: CLIENT.clientSecret })).toEqual(['TOKEN_ENCRYPTION_KEY']);
    expect(loadConfig({}).destinations.intercomOAuth).toBeUndefined();
    const c = loadConfig({ ...{ INTERCOM_CLIENT_ID: CLIENT.clientId, INTERCOM_CLIENT_SECRET: CLIENT.clientSecret }, TOKEN_ENCRYPTION_KEY: KEY, INTERCOM_OAUTH_URL: 'http://127.0.0.1:9/oauth' });
    expect(c.destinations.intercomOAuth).toEqual({ ...CLIENT, authorizeUrl: 'http://127.0.0.1:9/oauth' });
    expect(JSON.stringify(redactedConfig(c))).not.toContain(CLIENT.clientSecret);
    // INTERCOM_OAUTH_URL replaces every region's app host (a fake's in tests); there is never a code challenge.
    const url = new URL(createIntercomOAuthClient({ ...CLIENT, region: 'au', authorizeUrl: 'http://127.0.0.1:9/oauth' }).authorizeUrl({ redirectUri: REDIRECT_TEST, state: 'intercom.s', challenge: 'c'.repeat(43) }));
    expect(url.toString()).toBe(`http://127.0.0.1:9/oauth?client_id=${CLIENT.clientId}&state=intercom.s&redirect_uri=${encodeURIComponent(REDIRECT_TEST)}`);
  });
});

describe.each(dbKinds())('Connect with Intercom (OAuth, state without PKCE) on %s', (kind) => {
  let h: SyncHarness;
  let fake: FakeIntercom;
  let oauth: FakeIntercomOAuth;
  const cipher = createTokenCipher(KEY);
  const logLines: string[] = [];
  const answers: string[] = [];

  beforeAll(async () => {
    fake = await startFakeIntercom({ appName: 'Acme Workspace', periodMs: 1000 });
    oauth = fakeIntercomOAuth(fake, CLIENT);
    h = await startSyncHarness({
      kind,
      env: {
        STRIPE_APP_SECRET: TEST_APP_SECRET,
        STRIPE_ACCOUNT_ID: OWN_ACCOUNT,
        STRIPE_APP_ID: 'com.example.intercom-oauth',
        TOKEN_ENCRYPTION_KEY: KEY,
        INTERCOM_CLIENT_ID: CLIENT.clientId,
        INTERCOM_CLIENT_SECRET: CLIENT.clientSecret,
        // The token endpoint of every region is the fake's (the authorize pages stay Intercom's: nothing fetches them).
        INTERCOM_API_BASE_URL: fake.url,
      },
      server: { logLevel: 'debug' },
      engine: {
        destinations: FAST_DESTINATIONS,
        plugins: [captureLogLines(logLines)],
      },
    });
  });
  afterAll(async () => {
    await h?.stop();
    await fake?.close();
  });

  const call = async (method: string, path: string, who: { accountId: string }, body?: object) => {
    const r = await appRequest(h.server.url, method, path, who, body);
    answers.push(JSON.stringify(r.body));
    return r;
  };
  async function authorize(region?: IntercomRegion, who = caller, mode: Mode = 'test'): Promise<URL> {
    const r = await call('GET', `/destinations/intercom/authorize-url?mode=${mode}${region ? `&region=${region}` : ''}`, who);
    expect(r.status).toBe(200);
    return new URL(r.body.url);
  }
  const connect = (body: object, who = caller) => call('POST', '/destinations/intercom/connect', who, body);
  const stateOf = (url: URL) => url.searchParams.get('state');
  const stateHash = (state: string) => createHash('sha256').update(state).digest('hex');
  const exchanges = () => oauth.state.tokenRequests.length;

  type Row = { id: string; key_sealed: string; auth_kind: string; region: string | null; health: string };
  const rows = async () => (await h.server.db.query<Row>(`SELECT id, key_sealed, auth_kind, region, health FROM destinations WHERE kind = 'intercom'`)).rows;
  async function list(): Promise<DestinationSummary[]> {
    const r = await call('GET', '/destinations?mode=test', caller);
    expect(r.status).toBe(200);
    return r.body.destinations;
  }
  async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  async function sendCustomer(): Promise<string> {
    const cus = randomId('cus');
    const customer = stripeObject('customer', { id: cus, email: `${cus}@example.com`, name: 'Ada Lovelace', created: 1_770_100_000, livemode: false });
    expect((await postWebhook(h.server.url, stripeEvent('customer.created', customer, { created: 1_770_100_000 }))).status).toBe(200);
    return cus;
  }

  it("answers the region's authorize URL with a state it issued and no code challenge", async () => {
    for (const region of INTERCOM_REGIONS) {
      const url = await authorize(region);
      expect(`${url.origin}${url.pathname}`).toBe(APP_HOSTS[region]);
      expect(Object.fromEntries([...url.searchParams].filter(([k]) => k !== 'state'))).toEqual({ client_id: CLIENT.clientId, redirect_uri: REDIRECT_TEST });
      expect(stateOf(url)).toMatch(/^intercom\.[A-Za-z0-9_-]{43}$/);
      const row = await h.server.db.query<{ kind: string; user_id: string; environment: string }>(
        'SELECT kind, user_id, environment FROM destination_oauth_states WHERE state_hash = $1',
        [stateHash(stateOf(url)!)],
      );
      expect(row.rows).toEqual([{ kind: 'intercom', user_id: 'usr_test', environment: region }]);
    }
    // No region: the United States (as when connecting with an access token).
    expect(`${(await authorize()).origin}`).toBe('https://app.intercom.com');

    expect((await call('GET', '/destinations/intercom/authorize-url?mode=test&region=ca', caller)).body.error).toMatchObject({ code: 'bad_request', message: 'region must be us, eu or au' });
    expect((await call('GET', '/destinations/intercom/authorize-url?mode=test&environment=sandbox', caller)).status).toBe(400);
    expect((await call('GET', '/destinations/salesforce/authorize-url?mode=test&region=eu', caller)).status).toBe(400);
    expect(exchanges()).toBe(0);
  });

  it('refuses a foreign, expired or reused state before anything reaches the token endpoint', async () => {
    const url = await authorize('eu');
    const code = oauth.issueCode();
    expect((await connect({ mode: 'test', code, state: `intercom.${'x'.repeat(43)}` })).body.error.code).toBe('invalid_oauth_state');
    const theirs = await authorize('eu', { accountId: OTHER_ACCOUNT });
    expect(await connect({ mode: 'test', code, state: stateOf(theirs) })).toMatchObject({ status: 400, body: { error: { code: 'invalid_oauth_state' } } });
    expect((await connect({ mode: 'live', code, state: stateOf(url) })).body.error.code).toBe('invalid_oauth_state');
    const late = await authorize('eu');
    await h.server.db.query(`UPDATE destination_oauth_states SET expires_at = now() - interval '1 second' WHERE state_hash = $1`, [stateHash(stateOf(late)!)]);
    const expired = await connect({ mode: 'test', code, state: stateOf(late) });
    expect(expired.status).toBe(400);
    expect(expired.body.error.message).toMatch(/Intercom authorization took longer than 10 minutes/);
    expect(exchanges()).toBe(0);

    // A code Intercom never issued: the one exchange is refused there, and the state is used up.
    const refused = await connect({ mode: 'test', code: 'not-a-code', state: stateOf(url) });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toMatch(/Intercom refused the authorization code: Intercom \/auth\/eagle\/token answered 400 invalid_grant/);
    expect(oauth.state.tokenRequests).toEqual([{ clientAuthenticated: true, extraParams: [], status: 400, error: 'invalid_grant' }]);
    const reused = await connect({ mode: 'test', code, state: stateOf(url) });
    expect(reused.body.error.message).toMatch(/Intercom authorization was already used/);
    expect(exchanges()).toBe(1);
    expect(await rows()).toEqual([]);
  });

  it("the fake's token endpoint wants the client secret, uses a code once, and answers the documented keys", async () => {
    const code = oauth.issueCode();
    const exchange = (body: Record<string, string>) =>
      fetch(`${fake.url}/auth/eagle/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body) });
    const wrong = await exchange({ code, client_id: CLIENT.clientId, client_secret: 'not-the-secret' });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ type: 'error.list', errors: [{ code: 'unauthorized' }] });
    const ok = await exchange({ code, ...{ client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret } });
    expect(ok.status).toBe(200);
    const answer = (await ok.json()) as Record<string, unknown>;
    const spec = JSON.parse(readFileSync(join(__dirname, '../../../specs/intercom/oauth-token.response.json'), 'utf8')) as Record<string, unknown>;
    const shape = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v]).sort());
    expect(shape(answer)).toEqual(shape(spec));
    expect(answer).toMatchObject({ token_type: 'Bearer', access_token: answer.token });
    const again = await exchange({ code, client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret });
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ errors: [{ code: 'invalid_grant' }] });
  });

  let destinationId = '';

  it('connects an EU workspace: the code exchanged once with the client secret, the token sealed, a pushed customer lands as a contact', async () => {
    const before = exchanges();
    const url = await authorize('eu');
    const r = await connect({ mode: 'test', code: oauth.issueCode(), state: stateOf(url) });
    expect(r.status).toBe(201);
    const d: DestinationSummary = r.body.destination;
    expect(d).toMatchObject({ kind: 'intercom', mode: 'test', region: 'eu', auth: 'oauth', keyHint: 'OAuth', label: 'Acme Workspace', health: { state: 'ok' } });
    destinationId = d.id;
    expect(oauth.state.tokenRequests.slice(before)).toEqual([{ clientAuthenticated: true, extraParams: [], status: 200, error: null }]);
    const token = oauth.state.issued.at(-1)!;
    const [row] = await rows();
    expect(row).toMatchObject({ id: d.id, auth_kind: 'oauth', region: 'eu', health: 'ok' });
    expect(parseCredentials(cipher.decrypt(row!.key_sealed, d.id))).toEqual({ kind: 'oauth', accessToken: token, refreshToken: '', expiresAt: '9999-12-31T00:00:00.000Z', scope: '' });
    expect(row!.key_sealed).not.toContain(token);
    // The connection was checked with the new token (GET /me names the workspace).
    expect(fake.state.requests.filter((q) => q.endpoint === 'GET /me').at(-1)).toMatchObject({ status: 200 });

    // Already connected in this mode: refused before any exchange.
    const again = await authorize('us');
    expect(await connect({ mode: 'test', code: oauth.issueCode(), state: stateOf(again) })).toMatchObject({ status: 409, body: { error: { code: 'already_connected' } } });
    expect(exchanges()).toBe(before + 1);

    // The fake accepts only the token it issued last, so a contact written proves the OAuth token was used.
    const cus = await sendCustomer();
    const contact = await until('the contact', async () => fake.controls.contact({ external_id: cus }));
    expect(contact).toMatchObject({ email: `${cus}@example.com`, role: 'user' });
    expect(fake.state.answerProblems).toEqual([]);
  });

  it('a token Intercom refuses (the app was uninstalled) marks the destination broken: no refresh exists', async () => {
    const before = exchanges();
    fake.controls.revokeToken();
    const cus = await sendCustomer();
    const broken = await until('a broken destination', async () => (await list()).find((d) => d.id === destinationId && d.health.state === 'broken'));
    expect(broken.health.message).toMatch(/Intercom refused the access token \(401\).*connect Intercom again/);
    expect(fake.controls.contact({ external_id: cus })).toBeUndefined();
    expect(exchanges()).toBe(before);
    const tested = await call('POST', `/destinations/${destinationId}/test`, caller, { mode: 'test' });
    expect(tested.body).toMatchObject({ ok: false, health: { state: 'broken' } });
  });

  it('disconnecting forgets the token (Intercom has no revoke endpoint); connecting again works; no token or secret in logs or answers', async () => {
    const before = exchanges();
    const gone = await call('DELETE', `/destinations/${destinationId}`, caller, { mode: 'test', confirm: destinationId });
    expect(gone.body).toEqual({ disconnected: true });
    expect(await rows()).toEqual([]);
    expect(exchanges()).toBe(before);

    // The workspace installs the app again: a new token, and the sync writes with it.
    const url = await authorize('au');
    const r = await connect({ mode: 'test', code: oauth.issueCode(), state: stateOf(url) });
    expect(r.status).toBe(201);
    expect(r.body.destination).toMatchObject({ region: 'au', auth: 'oauth', health: { state: 'ok' } });
    const cus = await sendCustomer();
    await until('the contact after reconnecting', async () => fake.controls.contact({ external_id: cus }));
    await list();
    const id = r.body.destination.id as string;
    expect((await call('DELETE', `/destinations/${id}`, caller, { mode: 'test', confirm: id })).body).toEqual({ disconnected: true });
    expect(await rows()).toEqual([]);

    expect(logLines.length).toBeGreaterThan(0);
    const logs = logLines.join('\n');
    const all = answers.join('\n');
    expect(oauth.state.issued.length).toBe(3);
    for (const secret of [...oauth.state.issued, CLIENT.clientSecret]) {
      expect(logs).not.toContain(secret);
      expect(all).not.toContain(secret);
    }
  });
});
