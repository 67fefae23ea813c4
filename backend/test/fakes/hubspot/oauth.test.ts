import { createHash } from 'node:crypto';
import { Client } from '@hubspot/api-client';
import { startFakeHubSpot, type FakeHubSpot } from './server';
import { raw, sdkClient, sdkError } from './test-support';

/** OAuth code exchange, token metadata, refresh, expiry, and portal isolation. */

let fake: FakeHubSpot;
let anon: Client;
const CLIENT_ID = 'test-client-id';
const SECRET = 'test-client-secret';
const REDIRECT = 'https://dashboard.stripe.com/apps-oauth/com.example.sync';

beforeAll(async () => {
  fake = await startFakeHubSpot();
  anon = new Client({ basePath: fake.url, numberOfApiCallRetries: 0 });
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const exchange = (code: string, secret = SECRET) =>
  anon.oauth.tokensApi.create('authorization_code', code, REDIRECT, CLIENT_ID, secret);
const refresh = (token: string) => anon.oauth.tokensApi.create('refresh_token', undefined, undefined, CLIENT_ID, SECRET, token);
const asToken = (accessToken: string) => new Client({ accessToken, basePath: fake.url, numberOfApiCallRetries: 0 });

describe('authorization code flow', () => {
  it('exchanges a code, describes the token, refreshes after expiry, and 401s the expired token', async () => {
    fake.issueAuthorizationCode('code-abc', 555, { hubDomain: 'acme.hubspot.com', scopes: ['oauth', 'crm.objects.contacts.write'] });
    const tokens = await exchange('code-abc');
    expect(tokens).toMatchObject({ tokenType: 'bearer', expiresIn: 1800 });
    expect(tokens.accessToken).toBeTruthy();
    expect(tokens.refreshToken).toBeTruthy();

    const info = await anon.oauth.accessTokensApi.get(tokens.accessToken);
    expect(info).toMatchObject({ hubId: 555, hubDomain: 'acme.hubspot.com', scopes: ['oauth', 'crm.objects.contacts.write'], token: tokens.accessToken });
    expect(info.expiresIn).toBeGreaterThan(1790);

    const crm = asToken(tokens.accessToken);
    await crm.crm.contacts.basicApi.create({ properties: { email: 'o@example.com' }, associations: [] });
    expect(fake.portal(555).contactByEmail('o@example.com')).toBeDefined();

    fake.expireAccessTokens();
    const expired = await sdkError(crm.crm.contacts.basicApi.getPage(1));
    expect(expired.code).toBe(401);
    expect(expired.body).toMatchObject({ status: 'error', category: 'EXPIRED_AUTHENTICATION' });
    expect(String(expired.body.message)).toMatch(/^The OAuth token used to make this call expired \d+ second\(s\) ago\.$/);

    const renewed = await refresh(tokens.refreshToken);
    expect(renewed.accessToken).not.toBe(tokens.accessToken);
    expect(renewed.refreshToken).toBe(tokens.refreshToken);
    const page = await asToken(renewed.accessToken).crm.contacts.basicApi.getPage(10);
    expect(page.results.map((c) => c.properties.email)).toEqual(['o@example.com']);
  });

  it('access tokens expire on their own after tokenLifetimeSeconds', async () => {
    const short = await startFakeHubSpot({ tokenLifetimeSeconds: 1 });
    try {
      short.issueAuthorizationCode('c', 1);
      const res = await raw(short, 'POST', '/oauth/v1/token', {
        form: { grant_type: 'authorization_code', code: 'c', redirect_uri: REDIRECT, client_id: CLIENT_ID, client_secret: SECRET },
      });
      expect(res.body.expires_in).toBe(1);
      const token = String(res.body.access_token);
      expect((await raw(short, 'GET', '/crm/v3/objects/contacts', { token })).status).toBe(200);
      await new Promise((r) => setTimeout(r, 1050));
      expect((await raw(short, 'GET', '/crm/v3/objects/contacts', { token })).status).toBe(401);
    } finally {
      await short.close();
    }
  });

  it('answers HubSpot’s 400 bodies for a bad code, a reused code, a wrong secret and a bad refresh token', async () => {
    const bad = await sdkError(exchange('nope'));
    expect(bad.code).toBe(400);
    expect(bad.body).toMatchObject({ status: 'BAD_AUTH_CODE', message: 'missing or unknown auth code' });

    fake.issueAuthorizationCode('once', 1);
    await exchange('once');
    expect((await sdkError(exchange('once'))).body.status).toBe('BAD_AUTH_CODE');

    fake.issueAuthorizationCode('two', 1);
    const secret = await sdkError(exchange('two', 'wrong'));
    expect(secret.code).toBe(400);
    expect(secret.body.status).toBe('BAD_CLIENT_SECRET');

    const badClient = await sdkError(anon.oauth.tokensApi.create('authorization_code', 'two', REDIRECT, 'other', SECRET));
    expect(badClient.body).toMatchObject({ status: 'BAD_CLIENT_ID', message: 'missing or unknown client id' });

    const rt = await sdkError(refresh('na1-unknown'));
    expect(rt.body).toMatchObject({ status: 'BAD_REFRESH_TOKEN', message: 'missing or unknown refresh token' });
  });

  it('checks the redirect_uri when the code was issued with one', async () => {
    fake.issueAuthorizationCode('r', 1, { redirectUri: 'https://elsewhere.test/cb' });
    expect((await sdkError(exchange('r'))).body.status).toBe('BAD_REDIRECT_URI');
  });

  it('PKCE: a code issued for an S256 challenge is exchanged only with its verifier', async () => {
    const verifier = 'v'.repeat(20) + '-._~0123456789abcdefghijklmnopqrstuvwxyz';
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    fake.issueAuthorizationCode('pkce', 9, { codeChallenge: challenge });
    const form = { grant_type: 'authorization_code', code: 'pkce', redirect_uri: REDIRECT, client_id: CLIENT_ID, client_secret: SECRET };
    const missing = await raw(fake, 'POST', '/oauth/v1/token', { form });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ status: 'BAD_AUTH_CODE', error: 'invalid_grant', message: 'missing code_verifier' });
    const wrong = await raw(fake, 'POST', '/oauth/v3/token', { form: { ...form, code_verifier: `${verifier}x` } });
    expect(wrong.status).toBe(400);
    expect(wrong.body).toMatchObject({ status: 'BAD_AUTH_CODE', error: 'invalid_grant' });
    const good = await raw(fake, 'POST', '/oauth/v3/token', { form: { ...form, code_verifier: verifier } });
    expect(good.status).toBe(200);
    expect(good.body).toMatchObject({ hub_id: 9, token_type: 'bearer' });
    // Without a challenge at issue, no verifier is asked for (and one sent is ignored).
    fake.issueAuthorizationCode('plain', 9);
    expect((await raw(fake, 'POST', '/oauth/v1/token', { form: { ...form, code: 'plain', code_verifier: 'anything' } })).status).toBe(200);
  });

  it('v3 token endpoint takes every parameter in the form body', async () => {
    fake.issueAuthorizationCode('v3-code', 77);
    const res = await raw(fake, 'POST', '/oauth/v3/token', {
      form: { grant_type: 'authorization_code', code: 'v3-code', redirect_uri: REDIRECT, client_id: CLIENT_ID, client_secret: SECRET },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ token_type: 'bearer', token_use: 'access_token', hub_id: 77, expires_in: 1800 });
    const again = await raw(fake, 'POST', '/oauth/v3/token', {
      form: { grant_type: 'refresh_token', refresh_token: String(res.body.refresh_token), client_id: CLIENT_ID, client_secret: SECRET },
    });
    expect(again.status).toBe(200);
    const info = await raw(fake, 'GET', `/oauth/v1/refresh-tokens/${String(res.body.refresh_token)}`);
    expect(info.body).toMatchObject({ hub_id: 77, client_id: CLIENT_ID, token_type: 'refresh' });
  });

  it('answers 403 MISSING_SCOPES when the token lacks the scope a call needs', async () => {
    fake.issueAuthorizationCode('ro', 5, { scopes: ['oauth', 'crm.objects.contacts.read'] });
    const crm = asToken((await exchange('ro')).accessToken);
    await crm.crm.contacts.basicApi.getPage(1);
    const write = await sdkError(crm.crm.contacts.basicApi.create({ properties: { email: 'w@example.com' }, associations: [] }));
    expect(write.code).toBe(403);
    expect(write.body).toMatchObject({ category: 'MISSING_SCOPES' });
    expect(write.body.errors).toEqual([expect.objectContaining({ context: { requiredGranularScopes: ['crm.objects.contacts.write'] } })]);
    const schema = await sdkError(crm.crm.properties.groupsApi.create('contacts', { name: 'stripe', label: 'Stripe' }));
    expect(schema.code).toBe(403);
    await crm.crm.properties.coreApi.getAll('contacts');
    expect(fake.portal(5).contacts.size).toBe(0);
  });

  it('token metadata of an unknown token is a 404', async () => {
    expect((await sdkError(anon.oauth.accessTokensApi.get('nope'))).code).toBe(404);
  });
});

describe('portals', () => {
  it('keeps each portal’s contacts, properties and ids apart', async () => {
    const a = sdkClient(fake, 1);
    const b = sdkClient(fake, 2);
    const inA = await a.crm.contacts.basicApi.create({ properties: { email: 'same@example.com' }, associations: [] });
    await b.crm.contacts.basicApi.create({ properties: { email: 'same@example.com' }, associations: [] });
    expect((await sdkError(b.crm.contacts.basicApi.getById(inA.id))).code).toBe(404);
    await a.crm.properties.groupsApi.create('contacts', { name: 'stripe', label: 'Stripe' });
    await b.crm.properties.groupsApi.create('contacts', { name: 'stripe', label: 'Stripe' });
    expect(fake.portal(1).groups.has('stripe') && fake.portal(2).groups.has('stripe')).toBe(true);
    expect(fake.requestCount({ portalId: 1 })).toBe(2);
  });

  it('tells a private-app token its portal through account-info', async () => {
    sdkClient(fake, 31337, 'pat-x');
    const res = await raw(fake, 'GET', '/account-info/v3/details', { token: 'pat-x' });
    expect(res.body).toMatchObject({ portalId: 31337, uiDomain: 'app.hubspot.com' });
  });
});
