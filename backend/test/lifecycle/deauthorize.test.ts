import { randomBytes } from 'node:crypto';
import { createInstallRegistry, type InstallRegistry } from '../../src/adapters/hubspot/installs';
import { createTokenCipher } from '../../src/adapters/hubspot/crypto';
import { startBackfill } from '../../src/adapters/store/backfill-store';
import { saveSettings } from '../../src/adapters/store/settings-store';
import { saveLink } from '../../src/adapters/store/push-store';
import { defaultSettings } from '@stripe-hubspot-sync/contracts';
import { createApplyProcessor } from '../../src/jobs/apply-events';
import { createLifecycleHandlers } from '../../src/jobs/lifecycle';
import { dbKinds } from '../helpers/db';
import { postWebhook, startTestServer, waitFor, type TestServer } from '../helpers/server';
import { stripeEvent, stripeObject } from '../helpers/stripe-fixtures';
import { startFakeHubSpot, type FakeHubSpot } from '../fakes/hubspot/server';

/**
 * `account.application.deauthorized` deletes everything of that account in that mode — HubSpot tokens (revoked
 * at HubSpot first), settings, stored events, Stripe objects, read model, links, dead letters, backfills — as the
 * event's job, and nothing of another account or of the other mode.
 */
const TABLES: [string, string][] = [
  ['hubspot_installs', 'stripe_account_id'],
  ['sync_settings', 'account_key'],
  ['stripe_events', "COALESCE(account_id, '')"],
  ['stripe_objects', 'account_key'],
  ['customers', 'account_key'],
  ['contact_links', 'account_key'],
  ['dead_letters', 'account_key'],
  ['backfills', 'account_key'],
  ['privacy_suppressions', 'account_key'],
  ['card_refreshes', 'account_key'],
  ['hubspot_oauth_states', 'account_key'],
  ['hubspot_pending_connections', 'account_key'],
  ['hubspot_connection_health', 'account_key'],
  ['destinations', 'account_key'],
  ['destination_oauth_states', 'account_key'],
  // What each destination holds of the account's customers (no account column: counted through its destination).
  ['destination_customers', 'account_key'],
];

describe.each(dbKinds())('uninstall from a Stripe account (%s)', (kind) => {
  let server: TestServer;
  let hubspot: FakeHubSpot;
  let installs: InstallRegistry;

  beforeAll(async () => {
    hubspot = await startFakeHubSpot();
    installs = createInstallRegistry({
      cipher: createTokenCipher(randomBytes(32)),
      oauth: { clientId: 'test-client-id', clientSecret: 'test-client-secret', apiBaseUrl: hubspot.url },
    });
    server = await startTestServer({
      kind,
      queue: { pollingIntervalSeconds: 0.5 },
      processor: (ctx) => createApplyProcessor({ db: ctx.db, lifecycle: createLifecycleHandlers({ db: ctx.db, logger: ctx.logger, installs }) }),
    });
  });
  afterAll(async () => {
    await server?.stop();
    await hubspot?.close();
  });

  async function counts(account: string, livemode: boolean): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const [table, column] of TABLES) {
      const from =
        table === 'destination_customers'
          ? '(SELECT d.account_key, d.livemode FROM destination_customers dc JOIN destinations d ON d.id = dc.destination_id) AS held'
          : table;
      const { rows } = await server.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${from} WHERE ${column} = $1 AND livemode = $2`, [
        account,
        livemode,
      ]);
      out[table] = rows[0].n;
    }
    return out;
  }

  async function populate(account: string, livemode: boolean, portalId: number) {
    const db = server.db;
    const customerId = `cus_${account}_${livemode ? 'live' : 'test'}`;
    const created = stripeEvent('customer.created', stripeObject('customer', { id: customerId, email: `${customerId}@example.com` }), { account, livemode });
    expect((await postWebhook(server.url, created)).status).toBe(200);
    await waitFor(async () => (await server.db.query(`SELECT 1 FROM customers WHERE customer_id = $1`, [customerId])).rows.length > 0, {
      what: 'the customer',
    });
    const code = `code-${account}-${livemode}`;
    hubspot.issueAuthorizationCode(code, portalId);
    await installs.connectOAuth(db, { accountId: account, livemode, code, redirectUri: 'https://dashboard.stripe.com/apps-oauth/x' });
    await saveSettings(db, account, livemode, defaultSettings());
    await saveLink(db, { account, livemode, customerId }, portalId, `${portalId}01`, 'created');
    await db.query(`INSERT INTO dead_letters (account_key, livemode, customer_id, message) VALUES ($1, $2, $3, 'refused')`, [account, livemode, customerId]);
    await startBackfill(db, account, livemode);
    await db.query(`INSERT INTO privacy_suppressions (account_key, livemode, customer_id, portal_id) VALUES ($1, $2, 'cus_gone', $3)`, [
      account,
      livemode,
      portalId,
    ]);
    await db.query(`INSERT INTO card_refreshes (account_key, livemode, customer_id, refreshed_at) VALUES ($1, $2, $3, now())`, [account, livemode, customerId]);
    await db.query(
      `INSERT INTO hubspot_oauth_states (state_hash, account_key, livemode, user_id, code_challenge, expires_at)
       VALUES ($1, $2, $3, 'usr_1', 'challenge', now() + interval '10 minutes')`,
      [`hash-${account}-${livemode}`, account, livemode],
    );
    await db.query(
      `INSERT INTO hubspot_pending_connections
         (account_key, livemode, user_id, portal_id, access_token_enc, refresh_token_enc, token_expires_at, confirm_by)
       VALUES ($1, $2, 'usr_1', $3, 'enc-access', 'enc-refresh', now() + interval '30 minutes', now() + interval '30 minutes')`,
      [account, livemode, portalId + 1000],
    );
    await db.query(
      `INSERT INTO hubspot_connection_health (account_key, livemode, portal_id, state, message, next_check_at)
       VALUES ($1, $2, $3, 'paused', 'refused', now() + interval '1 minute')`,
      [account, livemode, portalId],
    );
    // A Klaviyo destination (its sealed key, what it holds of the customer) and an unfinished OAuth connection.
    const destinationId = `dst_${String(portalId).padStart(24, '0')}`;
    await db.query(
      `INSERT INTO destinations (id, account_key, livemode, kind, label, key_sealed, key_hint, settings)
       VALUES ($1, $2, $3, 'klaviyo', 'Klaviyo', 'sealed', '••••', '{}'::jsonb)`,
      [destinationId, account, livemode],
    );
    await db.query(`INSERT INTO destination_customers (destination_id, customer_id, synced_version, synced_email) VALUES ($1, $2, 1, $3)`, [
      destinationId,
      customerId,
      `${customerId}@example.com`,
    ]);
    await db.query(
      `INSERT INTO destination_oauth_states (state_hash, kind, account_key, livemode, user_id, verifier_sealed, expires_at)
       VALUES ($1, 'klaviyo', $2, $3, 'usr_1', 'sealed', now() + interval '10 minutes')`,
      [`hash-${portalId}`, account, livemode],
    );
  }

  it('deletes that account and mode, and only those', async () => {
    await populate('acct_A', true, 501);
    await populate('acct_A', false, 502);
    await populate('acct_B', true, 503);
    const full = {
      hubspot_installs: 1, sync_settings: 1, stripe_events: 1, stripe_objects: 1, customers: 1, contact_links: 1, dead_letters: 1, backfills: 1,
      privacy_suppressions: 1, card_refreshes: 1, hubspot_oauth_states: 1, hubspot_pending_connections: 1, hubspot_connection_health: 1,
      destinations: 1, destination_oauth_states: 1, destination_customers: 1,
    };
    expect(await counts('acct_A', true)).toEqual(full);

    const uninstall = stripeEvent('account.application.deauthorized', { id: 'ca_test', object: 'application', name: 'Stripe → HubSpot' }, {
      account: 'acct_A',
      livemode: true,
    });
    expect((await postWebhook(server.url, uninstall)).status).toBe(200);
    const event = await waitFor(
      async () => {
        const { rows } = await server.db.query<{ status: string; status_reason: string }>('SELECT status, status_reason FROM stripe_events WHERE id = $1', [
          uninstall.id,
        ]);
        return rows[0]?.status === 'processed' ? rows[0] : null;
      },
      { what: 'the uninstall to be processed' },
    );
    expect(event?.status_reason).toMatch(/uninstalled/);

    // Only the uninstall event itself stays (it holds no personal data).
    expect(await counts('acct_A', true)).toEqual({ ...Object.fromEntries(Object.keys(full).map((k) => [k, 0])), stripe_events: 1 });
    expect(await counts('acct_A', false)).toEqual(full);
    expect(await counts('acct_B', true)).toEqual(full);
    // The refresh token was revoked at HubSpot before the tokens were deleted.
    expect(hubspot.requests.filter((r) => r.method === 'DELETE' && r.path.startsWith('/oauth/v1/refresh-tokens/'))).toHaveLength(1);
    expect(await installs.resolveInstall(server.db, { accountId: 'acct_A', livemode: true })).toBeNull();
    expect(await installs.resolveInstall(server.db, { accountId: 'acct_A', livemode: false })).not.toBeNull();
  });

  it('records the install event without touching any data', async () => {
    const before = await counts('acct_B', true);
    const install = stripeEvent('account.application.authorized', { id: 'ca_test', object: 'application' }, { account: 'acct_B', livemode: true });
    expect((await postWebhook(server.url, install)).status).toBe(200);
    await waitFor(
      async () => (await server.db.query<{ status: string }>('SELECT status FROM stripe_events WHERE id = $1', [install.id])).rows[0]?.status === 'processed',
      { what: 'the install event' },
    );
    expect(await counts('acct_B', true)).toEqual({ ...before, stripe_events: before.stripe_events + 1 });
  });
});
