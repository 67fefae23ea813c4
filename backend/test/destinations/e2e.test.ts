import { dbKinds } from '../helpers/db';
import { startSyncHarness, type SyncHarness } from '../helpers/sync-harness';
import { appRequest, TEST_APP_SECRET } from '../helpers/app-api';
import { randomId, stripeEvent, stripeObject } from '../helpers/stripe-fixtures';
import { postWebhook } from '../helpers/server';
import { startFakeKlaviyo, type FakeKlaviyo } from '../fakes/klaviyo/server';
import { startFakeLoops, type FakeLoops } from '../fakes/loops/server';
import { startFakeIntercom, type FakeIntercom } from '../fakes/intercom/server';
import { startFakeSalesforce, type FakeSalesforce } from '../fakes/salesforce/server';
import { fakeSalesforceOAuth, type FakeSalesforceOAuth } from '../fakes/salesforce/oauth';
import { addDefaultSyncFields } from '../fakes/salesforce/default-fields';
import { connectSalesforce, SALESFORCE_TEST_CLIENT } from './salesforce-connect';
import { DESTINATION_ADAPTERS } from '../../src/adapters/destinations/registry';
import { createSalesforceAdapter } from '../../src/adapters/salesforce/adapter';
import type { DestinationSummary, Mode } from '@stripe-hubspot-sync/contracts';

/**
 * Destinations end to end: signed Stripe webhooks in, the fake HubSpot, a fake Klaviyo, Loops, Intercom and
 * Salesforce out, through the real process wiring (apply → one folded state → each destination's own pusher) and the
 * real adapters. Each destination is connected through the Stripe App's signed API, as a merchant does: Salesforce
 * with "Connect with Salesforce" (OAuth + PKCE) to a fake sandbox org in test mode (a fake production org for the
 * live-mode connection), whose admin created the custom fields of the default settings.
 */

const OWN_ACCOUNT = 'acct_1DestOwn0000000';
const caller = { accountId: OWN_ACCOUNT };

describe.each(dbKinds())('destinations end to end on %s', (kind) => {
  let h: SyncHarness;
  let klaviyo: FakeKlaviyo;
  let loops: FakeLoops;
  let intercom: FakeIntercom;
  /** The test-mode org (sandbox login host) and the live-mode one (production login host). */
  let sf: FakeSalesforce;
  let sfOAuth: FakeSalesforceOAuth;
  let sfLive: FakeSalesforce;
  let sfLiveOAuth: FakeSalesforceOAuth;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    klaviyo = await startFakeKlaviyo({ organizationName: 'Acme Klaviyo', jobPollsBeforeComplete: 0 });
    loops = await startFakeLoops({ teamName: 'Acme Loops' });
    // 1-second rate periods: an injected 429 tells the adapter to wait until the period resets, at most a second here.
    intercom = await startFakeIntercom({ appName: 'Acme Intercom', periodMs: 1000 });
    // A 1.5-second rolling window stands for Salesforce's 24 hours: a spent allowance recovers within the test.
    [sf, sfLive] = await Promise.all([startFakeSalesforce({ windowMs: 1500 }), startFakeSalesforce()]);
    sfOAuth = fakeSalesforceOAuth(sf, SALESFORCE_TEST_CLIENT);
    sfLiveOAuth = fakeSalesforceOAuth(sfLive, SALESFORCE_TEST_CLIENT);
    addDefaultSyncFields(sf);
    addDefaultSyncFields(sfLive);
    h = await startSyncHarness({
      kind,
      env: {
        STRIPE_APP_SECRET: TEST_APP_SECRET,
        STRIPE_ACCOUNT_ID: OWN_ACCOUNT,
        TOKEN_ENCRYPTION_KEY: 'ab'.repeat(32),
        KLAVIYO_API_BASE_URL: klaviyo.url,
        LOOPS_API_BASE_URL: loops.url,
        INTERCOM_API_BASE_URL: intercom.url,
        SALESFORCE_CLIENT_ID: SALESFORCE_TEST_CLIENT.clientId,
        SALESFORCE_CLIENT_SECRET: SALESFORCE_TEST_CLIENT.clientSecret,
        SALESFORCE_LOGIN_URL: sfLive.url,
        SALESFORCE_SANDBOX_LOGIN_URL: sf.url,
      },
      engine: {
        destinations: { pollMs: 50, settleMs: 20, retry: { baseMs: 100, maxMs: 400, maxAttempts: 50 } },
        // The product's Salesforce adapter with its waits shortened as the window is (an hour after REQUEST_LIMIT_EXCEEDED,
        // 15 minutes at the 10% reserve, in production).
        destinationAdapters: {
          ...DESTINATION_ADAPTERS,
          salesforce: (input) => createSalesforceAdapter(input, { reserveWaitMs: 400, limitExceededWaitMs: 400, failureBackoffMs: 20 }),
        },
      },
    });
    for (const [k, key] of [['klaviyo', klaviyo.apiKey], ['loops', loops.apiKey], ['intercom', intercom.token]] as const) {
      const r = await appRequest(h.server.url, 'POST', '/destinations', caller, { mode: 'test', kind: k, apiKey: key, ...(k === 'intercom' ? { region: 'eu' } : {}) });
      expect(r.status).toBe(201);
      ids[k] = r.body.destination.id;
    }
    ids.salesforce = (await connectSalesforce({ serverUrl: h.server.url, caller, oauth: sfOAuth, mode: 'test', environment: 'sandbox' })).id;
  });
  afterAll(async () => {
    await h?.stop();
    await klaviyo?.close();
    await loops?.close();
    await intercom?.close();
    await Promise.all([sf?.close(), sfLive?.close()]);
  });

  /** Until every destination that is not broken holds every customer's newest state (or refused it for good). */
  async function destinationsIdle(timeoutMs = 30_000): Promise<void> {
    await h.idle(timeoutMs);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await h.server.db.query<{ n: string }>(
        `SELECT count(*) AS n FROM destinations d
           JOIN customers c ON c.account_key = d.account_key AND c.livemode = d.livemode AND c.status IS NOT NULL
           LEFT JOIN destination_customers dc ON dc.destination_id = d.id AND dc.customer_id = c.customer_id
          WHERE d.health <> 'broken' AND c.version > COALESCE(dc.synced_version, 0)
            AND (dc.dead_version IS NULL OR c.version > dc.dead_version)`,
      );
      if (Number(rows[0]!.n) === 0) return;
      if (Date.now() > deadline) throw new Error(`destinations not idle after ${timeoutMs} ms: ${rows[0]!.n} pending`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  const customer = (id: string, email: string, created = 1_770_000_000) =>
    stripeObject('customer', { id, email, name: 'Ada Lovelace', created, livemode: false });
  const subscription = (id: string, cus: string, status: string) =>
    stripeObject('subscription', { id, customer: cus, status, cancel_at_period_end: false });

  async function send(...events: object[]): Promise<void> {
    for (const e of events) expect((await postWebhook(h.server.url, e)).status).toBe(200);
  }

  /** The test-mode org's Contacts holding this Stripe customer id, its Opportunities, its payment event records. */
  const sfContacts = (cus: string) => sf.controls.find('Contact', 'Stripe_Customer_Id__c', cus);
  const sfOpportunities = (sub: string) => sf.controls.find('Opportunity', 'Stripe_Subscription_Id__c', sub);
  const sfEvents = (cus: string) => sf.controls.find('Stripe_Payment__c', 'Stripe_Customer_Id__c', cus);

  async function list(mode: Mode = 'test'): Promise<DestinationSummary[]> {
    const r = await appRequest(h.server.url, 'GET', `/destinations?mode=${mode}`, caller);
    expect(r.status).toBe(200);
    return r.body.destinations;
  }

  it('offers no "Connect with Klaviyo" without KLAVIYO_CLIENT_ID / KLAVIYO_CLIENT_SECRET: the API key only', async () => {
    const r = await appRequest(h.server.url, 'GET', '/destinations/klaviyo/authorize-url?mode=test', caller);
    expect(r).toMatchObject({ status: 503, body: { error: { code: 'not_configured' } } });
    const c = await appRequest(h.server.url, 'POST', '/destinations/klaviyo/connect', caller, { mode: 'test', code: 'c', state: 'klaviyo.s' });
    expect(c.status).toBe(503);
    expect((await list()).find((d) => d.kind === 'klaviyo')?.auth).toBe('api_key');
  });

  it('lands one profile with its facts and each event once in Klaviyo, Loops, Intercom and Salesforce, however often Stripe delivers', async () => {
    const cus = randomId('cus');
    const sub = randomId('sub');
    const inv = randomId('in');
    const events = [
      stripeEvent('customer.created', customer(cus, `${cus}@example.com`), { created: 1_770_000_000 }),
      stripeEvent('customer.subscription.created', subscription(sub, cus, 'active'), { created: 1_770_000_010 }),
      stripeEvent(
        'invoice.paid',
        stripeObject('invoice', { id: inv, customer: cus, subscription: sub, status: 'paid', amount_due: 4999, amount_paid: 4999, amount_remaining: 0, currency: 'usd', created: 1_770_000_020, status_transitions: { paid_at: 1_770_000_030 } }),
        { created: 1_770_000_030 },
      ),
      // Its charge, which (API 2025-03-31 and later) does not name the invoice: still one payment, one event.
      stripeEvent(
        'charge.succeeded',
        stripeObject('charge', { id: randomId('ch'), customer: cus, status: 'succeeded', paid: true, captured: true, amount: 4999, amount_captured: 4999, amount_refunded: 0, refunded: false, currency: 'usd', invoice: null, payment_intent: null, created: 1_770_000_030 }),
        { created: 1_770_000_030 },
      ),
    ];
    for (let i = 0; i < 5; i++) await send(...events);
    await destinationsIdle();

    const kp = klaviyo.state.profileByExternalId(cus)!;
    expect(kp).toBeDefined();
    expect(kp.email).toBe(`${cus}@example.com`);
    expect(kp.first_name).toBe('Ada');
    expect(kp.properties).toMatchObject({ stripe_customer_id: cus, stripe_subscription_status: 'active' });
    expect([...klaviyo.state.profiles.values()].filter((p) => p.external_id === cus)).toHaveLength(1);
    const kEvents = klaviyo.state.eventsOf(kp.id);
    expect(kEvents.filter((e) => e.metric === 'Successfully Paid')).toHaveLength(1);
    expect(kEvents.filter((e) => e.metric === 'Issued Invoice')).toHaveLength(1);
    expect(kEvents.filter((e) => e.metric === 'Revenue Movement').map((e) => e.properties.movement)).toEqual(['new']);
    const paid = kEvents.find((e) => e.metric === 'Successfully Paid')!;
    expect(paid).toMatchObject({ uniqueId: `${inv}:paid`, value: 49.99, valueCurrency: 'USD' });
    expect(new Date(paid.time).getTime()).toBe(1_770_000_030_000);

    const lc = loops.controls.contact({ userId: cus })!;
    expect(lc).toBeDefined();
    expect(lc.email).toBe(`${cus}@example.com`);
    expect(lc.properties).toMatchObject({ stripeCustomerId: cus, stripeSubscriptionStatus: 'active' });
    expect([...loops.state.contacts.values()].filter((c) => c.userId === cus)).toHaveLength(1);
    const lEvents = loops.state.events.filter((e) => e.contactId === lc.id);
    expect(lEvents.map((e) => e.eventName).sort()).toEqual(['Issued Invoice', 'Revenue Movement', 'Successfully Paid']);
    expect(lEvents.find((e) => e.eventName === 'Revenue Movement')!.eventProperties).toMatchObject({ movement: 'new' });
    expect(lEvents.find((e) => e.eventName === 'Successfully Paid')!.idempotencyKey).toBe(`${inv}:paid`);
    const ic = intercom.controls.contact({ external_id: cus })!;
    expect(ic).toMatchObject({ email: `${cus}@example.com`, role: 'user', name: 'Ada Lovelace' });
    expect(ic.custom_attributes).toMatchObject({ stripe_customer_id: cus, stripe_subscription_status: 'active' });
    expect([...intercom.state.contacts.values()].filter((c) => c.external_id === cus)).toHaveLength(1);
    const iEvents = intercom.state.events.filter((e) => e.contactId === ic.id);
    expect(iEvents.map((e) => e.event_name).sort()).toEqual(['Issued Invoice', 'Revenue Movement', 'Successfully Paid']);
    expect(iEvents.find((e) => e.event_name === 'Successfully Paid')!.created_at).toBe(1_770_000_030);
    expect(intercom.state.answerProblems).toEqual([]);
    // Salesforce: one Contact upserted by its External ID, the facts in the admin's custom fields, the subscription as
    // one Opportunity, each event as one Stripe_Payment__c record keyed by the event's key.
    expect(sfContacts(cus)).toHaveLength(1);
    expect(sfContacts(cus)[0]).toMatchObject({ Email: `${cus}@example.com`, FirstName: 'Ada', LastName: 'Lovelace', Stripe_Subscription_Status__c: 'active' });
    // A company email domain: the customer's own Account, which its Contact and Opportunity name.
    const account = sf.controls.find('Account', 'Stripe_Customer_Id__c', cus);
    expect(account).toEqual([expect.objectContaining({ Name: 'example.com', Website: 'example.com' })]);
    expect(sfContacts(cus)[0]!.AccountId).toBe(account[0]!.Id);
    expect(sfOpportunities(sub)).toEqual([expect.objectContaining({ StageName: 'Closed Won', ContactId: sfContacts(cus)[0]!.Id, AccountId: account[0]!.Id })]);
    const sEvents = sfEvents(cus);
    expect(sEvents.map((e) => e.Name).sort()).toEqual(['Issued Invoice', expect.stringMatching(/^Revenue Movement/), 'Successfully Paid']);
    expect(sEvents.find((e) => e.Name === 'Successfully Paid')).toMatchObject({ Stripe_Event_Key__c: `${inv}:paid`, Amount__c: 49.99 });
    expect(Date.parse(String(sEvents.find((e) => e.Name === 'Successfully Paid')!.Occurred_At__c))).toBe(1_770_000_030_000);
    // HubSpot got its contact too, from the same folded state.
    expect(h.contactOf(cus)?.properties.stripe_subscription_status).toBe('active');

    const summaries = await list();
    expect(summaries.map((d) => [d.kind, d.label, d.health.state])).toEqual([
      ['klaviyo', 'Acme Klaviyo', 'ok'],
      ['loops', 'Acme Loops', 'ok'],
      ['intercom', 'Acme Intercom', 'ok'],
      ['salesforce', `Salesforce ${new URL(sf.url).host}`, 'ok'],
    ]);
    expect(summaries.find((d) => d.kind === 'salesforce')).toMatchObject({ auth: 'oauth', environment: 'sandbox' });
    expect(summaries.find((d) => d.kind === 'intercom')?.region).toBe('eu');
    expect(JSON.stringify(summaries)).not.toContain(intercom.token);
    expect(JSON.stringify(summaries)).not.toContain(klaviyo.apiKey);
    for (const token of sfOAuth.state.issued) expect(JSON.stringify(summaries)).not.toContain(token);
    const view = await appRequest(h.server.url, 'GET', `/customers/${cus}?mode=test`, caller);
    expect(view.body.destinations.map((d: { kind: string; state: string }) => [d.kind, d.state])).toEqual([
      ['klaviyo', 'synced'],
      ['loops', 'synced'],
      ['intercom', 'synced'],
      ['salesforce', 'synced'],
    ]);
  });

  it('finds a profile that already has the email, then follows an email change on the same profile', async () => {
    const cus = randomId('cus');
    const email = `${cus}@known.example.com`;
    const seeded = loops.controls.seedContact({ email, firstName: 'Known' });
    const seededIntercom = intercom.controls.seedContact({ email, role: 'user', name: 'Known' });
    // Salesforce: a Contact already in the org with that email (in another case) and no customer id is adopted.
    const seededSalesforce = sf.controls.insert('Contact', { Email: email.toUpperCase(), LastName: 'Known' });
    const before = await fetch(`${klaviyo.url}/api/profile-import`, {
      method: 'POST',
      headers: { Authorization: `Klaviyo-API-Key ${klaviyo.apiKey}`, revision: '2026-07-15', 'content-type': 'application/vnd.api+json', accept: 'application/vnd.api+json' },
      body: JSON.stringify({ data: { type: 'profile', attributes: { email } } }),
    });
    expect(before.status).toBe(201);
    const klaviyoProfiles = klaviyo.state.profiles.size;
    await send(stripeEvent('customer.created', customer(cus, email), { created: 1_770_000_100 }));
    await destinationsIdle();
    expect(klaviyo.state.profiles.size).toBe(klaviyoProfiles);
    expect(klaviyo.state.profileByEmail(email)?.external_id).toBe(cus);
    expect(loops.controls.contact({ email })?.id).toBe(seeded.id);
    expect(loops.controls.contact({ email })?.userId).toBe(cus);
    expect(intercom.controls.contact({ email })).toMatchObject({ id: seededIntercom.id, external_id: cus });
    expect(sfContacts(cus)).toEqual([expect.objectContaining({ Id: seededSalesforce, Email: email, LastName: 'Lovelace' })]);
    expect(sf.controls.find('Contact', 'Email', email)).toHaveLength(1);

    const changed = `${cus}@new.example.com`;
    await send(
      stripeEvent('customer.updated', customer(cus, changed), { created: 1_770_000_200, previousAttributes: { email } }),
    );
    await destinationsIdle();
    expect(klaviyo.state.profiles.size).toBe(klaviyoProfiles);
    expect(klaviyo.state.profileByExternalId(cus)?.email).toBe(changed);
    expect(loops.controls.contact({ userId: cus })).toMatchObject({ id: seeded.id, email: changed });
    expect(intercom.controls.contact({ external_id: cus })).toMatchObject({ id: seededIntercom.id, email: changed });
    expect([...intercom.state.contacts.values()].filter((c) => c.external_id === cus)).toHaveLength(1);
    expect(sfContacts(cus)).toEqual([expect.objectContaining({ Id: seededSalesforce, Email: changed })]);
  });

  it('ends at the newest subscription state for a shuffled delivery with same-second ties', async () => {
    const cus = randomId('cus');
    const sub = randomId('sub');
    const events = [
      stripeEvent('customer.created', customer(cus, `${cus}@example.com`), { created: 1_770_001_000 }),
      stripeEvent('customer.subscription.created', subscription(sub, cus, 'trialing'), { created: 1_770_001_010 }),
      stripeEvent('customer.subscription.updated', subscription(sub, cus, 'active'), { created: 1_770_001_020, previousAttributes: { status: 'trialing' } }),
      stripeEvent('customer.subscription.updated', subscription(sub, cus, 'past_due'), { created: 1_770_001_020, previousAttributes: { status: 'active' } }),
      stripeEvent('customer.subscription.deleted', subscription(sub, cus, 'canceled'), { created: 1_770_001_030, previousAttributes: { status: 'past_due' } }),
    ];
    await send(events[4], events[2], events[0], events[3], events[1], events[2]);
    await destinationsIdle();
    expect(klaviyo.state.profileByExternalId(cus)?.properties.stripe_subscription_status).toBe('canceled');
    expect(loops.controls.contact({ userId: cus })?.properties.stripeSubscriptionStatus).toBe('canceled');
    expect(intercom.controls.contact({ external_id: cus })?.custom_attributes.stripe_subscription_status).toBe('canceled');
    expect(sfContacts(cus)).toEqual([expect.objectContaining({ Stripe_Subscription_Status__c: 'canceled' })]);
    expect(sfOpportunities(sub)).toEqual([expect.objectContaining({ StageName: 'Closed Lost' })]);
  });

  it('rides out 429 storms, a spent Salesforce allowance and 5xx: everything lands, each event once', async () => {
    klaviyo.controls.throttleNext(4, 1);
    klaviyo.controls.failNext(2, 503);
    loops.controls.throttleNext(6);
    loops.controls.failNext(2, 502);
    intercom.controls.throttleNext(4);
    intercom.controls.failNext(2, 503);
    // Salesforce has no 429: the org's rolling allowance is spent (403 REQUEST_LIMIT_EXCEEDED) until the window rolls
    // on; then 503s, more than one call's own retries.
    const refusalsBefore = sf.state.limitRefusals;
    const unavailableBefore = sf.state.requests.filter((r) => r.status === 503).length;
    sf.controls.setAllowance(40, 40);
    sf.controls.failNext(4, 503);
    const customers = Array.from({ length: 4 }, () => randomId('cus'));
    for (const cus of customers) {
      await send(
        stripeEvent('customer.created', customer(cus, `${cus}@example.com`), { created: 1_770_002_000 }),
        stripeEvent('charge.succeeded', stripeObject('charge', { id: randomId('ch'), customer: cus, status: 'succeeded', paid: true, captured: true, amount: 1200, amount_captured: 1200, amount_refunded: 0, refunded: false, currency: 'eur', invoice: null, created: 1_770_002_010 }), { created: 1_770_002_010 }),
      );
    }
    await destinationsIdle(60_000);
    for (const cus of customers) {
      const kp = klaviyo.state.profileByExternalId(cus)!;
      expect(klaviyo.state.eventsOf(kp.id).filter((e) => e.metric === 'Successfully Paid')).toHaveLength(1);
      const lc = loops.controls.contact({ userId: cus })!;
      expect(loops.state.events.filter((e) => e.contactId === lc.id && e.eventName === 'Successfully Paid')).toHaveLength(1);
      const ic = intercom.controls.contact({ external_id: cus })!;
      expect(intercom.state.events.filter((e) => e.contactId === ic.id && e.event_name === 'Successfully Paid')).toHaveLength(1);
      expect(sfContacts(cus)).toHaveLength(1);
      expect(sfEvents(cus).map((e) => e.Name)).toEqual(['Successfully Paid']);
    }
    expect(loops.state.throttled).toBeGreaterThanOrEqual(6);
    expect(intercom.state.throttled).toBeGreaterThanOrEqual(4);
    const refusals = sf.state.limitRefusals - refusalsBefore;
    expect(refusals).toBeGreaterThanOrEqual(1);
    expect(sf.state.requests.filter((r) => r.status === 503).length - unavailableBefore).toBe(4);
    expect((await list()).find((d) => d.kind === 'salesforce')!.health.state).toBe('ok');
    sf.controls.setAllowance(15_000, 0);
  });

  it('keeps a refused contact as a dead letter, and writes it after the merchant fixes the cause and replays it', async () => {
    // The merchant's Loops already has a date property named like our plan field: Loops refuses the plan's text there.
    loops.state.properties.set('stripePlan', { key: 'stripePlan', label: 'Stripe plan', type: 'date' });
    // The Salesforce admin made the plan field Text(3): Salesforce refuses that Contact (STRING_TOO_LONG), not the others.
    sf.controls.addField('Contact', { name: 'Stripe_Plan__c', type: 'string', length: 3 });
    const cus = randomId('cus');
    const sub = randomId('sub');
    await send(
      stripeEvent('customer.created', customer(cus, `${cus}@example.com`), { created: 1_770_003_000 }),
      stripeEvent('customer.subscription.created', subscription(sub, cus, 'active'), { created: 1_770_003_010 }),
    );
    await destinationsIdle();
    const activity = await appRequest(h.server.url, 'GET', `/destinations/${ids.loops}/activity?mode=test`, caller);
    expect(activity.status).toBe(200);
    const dead = activity.body.deadLetters.find((d: { customerId: string }) => d.customerId === cus);
    expect(dead?.message).toMatch(/date/i);
    expect(activity.body.counts.failed).toBeGreaterThanOrEqual(1);
    // Klaviyo is not held back by Loops' refusal.
    expect(klaviyo.state.profileByExternalId(cus)).toBeDefined();
    const sfActivity = await appRequest(h.server.url, 'GET', `/destinations/${ids.salesforce}/activity?mode=test`, caller);
    const sfDead = sfActivity.body.deadLetters.find((d: { customerId: string }) => d.customerId === cus);
    expect(sfDead?.message).toMatch(/Salesforce refused the Contact: STRING_TOO_LONG: Stripe Plan: data value too large/);
    // The Contact exists only if customer.created reached Salesforce in a pass of its own (a loaded machine can split
    // the two events across passes); it never holds the refused plan, and no Opportunity names a Contact not written.
    const refusedContacts = sfContacts(cus);
    expect(refusedContacts.length).toBeLessThanOrEqual(1);
    expect(refusedContacts.filter((c) => c.Stripe_Plan__c != null)).toEqual([]);
    expect(sfOpportunities(sub)).toEqual([]);

    const current = (await list()).find((d) => d.kind === 'loops')!;
    const settings = { ...current.settings, fields: { ...current.settings.fields, plan: { enabled: true, property: 'stripePlanName' } } };
    const saved = await appRequest(h.server.url, 'PUT', `/destinations/${ids.loops}/settings`, caller, { mode: 'test', settings });
    expect(saved.status).toBe(200);
    const replay = await appRequest(h.server.url, 'POST', `/destinations/${ids.loops}/dead-letters/replay`, caller, { mode: 'test', customerIds: [cus] });
    expect(replay.body).toEqual({ replayed: 1 });
    // The Salesforce admin widens the field; the merchant replays.
    sf.controls.addField('Contact', { name: 'Stripe_Plan__c', type: 'textarea', length: 32_768 });
    const sfReplay = await appRequest(h.server.url, 'POST', `/destinations/${ids.salesforce}/dead-letters/replay`, caller, { mode: 'test', customerIds: [cus] });
    expect(sfReplay.body).toEqual({ replayed: 1 });
    await destinationsIdle();
    expect(loops.controls.contact({ userId: cus })?.properties).toHaveProperty('stripePlanName');
    const after = await appRequest(h.server.url, 'GET', `/destinations/${ids.loops}/activity?mode=test`, caller);
    expect(after.body.deadLetters.some((d: { customerId: string }) => d.customerId === cus)).toBe(false);
    expect(sfContacts(cus)).toEqual([expect.objectContaining({ Stripe_Plan__c: expect.any(String) })]);
    expect(sfOpportunities(sub)).toHaveLength(1);
    const sfAfter = await appRequest(h.server.url, 'GET', `/destinations/${ids.salesforce}/activity?mode=test`, caller);
    expect(sfAfter.body.deadLetters.some((d: { customerId: string }) => d.customerId === cus)).toBe(false);
  });

  it("dead-letters a customer whose id several Salesforce Contacts hold (the upsert's 300), and writes it once one is removed and it is replayed", async () => {
    // Stripe_Customer_Id__c made External ID but not Unique, and a Contact imported twice with the same id. A single
    // upsert by that id would answer 300 Multiple Choices; the adapter's collection upsert gets the record's
    // DUPLICATE_EXTERNAL_ID, the same refusal per record.
    sf.controls.addField('Contact', { name: 'Stripe_Customer_Id__c', externalId: true, unique: false });
    const cus = randomId('cus');
    const [kept, duplicate] = [0, 1].map(() => sf.controls.insert('Contact', { Stripe_Customer_Id__c: cus, LastName: 'Imported' }));
    try {
      await send(stripeEvent('customer.created', customer(cus, `${cus}@example.com`), { created: 1_770_003_500 }));
      await destinationsIdle();
      const activity = await appRequest(h.server.url, 'GET', `/destinations/${ids.salesforce}/activity?mode=test`, caller);
      const dead = activity.body.deadLetters.find((d: { customerId: string }) => d.customerId === cus);
      expect(dead?.message).toMatch(/DUPLICATE_EXTERNAL_ID/);
      expect(dead?.message).toContain(`several Contact records hold Stripe_Customer_Id__c = ${cus}`);
      expect(dead?.message).toContain(kept);
      expect(dead?.message).toContain(duplicate);
      // Nothing written to either; the other destinations are not held back.
      expect(sfContacts(cus).map((c) => c.LastName)).toEqual(['Imported', 'Imported']);
      expect(loops.controls.contact({ userId: cus })).toBeDefined();
      expect((await list()).find((d) => d.kind === 'salesforce')!.health.state).toBe('ok');

      // A Salesforce user merges them (one is deleted); the merchant replays.
      sf.state.records.get('Contact')!.delete(duplicate!);
      const replay = await appRequest(h.server.url, 'POST', `/destinations/${ids.salesforce}/dead-letters/replay`, caller, { mode: 'test', customerIds: [cus] });
      expect(replay.body).toEqual({ replayed: 1 });
      await destinationsIdle();
      expect(sfContacts(cus)).toEqual([expect.objectContaining({ Id: kept, Email: `${cus}@example.com`, LastName: 'Lovelace' })]);
      const after = await appRequest(h.server.url, 'GET', `/destinations/${ids.salesforce}/activity?mode=test`, caller);
      expect(after.body.deadLetters.some((d: { customerId: string }) => d.customerId === cus)).toBe(false);
    } finally {
      sf.controls.addField('Contact', { name: 'Stripe_Customer_Id__c', externalId: true, unique: true });
    }
  });

  it('keeps test-mode events out of a live connection', async () => {
    // Live and test connections of one backend reach the same Loops here: what each holds is told by its own books.
    const r = await appRequest(h.server.url, 'POST', '/destinations', caller, { mode: 'live', kind: 'loops', apiKey: loops.apiKey });
    expect(r.status).toBe(201);
    const liveId = r.body.destination.id;
    // Salesforce: live mode connected to the production org, test mode to the sandbox org.
    const sfLiveId = (await connectSalesforce({ serverUrl: h.server.url, caller, oauth: sfLiveOAuth, mode: 'live', environment: 'production' })).id;
    const testCus = randomId('cus');
    const liveCus = randomId('cus');
    await send(stripeEvent('customer.created', customer(testCus, `${testCus}@example.com`), { created: 1_770_004_000 }));
    await send(
      stripeEvent('customer.created', { ...customer(liveCus, `${liveCus}@example.com`), livemode: true }, { created: 1_770_004_000, livemode: true }),
    );
    await destinationsIdle();
    const live = await appRequest(h.server.url, 'GET', `/destinations/${liveId}/activity?mode=live`, caller);
    expect(live.body.recent.map((w: { customerId: string }) => w.customerId)).toEqual([liveCus]);
    const test = await appRequest(h.server.url, 'GET', `/destinations/${ids.loops}/activity?mode=test`, caller);
    expect(test.body.recent.map((w: { customerId: string }) => w.customerId)).not.toContain(liveCus);
    // A live destination is invisible from test mode.
    expect((await appRequest(h.server.url, 'GET', `/destinations/${liveId}/activity?mode=test`, caller)).status).toBe(404);
    const gone = await appRequest(h.server.url, 'DELETE', `/destinations/${liveId}`, caller, { mode: 'live', confirm: liveId });
    expect(gone.body).toEqual({ disconnected: true });

    expect(sfLive.controls.find('Contact', 'Stripe_Customer_Id__c', liveCus)).toHaveLength(1);
    expect(sfLive.controls.find('Contact', 'Stripe_Customer_Id__c', testCus)).toEqual([]);
    expect(sfContacts(testCus)).toHaveLength(1);
    expect(sfContacts(liveCus)).toEqual([]);
    const sfLiveActivity = await appRequest(h.server.url, 'GET', `/destinations/${sfLiveId}/activity?mode=live`, caller);
    expect(sfLiveActivity.body.recent.map((w: { customerId: string }) => w.customerId)).toEqual([liveCus]);
    expect((await list('live')).map((d) => [d.kind, d.environment ?? null])).toEqual([['salesforce', 'production']]);
    const [refreshToken] = sfLiveOAuth.state.activeRefreshTokens();
    const sfGone = await appRequest(h.server.url, 'DELETE', `/destinations/${sfLiveId}`, caller, { mode: 'live', confirm: sfLiveId });
    expect(sfGone.body).toEqual({ disconnected: true });
    expect(sfLiveOAuth.state.revoked).toEqual([refreshToken]);
    expect(sfOAuth.state.revoked).toEqual([]);
  });

  it('an outage of Salesforce leaves Klaviyo, Loops, Intercom and HubSpot on time; revoked access shows as a broken connection', async () => {
    sf.controls.failNext(100_000, 503);
    const cus = randomId('cus');
    const sentAt = Date.now();
    await send(stripeEvent('customer.created', customer(cus, `${cus}@example.com`), { created: 1_770_004_500 }));
    for (;;) {
      if (klaviyo.state.profileByExternalId(cus) && loops.controls.contact({ userId: cus }) && intercom.controls.contact({ external_id: cus }) && h.contactOf(cus)) break;
      if (Date.now() - sentAt > 10_000) throw new Error('Klaviyo, Loops, Intercom or HubSpot held back by the Salesforce outage');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(sfContacts(cus)).toEqual([]);
    expect((await list()).find((d) => d.kind === 'salesforce')!.counts.pending).toBeGreaterThanOrEqual(1);

    // An admin revokes the app's access in the org: the access token stops working and the refresh is refused.
    sfOAuth.controls.revokeAllRefreshTokens();
    sf.controls.expireToken();
    const deadline = Date.now() + 10_000;
    let broken: DestinationSummary | undefined;
    while (!(broken = (await list()).find((d) => d.kind === 'salesforce' && d.health.state === 'broken'))) {
      if (Date.now() > deadline) throw new Error('Salesforce not shown broken');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(broken.health.message).toMatch(/Salesforce refused to refresh the access token \(400 invalid_grant\); connect Salesforce again/);
    const test = await appRequest(h.server.url, 'POST', `/destinations/${ids.salesforce}/test`, caller, { mode: 'test' });
    expect(test.body).toMatchObject({ ok: false, health: { state: 'broken' } });
    expect(sfContacts(cus)).toEqual([]);
  });

  it('an outage of Klaviyo leaves Loops, Intercom and HubSpot on time; a revoked key shows as a broken connection', async () => {
    klaviyo.controls.failNext(100_000, 503);
    const cus = randomId('cus');
    const sentAt = Date.now();
    await send(stripeEvent('customer.created', customer(cus, `${cus}@example.com`), { created: 1_770_005_000 }));
    for (;;) {
      if (loops.controls.contact({ userId: cus }) && intercom.controls.contact({ external_id: cus }) && h.contactOf(cus)) break;
      if (Date.now() - sentAt > 10_000) throw new Error('Loops, Intercom or HubSpot held back by the Klaviyo outage');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(klaviyo.state.profileByExternalId(cus)).toBeUndefined();
    const pending = (await list()).find((d) => d.kind === 'klaviyo')!;
    expect(pending.counts.pending).toBeGreaterThanOrEqual(1);

    klaviyo.controls.revokeKey();
    const test = await appRequest(h.server.url, 'POST', `/destinations/${ids.klaviyo}/test`, caller, { mode: 'test' });
    expect(test.body).toMatchObject({ ok: false, health: { state: 'broken' } });
    const broken = (await list()).find((d) => d.kind === 'klaviyo')!;
    expect(broken.health.state).toBe('broken');
    expect(broken.health.message).toBeTruthy();
    // Disconnecting needs the confirmation.
    expect((await appRequest(h.server.url, 'DELETE', `/destinations/${ids.klaviyo}`, caller, { mode: 'test' })).status).toBe(400);
    expect((await list()).some((d) => d.kind === 'klaviyo')).toBe(true);
  });
});
