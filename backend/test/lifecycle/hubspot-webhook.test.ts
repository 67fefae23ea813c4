import { saveLink } from '../../src/adapters/store/push-store';
import { suppressedCustomers } from '../../src/adapters/store/data-deletion';
import { createApplyProcessor } from '../../src/jobs/apply-events';
import { signV3 } from '../../src/http/card-api/hubspot-signature';
import { HUBSPOT_WEBHOOK_PATH, hubspotWebhookRouter } from '../../src/http/webhook-hubspot';
import { dbKinds } from '../helpers/db';
import { postWebhook, startTestServer, waitFor, type TestServer } from '../helpers/server';
import { stripeEvent, stripeObject } from '../helpers/stripe-fixtures';

/**
 * HubSpot's webhooks: signature v3 over the raw body, an array of events; a contact's deletion forgets what
 * HubSpot held from us, a privacy deletion forgets the linked customers entirely and suppresses them.
 */
const SECRET = 'hubspot-client-secret';
const PORTAL = 77;
const ACCOUNT = 'acct_hswh';

describe.each(dbKinds())('POST /webhooks/hubspot (%s)', (kind) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({
      kind,
      queue: { pollingIntervalSeconds: 0.5 },
      processor: (ctx) => createApplyProcessor({ db: ctx.db }),
      extend: (ctx) => void ctx.app.use(hubspotWebhookRouter({ db: ctx.db, clientSecret: SECRET, logger: ctx.logger })),
    });
    // Four customers: cus_1 in both modes and cus_2 (live) linked to contacts; cus_3 linked elsewhere.
    const customers: [string, boolean, string][] = [
      ['cus_1', true, '9001'],
      ['cus_1', false, '9001'],
      ['cus_2', true, '9002'],
      ['cus_3', true, '9003'],
    ];
    for (const [customerId, livemode] of customers) {
      const e = stripeEvent('customer.created', stripeObject('customer', { id: customerId, email: `${customerId}@example.com` }), { account: ACCOUNT, livemode });
      expect((await postWebhook(server.url, e)).status).toBe(200);
    }
    await waitFor(async () => (await server.db.query(`SELECT 1 FROM customers WHERE status IS NOT NULL`)).rows.length === 4, { what: 'customers' });
    for (const [customerId, livemode, contactId] of customers) {
      await saveLink(server.db, { account: ACCOUNT, livemode, customerId }, PORTAL, contactId, 'created');
    }
    await server.db.query(`UPDATE customers SET synced_version = version, synced_properties = '{"email":"x"}', sync_state = 'synced'`);
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function send(body: unknown, opts: { secret?: string; timestamp?: number; sign?: boolean } = {}) {
    const raw = typeof body === 'string' ? body : JSON.stringify(body);
    const url = `${server.url}${HUBSPOT_WEBHOOK_PATH}`;
    const ts = String(opts.timestamp ?? Date.now());
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (opts.sign !== false) {
      headers['x-hubspot-signature-v3'] = signV3(opts.secret ?? SECRET, 'POST', url, raw, ts);
      headers['x-hubspot-request-timestamp'] = ts;
    }
    const res = await fetch(url, { method: 'POST', headers, body: raw });
    return { status: res.status, body: (await res.json()) as { error?: { code: string } } & Record<string, unknown> };
  }
  const hsEvent = (subscriptionType: string, objectId: number) => ({
    eventId: Math.floor(Math.random() * 1e9),
    subscriptionId: 1,
    portalId: PORTAL,
    appId: 5,
    occurredAt: Date.now(),
    subscriptionType,
    attemptNumber: 0,
    objectId,
    changeFlag: 'DELETED',
    changeSource: 'CRM_UI',
  });
  const row = async (customerId: string, livemode = true) =>
    (
      await server.db.query<{ sync_state: string; synced_properties: unknown; status: unknown }>(
        'SELECT sync_state, synced_properties, status FROM customers WHERE account_key = $1 AND livemode = $2 AND customer_id = $3',
        [ACCOUNT, livemode, customerId],
      )
    ).rows[0];
  const count = async (sql: string, params: unknown[] = []) => (await server.db.query<{ n: number }>(sql, params)).rows[0].n;
  const links = () => count('SELECT count(*)::int AS n FROM contact_links');

  it('refuses unsigned, wrongly signed, stale and malformed requests, changing nothing', async () => {
    const body = [hsEvent('contact.privacyDeletion', 9001)];
    expect(await send(body, { sign: false })).toMatchObject({ status: 401, body: { error: { code: 'missing_signature' } } });
    expect(await send(body, { secret: 'not-the-secret' })).toMatchObject({ status: 401, body: { error: { code: 'invalid_signature' } } });
    expect(await send(body, { timestamp: Date.now() - 10 * 60_000 })).toMatchObject({ status: 401, body: { error: { code: 'stale_signature' } } });
    expect(await send('[{"subscriptionType":')).toMatchObject({ status: 400, body: { error: { code: 'malformed_json' } } });
    expect(await send({ subscriptionType: 'contact.deletion' })).toMatchObject({ status: 400, body: { error: { code: 'bad_request' } } });
    expect(await send([{ subscriptionType: 'contact.deletion', portalId: PORTAL }])).toMatchObject({ status: 400 });
    expect(await links()).toBe(4);
  });

  it('acknowledges event types it does not handle', async () => {
    expect(await send([hsEvent('contact.propertyChange', 9001), hsEvent('contact.creation', 1)])).toMatchObject({
      status: 200,
      body: { received: 2, handled: 0 },
    });
    expect(await links()).toBe(4);
  });

  it('a contact deletion removes the link and what HubSpot held, keeping the Stripe facts', async () => {
    expect(await send([hsEvent('contact.deletion', 9002)])).toMatchObject({ status: 200, body: { handled: 1, customers: 1 } });
    expect(await links()).toBe(3);
    expect(await row('cus_2')).toMatchObject({ sync_state: 'skipped', synced_properties: null, status: expect.objectContaining({ customerId: 'cus_2' }) });
    expect(await count(`SELECT count(*)::int AS n FROM stripe_objects WHERE customer_id = 'cus_2'`)).toBe(1);
    expect(await count(`SELECT count(*)::int AS n FROM stripe_events WHERE customer_id = 'cus_2'`)).toBe(1);
  });

  it('a privacy deletion after the deletion still forgets the customer entirely, and suppresses it', async () => {
    expect(await send([hsEvent('contact.privacyDeletion', 9002)])).toMatchObject({ status: 200, body: { customers: 1 } });
    expect(await row('cus_2')).toBeUndefined();
    expect(await count(`SELECT count(*)::int AS n FROM stripe_objects WHERE customer_id = 'cus_2'`)).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM stripe_events WHERE customer_id = 'cus_2'`)).toBe(0);
    expect(await suppressedCustomers(server.db, ACCOUNT, true, ['cus_2', 'cus_3'])).toEqual(new Set(['cus_2']));
  });

  it('a privacy deletion and a deletion in one batch forget the contact in every mode, and nothing else', async () => {
    const r = await send([hsEvent('contact.deletion', 9001), hsEvent('contact.privacyDeletion', 9001)]);
    expect(r).toMatchObject({ status: 200, body: { handled: 2 } });
    expect(await row('cus_1', true)).toBeUndefined();
    expect(await row('cus_1', false)).toBeUndefined();
    expect(await suppressedCustomers(server.db, ACCOUNT, false, ['cus_1'])).toEqual(new Set(['cus_1']));
    // cus_3 and its link are untouched.
    expect(await links()).toBe(1);
    expect(await row('cus_3')).toMatchObject({ sync_state: 'synced' });
    expect(await count(`SELECT count(*)::int AS n FROM stripe_objects WHERE customer_id = 'cus_3'`)).toBe(1);
  });
});

describe('POST /webhooks/hubspot without a client secret', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      kind: 'pglite',
      extend: (ctx) => void ctx.app.use(hubspotWebhookRouter({ db: ctx.db, clientSecret: undefined, logger: ctx.logger })),
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('answers 503 not_configured', async () => {
    const res = await fetch(`${server.url}${HUBSPOT_WEBHOOK_PATH}`, { method: 'POST', body: '[]' });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { code: 'not_configured' } });
  });
});
