import { defaultSettings } from '@stripe-hubspot-sync/contracts';
import { dbKinds } from '../helpers/db';
import { startSyncHarness, type SyncHarness } from '../helpers/sync-harness';
import { stripeEvent, stripeObject } from '../helpers/stripe-fixtures';
import { TEST_APP_SECRET } from '../helpers/app-api';
import { connectHubSpot } from '../helpers/hubspot-oauth';

/**
 * Tickets turned on for an OAuth install made before tickets existed (no `tickets` scope): HubSpot answers 403
 * MISSING_SCOPES to the ticket calls. That is no reason to stop writing contacts: the connection is not paused,
 * the contact is written, the refusal is shown with the connection and the customer's tickets are a dead letter.
 */
describe.each(dbKinds())('tickets on an OAuth install without the tickets scope on %s', (kind) => {
  const ACCOUNT = 'acct_ticketscopes';
  const PORTAL = 8282;
  const T0 = 1_760_000_000;
  let h: SyncHarness;

  beforeAll(async () => {
    h = await startSyncHarness({
      kind,
      privateApp: false,
      engine: { pusher: { settleMs: 20, pollMs: 50, minPassIntervalMs: 50, retry: { baseMs: 50, maxMs: 200 } } },
      env: {
        STRIPE_APP_SECRET: TEST_APP_SECRET,
        STRIPE_APP_ID: 'com.stripe-hubspot-sync.app',
        HUBSPOT_CLIENT_ID: 'test-client-id',
        HUBSPOT_CLIENT_SECRET: 'test-client-secret',
        TOKEN_ENCRYPTION_KEY: 'ef'.repeat(32),
      },
    });
    const settings = defaultSettings();
    settings.crm.tickets.enabled = true;
    settings.crm.companies.enabled = false;
    settings.crm.deals.enabled = false;
    await h.server.db.query(`INSERT INTO sync_settings (account_key, livemode, settings) VALUES ($1, true, $2)`, [ACCOUNT, JSON.stringify(settings)]);
    // The fake grants an authorization the contacts scopes only.
    await connectHubSpot(h.server.url, h.hubspot, { caller: { accountId: ACCOUNT }, mode: 'live', portalId: PORTAL });
  });
  afterAll(async () => {
    await h?.stop();
  });

  const event = (type: string, object: Record<string, unknown>, created: number) => stripeEvent(type, object, { created, livemode: true, account: ACCOUNT });

  it('writes the contact, shows why tickets are not written, and keeps the connection', async () => {
    const invoice = stripeObject('invoice', {
      id: 'in_scope', customer: 'cus_scope', number: 'S-1', currency: 'usd', status: 'open', amount_due: 1000, amount_paid: 0, amount_remaining: 1000,
      attempt_count: 1, created: T0, charge: null, payment_intent: null, parent: null, subscription: null, lines: { object: 'list', data: [], has_more: false },
    });
    await h.send(
      event('customer.created', stripeObject('customer', { id: 'cus_scope', email: 'scope@example.com', created: T0 }), T0),
      event('invoice.payment_failed', invoice, T0 + 1),
    );
    await h.idle();
    const portal = h.hubspot.portal(PORTAL);
    expect(portal.contactByProperty('stripe_customer_id', 'cus_scope')).toBeDefined();
    expect(portal.tickets()).toEqual([]);
    const ticketCalls = h.hubspot.requests.filter((r) => /^\/crm\/v3\/(properties|pipelines|objects)\/tickets/.test(r.path));
    expect(ticketCalls.length).toBeGreaterThan(0);
    expect(ticketCalls.every((r) => r.status === 403)).toBe(true);

    const problems = await h.server.db.query<{ property: string; category: string; message: string }>(
      `SELECT property, category, message FROM hubspot_property_problems WHERE portal_id = $1`,
      [PORTAL],
    );
    expect(problems.rows).toEqual([{ property: 'tickets', category: 'MISSING_SCOPES', message: expect.stringMatching(/^HubSpot has not granted this connection the tickets scope/) }]);
    const paused = await h.server.db.query(`SELECT state FROM hubspot_connection_health WHERE account_key = $1`, [ACCOUNT]);
    expect(paused.rows).toEqual([]);
    const dead = await h.server.db.query<{ message: string }>(`SELECT message FROM dead_letters WHERE customer_id = 'cus_scope'`);
    expect(dead.rows.length).toBeGreaterThanOrEqual(1);
    expect(dead.rows.every((r) => /^tickets: invoice in_scope: HubSpot has not granted this connection the tickets scope/.test(r.message))).toBe(true);
    const { rows } = await h.server.db.query<{ sync_state: string }>(`SELECT sync_state FROM customers WHERE customer_id = 'cus_scope'`);
    expect(rows[0]!.sync_state).toBe('synced');
  });
});
