import { dbKinds } from '../helpers/db';
import { startSyncHarness, type SyncHarness } from '../helpers/sync-harness';
import { randomId, stripeEvent, stripeObject } from '../helpers/stripe-fixtures';
import { appRequest, TEST_APP_SECRET } from '../helpers/app-api';
import { postWebhook, waitFor } from '../helpers/server';
import { startFakeHubSpot, type FakeHubSpot } from '../fakes/hubspot/server';
import { startGateProxy, type GateProxy } from '../helpers/gate-proxy';
import { createInstallRegistry } from '../../src/adapters/hubspot/installs';
import { createTokenCipher, parseEncryptionKey } from '../../src/adapters/hubspot/crypto';

/**
 * An OAuth connection HubSpot ends (the app uninstalled: access tokens 401, refresh BAD_REFRESH_TOKEN), and a
 * token refresh that takes its time — through the real server, on both databases.
 */

const ACCOUNT = 'acct_1OAuthFailures';
const KEY = 'ef'.repeat(32);
const REDIRECT = 'https://dashboard.stripe.com/test/apps-oauth/com.stripe-hubspot-sync.app';
let clock = 1_797_000_000;
let nextPortal = 8100;
const customer = (id: string, extra: Record<string, unknown> = {}, type = 'customer.created') =>
  stripeEvent(type, stripeObject('customer', { id, email: `${id}@example.com`, created: clock, ...extra }), { created: ++clock, account: ACCOUNT });

describe.each(dbKinds())('OAuth connections that fail on %s', (kind) => {
  let fake: FakeHubSpot;
  let proxy: GateProxy;
  let h: SyncHarness;

  beforeAll(async () => {
    fake = await startFakeHubSpot();
    // The backend reaches HubSpot through a proxy that can hold a token refresh in flight.
    proxy = await startGateProxy(fake.url);
    h = await startSyncHarness({
      kind,
      privateApp: false,
      sharedHubSpot: fake,
      env: {
        HUBSPOT_API_BASE_URL: proxy.url,
        STRIPE_APP_SECRET: TEST_APP_SECRET,
        HUBSPOT_CLIENT_ID: 'test-client-id',
        HUBSPOT_CLIENT_SECRET: 'test-client-secret',
        TOKEN_ENCRYPTION_KEY: KEY,
      },
      engine: { health: { connectionCheckMs: 300, tickMs: 100 } },
    });
  });
  afterAll(async () => {
    await h?.stop();
    await proxy?.close();
    await fake?.close();
  });

  /** Connects (or reconnects) the account's test mode to a portal, as the OAuth flow ends: the install stored. */
  async function connect(portalId: number) {
    const code = `code-${randomId('c')}`;
    fake.issueAuthorizationCode(code, portalId);
    const registry = createInstallRegistry({
      cipher: createTokenCipher(parseEncryptionKey(KEY)),
      oauth: { clientId: 'test-client-id', clientSecret: 'test-client-secret', apiBaseUrl: fake.url },
    });
    await registry.connectOAuth(h.server.db, { accountId: ACCOUNT, livemode: false, code, redirectUri: REDIRECT });
  }
  const connection = async () => (await appRequest(h.server.url, 'GET', '/settings?mode=test', { accountId: ACCOUNT })).body.connection;
  const portalContact = (portalId: number, id: string) => fake.portal(portalId).contactByProperty('stripe_customer_id', id);
  async function counts() {
    const { rows } = await h.server.db.query<{ dead: string; failed: string }>(
      `SELECT (SELECT count(*) FROM dead_letters) AS dead, (SELECT count(*) FROM stripe_events WHERE status = 'failed') AS failed`,
    );
    return { dead: Number(rows[0].dead), failed: Number(rows[0].failed) };
  }

  it('acknowledges webhooks while a token refresh is waiting for HubSpot', async () => {
    const portalId = ++nextPortal;
    await connect(portalId);
    const a = randomId('cus');
    await h.send(customer(a));
    await h.idle();

    const gate = proxy.hold((_m, path, body) => path === '/oauth/v1/token' && body.includes('grant_type=refresh_token'));
    fake.expireAccessTokens();
    await h.send(customer(a, { delinquent: true }, 'customer.updated'));
    await gate.arrived;
    // The refresh is in flight: ingest still stores and acknowledges (on PGlite a lock held across the call
    // would hold the only connection).
    const b = randomId('cus');
    const r = await postWebhook(h.server.url, customer(b));
    expect(r.status).toBe(200);
    gate.release();
    await h.idle();
    expect(portalContact(portalId, a)?.properties.stripe_delinquent).toBe('true');
    expect(portalContact(portalId, b)).toBeDefined();
    expect(gate.count()).toBe(1);
  }, 60_000);

  it('an uninstalled app breaks the connection (shown, changes kept); reconnecting resumes where it stopped', async () => {
    const portalId = ++nextPortal;
    await connect(portalId);
    const ids = [randomId('cus'), randomId('cus')];
    await h.send(...ids.map((id) => customer(id)));
    await h.idle();
    expect((await connection()).health).toMatchObject({ state: 'ok' });

    fake.uninstallApp(portalId);
    await h.send(...ids.map((id) => customer(id, { delinquent: true }, 'customer.updated')));
    const broken = await waitFor(async () => {
      const c = await connection();
      return c?.health?.state === 'broken' ? c.health : null;
    }, { what: 'the connection shown broken' });
    expect(broken).toMatchObject({ code: 'BAD_REFRESH_TOKEN', message: expect.stringMatching(/^HubSpot refused to refresh the access token/) });
    expect(Date.parse(broken.since)).toBeGreaterThan(0);
    const late = randomId('cus');
    await h.send(customer(late));
    await waitFor(async () => (await connection()).health.waiting === 3, { what: 'three customers waiting' });
    expect(await counts()).toEqual({ dead: 0, failed: 0 });

    await connect(portalId);
    await h.idle(20_000);
    for (const id of ids) expect(portalContact(portalId, id)?.properties.stripe_delinquent).toBe('true');
    expect(portalContact(portalId, late)).toBeDefined();
    expect((await connection()).health).toMatchObject({ state: 'ok', waiting: 0 });
    expect(await counts()).toEqual({ dead: 0, failed: 0 });
  }, 60_000);
});
