import { randomBytes } from 'node:crypto';
import type { Db } from '../store/db';
import { migrate } from '../store/migrate';
import { dbKinds, freshDatabase, type TestDatabase } from '../../../test/helpers/db';
import { startFakeHubSpot, type FakeHubSpot } from '../../../test/fakes/hubspot/server';
import { createHubSpotAdapter, type HubSpotAdapter } from './adapter';
import { readByEmail } from './contacts';
import { createTokenCipher, TokenDecryptionError } from './crypto';
import { PermanentHubSpotError } from './errors';
import { createInstallRegistry, type InstallRegistry, type InstallRegistryOptions } from './installs';
import { buildInstallUrl, HUBSPOT_SCOPES } from './oauth';

/** OAuth installs, token refresh and encryption at rest, against the fake HubSpot. */

const cipher = createTokenCipher(randomBytes(32));
const REDIRECT = 'https://dashboard.stripe.com/apps-oauth/com.example.sync';
let codes = 0;

describe('buildInstallUrl', () => {
  it('requires the least-privilege contact scopes, asks for the other records’ scopes as optional, with client id, redirect and state', () => {
    const url = new URL(buildInstallUrl({ clientId: 'cid', redirectUri: REDIRECT, state: 'st-1' }));
    expect(url.origin + url.pathname).toBe('https://app.hubspot.com/oauth/authorize');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: 'cid',
      redirect_uri: REDIRECT,
      scope: 'oauth crm.objects.contacts.read crm.objects.contacts.write crm.schemas.contacts.write',
      optional_scope:
        'crm.objects.companies.read crm.objects.companies.write crm.schemas.companies.read crm.schemas.companies.write ' +
        'crm.objects.deals.read crm.objects.deals.write crm.schemas.deals.read crm.schemas.deals.write ' +
        'tickets crm.schemas.tickets.write timeline',
      state: 'st-1',
    });
    expect(url.toString()).toContain('scope=oauth+crm.objects');
  });

  it('adds a PKCE challenge when given', () => {
    const url = new URL(buildInstallUrl({ clientId: 'cid', redirectUri: REDIRECT, state: 's', codeChallenge: 'abc' }));
    expect(url.searchParams.get('code_challenge')).toBe('abc');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
  });
});

describe.each(dbKinds())('HubSpot installs on %s', (kind) => {
  let target: TestDatabase;
  let db: Db;
  let db2: Db;
  let fake: FakeHubSpot;
  let adapter: HubSpotAdapter;
  let nextPortal = 3000;

  beforeAll(async () => {
    target = await freshDatabase(kind);
    db = await target.open();
    await migrate(db);
    // On PostgreSQL a second handle plays a second instance; PGlite is one process.
    db2 = kind === 'postgres' ? await target.open() : db;
    fake = await startFakeHubSpot({ tokenLifetimeSeconds: 1800 });
    adapter = createHubSpotAdapter({ db, apiBaseUrl: fake.url, retry: { baseDelayMs: 10, maxAttempts: 2 } });
  });
  afterAll(async () => {
    adapter.close();
    await fake.close();
    if (db2 !== db) await db2.close();
    await db.close();
    await target.drop();
  });

  const registryWith = (extra: Partial<InstallRegistryOptions> = {}, f: FakeHubSpot = fake): InstallRegistry =>
    createInstallRegistry({
      cipher,
      oauth: { clientId: 'test-client-id', clientSecret: 'test-client-secret', apiBaseUrl: f.url },
      ...extra,
    });

  async function connect(registry: InstallRegistry, f: FakeHubSpot = fake, livemode = true) {
    const portalId = ++nextPortal;
    const accountId = `acct_${portalId}`;
    const code = `code-${++codes}`;
    f.issueAuthorizationCode(code, portalId, { hubDomain: `p${portalId}.hubspot.com`, scopes: [...HUBSPOT_SCOPES], redirectUri: REDIRECT });
    const install = await registry.connectOAuth(db, { accountId, livemode, code, redirectUri: REDIRECT });
    return { portalId, accountId, install };
  }

  const tokenPosts = (f: FakeHubSpot, grant: string) =>
    f.requests.filter((r) => r.path === '/oauth/v1/token' && (r.body as Record<string, string>).grant_type === grant).length;

  it('exchanges the code, learns the portal from the token info, and stores the tokens encrypted', async () => {
    const registry = registryWith();
    const { portalId, accountId, install } = await connect(registry);
    expect(install).toMatchObject({ accountId, livemode: true, portalId, hubDomain: `p${portalId}.hubspot.com`, kind: 'oauth' });
    expect(install.scopes).toEqual([...HUBSPOT_SCOPES]);
    expect(install.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 29 * 60_000);
    expect(JSON.stringify(install)).not.toMatch(/fake-at|v1\./);

    const token = await registry.getAccessToken(db, install);
    const row = (await db.query<{ access_token_enc: string; refresh_token_enc: string }>(
      'SELECT access_token_enc, refresh_token_enc FROM hubspot_installs WHERE stripe_account_id = $1', [accountId],
    )).rows[0]!;
    expect(row.access_token_enc).not.toContain(token);
    expect(row.access_token_enc).toMatch(/^v1\./);
    expect(row.refresh_token_enc).toMatch(/^v1\./);

    // The token works: a real call through the adapter.
    const portal = adapter.portal(registry.portalAuth(db, install));
    fake.portal(portalId).addContact({ email: 'x@example.com' });
    expect((await readByEmail(portal, ['x@example.com'])).size).toBe(1);
  });

  it('refuses a bad code without storing anything', async () => {
    const registry = registryWith();
    const err = await registry
      .connectOAuth(db, { accountId: 'acct_bad', livemode: true, code: 'nope', redirectUri: REDIRECT })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentHubSpotError);
    expect(err).toMatchObject({ status: 400, category: 'BAD_AUTH_CODE' });
    expect(await registry.resolveInstall(db, { accountId: 'acct_bad', livemode: true })).toBeNull();
  });

  it('keeps modes apart: a live connection does not serve test events', async () => {
    const registry = registryWith();
    const { accountId } = await connect(registry, fake, true);
    expect(await registry.resolveInstall(db, { accountId, livemode: true })).not.toBeNull();
    expect(await registry.resolveInstall(db, { accountId, livemode: false })).toBeNull();
  });

  it('refreshes when less than 5 minutes remain, once across concurrent instances', async () => {
    const a = registryWith();
    const { accountId, install } = await connect(a);
    const before = tokenPosts(fake, 'refresh_token');
    // With 30 minutes left nothing is refreshed.
    const original = await a.getAccessToken(db, install);
    expect(tokenPosts(fake, 'refresh_token')).toBe(before);

    // 26 minutes later: 4 minutes left.
    await db.query(
      `UPDATE hubspot_installs SET expires_at = now() + interval '4 minutes', updated_at = now() - interval '26 minutes'
        WHERE stripe_account_id = $1`,
      [accountId],
    );
    const b = registryWith();
    const [installA, installB] = await Promise.all([
      a.resolveInstall(db, { accountId, livemode: true }),
      b.resolveInstall(db2, { accountId, livemode: true }),
    ]);
    const [ta, tb] = await Promise.all([a.getAccessToken(db, installA!), b.getAccessToken(db2, installB!)]);
    expect(ta).toBe(tb);
    expect(ta).not.toBe(original);
    expect(tokenPosts(fake, 'refresh_token')).toBe(before + 1);
    const refreshed = (await a.resolveInstall(db, { accountId, livemode: true }))!;
    expect(refreshed.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 29 * 60_000);
    // The old install object now gets the new token without another refresh.
    expect(await a.getAccessToken(db, installA!)).toBe(ta);
    expect(tokenPosts(fake, 'refresh_token')).toBe(before + 1);
  });

  it('after a 401 refreshes once and retries the call', async () => {
    const registry = registryWith();
    const { portalId, install } = await connect(registry);
    const before = tokenPosts(fake, 'refresh_token');
    fake.expireAccessTokens();
    fake.portal(portalId).addContact({ email: 'y@example.com' });
    const found = await readByEmail(adapter.portal(registry.portalAuth(db, install)), ['y@example.com']);
    expect(found.size).toBe(1);
    expect(tokenPosts(fake, 'refresh_token')).toBe(before + 1);
  });

  it('fails loudly when a stored token was tampered with', async () => {
    const registry = registryWith();
    const { accountId } = await connect(registry);
    await db.query(
      `UPDATE hubspot_installs SET access_token_enc = overlay(access_token_enc placing
         (CASE WHEN substr(access_token_enc, 20, 1) = 'A' THEN 'B' ELSE 'A' END) from 20 for 1)
       WHERE stripe_account_id = $1`,
      [accountId],
    );
    const install = (await registry.resolveInstall(db, { accountId, livemode: true }))!;
    await expect(registry.getAccessToken(db, install)).rejects.toBeInstanceOf(TokenDecryptionError);
  });

  it('disconnects: forgets and revokes the tokens, and resolves nothing after', async () => {
    const registry = registryWith();
    const { accountId, portalId } = await connect(registry);
    expect((await registry.installsOfPortal(db, portalId)).map((i) => i.accountId)).toEqual([accountId]);
    const sealed = (await db.query<{ refresh_token_enc: string }>(
      'SELECT refresh_token_enc FROM hubspot_installs WHERE stripe_account_id = $1', [accountId],
    )).rows[0]!.refresh_token_enc;
    const refreshToken = cipher.decrypt(sealed, `hubspot_installs:${accountId}:live:refresh`);

    expect(await registry.disconnect(db, { accountId, livemode: true })).toBe(true);
    expect(await registry.disconnect(db, { accountId, livemode: true })).toBe(false);
    expect(await registry.resolveInstall(db, { accountId, livemode: true })).toBeNull();
    expect(await registry.installsOfPortal(db, portalId)).toEqual([]);
    const row = (await db.query<{ access_token_enc: string; refresh_token_enc: string | null; disconnected_at: Date | null }>(
      'SELECT access_token_enc, refresh_token_enc, disconnected_at FROM hubspot_installs WHERE stripe_account_id = $1', [accountId],
    )).rows[0]!;
    expect(row).toMatchObject({ access_token_enc: '', refresh_token_enc: null });
    expect(row.disconnected_at).not.toBeNull();
    const info = await fetch(`${fake.url}/oauth/v1/refresh-tokens/${refreshToken}`);
    expect(info.status).toBe(404);
  });

  it('serves events without account with the private-app token, in its modes only', async () => {
    const portalId = ++nextPortal;
    fake.addPrivateAppToken('pat-private', portalId);
    const registry = registryWith({ apiBaseUrl: fake.url, privateApp: { accessToken: 'pat-private', modes: ['live'] } });
    const live = await registry.resolveInstall(db, { accountId: null, livemode: true });
    expect(live).toMatchObject({ kind: 'private_app', portalId, accountId: null, livemode: true });
    expect(await registry.resolveInstall(db, { accountId: null, livemode: false })).toBeNull();
    await registry.resolveInstall(db, { accountId: null, livemode: true });
    expect(fake.requestCount({ pathPrefix: '/account-info/v3/details', portalId })).toBe(1);
    expect(await registry.getAccessToken(db, live!)).toBe('pat-private');
    expect(registry.portalAuth(db, live!).refreshAfterUnauthorized).toBeUndefined();

    const configured = registryWith({ privateApp: { accessToken: 'pat-private', portalId: 42 } });
    expect(await configured.resolveInstall(db, { accountId: null, livemode: false })).toMatchObject({ portalId: 42 });
    expect(await registryWith().resolveInstall(db, { accountId: null, livemode: true })).toBeNull();
  });
});
