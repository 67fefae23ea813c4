import type { Queryable } from '../../src/adapters/store/db';
import { recentEvents } from '../../src/adapters/store/activity-store';
import { completenessPlugin } from '../../src/jobs/backfill/plugin';
import { syncEngineServerOptions } from '../../src/sync/engine';
import { createCustomerRefresher, RefreshNotPossible } from '../../src/sync/refresh';
import { APP_API_PREFIX } from '@stripe-hubspot-sync/contracts';
import { PLATFORM_ACCOUNT, startFakeStripe, type FakeStripe } from '../fakes/stripe';
import { CARD_ENV, CARD_SECRET, cardCall } from '../card/card-client';
import { TEST_APP_SECRET } from '../helpers/app-api';
import { dbKinds } from '../helpers/db';
import { startSyncHarness, TEST_PORTAL_ID, type SyncHarness } from '../helpers/sync-harness';
import { startTestServer, TEST_WEBHOOK_SECRET, type TestServer } from '../helpers/server';
import { randomId, signatureHeader, stripeEvent, stripeObject } from '../helpers/stripe-fixtures';

/**
 * Abuse limits: the app API refuses a request that is not signed right before reading its body; refused signatures
 * are limited per address (429) while correctly signed deliveries from that address still go through; the card's
 * Refresh reads a customer from Stripe at most once per interval, across instances; the activity filter by outcome
 * reads an index, not the account's whole history.
 */

interface Sent {
  status: number;
  body: { error?: { code: string } } & Record<string, unknown>;
  headers: Headers;
}

async function send(url: string, init: { method: string; headers: Record<string, string>; body?: string }): Promise<Sent> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(20_000) });
  const text = await res.text();
  let body: unknown = { text };
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body: body as Sent['body'], headers: res.headers };
}

/** A Stripe App API call from `ip` (behind our proxy), signed with `secret`, with a raw body. */
function appCall(server: TestServer, ip: string, secret: string, body: string): Promise<Sent> {
  const ids = JSON.stringify({ user_id: 'usr_abuse', account_id: 'acct_abuse' });
  return send(`${server.url}${APP_API_PREFIX}/settings`, {
    method: 'PUT',
    headers: {
      'content-type': 'application/json',
      'x-forwarded-for': ip,
      'stripe-signature': signatureHeader(ids, secret),
      'x-stripe-user-id': 'usr_abuse',
      'x-stripe-account-id': 'acct_abuse',
    },
    body,
  });
}

/** A webhook delivery from `ip`: signed with our secret, or with another one. */
function webhookFrom(server: TestServer, ip: string, signedRight: boolean): Promise<Sent> {
  const payload = JSON.stringify(stripeEvent('customer.created', stripeObject('customer', { id: randomId('cus') })));
  return send(`${server.url}/webhooks/stripe`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-forwarded-for': ip,
      'stripe-signature': signatureHeader(payload, signedRight ? TEST_WEBHOOK_SECRET : 'whsec_not_ours'),
    },
    body: payload,
  });
}

describe('refused signatures (embedded database)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      kind: 'pglite',
      env: { STRIPE_APP_SECRET: TEST_APP_SECRET, SIGNATURE_FAILURES_PER_MINUTE: '5' },
      ...syncEngineServerOptions(),
    });
  });
  afterAll(() => server?.stop());

  it('refuses an app API request that is not signed right before parsing its body', async () => {
    const ip = '192.0.2.10';
    const unparsable = `{"mode":"test","settings":"${'x'.repeat(200 * 1024)}`; // 200 KB, not JSON
    const tooLarge = `{"mode":"test","settings":"${'x'.repeat(300 * 1024)}"}`; // over the 256 KB limit
    for (const body of [unparsable, tooLarge]) {
      const res = await appCall(server, ip, 'absec_not_ours', body);
      expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 401, code: 'invalid_signature' });
    }
    // Signed right, the same bodies are read: the parser's own refusals.
    expect((await appCall(server, ip, TEST_APP_SECRET, unparsable)).body.error?.code).toBe('malformed_json');
    expect((await appCall(server, ip, TEST_APP_SECRET, tooLarge)).status).toBe(413);
  });

  it('answers 429 to an address past the limit of refused signatures, never to a correctly signed delivery', async () => {
    const ip = '198.51.100.7';
    for (let i = 0; i < 5; i++) expect((await webhookFrom(server, ip, false)).status).toBe(400);
    const limited = await webhookFrom(server, ip, false);
    expect(limited.status).toBe(429);
    expect(limited.body.error?.code).toBe('too_many_requests');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // Stripe's own delivery from the same address goes through, as often as it comes.
    for (let i = 0; i < 3; i++) expect((await webhookFrom(server, ip, true)).status).toBe(200);
    // The count is per address, shared by the routes that check signatures.
    expect((await appCall(server, ip, 'absec_not_ours', '{}')).status).toBe(429);
    expect((await appCall(server, ip, TEST_APP_SECRET, '{"mode":"test"}')).status).toBe(400); // signed: through (bad settings)
    expect((await webhookFrom(server, '198.51.100.8', false)).status).toBe(400);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/stripe_webhooks_rejected_total\{reason="too_many_requests"\} [1-9]/);
  });
});

describe('refused HubSpot signatures (card API and HubSpot webhooks, embedded database)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      kind: 'pglite',
      env: { ...CARD_ENV, SIGNATURE_FAILURES_PER_MINUTE: '3' },
      ...syncEngineServerOptions({ plugins: [completenessPlugin({ recovery: { tickMs: 3_600_000 } })] }),
    });
  });
  afterAll(() => server?.stop());

  const hubspotWebhookFrom = (ip: string) =>
    send(`${server.url}/webhooks/hubspot`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-forwarded-for': ip,
        'x-hubspot-signature-v3': 'bm90IG91cnM=',
        'x-hubspot-request-timestamp': String(Date.now()),
      },
      body: '[]',
    });

  it('limits refused card and HubSpot webhook signatures per address, never a correctly signed card request', async () => {
    const ip = '203.0.113.9';
    const card = (secret: string) =>
      cardCall(server.url, '/status', { portalId: 61, contactId: '501' }, { secret, headers: { 'x-forwarded-for': ip } });
    for (let i = 0; i < 2; i++) expect((await card('not-our-secret')).status).toBe(401);
    expect((await hubspotWebhookFrom(ip)).status).toBe(401);
    expect((await card('not-our-secret')).status).toBe(429);
    expect((await hubspotWebhookFrom(ip)).status).toBe(429);
    // HubSpot's own signed card request from that address is answered as ever.
    const signed = await card(CARD_SECRET);
    expect(signed.status).toBe(200);
    // Another address is not affected.
    expect((await hubspotWebhookFrom('203.0.113.10')).status).toBe(401);
  });
});

describe.each(dbKinds())('abuse limits with storage (%s)', (kind) => {
  let stripe: FakeStripe;
  let h: SyncHarness;

  beforeAll(async () => {
    stripe = await startFakeStripe();
    h = await startSyncHarness({
      kind,
      hubspot: { clientSecret: CARD_SECRET },
      env: { ...CARD_ENV, STRIPE_APP_SECRET: TEST_APP_SECRET, STRIPE_API_KEY: 'sk_test_fake', STRIPE_API_BASE_URL: stripe.url },
    });
  });
  afterAll(async () => {
    await h?.stop();
    await stripe?.close();
  });

  it('reads a customer from Stripe once per interval for the card, across instances, and says so', async () => {
    const acc = stripe.account(PLATFORM_ACCOUNT, false);
    const customer = acc.addCustomer({ email: 'throttled@example.com', name: 'Often Refreshed' });
    const customerId = customer.id as string;
    await h.send(stripeEvent('customer.created', customer, { created: Math.floor(Date.now() / 1000) - 60 }));
    await h.idle();
    const contactId = h.contactOf(customerId)!.id;
    const refresh = () => cardCall(h.server.url, '/refresh', { portalId: TEST_PORTAL_ID, contactId });
    const reads = () => stripe.requests.filter((r) => r.path === `/v1/customers/${customerId}` || r.query.customer === customerId).length;

    const first = await refresh();
    expect(first.status).toBe(200);
    expect(first.body.warning).toBeUndefined();
    expect(reads()).toBe(4);

    const second = await refresh();
    expect(second.status).toBe(200);
    expect(second.body.warning).toMatch(/^Refreshed from Stripe \d+ s ago; showing that state\. A new refresh is possible in \d+ s\.$/);
    expect(second.body.customers).toEqual(first.body.customers);
    expect(reads()).toBe(4);

    // Another instance on the same database is held to the same interval.
    const elsewhere = createCustomerRefresher(h.server.db, 'sk_test_fake', stripe.url, () => undefined, { minIntervalSeconds: 60 });
    const refused = await elsewhere('', false, customerId, new AbortController().signal).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RefreshNotPossible);
    expect((refused as RefreshNotPossible).reason).toBe('throttled');
    expect(reads()).toBe(4);

    // Once the interval has passed, the next refresh reads Stripe again.
    await h.server.db.query(`UPDATE card_refreshes SET refreshed_at = now() - interval '61 seconds' WHERE customer_id = $1`, [customerId]);
    const third = await refresh();
    expect(third.body.warning).toBeUndefined();
    expect(reads()).toBe(8);
  });

  it('filters the activity by outcome through its index', async () => {
    const db = h.server.db;
    const { rows: index } = await db.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE indexname = 'stripe_events_account_outcome'`);
    expect(index).toHaveLength(1);

    // A long history: 20,000 synced events of one account, a few failed ones among them.
    const account = 'acct_long_history';
    await db.query(
      `INSERT INTO stripe_events (id, type, account_id, livemode, created, payload, status, received_at)
       SELECT 'evt_hist_' || g, 'invoice.paid', $1, false, 1700000000 + g, '{}'::jsonb,
              CASE WHEN g % 500 = 0 THEN 'failed' ELSE 'synced' END, now() - make_interval(secs => 20000 - g)
         FROM generate_series(1, 20000) AS g`,
      [account],
    );
    await db.query('ANALYZE stripe_events');
    // The statement the activity API runs, explained with the same parameters.
    let captured: { sql: string; params?: unknown[] } | undefined;
    const recording: Queryable = {
      query: (sql, params) => {
        captured = { sql, params };
        return db.query(sql, params);
      },
    };
    const failed = await recentEvents(recording, account, false, { outcome: 'failed', limit: 50 });
    expect(failed).toHaveLength(40);
    const { rows: plan } = await db.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${captured!.sql}`, captured!.params);
    const text = JSON.stringify(plan);
    expect(text).toContain('stripe_events_account_outcome');
    expect(text).not.toContain('"Seq Scan"');
  });
});
