import { dbKinds } from '../helpers/db';
import { startFakeHubSpot, type FakeHubSpot } from '../fakes/hubspot/server';
import { startSyncHarness, TEST_PORTAL_ID, type SyncHarness } from '../helpers/sync-harness';
import { appRequest, TEST_APP_SECRET } from '../helpers/app-api';
import { connectHubSpot } from '../helpers/hubspot-oauth';
import { invoiceEvent, subscriptionEvent, type SubState } from '../helpers/movement-events';
import { stripeEvent, stripeObject } from '../helpers/stripe-fixtures';
import { waitFor } from '../helpers/server';
import { CARD_ENV, CARD_SECRET, cardCall } from './card-client';
import { customerStory } from './card-seed';
import { companiesWriter } from '../../src/jobs/crm-objects/companies';
import { dealsWriter } from '../../src/jobs/crm-objects/deals';

/**
 * The card and the Stripe App's customer view show what HubSpot holds beside the contact (issue 13, part 7): every
 * subscription with the link to its deal, the company the customer is associated with, and the latest revenue
 * movements — built from signed Stripe events by the real pipeline (companies and deals writers against the fake
 * HubSpot), asked for through HTTP as HubSpot and the Dashboard ask. The self-hosted private-app token is an EU one
 * (`pat-eu1-…`): its links go to app-eu1.hubspot.com; an OAuth install whose domain says nothing stays on
 * app.hubspot.com.
 */

const EU_TOKEN = 'pat-eu1-fake-token-for-the-card-test';
const OWN_ACCOUNT = 'acct_crmviewsown';
const SECOND_ACCOUNT = 'acct_crmviewsoauth';
const SECOND_PORTAL = 6161;
const T = 1_770_000_000;

const basic: SubState = { status: 'active', amount: 1000, plan: 'Basic' };
const pro: SubState = { status: 'active', amount: 3000, plan: 'Pro' };
const plus: SubState = { status: 'trialing', amount: 2000, plan: 'Plus' };

describe.each(dbKinds())('HubSpot records in the card and the customer view on %s', (kind) => {
  let hubspot: FakeHubSpot;
  let h: SyncHarness;
  const portal = () => h.hubspot.portal(TEST_PORTAL_ID);
  const contactIdOf = (customerId: string) => portal().contactByProperty('stripe_customer_id', customerId)?.id ?? '';
  const dealIdOf = (subscriptionId: string) => portal().deals().find((d) => d.properties.stripe_subscription_id === subscriptionId)?.id;
  const card = async (customerId: string) => {
    const r = await cardCall(h.server.url, '/status', { portalId: TEST_PORTAL_ID, contactId: contactIdOf(customerId) });
    expect(r.status).toBe(200);
    expect(r.body.state).toBe('linked');
    return r.body.customers.find((c: { customerId: string }) => c.customerId === customerId);
  };
  const view = async (customerId: string, accountId = OWN_ACCOUNT) => {
    const r = await appRequest(h.server.url, 'GET', `/customers/${customerId}?mode=test`, { accountId });
    expect(r.status).toBe(200);
    return r.body;
  };
  const euRecord = (type: string, id: string | undefined) => `https://app-eu1.hubspot.com/contacts/${TEST_PORTAL_ID}/record/${type}/${id}`;

  beforeAll(async () => {
    hubspot = await startFakeHubSpot({ clientSecret: CARD_SECRET });
    hubspot.addPrivateAppToken(EU_TOKEN, TEST_PORTAL_ID);
    h = await startSyncHarness({
      kind,
      sharedHubSpot: hubspot,
      env: { ...CARD_ENV, HUBSPOT_ACCESS_TOKEN: EU_TOKEN, STRIPE_APP_SECRET: TEST_APP_SECRET, STRIPE_ACCOUNT_ID: OWN_ACCOUNT },
      engine: { objectWriters: [companiesWriter(), dealsWriter] },
    });
    await connectHubSpot(h.server.url, hubspot, { caller: { accountId: SECOND_ACCOUNT }, mode: 'test', portalId: SECOND_PORTAL, hubDomain: 'engines.example' });

    const customer = (id: string, email: string) =>
      stripeEvent('customer.created', stripeObject('customer', { id, email, name: `Name of ${id}`, created: T - 1000, currency: 'usd' }), { created: T - 1000 });
    await h.send(
      customer('cus_crmv1', 'ada@engines.example'),
      subscriptionEvent('created', { id: 'sub_crmv_a', customer: 'cus_crmv1' }, basic, { id: 'evt_crmv_a1', created: T + 10 }),
      subscriptionEvent('created', { id: 'sub_crmv_b', customer: 'cus_crmv1' }, plus, { id: 'evt_crmv_b1', created: T + 20 }),
      subscriptionEvent('updated', { id: 'sub_crmv_a', customer: 'cus_crmv1' }, pro, { id: 'evt_crmv_a2', created: T + 100, before: basic }),
      customer('cus_crmv2', 'grace@gmail.com'),
      // Twelve failed attempts of one invoice: twelve movements, of which the card shows the ten newest.
      ...Array.from({ length: 12 }, (_, i) =>
        invoiceEvent('payment_failed', { id: 'in_crmv2', customer: 'cus_crmv2', amount: 4000 }, { id: `evt_crmv2_f${i + 1}`, created: T + 200 + i, attempt: i + 1 }),
      ),
      ...customerStory('cus_crmv3', 'third@engines.example', { account: SECOND_ACCOUNT }),
    );
    await h.idle();
  });
  afterAll(async () => {
    await h?.stop();
    await hubspot?.close();
  });

  it('the card lists every subscription with its deal, the company and the latest movements, links on the EU host', async () => {
    const dealA = dealIdOf('sub_crmv_a');
    const dealB = dealIdOf('sub_crmv_b');
    expect(dealA).toBeDefined();
    expect(dealB).toBeDefined();
    const company = portal().companies().find((c) => c.properties.domain === 'engines.example');
    expect(company).toBeDefined();

    const c = await card('cus_crmv1');
    // The read model is still all there: the main subscription (the newest live one) and the customer's facts.
    expect(c).toMatchObject({ customerId: 'cus_crmv1', email: 'ada@engines.example', subscription: { id: 'sub_crmv_b', mrr: 3000 } });
    // Each with its own MRR (a trial counts nothing yet); the period facts as the main subscription's summary has them.
    const { currentPeriodEnd, cancelAtPeriodEnd } = c.subscription;
    expect(c.subscriptions).toEqual([
      { id: 'sub_crmv_b', status: 'trialing', plan: 'Plus', mrr: 0, currency: 'usd', currentPeriodEnd, cancelAtPeriodEnd, hubspotDealUrl: euRecord('0-3', dealB) },
      { id: 'sub_crmv_a', status: 'active', plan: 'Pro', mrr: 3000, currency: 'usd', currentPeriodEnd, cancelAtPeriodEnd, hubspotDealUrl: euRecord('0-3', dealA) },
    ]);
    expect(c.company).toEqual({ name: 'engines.example', hubspotUrl: euRecord('0-2', company!.id) });
    expect(c.movements.map((m: { kind: string }) => m.kind)).toEqual(['upgrade', 'trial_started', 'new']);
    expect(c.movements[0]).toEqual({
      id: 'sub_crmv_a:evt_crmv_a2:upgrade',
      kind: 'upgrade',
      occurredAt: T + 100,
      amount: 2000,
      currency: 'usd',
      mrrBefore: 1000,
      mrrAfter: 3000,
    });
    expect(c.movements[2]).toMatchObject({ kind: 'new', occurredAt: T + 10, amount: 1000, mrrBefore: 0, mrrAfter: 1000 });
  });

  it('a customer without a company domain or business name has no company; only the ten newest movements are shown', async () => {
    const c = await card('cus_crmv2');
    expect(c.company).toBeNull();
    expect(c.subscriptions).toEqual([]);
    expect(c.movements).toHaveLength(10);
    expect(c.movements.map((m: { kind: string }) => m.kind)).toEqual(Array(10).fill('payment_failed'));
    expect(c.movements.map((m: { occurredAt: number }) => m.occurredAt)).toEqual(Array.from({ length: 10 }, (_, i) => T + 211 - i));
    expect(c.movements[0]).toMatchObject({ amount: 4000, currency: 'usd', mrrBefore: null, mrrAfter: null });
  });

  it('the Stripe App’s customer view answers the same records, and the contact link on the same host', async () => {
    const v = await view('cus_crmv1');
    const c = await card('cus_crmv1');
    expect(v.contact.url).toBe(euRecord('0-1', contactIdOf('cus_crmv1')));
    expect(v.subscriptions).toEqual(c.subscriptions);
    expect(v.company).toEqual(c.company);
    expect(v.movements).toEqual(c.movements);
    // Every field the view had before is still there.
    expect(v).toMatchObject({ mode: 'test', customerId: 'cus_crmv1', state: 'synced', status: { customerId: 'cus_crmv1' } });
    expect(Array.isArray(v.syncedFields)).toBe(true);
  });

  it('a customer no event reached answers empty records; another account sees none of ours', async () => {
    expect(await view('cus_crmvnone')).toMatchObject({ state: 'not_synced', contact: null, subscriptions: [], company: null, movements: [] });
    expect(await view('cus_crmv1', 'acct_crmviewsstranger')).toMatchObject({ status: null, subscriptions: [], company: null, movements: [] });
  });

  it('an OAuth install whose domain names no data centre links to app.hubspot.com', async () => {
    const v = await view('cus_crmv3', SECOND_ACCOUNT);
    const contact = hubspot.portal(SECOND_PORTAL).contactByProperty('stripe_customer_id', 'cus_crmv3');
    expect(v.contact.url).toBe(`https://app.hubspot.com/contacts/${SECOND_PORTAL}/record/0-1/${contact!.id}`);
    expect(v.subscriptions.map((s: { id: string }) => s.id)).toEqual(['sub_crmv3']);
    expect(v.movements.map((m: { kind: string }) => m.kind)).toEqual(['new']);
  });

  it('a new subscription shows up on a contact viewed before, with its deal', async () => {
    expect((await card('cus_crmv1')).subscriptions).toHaveLength(2);
    await h.send(subscriptionEvent('created', { id: 'sub_crmv_c', customer: 'cus_crmv1' }, basic, { id: 'evt_crmv_c1', created: T + 300 }));
    await waitFor(async () => (await card('cus_crmv1')).subscriptions.some((s: { id: string; hubspotDealUrl: string | null }) => s.id === 'sub_crmv_c' && s.hubspotDealUrl), {
      what: 'the new subscription and its deal on the card',
      timeoutMs: 15_000,
    });
    const c = await card('cus_crmv1');
    expect(c.subscriptions.find((s: { id: string }) => s.id === 'sub_crmv_c').hubspotDealUrl).toBe(euRecord('0-3', dealIdOf('sub_crmv_c')));
    expect(c.movements[0]).toMatchObject({ kind: 'new', occurredAt: T + 300 });
    await h.idle();
  });
});
