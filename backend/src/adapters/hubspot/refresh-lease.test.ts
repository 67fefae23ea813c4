import { randomBytes } from 'node:crypto';
import type { Db } from '../store/db';
import { migrate } from '../store/migrate';
import { dbKinds, freshDatabase, type TestDatabase } from '../../../test/helpers/db';
import { startFakeHubSpot, type FakeHubSpot } from '../../../test/fakes/hubspot/server';
import { startGateProxy, type GateProxy } from '../../../test/helpers/gate-proxy';
import { createTokenCipher } from './crypto';
import { ConnectionHubSpotError } from './errors';
import { createInstallRegistry, type InstallRegistry } from './installs';

/**
 * The OAuth refresh under a lease on the install's row: HubSpot is called outside any transaction, concurrent
 * instances still refresh once, and a refresh HubSpot refuses breaks the connection and frees the lease.
 */

const cipher = createTokenCipher(randomBytes(32));
const REDIRECT = 'https://dashboard.stripe.com/apps-oauth/com.example.sync';
const isRefresh = (_m: string, path: string, body: string) => path === '/oauth/v1/token' && body.includes('grant_type=refresh_token');

describe.each(dbKinds())('OAuth refresh lease on %s', (kind) => {
  let target: TestDatabase;
  let db: Db;
  let db2: Db;
  let fake: FakeHubSpot;
  let proxy: GateProxy;
  let nextPortal = 6100;

  beforeAll(async () => {
    target = await freshDatabase(kind);
    db = await target.open();
    await migrate(db);
    // On PostgreSQL a second handle plays a second instance; PGlite is one process.
    db2 = kind === 'postgres' ? await target.open() : db;
    fake = await startFakeHubSpot({ tokenLifetimeSeconds: 1800 });
    proxy = await startGateProxy(fake.url);
  });
  afterAll(async () => {
    await proxy.close();
    await fake.close();
    if (db2 !== db) await db2.close();
    await db.close();
    await target.drop();
  });

  const registry = (): InstallRegistry =>
    createInstallRegistry({ cipher, oauth: { clientId: 'test-client-id', clientSecret: 'test-client-secret', apiBaseUrl: proxy.url } });

  async function connect(r: InstallRegistry) {
    const portalId = ++nextPortal;
    const accountId = `acct_${portalId}`;
    fake.issueAuthorizationCode(`code-${portalId}`, portalId);
    const install = await r.connectOAuth(db, { accountId, livemode: false, code: `code-${portalId}`, redirectUri: REDIRECT });
    return { portalId, accountId, install };
  }
  const refreshCalls = () =>
    fake.requests.filter((q) => q.path === '/oauth/v1/token' && (q.body as Record<string, string>).grant_type === 'refresh_token').length;
  const lease = async (accountId: string) =>
    (await db.query<{ refresh_lease_until: Date | null }>('SELECT refresh_lease_until FROM hubspot_installs WHERE stripe_account_id = $1', [accountId]))
      .rows[0]!.refresh_lease_until;

  it('two instances refreshing at once make one token call and share its token', async () => {
    const a = registry();
    const b = registry();
    const { accountId, install } = await connect(a);
    const old = await a.getAccessToken(db, install);
    const before = refreshCalls();
    const gate = proxy.hold(isRefresh);

    const first = a.getAccessToken(db, install, { forceRefresh: true, rejected: old });
    await gate.arrived;
    // The lease is committed while HubSpot is being asked: the other instance sees it and waits.
    expect(await lease(accountId)).not.toBeNull();
    const installB = (await b.resolveInstall(db2, { accountId, livemode: false }))!;
    const second = b.getAccessToken(db2, installB, { forceRefresh: true, rejected: old });
    await new Promise((r) => setTimeout(r, 300)); // let the second one find the lease
    gate.release();
    const [ta, tb] = await Promise.all([first, second]);
    expect(ta).not.toBe(old);
    expect(tb).toBe(ta);
    expect(refreshCalls()).toBe(before + 1);
    expect(gate.count()).toBe(1);
    expect(await lease(accountId)).toBeNull();
  });

  it('runs other statements while HubSpot is asked for a token', async () => {
    const a = registry();
    const { accountId, install } = await connect(a);
    const old = await a.getAccessToken(db, install);
    const gate = proxy.hold(isRefresh);
    const refreshing = a.getAccessToken(db, install, { forceRefresh: true, rejected: old });
    await gate.arrived;
    // With a row lock held across the call this would wait for the gate (on PGlite: every statement would).
    await db.query(`INSERT INTO sync_settings (account_key, livemode, settings) VALUES ($1, false, '{}')`, [accountId]);
    expect((await db.query('SELECT 1 FROM sync_settings WHERE account_key = $1', [accountId])).rows).toHaveLength(1);
    gate.release();
    expect(await refreshing).not.toBe(old);
  });

  it('a connection saved since by another instance wins over a token this one refreshed before', async () => {
    const a = registry();
    const { accountId, install } = await connect(a);
    const refreshed = await a.getAccessToken(db, install, { forceRefresh: true, rejected: await a.getAccessToken(db, install) });
    // Another instance reconnects the account, to another portal.
    const other = ++nextPortal;
    fake.issueAuthorizationCode(`code-${other}`, other);
    await registry().connectOAuth(db2, { accountId, livemode: false, code: `code-${other}`, redirectUri: REDIRECT });
    const now = (await a.resolveInstall(db, { accountId, livemode: false }))!;
    expect(now.portalId).toBe(other);
    const token = await a.getAccessToken(db, now);
    expect(token).not.toBe(refreshed);
    const account = await fetch(`${fake.url}/account-info/v3/details`, { headers: { Authorization: `Bearer ${token}` } });
    expect(((await account.json()) as { portalId: number }).portalId).toBe(other);
  });

  it('a refresh HubSpot refuses (the app was uninstalled) breaks the connection and frees the lease', async () => {
    const a = registry();
    const { portalId, accountId, install } = await connect(a);
    const old = await a.getAccessToken(db, install);
    fake.uninstallApp(portalId);
    const err = await a.getAccessToken(db, install, { forceRefresh: true, rejected: old }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionHubSpotError);
    expect(err).toMatchObject({ severity: 'broken', category: 'BAD_REFRESH_TOKEN', status: 400 });
    expect(await lease(accountId)).toBeNull();
  });
});
