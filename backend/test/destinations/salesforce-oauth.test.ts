import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { captureLogLines, FAST_DESTINATIONS } from './oauth-harness';
import { dbKinds } from '../helpers/db';
import { startSyncHarness, type SyncHarness } from '../helpers/sync-harness';
import { appRequest, TEST_APP_SECRET } from '../helpers/app-api';
import { randomId, stripeEvent, stripeObject } from '../helpers/stripe-fixtures';
import { postWebhook } from '../helpers/server';
import { startFakeSalesforce, type FakeSalesforce } from '../fakes/salesforce/server';
import { fakeSalesforceOAuth, type FakeSalesforceOAuth } from '../fakes/salesforce/oauth';
import { addDefaultSyncFields } from '../fakes/salesforce/default-fields';
import { createTokenCipher } from '../../src/adapters/hubspot/crypto';
import { parseCredentials } from '../../src/adapters/store/destinations-store';
import { createDbTokenSource } from '../../src/adapters/destinations/oauth-token-source';
import { createSalesforceOAuthClient, SALESFORCE_OAUTH_SCOPES } from '../../src/adapters/salesforce/oauth';
import type { DestinationSummary, Mode } from '@stripe-hubspot-sync/contracts';

/**
 * "Connect with Salesforce" end to end: the Stripe App's signed calls, the backend's state (bound to the environment
 * chosen) and PKCE, two fake orgs over real HTTP — a production one at SALESFORCE_LOGIN_URL and a sandbox one at
 * SALESFORCE_SANDBOX_LOGIN_URL — with Salesforce's token and revoke endpoints (client id and secret in the form, S256
 * verification, signed answers, refresh tokens that do not rotate, access tokens that stop working), the adapter's
 * field check, and the destination pusher upserting Contacts on the org's instance URL with the Bearer token.
 */

const OWN_ACCOUNT = 'acct_1SalesforceOAuth00';
const OTHER_ACCOUNT = 'acct_1SalesforceOther00';
const caller = { accountId: OWN_ACCOUNT };
const KEY = 'ef'.repeat(32);
const CLIENT = { clientId: '3MVG9sf-client-id-0001', clientSecret: 'sf-client-secret-0001' };
const REDIRECT_TEST = 'https://dashboard.stripe.com/test/apps-oauth/com.example.salesforce-oauth';

describe.each(dbKinds())('Connect with Salesforce (OAuth web server flow + PKCE) on %s', (kind) => {
  let h: SyncHarness;
  let prod: FakeSalesforce;
  let sandbox: FakeSalesforce;
  let prodOAuth: FakeSalesforceOAuth;
  let sandboxOAuth: FakeSalesforceOAuth;
  const cipher = createTokenCipher(KEY);
  const logLines: string[] = [];

  beforeAll(async () => {
    [prod, sandbox] = await Promise.all([startFakeSalesforce(), startFakeSalesforce()]);
    prodOAuth = fakeSalesforceOAuth(prod, CLIENT);
    sandboxOAuth = fakeSalesforceOAuth(sandbox, CLIENT);
    addDefaultSyncFields(prod);
    h = await startSyncHarness({
      kind,
      env: {
        STRIPE_APP_SECRET: TEST_APP_SECRET,
        STRIPE_ACCOUNT_ID: OWN_ACCOUNT,
        STRIPE_APP_ID: 'com.example.salesforce-oauth',
        TOKEN_ENCRYPTION_KEY: KEY,
        SALESFORCE_CLIENT_ID: CLIENT.clientId,
        SALESFORCE_CLIENT_SECRET: CLIENT.clientSecret,
        SALESFORCE_LOGIN_URL: prod.url,
        SALESFORCE_SANDBOX_LOGIN_URL: sandbox.url,
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
    await Promise.all([prod?.close(), sandbox?.close()]);
  });

  async function authorize(environment?: 'production' | 'sandbox', who = caller, mode: Mode = 'test'): Promise<URL> {
    const r = await appRequest(h.server.url, 'GET', `/destinations/salesforce/authorize-url?mode=${mode}${environment ? `&environment=${environment}` : ''}`, who);
    expect(r.status).toBe(200);
    return new URL(r.body.url);
  }
  /** The user approves on the org's authorize page: the code it sends back for this authorize URL. */
  const approve = (oauth: FakeSalesforceOAuth, url: URL, challenge = url.searchParams.get('code_challenge')!) =>
    oauth.issueCode({ challenge, redirectUri: url.searchParams.get('redirect_uri')!, scope: url.searchParams.get('scope')! });
  const connect = (body: object, who = caller) => appRequest(h.server.url, 'POST', '/destinations/salesforce/connect', who, body);
  const stateHash = (state: string) => createHash('sha256').update(state).digest('hex');

  type Row = { id: string; key_sealed: string; auth_kind: string; environment: string | null; health: string };
  const rows = async () => (await h.server.db.query<Row>(`SELECT id, key_sealed, auth_kind, environment, health FROM destinations WHERE kind = 'salesforce'`)).rows;
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
  async function sendCustomer(): Promise<string> {
    const cus = randomId('cus');
    const customer = stripeObject('customer', { id: cus, email: `${cus}@example.com`, name: 'Ada Lovelace', created: 1_770_100_000, livemode: false });
    expect((await postWebhook(h.server.url, stripeEvent('customer.created', customer, { created: 1_770_100_000 }))).status).toBe(200);
    return cus;
  }
  const grants = (oauth: FakeSalesforceOAuth, grant: string) => oauth.state.tokenRequests.filter((t) => t.grantType === grant);
  const contactOf = (cus: string) => prod.controls.find('Contact', 'Stripe_Customer_Id__c', cus)[0];

  let destinationId = '';

  it('answers the authorize URL of the chosen environment with a state it issued and an S256 challenge', async () => {
    const url = await authorize();
    expect(`${url.origin}${url.pathname}`).toBe(`${prod.url}/services/oauth2/authorize`);
    const p = url.searchParams;
    expect(Object.fromEntries([...p].filter(([k]) => !['state', 'code_challenge'].includes(k)))).toEqual({
      response_type: 'code',
      client_id: CLIENT.clientId,
      redirect_uri: REDIRECT_TEST,
      scope: SALESFORCE_OAUTH_SCOPES.join(' '),
      code_challenge_method: 'S256',
    });
    expect(p.get('scope')).toBe('api refresh_token');
    expect(p.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(p.get('state')).toMatch(/^salesforce\.[A-Za-z0-9_-]{43}$/);
    const sb = await authorize('sandbox');
    expect(`${sb.origin}${sb.pathname}`).toBe(`${sandbox.url}/services/oauth2/authorize`);
    const states = await h.server.db.query<{ state_hash: string; kind: string; environment: string }>('SELECT state_hash, kind, environment FROM destination_oauth_states');
    expect(states.rows.find((r) => r.state_hash === stateHash(p.get('state')!))).toMatchObject({ kind: 'salesforce', environment: 'production' });
    expect(states.rows.find((r) => r.state_hash === stateHash(sb.searchParams.get('state')!))).toMatchObject({ kind: 'salesforce', environment: 'sandbox' });

    const bad = await appRequest(h.server.url, 'GET', '/destinations/salesforce/authorize-url?mode=test&environment=staging', caller);
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'bad_request' } } });
    // Intercom has no OAuth client on this backend; Loops connects with a key only; an unknown kind is no route.
    expect((await appRequest(h.server.url, 'GET', '/destinations/intercom/authorize-url?mode=test', caller)).body.error.code).toBe('not_configured');
    expect((await appRequest(h.server.url, 'GET', '/destinations/loops/authorize-url?mode=test', caller)).status).toBe(400);
    expect((await appRequest(h.server.url, 'GET', '/destinations/zoho/authorize-url?mode=test', caller)).status).toBe(404);
  });

  it('refuses a foreign, expired or reused state before the token endpoint, and a code of another PKCE challenge', async () => {
    const before = grants(prodOAuth, 'authorization_code').length;
    const url = await authorize();
    const code = approve(prodOAuth, url);
    expect((await connect({ mode: 'test', code, state: `salesforce.${'x'.repeat(43)}` })).body.error.code).toBe('invalid_oauth_state');
    const theirs = await authorize(undefined, { accountId: OTHER_ACCOUNT });
    const stolen = await connect({ mode: 'test', code: approve(prodOAuth, theirs), state: theirs.searchParams.get('state') });
    expect(stolen).toMatchObject({ status: 400, body: { error: { code: 'invalid_oauth_state' } } });
    expect((await connect({ mode: 'live', code, state: url.searchParams.get('state') })).body.error.code).toBe('invalid_oauth_state');
    const late = await authorize();
    await h.server.db.query(`UPDATE destination_oauth_states SET expires_at = now() - interval '1 second' WHERE state_hash = $1`, [stateHash(late.searchParams.get('state')!)]);
    const expired = await connect({ mode: 'test', code: approve(prodOAuth, late), state: late.searchParams.get('state') });
    expect(expired.status).toBe(400);
    expect(expired.body.error.message).toMatch(/Salesforce authorization took longer than 10 minutes/);
    expect(grants(prodOAuth, 'authorization_code').length).toBe(before);

    // A code the org issued for another challenge: the verifier this backend holds does not match it.
    const mismatched = await authorize();
    const pkce = await connect({ mode: 'test', code: approve(prodOAuth, mismatched, 'A'.repeat(43)), state: mismatched.searchParams.get('state') });
    expect(pkce.status).toBe(400);
    expect(pkce.body.error.message).toMatch(/Salesforce refused the authorization code: .*invalid_grant: invalid code verifier/);
    expect(grants(prodOAuth, 'authorization_code').at(-1)).toMatchObject({ clientAuthenticated: true, verifierSent: true, status: 400, error: 'invalid_grant' });
    // Used once: the same state again is refused as used, without reaching the org.
    const reused = await connect({ mode: 'test', code: approve(prodOAuth, mismatched), state: mismatched.searchParams.get('state') });
    expect(reused.body.error.message).toMatch(/already used/);

    // The fake itself requires the verifier of the code's challenge.
    const direct = await authorize();
    const res = await fetch(`${prod.url}/services/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: approve(prodOAuth, direct), redirect_uri: REDIRECT_TEST, ...{ client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret } }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'invalid_grant', error_description: 'invalid code verifier' });
    // With the verifier, the fake answers the documented token answer's keys and value types (specs/salesforce/).
    const verifier = randomBytes(32).toString('base64url');
    const ok = await fetch(`${prod.url}/services/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: prodOAuth.issueCode({ challenge: createHash('sha256').update(verifier).digest('base64url'), redirectUri: REDIRECT_TEST }),
        redirect_uri: REDIRECT_TEST,
        code_verifier: verifier,
        client_id: CLIENT.clientId,
        client_secret: CLIENT.clientSecret,
      }),
    });
    const answer = (await ok.json()) as Record<string, unknown>;
    const spec = JSON.parse(readFileSync(join(__dirname, '../../../specs/salesforce/oauth-token.response.json'), 'utf8')) as Record<string, unknown>;
    const shape = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v]).sort());
    expect(shape(answer)).toEqual(shape(spec));
    const revoked = await fetch(`${prod.url}/services/oauth2/revoke`, { method: 'POST', body: new URLSearchParams({ token: String(answer.refresh_token) }) });
    expect(revoked.status).toBe(200);

    expect(await rows()).toEqual([]);
  });

  it('names the missing fields, revokes the new tokens and stores nothing when the org lacks them', async () => {
    prod.controls.removeField('Contact', 'Stripe_Customer_Id__c');
    try {
      const url = await authorize();
      const r = await connect({ mode: 'test', code: approve(prodOAuth, url), state: url.searchParams.get('state') });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('destination_refused');
      expect(r.body.error.message).toMatch(/Contact.*Stripe_Customer_Id__c/);
      const issued = prodOAuth.state.issued.filter((t) => t.startsWith('5Aep')).at(-1)!;
      expect(prodOAuth.state.revoked).toContain(issued);
      expect(await rows()).toEqual([]);
    } finally {
      prod.controls.addField('Contact', { name: 'Stripe_Customer_Id__c', externalId: true, unique: true });
    }
  });

  it('refuses a token answer naming an instance URL that is not an https Salesforce address', async () => {
    prodOAuth.controls.answerInstanceUrl('http://10.20.30.40');
    try {
      const url = await authorize();
      const r = await connect({ mode: 'test', code: approve(prodOAuth, url), state: url.searchParams.get('state') });
      expect(r.status).toBe(502);
      expect(r.body.error.message).toMatch(/instance URL that is not an https Salesforce address/);
      // The refresh token that answer carried is revoked at the login host.
      expect(prodOAuth.state.revoked).toContain(prodOAuth.state.issued.filter((t) => t.startsWith('5Aep')).at(-1));
      expect(await rows()).toEqual([]);
    } finally {
      prodOAuth.controls.answerInstanceUrl(null);
    }
  });

  it('connects a sandbox org at the sandbox login host, and disconnecting revokes there', async () => {
    const prodExchanges = grants(prodOAuth, 'authorization_code').length;
    const url = await authorize('sandbox');
    const r = await connect({ mode: 'test', code: approve(sandboxOAuth, url), state: url.searchParams.get('state') });
    expect(r.status).toBe(201);
    expect(r.body.destination).toMatchObject({ kind: 'salesforce', environment: 'sandbox', auth: 'oauth', label: `Salesforce ${new URL(sandbox.url).host}` });
    expect(grants(sandboxOAuth, 'authorization_code').at(-1)).toMatchObject({ clientAuthenticated: true, verifierSent: true, status: 200 });
    expect(grants(prodOAuth, 'authorization_code').length).toBe(prodExchanges);
    const [row] = await rows();
    expect(row).toMatchObject({ environment: 'sandbox', auth_kind: 'oauth' });
    expect(parseCredentials(cipher.decrypt(row!.key_sealed, row!.id))).toMatchObject({ kind: 'oauth', instanceUrl: sandbox.url });

    const [live] = sandboxOAuth.state.activeRefreshTokens();
    const id = r.body.destination.id as string;
    const gone = await appRequest(h.server.url, 'DELETE', `/destinations/${id}`, caller, { mode: 'test', confirm: id });
    expect(gone.body).toEqual({ disconnected: true });
    expect(sandboxOAuth.state.revoked).toContain(live);
    expect(prodOAuth.state.revoked).not.toContain(live);
    expect(await rows()).toEqual([]);
  });

  it('connects a production org: tokens and instance URL sealed, a pushed customer lands as a Contact', async () => {
    const url = await authorize('production');
    const r = await connect({ mode: 'test', code: approve(prodOAuth, url), state: url.searchParams.get('state') });
    expect(r.status).toBe(201);
    const d: DestinationSummary = r.body.destination;
    expect(d).toMatchObject({ kind: 'salesforce', mode: 'test', environment: 'production', auth: 'oauth', keyHint: 'OAuth', health: { state: 'ok' } });
    destinationId = d.id;
    const [row] = await rows();
    const doc = parseCredentials(cipher.decrypt(row!.key_sealed, d.id));
    expect(doc).toMatchObject({ kind: 'oauth', instanceUrl: prod.url, refreshToken: prodOAuth.state.activeRefreshTokens().at(-1) });
    if (doc.kind !== 'oauth') throw new Error('not oauth');
    for (const secret of [doc.accessToken, doc.refreshToken]) {
      expect(row!.key_sealed).not.toContain(secret);
      expect(JSON.stringify(r.body)).not.toContain(secret);
    }
    const again = await authorize();
    expect((await connect({ mode: 'test', code: approve(prodOAuth, again), state: again.searchParams.get('state') })).status).toBe(409);

    const cus = await sendCustomer();
    const contact = await until('the Contact', async () => contactOf(cus));
    expect(contact).toMatchObject({ Email: `${cus}@example.com`, LastName: 'Lovelace' });
  });

  it('refreshes a refused access token once, keeping the refresh token (Salesforce does not rotate it)', async () => {
    const refreshesBefore = grants(prodOAuth, 'refresh_token').length;
    const [refreshToken] = prodOAuth.state.activeRefreshTokens();
    prod.controls.expireToken();
    const cus = await sendCustomer();
    await until('the Contact after a refresh', async () => contactOf(cus));
    expect(grants(prodOAuth, 'refresh_token').length).toBe(refreshesBefore + 1);
    expect(grants(prodOAuth, 'refresh_token').at(-1)).toMatchObject({ clientAuthenticated: true, status: 200 });
    const [row] = await rows();
    expect(parseCredentials(cipher.decrypt(row!.key_sealed, destinationId))).toMatchObject({ kind: 'oauth', refreshToken, accessToken: prod.accessToken, instanceUrl: prod.url });
    expect((await list())[0]!.health.state).toBe('ok');
  });

  it('two instances refreshing at once make one refresh and share its token', async () => {
    const client = createSalesforceOAuthClient({ ...CLIENT, loginUrl: prod.url });
    const a = createDbTokenSource({ db: h.server.db, cipher, destinationId, client, label: 'Salesforce' });
    const b = createDbTokenSource({ db: h.server.db, cipher, destinationId, client, label: 'Salesforce' });
    const stale = await a.accessToken();
    const before = grants(prodOAuth, 'refresh_token').length;
    const [ta, tb] = await Promise.all([a.refreshAfter(stale), b.refreshAfter(stale)]);
    expect(ta).toBe(tb);
    expect(ta).not.toBe(stale);
    expect(ta).toBe(prod.accessToken);
    expect(grants(prodOAuth, 'refresh_token').length).toBe(before + 1);
  });

  it('a refused refresh (invalid_grant) marks the destination broken', async () => {
    // The pusher first takes up the token the other instances refreshed (its own is refused) without refreshing again.
    const refreshes = grants(prodOAuth, 'refresh_token').length;
    const first = await sendCustomer();
    await until('the Contact with the shared token', async () => contactOf(first));
    expect(grants(prodOAuth, 'refresh_token').length).toBe(refreshes);

    prodOAuth.controls.revokeAllRefreshTokens();
    prod.controls.expireToken();
    const cus = await sendCustomer();
    const broken = await until('a broken destination', async () => (await list()).find((d) => d.health.state === 'broken'));
    expect(broken.health.message).toMatch(/Salesforce refused to refresh the access token \(400 invalid_grant\); connect Salesforce again/);
    expect(contactOf(cus)).toBeUndefined();
  });

  it('disconnecting revokes the refresh token; no token ever reached a log line or an answer', async () => {
    await h.server.db.query(`DELETE FROM destinations WHERE id = $1`, [destinationId]);
    const url = await authorize();
    const r = await connect({ mode: 'test', code: approve(prodOAuth, url), state: url.searchParams.get('state') });
    expect(r.status).toBe(201);
    const id = r.body.destination.id as string;
    const [live] = prodOAuth.state.activeRefreshTokens();
    const listed = JSON.stringify(await list());
    const gone = await appRequest(h.server.url, 'DELETE', `/destinations/${id}`, caller, { mode: 'test', confirm: id });
    expect(gone.body).toEqual({ disconnected: true });
    expect(prodOAuth.state.revoked).toContain(live);
    expect(prodOAuth.state.tokenRequests.filter((t) => t.path === '/services/oauth2/revoke').at(-1)).toMatchObject({ clientAuthenticated: false, status: 200 });
    expect(await rows()).toEqual([]);

    expect(logLines.length).toBeGreaterThan(0);
    const logs = logLines.join('\n');
    for (const token of [...prodOAuth.state.issued, ...sandboxOAuth.state.issued, CLIENT.clientSecret]) {
      expect(logs).not.toContain(token);
      expect(listed).not.toContain(token);
      expect(JSON.stringify(r.body)).not.toContain(token);
    }
  });
});
