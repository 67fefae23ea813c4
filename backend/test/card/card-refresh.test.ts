import { dbKinds } from '../helpers/db';
import { startSyncHarness, TEST_PORTAL_ID, type SyncHarness } from '../helpers/sync-harness';
import { TEST_APP_SECRET } from '../helpers/app-api';
import { connectHubSpot } from '../helpers/hubspot-oauth';
import { stripeEvent } from '../helpers/stripe-fixtures';
import { PLATFORM_ACCOUNT, startFakeStripe, type FakeStripe, type FakeStripeAccount, type StripeJson } from '../fakes/stripe';
import { CARD_ENV, CARD_SECRET, cardCall } from './card-client';

/**
 * POST /api/card/v1/refresh through the fake Stripe API (the real `stripe` SDK over HTTP): the customer's live
 * state lands in the answer and then in HubSpot; when Stripe is slow, down or rate-limiting, the card still gets
 * the last synced state with a warning, inside HubSpot's 15 s; connected accounts are read with Stripe-Account.
 */

const CONNECTED = 'acct_cardrefreshconn';
const CONNECTED_PORTAL = 6262;
const HUBSPOT_DEADLINE_MS = 15_000;

/** Signed webhooks for what the fake holds now (events a minute old, so that a refresh is always newer). */
function eventsFor(acc: FakeStripeAccount, customerId: string, account?: string): StripeJson[] {
  const created = Math.floor(Date.now() / 1000) - 60;
  const opts = { created, livemode: false, ...(account ? { account } : {}) };
  const of = (m: Map<string, StripeJson>) => [...m.values()].filter((o) => o.customer === customerId);
  return [
    stripeEvent('customer.created', acc.customers.get(customerId)!, opts),
    ...of(acc.subscriptions).map((s) => stripeEvent('customer.subscription.created', s, opts)),
    ...of(acc.invoices).map((i) => stripeEvent('invoice.paid', i, opts)),
    ...of(acc.charges).map((c) => stripeEvent('charge.succeeded', c, opts)),
  ];
}

function seedCustomer(acc: FakeStripeAccount, email: string): { customerId: string; subscription: StripeJson } {
  const customer = acc.addCustomer({ email, name: 'Refresh Buyer' });
  const customerId = customer.id as string;
  const subscription = acc.addSubscription(customerId, { status: 'active' });
  acc.addInvoice(customerId, { subscription: subscription.id, status: 'paid' });
  acc.addCharge(customerId, { status: 'succeeded' });
  return { customerId, subscription };
}

describe.each(dbKinds())('card refresh through the Stripe API on %s', (kind) => {
  let stripe: FakeStripe;
  let h: SyncHarness;
  let platform: { customerId: string; subscription: StripeJson; contactId: string };
  let connected: { customerId: string; subscription: StripeJson; contactId: string };
  const refresh = (portalId: number, contactId: string) => cardCall(h.server.url, '/refresh', { portalId, contactId });
  const status = (portalId: number, contactId: string) => cardCall(h.server.url, '/status', { portalId, contactId });
  const stripeCallsFor = (customerId: string) =>
    stripe.requests.filter((r) => r.path === `/v1/customers/${customerId}` || r.query.customer === customerId);

  beforeAll(async () => {
    stripe = await startFakeStripe();
    h = await startSyncHarness({
      kind,
      hubspot: { clientSecret: CARD_SECRET },
      // These cases refresh one customer several times in a row: no minimum interval (see test/ingest/abuse.test.ts).
      env: {
        ...CARD_ENV,
        STRIPE_APP_SECRET: TEST_APP_SECRET,
        STRIPE_API_KEY: 'sk_test_fake',
        STRIPE_API_BASE_URL: stripe.url,
        CARD_REFRESH_MIN_INTERVAL_SECONDS: '0',
      },
    });
    await connectHubSpot(h.server.url, h.hubspot, { caller: { accountId: CONNECTED }, mode: 'test', portalId: CONNECTED_PORTAL });

    const own = stripe.account(PLATFORM_ACCOUNT, false);
    const conn = stripe.account(CONNECTED, false);
    const a = seedCustomer(own, 'refresh-own@example.com');
    const b = seedCustomer(conn, 'refresh-conn@example.com');
    await h.send(...eventsFor(own, a.customerId), ...eventsFor(conn, b.customerId, CONNECTED));
    await h.idle();
    platform = { ...a, contactId: h.contactOf(a.customerId)!.id };
    connected = { ...b, contactId: h.hubspot.portal(CONNECTED_PORTAL).contactByProperty('stripe_customer_id', b.customerId)!.id };
    expect(stripe.requests).toHaveLength(0); // nothing read Stripe so far: the webhooks carried it all
  });
  afterAll(async () => {
    await h?.stop();
    await stripe?.close();
  });

  it('brings a change no webhook told us about into the answer, then into HubSpot', async () => {
    expect((await status(TEST_PORTAL_ID, platform.contactId)).body.customers[0].subscription.status).toBe('active');
    const now = Math.floor(Date.now() / 1000);
    Object.assign(platform.subscription, { status: 'canceled', canceled_at: now, ended_at: now });

    const r = await refresh(TEST_PORTAL_ID, platform.contactId);
    expect(r.status).toBe(200);
    expect(r.body.state).toBe('linked');
    expect(r.body.warning).toBeUndefined();
    expect(r.body.customers[0]).toMatchObject({ customerId: platform.customerId, subscription: { status: 'canceled', mrr: 0 } });
    // The platform's own customer: read without Stripe-Account, and each of customer, subscriptions, invoices, charges.
    const calls = stripeCallsFor(platform.customerId);
    expect(calls.map((x) => x.account)).toEqual(calls.map(() => PLATFORM_ACCOUNT));
    expect(calls.map((x) => x.path).sort()).toEqual(['/v1/charges', `/v1/customers/${platform.customerId}`, '/v1/invoices', '/v1/subscriptions']);

    await h.idle();
    expect(h.contactOf(platform.customerId)!.properties.stripe_subscription_status).toBe('canceled');
    expect(h.contactOf(platform.customerId)!.properties.stripe_mrr).toBe('0.00');
    // The read model kept it: the next plain status answers the same.
    expect((await status(TEST_PORTAL_ID, platform.contactId)).body.customers[0].subscription.status).toBe('canceled');
  });

  it('reads a connected account’s customer with Stripe-Account and writes it to that account’s portal', async () => {
    const conn = stripe.account(CONNECTED, false);
    conn.customers.get(connected.customerId)!.email = 'refresh-conn-new@example.com';
    const before = stripe.requests.length;
    const r = await refresh(CONNECTED_PORTAL, connected.contactId);
    expect(r.status).toBe(200);
    expect(r.body.warning).toBeUndefined();
    expect(r.body.customers[0]).toMatchObject({ customerId: connected.customerId, accountId: CONNECTED, email: 'refresh-conn-new@example.com' });
    const calls = stripe.requests.slice(before);
    expect(calls).toHaveLength(4);
    expect(new Set(calls.map((x) => x.account))).toEqual(new Set([CONNECTED]));
    expect(calls.every((x) => x.status === 200)).toBe(true);
    await h.idle();
    const contact = h.hubspot.portal(CONNECTED_PORTAL).contactByProperty('stripe_customer_id', connected.customerId);
    expect(contact?.properties.email).toBe('refresh-conn-new@example.com');
    expect(h.hubspot.portal(TEST_PORTAL_ID).contactByEmail('refresh-conn-new@example.com')).toBeUndefined();
  });

  it('reads nothing from Stripe for a request that is not signed right', async () => {
    const before = stripe.requests.length;
    const r = await cardCall(h.server.url, '/refresh', { portalId: TEST_PORTAL_ID, contactId: platform.contactId }, { secret: 'wrong' });
    expect(r.status).toBe(401);
    const other = await refresh(CONNECTED_PORTAL, platform.contactId); // a contact of another portal
    expect(other.body).toMatchObject({ state: 'not_linked', reason: 'no_customer' });
    expect(stripe.requests.length).toBe(before);
  });

  it('shows a customer deleted in Stripe as deleted, with its subscription canceled', async () => {
    stripe.account(CONNECTED, false).deleteCustomer(connected.customerId);
    const r = await refresh(CONNECTED_PORTAL, connected.contactId);
    expect(r.status).toBe(200);
    expect(r.body.warning).toBeUndefined();
    expect(r.body.customers[0]).toMatchObject({ customerId: connected.customerId, deleted: true, subscription: { status: 'canceled' } });
  });

  it('does not ask Stripe about a live customer with a test key: last synced state, and a warning that says why', async () => {
    const live = stripe.account(PLATFORM_ACCOUNT, true);
    const { customerId } = seedCustomer(live, 'refresh-live@example.com');
    await h.send(...eventsFor(live, customerId).map((e) => ({ ...e, livemode: true, data: { ...(e.data as object), object: { ...(e.data as { object: object }).object, livemode: true } } })));
    await h.idle();
    const contactId = h.contactOf(customerId)!.id;
    const before = stripe.requests.length;
    const r = await refresh(TEST_PORTAL_ID, contactId);
    expect(r.status).toBe(200);
    expect(r.body.customers[0]).toMatchObject({ customerId, livemode: true });
    expect(r.body.warning).toMatch(/live/i);
    expect(r.body.warning).not.toMatch(/STRIPE_API_KEY/);
    expect(stripe.requests.length).toBe(before);
  });

  describe('when Stripe cannot answer', () => {
    /** Changes Stripe holds that must NOT show up: the answer is the last synced state. */
    const failingCase = async (breakStripe: () => void, healStripe: () => void) => {
      const synced = (await status(TEST_PORTAL_ID, platform.contactId)).body;
      const customer = stripe.account(PLATFORM_ACCOUNT, false).customers.get(platform.customerId)!;
      const oldName = customer.name;
      customer.name = 'Changed While Unreachable';
      breakStripe();
      try {
        const r = await refresh(TEST_PORTAL_ID, platform.contactId);
        expect(r.status).toBe(200);
        expect(r.body.state).toBe('linked');
        expect(r.body.warning).toMatch(/last synced state/);
        expect(r.body.warning).not.toContain('sk_test');
        expect(r.body.customers).toEqual(synced.customers);
        expect(r.ms).toBeLessThan(HUBSPOT_DEADLINE_MS);
        return r;
      } finally {
        healStripe();
        customer.name = oldName;
        const after = (await status(TEST_PORTAL_ID, platform.contactId)).body;
        expect(after).toEqual(synced);
      }
    };

    it('is down (500): the last synced state and a warning', async () => {
      const before = stripe.requests.length;
      await failingCase(() => stripe.setDown(true), () => stripe.setDown(false));
      expect(stripe.requests.slice(before).some((x) => x.status === 500)).toBe(true);
    });

    it('rate-limits us (429): the last synced state and a warning, no retry storm', async () => {
      const before = stripe.requests.length;
      await failingCase(() => stripe.setRatePerSecond(0), () => stripe.setRatePerSecond(1000));
      const calls = stripe.requests.slice(before);
      expect(calls.some((x) => x.status === 429)).toBe(true);
      expect(calls.length).toBeLessThanOrEqual(4); // one attempt per read: the card is waiting
    });

    it('is slower than our own deadline: answers inside HubSpot’s 15 s with the last synced state', async () => {
      await failingCase(() => stripe.setLatency(30_000), () => stripe.setLatency(0));
    });
  });
});
