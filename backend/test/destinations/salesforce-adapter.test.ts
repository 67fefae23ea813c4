import { destinationEvent, errorOf, profile, useAdapterTestBed } from './adapter-harness';
import { createSalesforceAdapter, type SalesforceAdapterOptions } from '../../src/adapters/salesforce/adapter';
import { contactLookupQueries, missingFields, parseLimitInfo, soqlString } from '../../src/adapters/salesforce/shapes';
import type { DestinationEvent, SubscriptionWrite } from '../../src/domain/destinations/port';
import { dbKinds } from '../helpers/db';
import { startFakeSalesforce, type FakeSalesforce } from '../fakes/salesforce/server';

/**
 * The Salesforce destination against the fake Salesforce over HTTP, with the database-backed pacer shared by
 * instances (each test under its own destination prefix).
 */

const UPSERT = 'PATCH /composite/sobjects/Contact/Stripe_Customer_Id__c';
const ACCOUNTS = 'PATCH /composite/sobjects/Account/Stripe_Customer_Id__c';
const OPPORTUNITIES = 'PATCH /composite/sobjects/Opportunity/Stripe_Subscription_Id__c';
/** The lookup of Contacts by email, and the collection update that adopts those found. */
const QUERY = 'GET /query';
const ADOPT = 'PATCH /composite/sobjects';

const subscription = (over: Partial<SubscriptionWrite> & { key: string }): SubscriptionWrite => ({
  stage: 'active',
  status: 'active',
  name: 'Pro – Ada Lovelace',
  monthlyAmount: 49,
  currency: 'USD',
  closeDate: '2026-01-15',
  ...over,
});

/** Salesforce events carry no extra properties unless a test gives them. */
const event = (over: Partial<DestinationEvent> & { key: string; customerId: string }): DestinationEvent => destinationEvent({ properties: {}, ...over });

describe('missingFields and parseLimitInfo', () => {
  it('names absent fields and fields that are not External IDs', () => {
    const d = { name: 'Contact', fields: [{ name: 'Email', type: 'email' }, { name: 'Stripe_Customer_Id__c', type: 'string', externalId: false }] };
    expect(missingFields(d, [{ name: 'Email' }, { name: 'Stripe_Customer_Id__c', externalId: true }, { name: 'Stripe_Mrr__c' }])).toEqual([
      'Stripe_Customer_Id__c (not an External ID)',
      'Stripe_Mrr__c',
    ]);
    expect(parseLimitInfo('api-usage=18/5000')).toEqual({ used: 18, max: 5000 });
    expect(parseLimitInfo('api-usage=10018/100000; api-bursts=1/750')).toEqual({ used: 10018, max: 100000 });
    expect(parseLimitInfo(null)).toBeNull();
  });

  it('escapes SOQL string literals, and splits a lookup only when it would not fit one request', () => {
    expect(soqlString("o'brien\\x@example.com")).toBe("'o\\'brien\\\\x@example.com'");
    const emails = Array.from({ length: 200 }, (_, i) => `customer.number.${i}@a-rather-long-company-domain.example.com`);
    const [one, ...none] = contactLookupQueries(emails.slice(0, 150));
    expect(none).toEqual([]);
    expect(one).toMatch(/^SELECT Id, Email, LastModifiedDate FROM Contact WHERE Stripe_Customer_Id__c = null AND Email IN \('customer\.number\.0@.*'\) ORDER BY LastModifiedDate DESC$/);
    // 200 long emails outgrow one request URI: split, each under the budget, every email asked once.
    const split = contactLookupQueries(emails);
    expect(split.length).toBe(2);
    expect(split.every((q) => encodeURIComponent(q).length <= 12_000 && q.length <= 100_000)).toBe(true);
    expect(split.flatMap((q) => q.match(/'[^']+'/g) ?? [])).toEqual(emails.map((e) => `'${e}'`));
  });
});

describe.each(dbKinds())('Salesforce destination adapter on %s', (kind) => {
  const bed = useAdapterTestBed(kind);
  let sf: FakeSalesforce;

  beforeEach(async () => {
    sf = await startFakeSalesforce();
    sf.controls.addField('Contact', { name: 'Stripe_Mrr__c', type: 'currency' });
    sf.controls.addField('Contact', { name: 'Stripe_Status__c' });
    sf.controls.addField('Contact', { name: 'Stripe_Customer_Since__c', type: 'date' });
  });
  afterEach(async () => {
    await sf.close();
  });

  const adapter = (opts: SalesforceAdapterOptions = {}, apiKey = sf.accessToken) =>
    createSalesforceAdapter({ apiKey, baseUrl: sf.url, pacer: bed.pacer(), timeoutMs: 5_000 }, { failureBackoffMs: 20, ...opts });

  it('checks the org by describing what the sync writes (Contact, Account, Opportunity, Stripe_Payment__c): the label is the instance', async () => {
    const a = adapter();
    expect(a.kind).toBe('salesforce');
    expect(a.related).toEqual({ subscriptions: true, company: true });
    await expect(a.check()).resolves.toEqual({ label: `Salesforce ${new URL(sf.url).host}` });
    for (const object of ['Contact', 'Account', 'Opportunity', 'Stripe_Payment__c']) expect(sf.state.calls[`GET /sobjects/${object}/describe`]).toBe(1);
    // What is turned off is neither described nor asked of the pusher.
    const contactsOnly = adapter({ objects: { accounts: false, opportunities: false, events: false } });
    sf.controls.removeObject('Stripe_Payment__c');
    sf.controls.removeField('Opportunity', 'Stripe_Subscription_Id__c');
    await expect(contactsOnly.check()).resolves.toBeDefined();
    expect(contactsOnly.related).toEqual({ subscriptions: false, company: false });
  });

  it('check names, in one message, object by object, exactly what the org lacks', async () => {
    sf.controls.removeField('Contact', 'Stripe_Customer_Id__c');
    sf.controls.addField('Account', { name: 'Stripe_Customer_Id__c', externalId: false });
    sf.controls.removeField('Opportunity', 'Stripe_Subscription_Id__c');
    sf.controls.removeField('Stripe_Payment__c', 'Occurred_At__c');
    const e = await errorOf(adapter().check());
    expect(e.errorClass).toBe('connection');
    expect(e.message).toBe(
      'Salesforce: the org lacks what the sync needs — Contact: Stripe_Customer_Id__c (Text, External ID, Unique); ' +
        'Account: Stripe_Customer_Id__c (not an External ID); Opportunity: Stripe_Subscription_Id__c (Text, External ID, Unique); ' +
        'Stripe_Payment__c: Occurred_At__c. An admin adds them in Setup → Object Manager (the object → Fields & Relationships), then reconnects.',
    );
    sf.controls.removeObject('Stripe_Payment__c');
    expect((await errorOf(adapter({ objects: { accounts: false, opportunities: false } }).check())).message).toBe(
      'Salesforce: the org lacks what the sync needs — Contact: Stripe_Customer_Id__c (Text, External ID, Unique); ' +
        'Stripe_Payment__c: the object itself (with Stripe_Event_Key__c (Text, External ID, Unique), Stripe_Customer_Id__c, Amount__c, Currency__c, Occurred_At__c). ' +
        'An admin adds them in Setup → Object Manager (the object → Fields & Relationships), then reconnects.',
    );
  });

  it('check names exactly the missing custom fields; ensureProperties names the missing property fields', async () => {
    sf.controls.removeField('Contact', 'Stripe_Customer_Id__c');
    const e = await errorOf(adapter().check());
    expect(e.errorClass).toBe('connection');
    expect(e.message).toContain('Contact: Stripe_Customer_Id__c (Text, External ID, Unique). An admin adds it');

    sf.controls.addField('Contact', { name: 'Stripe_Customer_Id__c', externalId: false });
    expect((await errorOf(adapter().check())).message).toContain('Stripe_Customer_Id__c (not an External ID)');

    sf.controls.addField('Contact', { name: 'Stripe_Customer_Id__c', externalId: true, unique: true });
    await expect(adapter().check()).resolves.toBeDefined();
    const p = await errorOf(
      adapter().ensureProperties([
        { name: 'Stripe_Mrr__c', type: 'number' },
        { name: 'Stripe_Plan__c', type: 'string' },
        { name: 'Stripe_Status__c', type: 'string' },
        { name: 'Stripe_Churned_At__c', type: 'date' },
      ]),
    );
    expect(p.errorClass).toBe('connection');
    expect(p.message).toContain('Contact: Stripe_Plan__c, Stripe_Churned_At__c. An admin adds them');
    expect(p.message).not.toContain('Stripe_Mrr__c');
    await expect(adapter().ensureProperties([{ name: 'Stripe_Mrr__c', type: 'number' }])).resolves.toBeUndefined();
  });

  it('upserts 250 contacts in 2 calls with a result per customer; a repeat updates, never duplicates', async () => {
    const a = adapter();
    await a.ensureProperties([{ name: 'Stripe_Customer_Since__c', type: 'date' }]);
    const profiles = Array.from({ length: 250 }, (_, i) =>
      profile({ customerId: `cus_${i}`, properties: { Stripe_Mrr__c: i, Stripe_Status__c: 'active', Stripe_Customer_Since__c: '2025-01-02T10:00:00Z' } }),
    );
    const first = await a.upsertProfiles(profiles, { backfill: true });
    expect(sf.state.calls[UPSERT]).toBe(2);
    expect(first.size).toBe(250);
    expect([...first.values()].every((r) => r.ok && /^003/.test(r.externalId ?? ''))).toBe(true);
    const bodies = sf.state.requests.filter((r) => r.method === 'PATCH').map((r) => r.body as { allOrNone: boolean; records: unknown[] });
    expect(bodies.map((b) => [b.allOrNone, b.records.length])).toEqual([[false, 200], [false, 50]]);
    expect(sf.controls.find('Contact', 'Stripe_Customer_Id__c', 'cus_7')).toEqual([
      expect.objectContaining({ Email: 'cus_7@example.com', FirstName: 'Ada', LastName: 'Lovelace', Stripe_Mrr__c: 7, Stripe_Customer_Since__c: '2025-01-02' }),
    ]);

    const again = await a.upsertProfiles([profile({ customerId: 'cus_7', email: 'new@example.com', properties: { Stripe_Mrr__c: 70 } })], { backfill: false });
    expect(again.get('cus_7')).toEqual({ ok: true, externalId: (first.get('cus_7') as { externalId: string }).externalId });
    expect(sf.state.records.get('Contact')!.size).toBe(250);
    expect(sf.controls.find('Contact', 'Stripe_Customer_Id__c', 'cus_7')).toEqual([expect.objectContaining({ Email: 'new@example.com', Stripe_Mrr__c: 70 })]);
  });

  it('LastName falls back to the customer id; a per-record refusal is a record error with Salesforce message', async () => {
    const r = await adapter().upsertProfiles(
      [
        profile({ customerId: 'cus_ok', firstName: null, lastName: null }),
        profile({ customerId: 'cus_bad', email: 'not-an-email' }),
        profile({ customerId: 'cus_field', properties: { Stripe_Plan__c: 'Pro' } }),
      ],
      { backfill: false },
    );
    expect(r.get('cus_ok')).toMatchObject({ ok: true });
    expect(sf.controls.find('Contact', 'Stripe_Customer_Id__c', 'cus_ok')[0]).toMatchObject({ LastName: 'cus_ok' });
    // The fields Salesforce names are in the message, so the merchant knows which one to fix.
    expect(r.get('cus_bad')).toEqual({ ok: false, errorClass: 'record', message: 'Salesforce refused the Contact: INVALID_EMAIL_ADDRESS: Email: invalid email address: not-an-email (fields: Email)' });
    expect(r.get('cus_field')).toMatchObject({ ok: false, errorClass: 'record', message: expect.stringMatching(/INVALID_FIELD: No such column 'Stripe_Plan__c'.* \(fields: Stripe_Plan__c\)$/) });
  });

  it('keeps the last 10% of the daily allowance: stops spending before the limit (rate_limited)', async () => {
    sf.controls.setAllowance(100, 85);
    const a = adapter();
    // Customers written before (no lookup by email): 6 calls would be needed: the 5th answer (90/100) reaches the reserve, so the 6th is never sent.
    const profiles = Array.from({ length: 1200 }, (_, i) => profile({ customerId: `cus_${i}`, externalId: `003xx${i}` }));
    const e = await errorOf(a.upsertProfiles(profiles, { backfill: true }));
    expect(e.errorClass).toBe('rate_limited');
    expect(e.message).toContain('90/100');
    expect(e.retryAfterMs).toBeGreaterThan(14 * 60_000);
    expect(sf.state.calls[UPSERT]).toBe(5);
    expect(sf.controls.apiUsage().used).toBe(90);
    expect(await bed.penaltyLeft('org')).toBeGreaterThan(14 * 60_000);
    // The same instance sends nothing more while the reserve holds.
    expect((await errorOf(a.upsertProfiles([profile({ customerId: 'cus_x' })], { backfill: false }))).errorClass).toBe('rate_limited');
    expect(sf.state.calls[UPSERT]).toBe(5);
    expect(sf.state.limitRefusals).toBe(0);
  });

  it('403 REQUEST_LIMIT_EXCEEDED → rate_limited with a long wait, shared through the pacer', async () => {
    sf.controls.setAllowance(100, 100);
    const e = await errorOf(adapter().upsertProfiles([profile({ customerId: 'cus_1' })], { backfill: false }));
    expect(e.errorClass).toBe('rate_limited');
    expect(e.status).toBe(403);
    expect(e.message).toContain('REQUEST_LIMIT_EXCEEDED');
    expect(e.retryAfterMs).toBe(60 * 60_000);
    expect(await bed.penaltyLeft('org')).toBeGreaterThan(59 * 60_000);
    expect(sf.state.limitRefusals).toBe(1);
  });

  it('5xx then success: retried within the call', async () => {
    sf.controls.failNext(2, 503);
    const r = await adapter().upsertProfiles([profile({ customerId: 'cus_1' })], { backfill: false });
    expect(r.get('cus_1')).toMatchObject({ ok: true });
    // The lookup by email (first) met both 503s.
    expect(sf.state.calls[QUERY]).toBe(3);
    expect(sf.state.calls[UPSERT]).toBe(1);
  });

  it('5xx three times → retryable', async () => {
    sf.controls.failNext(3, 500);
    const e = await errorOf(adapter().upsertProfiles([profile({ customerId: 'cus_1' })], { backfill: false }));
    expect(e.errorClass).toBe('retryable');
    expect(e.status).toBe(500);
  });

  it('an expired token → connection; with a refresh hook, the hook is called once and the call succeeds', async () => {
    const stale = sf.accessToken;
    sf.controls.expireToken();
    const e = await errorOf(adapter({}, stale).check());
    expect(e.errorClass).toBe('connection');
    expect(e.message).toContain('INVALID_SESSION_ID');
    expect(e.message).not.toContain(stale);

    let token = stale;
    const rejected: string[] = [];
    const a = adapter({
      accessToken: async () => token,
      onUnauthorized: async (r) => {
        rejected.push(r);
        token = sf.accessToken;
      },
    });
    await expect(a.upsertProfiles([profile({ customerId: 'cus_1' })], { backfill: false })).resolves.toEqual(new Map([['cus_1', expect.objectContaining({ ok: true })]]));
    expect(rejected).toEqual([stale]);

    // A hook that brings no working token: called once, then connection.
    let calls = 0;
    const b = adapter({ accessToken: async () => 'still-wrong', onUnauthorized: async () => void calls++ });
    expect((await errorOf(b.check())).errorClass).toBe('connection');
    expect(calls).toBe(1);
  });

  it('describes are kept across passes in the destination memo, and read again before a missing field is refused', async () => {
    const memo = new Map<string, unknown>();
    const pass = () => createSalesforceAdapter({ apiKey: sf.accessToken, baseUrl: sf.url, pacer: bed.pacer(), timeoutMs: 5_000, memo }, { failureBackoffMs: 20 });
    const describes = () => sf.state.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/describe')).length;
    await pass().ensureProperties([{ name: 'Stripe_Mrr__c', type: 'number' }]);
    const first = describes();
    expect(first).toBeGreaterThan(0);
    // Three more passes: nothing described again.
    for (let i = 0; i < 3; i++) await pass().ensureProperties([{ name: 'Stripe_Mrr__c', type: 'number' }]);
    expect(describes()).toBe(first);
    // A field the cached describe lacks: read again before refusing, so an admin's fix counts at once…
    sf.controls.addField('Contact', { name: 'Stripe_Plan__c' });
    await expect(pass().ensureProperties([{ name: 'Stripe_Plan__c', type: 'string' }])).resolves.toBeUndefined();
    expect(describes()).toBe(first + 1);
    // …and one still missing is refused on a fresh describe.
    const e = await errorOf(pass().ensureProperties([{ name: 'Stripe_Churned_At__c', type: 'date' }]));
    expect(e.message).toContain('Contact: Stripe_Churned_At__c');
    expect(describes()).toBe(first + 2);
    // Without a memo every pass describes (the old behaviour).
    await adapter().ensureProperties([{ name: 'Stripe_Mrr__c', type: 'number' }]);
    expect(describes()).toBe(first + 3);
  });

  it('a revenue movement record is named with its kind (Revenue Movement: Upgrade)', async () => {
    const sent = await adapter().sendEvents(
      [event({ key: 'mv_1', customerId: 'cus_1', name: 'Revenue Movement', properties: { movement: 'upgrade', movementLabel: 'Upgrade' } })],
      { backfill: false },
    );
    expect(sent.get('mv_1')).toEqual({ ok: true, externalId: null });
    expect(sf.controls.find('Stripe_Payment__c', 'Stripe_Event_Key__c', 'mv_1')).toEqual([expect.objectContaining({ Name: 'Revenue Movement: Upgrade' })]);
  });

  it('events are Stripe_Payment__c records upserted by Stripe_Event_Key__c; an org without the object gets record errors', async () => {
    const events = [event({ key: 'evt_1:paid', customerId: 'cus_1' }), event({ key: 'evt_2:paid', customerId: 'cus_2', value: null, currency: null })];
    sf.controls.removeObject('Stripe_Payment__c');
    const missing = await adapter().sendEvents(events, { backfill: false });
    expect(missing.get('evt_1:paid')).toMatchObject({ ok: false, errorClass: 'record', message: expect.stringContaining('no Stripe_Payment__c custom object') });

    sf.controls.addField('Stripe_Payment__c', { name: 'Stripe_Event_Key__c', externalId: true, unique: true });
    sf.controls.addField('Stripe_Payment__c', { name: 'Stripe_Customer_Id__c' });
    sf.controls.addField('Stripe_Payment__c', { name: 'Amount__c', type: 'currency' });
    sf.controls.addField('Stripe_Payment__c', { name: 'Currency__c', length: 3 });
    sf.controls.addField('Stripe_Payment__c', { name: 'Occurred_At__c', type: 'datetime' });
    const a = adapter();
    const sent = await a.sendEvents(events, { backfill: false });
    expect([...sent.values()]).toEqual([{ ok: true, externalId: null }, { ok: true, externalId: null }]);
    await a.sendEvents(events, { backfill: false });
    expect(sf.state.records.get('Stripe_Payment__c')!.size).toBe(2);
    expect(sf.controls.find('Stripe_Payment__c', 'Stripe_Event_Key__c', 'evt_1:paid')).toEqual([
      expect.objectContaining({ Name: 'Successfully Paid', Stripe_Customer_Id__c: 'cus_1', Amount__c: 49.99, Currency__c: 'USD', Occurred_At__c: new Date(1_760_000_000_000).toISOString() }),
    ]);
    expect(a.maxEventsPerCall).toBe(200);
    expect(a.maxProfilesPerCall).toBe(200);
  });

  it('Accounts before Contacts, an Opportunity per subscription: every collection batched across customers (calls counted)', async () => {
    const a = adapter();
    // 150 customers: the even ones a business (an Account), each with one subscription; cus_1 has a second one.
    const profiles = Array.from({ length: 150 }, (_, i) =>
      profile({
        customerId: `cus_${i}`,
        company: i % 2 === 0 ? { key: `domain:acme${i}.com`, name: `Acme ${i}`, domain: `acme${i}.com` } : null,
        subscriptions: [subscription({ key: `sub_${i}`, monthlyAmount: i }), ...(i === 1 ? [subscription({ key: 'sub_1b', stage: 'trialing', status: 'trialing', name: 'Team', closeDate: '2026-02-01' })] : [])],
      }),
    );
    const r = await a.upsertProfiles(profiles, { backfill: false });
    expect([...r.values()].every((x) => x.ok)).toBe(true);
    // Lookup by email (none found: no adoption), Account, Contact, Opportunity describe, Opportunity: 5 requests for
    // 150 new customers and 151 subscriptions.
    expect(sf.state.requests.map((q) => `${q.method} ${q.path.replace(/^.*\/v\d+\.\d+/, '')}`)).toEqual([QUERY, ACCOUNTS, UPSERT, 'GET /sobjects/Opportunity/describe', OPPORTUNITIES]);
    const bodies = sf.state.requests.filter((q) => q.method === 'PATCH').map((q) => q.body as { allOrNone: boolean; records: Record<string, unknown>[] });
    expect(bodies.map((b) => [b.allOrNone, b.records.length])).toEqual([[false, 75], [false, 150], [false, 151]]);

    const [account] = sf.controls.find('Account', 'Stripe_Customer_Id__c', 'cus_4');
    expect(account).toMatchObject({ Name: 'Acme 4', Website: 'acme4.com' });
    expect(sf.controls.find('Contact', 'Stripe_Customer_Id__c', 'cus_4')).toEqual([expect.objectContaining({ AccountId: account!.Id })]);
    expect(sf.controls.find('Contact', 'Stripe_Customer_Id__c', 'cus_5')[0]!.AccountId).toBeUndefined();
    const contact1 = sf.controls.find('Contact', 'Stripe_Customer_Id__c', 'cus_1')[0]!;
    expect(sf.controls.find('Opportunity', 'Stripe_Subscription_Id__c', 'sub_4')).toEqual([
      expect.objectContaining({ Name: 'Pro – Ada Lovelace', StageName: 'Closed Won', Amount: 4, CloseDate: '2026-01-15', AccountId: account!.Id, ContactId: sf.controls.find('Contact', 'Stripe_Customer_Id__c', 'cus_4')[0]!.Id }),
    ]);
    expect(sf.controls.find('Opportunity', 'Stripe_Subscription_Id__c', 'sub_1b')).toEqual([
      expect.objectContaining({ Name: 'Team', StageName: 'Prospecting', CloseDate: '2026-02-01', ContactId: contact1.Id }),
    ]);
    // The org has a single currency and no Stripe_Currency__c: the currency is left out.
    expect(sf.controls.find('Opportunity', 'Stripe_Subscription_Id__c', 'sub_4')[0]).not.toHaveProperty('CurrencyIsoCode');
  });

  it('a plan change and a cancel update the same Opportunity (Closed Lost); ContactId (settable on create only) is kept: an existing Opportunity is sent again without it', async () => {
    const first = adapter();
    await first.upsertProfiles([profile({ customerId: 'cus_1', company: null, subscriptions: [subscription({ key: 'sub_1' })] })], { backfill: false });
    const [opp] = sf.controls.find('Opportunity', 'Stripe_Subscription_Id__c', 'sub_1');
    const contactId = opp!.ContactId;
    expect(contactId).toMatch(/^003/);

    const before = sf.state.requests.length;
    const second = adapter();
    const plan = await second.upsertProfiles(
      [profile({ customerId: 'cus_1', company: null, subscriptions: [subscription({ key: 'sub_1', name: 'Enterprise – Ada Lovelace', monthlyAmount: 199 })] })],
      { backfill: false },
    );
    expect(plan.get('cus_1')).toMatchObject({ ok: true });
    expect(sf.controls.find('Opportunity', 'Stripe_Subscription_Id__c', 'sub_1')).toEqual([
      expect.objectContaining({ Id: opp!.Id, Name: 'Enterprise – Ada Lovelace', Amount: 199, StageName: 'Closed Won', ContactId: contactId }),
    ]);
    // The existing Opportunity refused ContactId (create only): sent again without it, in one more call.
    const sent = sf.state.requests.slice(before).filter((q) => q.method === 'PATCH' && q.path.endsWith('/Opportunity/Stripe_Subscription_Id__c'));
    expect(sent.map((q) => 'Contact' in (q.body as { records: Record<string, unknown>[] }).records[0]!)).toEqual([true, false]);

    // An org where ContactId is updateable takes it in one call.
    sf.controls.addField('Opportunity', { name: 'ContactId', type: 'reference', relationshipName: 'Contact', referenceTo: ['Contact'], custom: false });
    const third = adapter();
    const mark = sf.state.requests.length;
    await third.upsertProfiles(
      [profile({ customerId: 'cus_1', company: null, subscriptions: [subscription({ key: 'sub_1', stage: 'canceled', status: 'canceled', closeDate: '2026-03-01' })] })],
      { backfill: false },
    );
    expect(sf.state.requests.slice(mark).filter((q) => q.path.endsWith('/Opportunity/Stripe_Subscription_Id__c'))).toHaveLength(1);
    expect(sf.controls.find('Opportunity', 'Stripe_Subscription_Id__c', 'sub_1')).toEqual([expect.objectContaining({ Id: opp!.Id, StageName: 'Closed Lost', CloseDate: '2026-03-01' })]);
    expect(sf.state.records.get('Opportunity')!.size).toBe(1);
  });

  it('an Opportunity the destination wrote before (its memo) is sent without ContactId at once: one call per pass', async () => {
    const memo = new Map<string, unknown>();
    const pass = () => createSalesforceAdapter({ apiKey: sf.accessToken, baseUrl: sf.url, pacer: bed.pacer(), timeoutMs: 5_000, memo }, { failureBackoffMs: 20 });
    const opportunityCalls = (from: number) => sf.state.requests.slice(from).filter((q) => q.method === 'PATCH' && q.path.endsWith('/Opportunity/Stripe_Subscription_Id__c'));
    await pass().upsertProfiles([profile({ customerId: 'cus_1', company: null, subscriptions: [subscription({ key: 'sub_1' })] })], { backfill: false });
    const [opp] = sf.controls.find('Opportunity', 'Stripe_Subscription_Id__c', 'sub_1');
    expect(opp!.ContactId).toMatch(/^003/);
    const mark = sf.state.requests.length;
    const r = await pass().upsertProfiles(
      [profile({ customerId: 'cus_1', company: null, subscriptions: [subscription({ key: 'sub_1', stage: 'canceled', status: 'canceled' })] })],
      { backfill: false },
    );
    expect(r.get('cus_1')).toMatchObject({ ok: true });
    expect(opportunityCalls(mark).map((q) => 'Contact' in (q.body as { records: Record<string, unknown>[] }).records[0]!)).toEqual([false]);
    expect(sf.controls.find('Opportunity', 'Stripe_Subscription_Id__c', 'sub_1')).toEqual([expect.objectContaining({ Id: opp!.Id, StageName: 'Closed Lost', ContactId: opp!.ContactId })]);
  });

  it('the currency goes in CurrencyIsoCode in a multi-currency org, else in Stripe_Currency__c when the org has it', async () => {
    sf.controls.addField('Opportunity', { name: 'Stripe_Currency__c', length: 3 });
    await adapter().upsertProfiles([profile({ customerId: 'cus_1', subscriptions: [subscription({ key: 'sub_1', currency: 'EUR' })] })], { backfill: false });
    expect(sf.controls.find('Opportunity', 'Stripe_Subscription_Id__c', 'sub_1')[0]).toMatchObject({ Stripe_Currency__c: 'EUR' });
    sf.controls.enableMultiCurrency();
    await adapter().upsertProfiles([profile({ customerId: 'cus_2', subscriptions: [subscription({ key: 'sub_2', currency: 'EUR' })] })], { backfill: false });
    const [opp] = sf.controls.find('Opportunity', 'Stripe_Subscription_Id__c', 'sub_2');
    expect(opp).toMatchObject({ CurrencyIsoCode: 'EUR' });
    expect(opp).not.toHaveProperty('Stripe_Currency__c');
  });

  it('refused related records make the customer a record error naming them; the Contact is still written', async () => {
    // A stage the org's picklist lacks, and two Opportunities holding the same subscription id (the key not Unique).
    sf.controls.setPicklist('Opportunity', 'StageName', ['Prospecting', 'Closed Won', 'Closed Lost']);
    sf.controls.addField('Opportunity', { name: 'Stripe_Subscription_Id__c', externalId: true, unique: false });
    sf.controls.insert('Opportunity', { Name: 'Copy 1', Stripe_Subscription_Id__c: 'sub_dup' });
    sf.controls.insert('Opportunity', { Name: 'Copy 2', Stripe_Subscription_Id__c: 'sub_dup' });
    const r = await adapter().upsertProfiles(
      [
        profile({ customerId: 'cus_late', subscriptions: [subscription({ key: 'sub_late', stage: 'past_due', status: 'past_due' })] }),
        profile({ customerId: 'cus_dup', subscriptions: [subscription({ key: 'sub_dup' })] }),
        profile({ customerId: 'cus_ok', subscriptions: [subscription({ key: 'sub_ok' })] }),
      ],
      { backfill: false },
    );
    expect(r.get('cus_late')).toEqual({
      ok: false,
      errorClass: 'record',
      message: expect.stringMatching(/^subscription sub_late: Salesforce refused the Opportunity: INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST: Stage: bad value for restricted picklist field: Negotiation\/Review \(fields: StageName\) \(the org's Opportunity Stage picklist lacks this stage/),
    });
    expect(r.get('cus_dup')).toEqual({
      ok: false,
      errorClass: 'record',
      message: expect.stringMatching(/^subscription sub_dup: Salesforce refused the Opportunity: DUPLICATE_EXTERNAL_ID: .*\(several Opportunity records hold Stripe_Subscription_Id__c = sub_dup/),
    });
    expect(r.get('cus_ok')).toMatchObject({ ok: true });
    expect(sf.controls.find('Contact', 'Stripe_Customer_Id__c', 'cus_late')).toHaveLength(1);

    // An org without the Account key: the Accounts are refused, the Contacts are written unlinked.
    sf.controls.removeField('Account', 'Stripe_Customer_Id__c');
    const b = await adapter().upsertProfiles([profile({ customerId: 'cus_biz', company: { key: 'customer:cus_biz', name: 'Biz Ltd', domain: null } })], { backfill: false });
    expect(b.get('cus_biz')).toMatchObject({ ok: false, errorClass: 'record', message: expect.stringContaining('Salesforce refused the Account upsert (404 NOT_FOUND)') });
    expect(sf.controls.find('Contact', 'Stripe_Customer_Id__c', 'cus_biz')).toEqual([expect.not.objectContaining({ AccountId: expect.anything() })]);
  });

  const endpoints = (from = 0) => sf.state.requests.slice(from).map((q) => `${q.method} ${q.path.replace(/^.*\/v\d+\.\d+/, '').replace(/\/query\/.+$/, '/query')}`);
  const contactsWithEmail = (email: string) => [...sf.state.records.get('Contact')!.values()].filter((c) => String(c.Email).toLowerCase() === email.toLowerCase());

  it('adopts the Contact that already has the customer email (any case, most recently modified, quotes escaped): never a duplicate', async () => {
    const ada = sf.controls.insert('Contact', { Email: 'Ada.Lovelace@Example.COM', FirstName: 'A.', LastName: 'Imported' });
    // Holds another customer's id: never adopted.
    const grace = sf.controls.insert('Contact', { Email: 'grace@example.com', LastName: 'Hopper', Stripe_Customer_Id__c: 'cus_someone_else' });
    // Three Contacts share an email: the most recently modified is adopted, the others are left alone.
    const [katOld, katRecent, katOlder] = ['2025-03-01', '2026-01-10', '2024-07-07'].map((d) =>
      sf.controls.insert('Contact', { Email: 'kat@example.com', LastName: 'Johnson', LastModifiedDate: `${d}T09:00:00.000+0000` }),
    );
    const obrien = sf.controls.insert('Contact', { Email: "o'brien@example.com", LastName: "O'Brien" });
    sf.controls.setQueryBatchSize(2); // 5 rows: three pages, followed through nextRecordsUrl

    const r = await adapter().upsertProfiles(
      [
        profile({ customerId: 'cus_ada', email: 'ada.lovelace@example.com', properties: { Stripe_Mrr__c: 49 } }),
        profile({ customerId: 'cus_grace', email: 'grace@example.com' }),
        profile({ customerId: 'cus_kat', email: 'kat@example.com' }),
        profile({ customerId: 'cus_ob', email: "o'brien@example.com" }),
        // Two customers with one email: the Contact is adopted by the first only.
        profile({ customerId: 'cus_ada2', email: 'ADA.lovelace@example.com' }),
        // Written before: not looked up.
        profile({ customerId: 'cus_known', email: 'known@example.com', externalId: '003xx000000known' }),
      ],
      { backfill: false },
    );
    expect(endpoints()).toEqual([QUERY, QUERY, QUERY, ADOPT, UPSERT]);
    const [query] = sf.state.requests;
    expect(new URLSearchParams(query!.search).get('q')).toBe(
      "SELECT Id, Email, LastModifiedDate FROM Contact WHERE Stripe_Customer_Id__c = null AND Email IN ('ada.lovelace@example.com', 'grace@example.com', 'kat@example.com', 'o\\'brien@example.com') ORDER BY LastModifiedDate DESC",
    );
    expect(sf.state.requests[3]!.body).toEqual({
      allOrNone: false,
      records: [ada, katRecent, obrien].map((id, i) => ({ attributes: { type: 'Contact' }, id, Stripe_Customer_Id__c: ['cus_ada', 'cus_kat', 'cus_ob'][i] })),
    });

    expect([...r.values()].every((x) => x.ok)).toBe(true);
    expect(r.get('cus_ada')).toEqual({ ok: true, externalId: ada });
    expect(sf.controls.find('Contact', 'Stripe_Customer_Id__c', 'cus_ada')).toEqual([
      expect.objectContaining({ Id: ada, Email: 'ada.lovelace@example.com', FirstName: 'Ada', LastName: 'Lovelace', Stripe_Mrr__c: 49 }),
    ]);
    const twin = sf.controls.find('Contact', 'Stripe_Customer_Id__c', 'cus_ada2');
    expect(twin).toHaveLength(1);
    expect(twin[0]!.Id).not.toBe(ada);
    expect(r.get('cus_grace')).toMatchObject({ ok: true, externalId: expect.not.stringMatching(grace) });
    expect(sf.state.records.get('Contact')!.get(grace)).toMatchObject({ Stripe_Customer_Id__c: 'cus_someone_else' });
    expect(r.get('cus_kat')).toEqual({ ok: true, externalId: katRecent });
    for (const id of [katOld!, katOlder!]) expect(sf.state.records.get('Contact')!.get(id)!.Stripe_Customer_Id__c).toBeUndefined();
    expect(contactsWithEmail('kat@example.com')).toHaveLength(3);
    expect(r.get('cus_ob')).toEqual({ ok: true, externalId: obrien });
    // 7 seeded (none duplicated), plus cus_grace, cus_ada2 and cus_known.
    expect(sf.state.records.get('Contact')!.size).toBe(9);
  });

  it('requests per call: 150 new customers (10 of them in the org already) take 3, the same customers again 1 (no lookup)', async () => {
    const adopted = new Map<string, string>();
    for (let i = 0; i < 150; i += 15) adopted.set(`cus_${i}`, sf.controls.insert('Contact', { Email: `CUS_${i}@example.com`, LastName: 'Imported' }));
    const profiles = Array.from({ length: 150 }, (_, i) => profile({ customerId: `cus_${i}`, properties: { Stripe_Mrr__c: i } }));
    const first = await adapter().upsertProfiles(profiles, { backfill: false });
    expect(endpoints()).toEqual([QUERY, ADOPT, UPSERT]);
    expect((sf.state.requests[1]!.body as { records: unknown[] }).records).toHaveLength(10);
    for (const [cus, id] of adopted) expect(first.get(cus)).toEqual({ ok: true, externalId: id });
    expect(sf.state.records.get('Contact')!.size).toBe(150);

    // The engine keeps each Contact's Id: the second write looks nothing up.
    const mark = sf.state.requests.length;
    const again = profiles.map((p) => ({ ...p, externalId: (first.get(p.customerId) as { externalId: string }).externalId, properties: { Stripe_Mrr__c: 1 } }));
    const second = await adapter().upsertProfiles(again, { backfill: false });
    expect(endpoints(mark)).toEqual([UPSERT]);
    expect([...second.values()].every((x) => x.ok)).toBe(true);
    expect(sf.state.records.get('Contact')!.size).toBe(150);
  });

  it('a refused lookup holds back only the new customers (no duplicate); a Contact already holding the id is updated, the one with the email left alone', async () => {
    // The customer id is held already (the destination reconnected) and another Contact has the email.
    const holder = sf.controls.insert('Contact', { Email: 'old@example.com', LastName: 'Holder', Stripe_Customer_Id__c: 'cus_1' });
    const sameEmail = sf.controls.insert('Contact', { Email: 'ada@example.com', LastName: 'Other' });
    const r = await adapter().upsertProfiles([profile({ customerId: 'cus_1', email: 'ada@example.com' })], { backfill: false });
    // The adoption is refused (DUPLICATE_VALUE: the key is Unique): the upsert updates the holder.
    expect(endpoints()).toEqual([QUERY, ADOPT, UPSERT]);
    expect(r.get('cus_1')).toEqual({ ok: true, externalId: holder });
    expect(sf.state.records.get('Contact')!.get(holder)).toMatchObject({ Email: 'ada@example.com' });
    expect(sf.state.records.get('Contact')!.get(sameEmail)!.Stripe_Customer_Id__c).toBeUndefined();

    // The lookup refused (the user cannot see Email): the new customer waits as a record error; the others are written.
    sf.controls.removeField('Contact', 'Email');
    const refused = await adapter().upsertProfiles(
      [profile({ customerId: 'cus_new' }), profile({ customerId: 'cus_old', email: null, externalId: '003xx00000000old' })],
      { backfill: false },
    );
    expect(refused.get('cus_new')).toEqual({ ok: false, errorClass: 'record', message: expect.stringMatching(/^Salesforce refused the lookup of existing Contacts by email \(400 INVALID_FIELD\): No such column 'Email'.*no duplicate is made\)$/) });
    expect(refused.get('cus_old')).toMatchObject({ ok: true });
    expect(sf.controls.find('Contact', 'Stripe_Customer_Id__c', 'cus_new')).toEqual([]);
  });

  it('removeProfile: Salesforce records stay (a record error saying so)', async () => {
    const r = await adapter().removeProfile({ customerId: 'cus_1', email: null, externalId: null }, 'delete');
    expect(r).toMatchObject({ ok: false, errorClass: 'record', message: expect.stringContaining('Salesforce records stay') });
    expect(sf.state.requests).toHaveLength(0);
  });
});
