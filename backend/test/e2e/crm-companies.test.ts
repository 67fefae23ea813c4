import { Client } from '@hubspot/api-client';
import { defaultSettings } from '@stripe-hubspot-sync/contracts';
import { dbKinds } from '../helpers/db';
import { startSyncHarness, TEST_PRIVATE_APP_TOKEN, type SyncHarness } from '../helpers/sync-harness';
import { waitFor } from '../helpers/server';
import { stripeEvent, stripeObject, succeededCharge } from '../helpers/stripe-fixtures';
import { startAnswerLossProxy, type AnswerLossProxy } from '../helpers/answer-loss-proxy';
import { TEST_APP_SECRET } from '../helpers/app-api';
import { connectHubSpot } from '../helpers/hubspot-oauth';
import { seededRandom } from '../helpers/seeded-random';
import { startFakeHubSpot, type FakeHubSpot, type FakeObject } from '../fakes/hubspot/server';
import { companiesWriter } from '../../src/jobs/crm-objects/companies';
import type { CrmObjectWriter } from '../../src/jobs/crm-objects/stage';

/**
 * Companies end to end (issue 13, part 1): signed Stripe webhooks in, the fake HubSpot's companies and
 * contact/company associations out, through the real @hubspot/api-client, on both databases.
 */

const T0 = 1_760_000_000;
const DAY = 86_400;
const PUSHER = { settleMs: 20, pollMs: 50, minPassIntervalMs: 50, retry: { baseMs: 50, maxMs: 200 } };

function customerEvent(id: string, email: string | null, opts: { businessName?: string; created?: number; type?: string } = {}) {
  const created = opts.created ?? T0;
  return stripeEvent(
    opts.type ?? 'customer.created',
    stripeObject('customer', { id, email, created: T0 - DAY, ...(opts.businessName ? { business_name: opts.businessName } : {}) }),
    { created },
  );
}

/** An active monthly subscription of `amount` minor units (USD). */
function subscriptionEvent(customer: string, amount: number, opts: { status?: string; created?: number; id?: string } = {}) {
  const created = opts.created ?? T0 + 10;
  const base = stripeObject('subscription', {
    id: opts.id ?? `sub_${customer}`,
    customer,
    status: opts.status ?? 'active',
    cancel_at_period_end: false,
    currency: 'usd',
    created: T0,
  });
  const price = stripeObject('price', {
    id: `price_${amount}`,
    nickname: 'Pro',
    unit_amount: amount,
    currency: 'usd',
    transform_quantity: null,
    recurring: { interval: 'month', interval_count: 1, usage_type: 'licensed', meter: null, trial_period_days: null },
  });
  const item = { ...(base.items as { data: Record<string, unknown>[] }).data[0], price, quantity: 1, current_period_end: T0 + 30 * DAY };
  return stripeEvent(opts.id ? 'customer.subscription.updated' : 'customer.subscription.created', { ...base, items: { object: 'list', data: [item], has_more: false } }, { created });
}

const COMPANY_PATHS = /^\/crm\/(v3\/objects\/companies|v4\/associations\/contacts\/companies|v3\/properties\/companies)/;

describe.each(dbKinds())('companies on %s', (kind) => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await startSyncHarness({ kind, hubspot: { searchLagMs: 1000 }, engine: { pusher: PUSHER } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  const portal = () => h.hubspot.portal(h.portalId);
  const companiesWith = (domain: string) => portal().companies().filter((c) => c.properties.domain === domain);
  const companyOf = (customerId: string): FakeObject[] => {
    const contact = h.contactOf(customerId);
    if (!contact) return [];
    const ids = portal().associations('contacts', 'companies').filter((a) => a.fromId === contact.id).map((a) => a.toId);
    return ids.map((id) => portal().object('companies', id)!).filter((c) => c && !c.archived);
  };
  const companyRequests = () => h.hubspot.requests.filter((r) => COMPANY_PATHS.test(r.path));
  const searches = () => h.hubspot.requests.filter((r) => r.path === '/crm/v3/objects/companies/search').length;

  it('a company matched by domain, a free-mail address skipped, a business name on free mail a company of its own', async () => {
    const acme = portal().addObject('companies', { name: 'Acme Corporation', domain: 'acme.io' });
    const before = portal().companies().length;
    await h.send(
      customerEvent('cus_acme1', 'ann@Acme.io'),
      subscriptionEvent('cus_acme1', 2500),
      customerEvent('cus_free1', 'bob@gmail.com'),
      customerEvent('cus_free2', 'carol@yahoo.co.uk', { businessName: 'Carol’s Bakery' }),
    );
    await h.idle();

    // Matched by domain: the merchant's company, with our properties, its own name kept.
    expect(companyOf('cus_acme1').map((c) => c.id)).toEqual([acme.id]);
    expect(portal().object('companies', acme.id)!.properties).toMatchObject({
      name: 'Acme Corporation',
      domain: 'acme.io',
      stripe_customer_id: 'cus_acme1',
      stripe_customer_ids: 'cus_acme1',
      stripe_mrr: '25.00',
      stripe_currency: 'USD',
      stripe_subscription_status: 'active',
    });
    // gmail.com is nobody's company.
    expect(h.contactOf('cus_free1')).toBeDefined();
    expect(companyOf('cus_free1')).toEqual([]);
    expect(companiesWith('gmail.com')).toEqual([]);
    // A business name on a free-mail address: a company of its own, without the provider's domain.
    const bakery = companyOf('cus_free2');
    expect(bakery).toHaveLength(1);
    expect(bakery[0]!.properties).toMatchObject({ name: 'Carol’s Bakery', stripe_customer_id: 'cus_free2', stripe_subscription_status: 'none' });
    expect(bakery[0]!.properties.domain).toBeUndefined();
    expect(portal().companies().length - before).toBe(1);
    // Our properties sit in a "Stripe" group of companies, the customer id unique.
    expect(portal().groupsOf('companies').get('stripe')).toMatchObject({ label: 'Stripe' });
    expect(portal().propertiesOf('companies').get('stripe_customer_id')).toMatchObject({ hasUniqueValue: true });
  });

  it('customers of a new domain share one company and its roll-up; the domain is never searched again; no change, no call', async () => {
    await h.send(
      customerEvent('cus_new1', 'a@newco.io', { created: T0 + 1 }),
      customerEvent('cus_new2', 'b@newco.io', { created: T0 + 2 }),
      subscriptionEvent('cus_new1', 1000),
      subscriptionEvent('cus_new2', 3000),
    );
    await h.idle();
    const [company, ...others] = companiesWith('newco.io');
    expect(others).toEqual([]);
    expect(company!.properties).toMatchObject({ name: 'newco.io', stripe_mrr: '40.00', stripe_subscription_status: 'active' });
    expect(company!.properties.stripe_customer_ids!.split(';').sort()).toEqual(['cus_new1', 'cus_new2']);
    expect(companyOf('cus_new1').map((c) => c.id)).toEqual([company!.id]);
    expect(companyOf('cus_new2').map((c) => c.id)).toEqual([company!.id]);

    // A third customer of the domain, in a later pass (the new company is not in the search index yet): no search, no second company.
    const searched = searches();
    await h.send(customerEvent('cus_new3', 'c@NewCo.io', { created: T0 + 3 }), subscriptionEvent('cus_new3', 500));
    await h.idle();
    expect(searches()).toBe(searched);
    expect(companiesWith('newco.io').map((c) => c.id)).toEqual([company!.id]);
    expect(portal().object('companies', company!.id)!.properties.stripe_mrr).toBe('45.00');
    expect(companyOf('cus_new3').map((c) => c.id)).toEqual([company!.id]);

    // A change the company does not carry (a payment): the contact is written, the company is not.
    const calls = companyRequests().length;
    const contactWrites = h.hubspot.requestCount({ pathPrefix: '/crm/v3/objects/contacts/batch/update' });
    await h.send(stripeEvent('charge.succeeded', succeededCharge('ch_new3', 'cus_new3', 500, T0 + 100), { created: T0 + 100 }));
    await h.idle();
    expect(h.contactOf('cus_new3')!.properties.stripe_last_payment_amount).toBe('5.00');
    expect(h.hubspot.requestCount({ pathPrefix: '/crm/v3/objects/contacts/batch/update' })).toBeGreaterThan(contactWrites);
    expect(companyRequests().length).toBe(calls);
  });

  it('shuffled and duplicated delivery: one company, the same roll-up, each contact associated once', async () => {
    const events = [
      customerEvent('cus_sh1', 'one@shuffle.io', { created: T0 + 1 }),
      customerEvent('cus_sh2', 'two@shuffle.io', { created: T0 + 2, businessName: 'Shuffle Inc' }),
      customerEvent('cus_sh3', 'three@shuffle.io', { created: T0 + 3 }),
      subscriptionEvent('cus_sh1', 1200, { created: T0 + 10 }),
      subscriptionEvent('cus_sh2', 800, { created: T0 + 11 }),
      subscriptionEvent('cus_sh3', 500, { created: T0 + 12, status: 'trialing' }),
      subscriptionEvent('cus_sh3', 500, { created: T0 + 20, id: 'sub_cus_sh3' }),
    ];
    const random = seededRandom(13);
    const delivery = [...events, events[0]!, events[4]!, events[6]!]
      .map((e) => ({ e, k: random() }))
      .sort((a, b) => a.k - b.k)
      .map((x) => x.e);
    await Promise.all([h.send(...delivery.slice(0, 5)), h.send(...delivery.slice(5))]);
    await h.idle();

    const companies = companiesWith('shuffle.io');
    expect(companies).toHaveLength(1);
    expect(companies[0]!.properties).toMatchObject({
      name: 'Shuffle Inc',
      stripe_customer_id: 'cus_sh1',
      stripe_customer_ids: 'cus_sh1;cus_sh2;cus_sh3',
      stripe_mrr: '25.00',
      stripe_subscription_status: 'active',
    });
    const links = portal().associations('contacts', 'companies').filter((a) => a.toId === companies[0]!.id);
    const contactIds = ['cus_sh1', 'cus_sh2', 'cus_sh3'].map((c) => h.contactOf(c)!.id).sort();
    expect(links.map((l) => l.fromId).sort()).toEqual(contactIds);
    expect(links.every((l) => l.types.some((t) => t.typeId === 279 && t.label === null))).toBe(true);
  });

  it('a customer whose email moves to a free-mail address leaves the company, which is rolled up again without it', async () => {
    await h.send(customerEvent('cus_mv1', 'x@movers.io', { created: T0 + 1 }), customerEvent('cus_mv2', 'y@movers.io', { created: T0 + 2 }));
    await h.send(subscriptionEvent('cus_mv1', 1000), subscriptionEvent('cus_mv2', 2000));
    await h.idle();
    const [company] = companiesWith('movers.io');
    expect(company!.properties).toMatchObject({ stripe_customer_id: 'cus_mv1', stripe_mrr: '30.00' });

    await h.send(
      stripeEvent('customer.updated', stripeObject('customer', { id: 'cus_mv1', email: 'x@gmail.com', created: T0 - DAY }), {
        created: T0 + 200,
        previousAttributes: { email: 'x@movers.io' },
      }),
    );
    await h.idle();
    expect(portal().object('companies', company!.id)!.properties).toMatchObject({
      stripe_customer_id: 'cus_mv2',
      stripe_customer_ids: 'cus_mv2',
      stripe_mrr: '20.00',
    });
    expect(companiesWith('movers.io')).toHaveLength(1);
  });

  it('a company deleted in HubSpot is found or created again at the next change', async () => {
    await h.send(customerEvent('cus_del1', 'd@gone.io', { created: T0 + 1 }), subscriptionEvent('cus_del1', 700));
    await h.idle();
    const [first] = companiesWith('gone.io');
    const hs = new Client({ accessToken: TEST_PRIVATE_APP_TOKEN, basePath: h.hubspot.url, numberOfApiCallRetries: 0 });
    await hs.crm.companies.basicApi.archive(first!.id);
    await new Promise((r) => setTimeout(r, 1100)); // the search index sees the deletion

    await h.send(subscriptionEvent('cus_del1', 900, { created: T0 + 50, id: 'sub_cus_del1' }));
    await h.idle();
    const again = companiesWith('gone.io');
    expect(again).toHaveLength(1);
    expect(again[0]!.id).not.toBe(first!.id);
    expect(again[0]!.properties).toMatchObject({ stripe_customer_id: 'cus_del1', stripe_mrr: '9.00' });
    expect(companyOf('cus_del1').map((c) => c.id)).toEqual([again[0]!.id]);
  });

  it('creating turned off: a known company is still matched, none is created', async () => {
    const settings = defaultSettings();
    settings.crm.companies.create = false;
    await h.server.db.query(`INSERT INTO sync_settings (account_key, livemode, settings) VALUES ('', false, $1)`, [JSON.stringify(settings)]);
    const known = portal().addObject('companies', { name: 'Known', domain: 'known.io' });
    await h.send(customerEvent('cus_off1', 'k@known.io'), customerEvent('cus_off2', 'u@unknown-co.io'), customerEvent('cus_off3', 'v@gmail.com', { businessName: 'Solo' }));
    await h.idle();
    expect(companyOf('cus_off1').map((c) => c.id)).toEqual([known.id]);
    expect(companiesWith('unknown-co.io')).toEqual([]);
    expect(companyOf('cus_off2')).toEqual([]);
    expect(companyOf('cus_off3')).toEqual([]);
    expect(h.contactOf('cus_off2')).toBeDefined();
    const { rows } = await h.server.db.query<{ sync_state: string }>(`SELECT sync_state FROM customers WHERE customer_id IN ('cus_off2', 'cus_off3')`);
    expect(rows.map((r) => r.sync_state)).toEqual(['synced', 'synced']);
  });
});

describe.each(dbKinds())('companies under lost answers on %s', (kind) => {
  let fake: FakeHubSpot;
  let proxy: AnswerLossProxy;
  let h: SyncHarness;
  beforeAll(async () => {
    fake = await startFakeHubSpot();
    proxy = await startAnswerLossProxy(fake.url);
    h = await startSyncHarness({
      kind,
      sharedHubSpot: fake,
      env: { HUBSPOT_API_BASE_URL: proxy.url },
      engine: { pusher: PUSHER, hubspotRetry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 20 } },
    });
  });
  afterAll(async () => {
    await h?.stop();
    await proxy?.close();
    await fake?.close();
  });

  const portal = () => fake.portal(h.portalId);
  const creates = () => fake.requests.filter((r) => r.path === '/crm/v3/objects/companies/batch/create' && r.status < 300).length;

  it('the answer of a create is lost once: the retry finds the company HubSpot made (409 on its unique customer id)', async () => {
    proxy.loseNext(/^\/crm\/v3\/objects\/companies\/batch\/create$/, 1);
    const lostBefore = proxy.lost();
    await h.send(customerEvent('cus_lost1', 'l@lost-once.io'), subscriptionEvent('cus_lost1', 1500));
    await h.idle();
    expect(proxy.lost() - lostBefore).toBe(1);
    const companies = portal().companies().filter((c) => c.properties.domain === 'lost-once.io');
    expect(companies).toHaveLength(1);
    expect(companies[0]!.properties).toMatchObject({ stripe_customer_id: 'cus_lost1', stripe_mrr: '15.00' });
    const contact = h.contactOf('cus_lost1')!;
    expect(portal().associations('contacts', 'companies').filter((a) => a.fromId === contact.id).map((a) => a.toId)).toEqual([companies[0]!.id]);
  });

  it('every attempt of a create is lost: the next pass finds the company by the customer id it was created with', async () => {
    proxy.loseNext(/^\/crm\/v3\/objects\/companies\/batch\/create$/, 2);
    const applied = creates();
    await h.send(customerEvent('cus_lost2', 'l@lost-twice.io'), subscriptionEvent('cus_lost2', 2500));
    await h.idle();
    const companies = portal().companies().filter((c) => c.properties.domain === 'lost-twice.io');
    expect(companies).toHaveLength(1);
    // HubSpot applied the first create; the second answered 409; no third was sent.
    expect(creates() - applied).toBe(1);
    expect(companies[0]!.properties).toMatchObject({ stripe_customer_id: 'cus_lost2', stripe_mrr: '25.00', name: 'lost-twice.io' });
    // Never sent before, it is created without a read (its unique customer id guards it); recorded as being created,
    // it is read by that id (and found) in the pass after the lost one.
    const readsOfIt = fake.requests.filter((r) => {
      const body = r.body as { idProperty?: string; inputs?: { id: string }[] } | undefined;
      return r.path === '/crm/v3/objects/companies/batch/read' && body?.idProperty === 'stripe_customer_id' && body.inputs?.some((i) => i.id === 'cus_lost2');
    });
    const firstCreate = fake.requests.findIndex((r) => r.path === '/crm/v3/objects/companies/batch/create' && JSON.stringify(r.body).includes('"cus_lost2"'));
    expect(readsOfIt).toHaveLength(1);
    expect(fake.requests.indexOf(readsOfIt[0]!)).toBeGreaterThan(firstCreate);
    const { rows } = await h.server.db.query<{ sync_state: string }>(`SELECT sync_state FROM customers WHERE customer_id = 'cus_lost2'`);
    expect(rows[0]!.sync_state).toBe('synced');
  });
});

describe.each(dbKinds())('an OAuth install without the companies scopes on %s', (kind) => {
  const ACCOUNT = 'acct_companiesscopes';
  const PORTAL = 8181;
  let h: SyncHarness;
  beforeAll(async () => {
    h = await startSyncHarness({
      kind,
      privateApp: false,
      engine: { pusher: PUSHER },
      env: {
        STRIPE_APP_SECRET: TEST_APP_SECRET,
        STRIPE_APP_ID: 'com.stripe-hubspot-sync.app',
        HUBSPOT_CLIENT_ID: 'test-client-id',
        HUBSPOT_CLIENT_SECRET: 'test-client-secret',
        TOKEN_ENCRYPTION_KEY: 'cd'.repeat(32),
      },
    });
    // The fake grants an authorization the contacts scopes only, as an install made before companies existed.
    await connectHubSpot(h.server.url, h.hubspot, { caller: { accountId: ACCOUNT }, mode: 'live', portalId: PORTAL });
  });
  afterAll(async () => {
    await h?.stop();
  });

  const event = (type: string, object: Record<string, unknown>, created: number) => stripeEvent(type, object, { created, livemode: true, account: ACCOUNT });

  it('writes contacts without companies, says why once, and makes no company call again for a while', async () => {
    await h.send(event('customer.created', stripeObject('customer', { id: 'cus_scope1', email: 's1@scoped.io', created: T0 }), T0 + 1));
    await h.idle();
    const portal = h.hubspot.portal(PORTAL);
    expect(portal.contactByProperty('stripe_customer_id', 'cus_scope1')).toBeDefined();
    expect(portal.companies()).toEqual([]);
    const refused = h.hubspot.requests.filter((r) => COMPANY_PATHS.test(r.path));
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((r) => r.status === 403)).toBe(true);
    const problems = await h.server.db.query<{ property: string; category: string; message: string }>(
      `SELECT property, category, message FROM hubspot_property_problems WHERE portal_id = $1`,
      [PORTAL],
    );
    expect(problems.rows).toEqual([{ property: 'companies', category: 'MISSING_SCOPES', message: expect.stringMatching(/Reconnect HubSpot to grant the companies scopes/) }]);
    const { rows } = await h.server.db.query<{ sync_state: string }>(`SELECT sync_state FROM customers WHERE customer_id = 'cus_scope1'`);
    expect(rows[0]!.sync_state).toBe('synced');

    await h.send(event('customer.created', stripeObject('customer', { id: 'cus_scope2', email: 's2@scoped.io', created: T0 }), T0 + 2));
    await h.idle();
    expect(portal.contactByProperty('stripe_customer_id', 'cus_scope2')).toBeDefined();
    expect(h.hubspot.requests.filter((r) => COMPANY_PATHS.test(r.path))).toHaveLength(refused.length);
  });
});

describe.each(dbKinds())('a contact deleted in HubSpot before its company is created on %s', (kind) => {
  let h: SyncHarness;
  let deleted: string | null = null;
  // A user deletes the contact between its write and the create of its company (which would carry the association).
  const inner = companiesWriter();
  const deleting: CrmObjectWriter = {
    name: inner.name,
    enabled: inner.enabled,
    async write(ctx, contacts) {
      const mine = contacts.find((c) => c.customerId === 'cus_gonecontact');
      if (mine && deleted === null) {
        deleted = mine.contactId;
        const r = await fetch(`${h.hubspot.url}/crm/v3/objects/contacts/${mine.contactId}`, {
          method: 'DELETE',
          headers: { authorization: `Bearer ${TEST_PRIVATE_APP_TOKEN}` },
        });
        expect(r.status).toBe(204);
      }
      return inner.write(ctx, contacts);
    },
  };
  beforeAll(async () => {
    h = await startSyncHarness({ kind, engine: { objectWriters: [deleting], pusher: PUSHER } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('the company is created all the same: its create is sent again without the association, not dead-lettered', async () => {
    await h.send(customerEvent('cus_gonecontact', 'g@gone-contact.io'), subscriptionEvent('cus_gonecontact', 1100));
    const portal = h.hubspot.portal(h.portalId);
    await waitFor(() => portal.companies().some((c) => c.properties.domain === 'gone-contact.io'));
    const companies = portal.companies().filter((c) => c.properties.domain === 'gone-contact.io');
    expect(companies).toHaveLength(1);
    expect(companies[0]!.properties).toMatchObject({ stripe_customer_id: 'cus_gonecontact', stripe_mrr: '11.00' });
    // Not a refusal of the customer: no dead letter (the association with the missing contact is what is retried).
    await waitFor(async () => (await h.server.db.query(`SELECT 1 FROM customers WHERE customer_id = 'cus_gonecontact' AND attempts > 0`)).rows.length > 0);
    // The create carrying the association was refused (the contact is gone), the one without it made the company.
    const creates = h.hubspot.requests.filter((r) => r.path === '/crm/v3/objects/companies/batch/create');
    expect(creates.map((r) => [r.status, (r.body as { inputs: { associations: unknown[] }[] }).inputs[0]!.associations.length])).toEqual([
      [400, 1],
      [201, 0],
    ]);
    const dead = await h.server.db.query(`SELECT message FROM dead_letters WHERE customer_id = 'cus_gonecontact'`);
    expect(dead.rows).toEqual([]);
    expect(portal.companies().filter((c) => c.properties.domain === 'gone-contact.io')).toHaveLength(1);
  });
});
