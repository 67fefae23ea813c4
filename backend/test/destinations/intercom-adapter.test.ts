import { destinationEvent, errorOf, profile, useAdapterTestBed } from './adapter-harness';
import { createIntercomAdapter, intercomRegionUrl } from '../../src/adapters/intercom/adapter';
import { dbKinds } from '../helpers/db';
import { startFakeIntercom, type FakeIntercom, type FakeIntercomOptions } from '../fakes/intercom/server';

/**
 * The Intercom destination against the fake Intercom API over HTTP, with the database-backed pacer shared by
 * instances (each test has its own destination prefix, as the engine gives each destination its own buckets). The
 * fake's rate period is shortened to 1 s so waits until `X-RateLimit-Reset` stay short.
 */

describe('intercomRegionUrl', () => {
  it('gives each region its documented server', () => {
    expect([intercomRegionUrl('us'), intercomRegionUrl('eu'), intercomRegionUrl('au')]).toEqual([
      'https://api.intercom.io',
      'https://api.eu.intercom.io',
      'https://api.au.intercom.io',
    ]);
  });
});

describe.each(dbKinds())('Intercom destination adapter on %s', (kind) => {
  const bed = useAdapterTestBed(kind);
  let fake: FakeIntercom;

  const start = async (opts: FakeIntercomOptions = {}) => {
    fake = await startFakeIntercom({ appName: 'Acme Support', periodMs: 1000, ...opts });
  };
  beforeEach(async () => {
    await start();
  });
  afterEach(async () => {
    // Every request followed the document (no body refused as invalid) and every answer of the fake matched it.
    expect(fake.state.requests.filter((r) => r.error === 'parameter_invalid' || r.error === 'intercom_version_invalid')).toEqual([]);
    expect(fake.state.answerProblems).toEqual([]);
    await fake.close();
  });

  const adapter = (apiKey = fake.token) => createIntercomAdapter({ apiKey, baseUrl: fake.url, pacer: bed.pacer(), timeoutMs: 5_000 });

  it('checks the token: the label is the workspace name; every call sends Intercom-Version 2.14', async () => {
    await expect(adapter().check()).resolves.toEqual({ label: 'Acme Support' });
    expect(fake.state.calls['GET /me']).toBe(1);
    expect(fake.state.requests.map((r) => r.version)).toEqual(['2.14']);
  });

  it('a revoked or wrong token is a connection error, without the token in the message', async () => {
    const wrong = await errorOf(adapter('not-the-token').check());
    expect([wrong.errorClass, wrong.status]).toEqual(['connection', 401]);
    fake.controls.revokeToken();
    const revoked = await errorOf(adapter().upsertProfiles([profile({ customerId: 'cus_rev' })], { backfill: false }));
    expect(revoked.errorClass).toBe('connection');
    expect(revoked.message).not.toContain(fake.token);
    expect(fake.state.calls['GET /contacts/find_by_external_id/{external_id}']).toBe(1);
  });

  it('creates the custom data attributes before use, in Intercom types, and not twice; dates written as unix seconds', async () => {
    const defs = [
      { name: 'stripe_mrr', type: 'number' as const },
      { name: 'stripe_plan', type: 'string' as const },
      { name: 'stripe_delinquent', type: 'boolean' as const },
      { name: 'stripe_customer_since', type: 'date' as const },
    ];
    await adapter().ensureProperties(defs);
    const custom = [...fake.state.attributes.values()].filter((a) => a.custom);
    expect(custom.map((a) => [a.name, a.data_type])).toEqual([
      ['stripe_mrr', 'float'],
      ['stripe_plan', 'string'],
      ['stripe_delinquent', 'boolean'],
      ['stripe_customer_since', 'date'],
    ]);
    expect(fake.state.calls['GET /data_attributes']).toBe(1);
    expect(fake.state.calls['POST /data_attributes']).toBe(4);

    // Another instance lists once and creates nothing.
    await adapter().ensureProperties(defs);
    expect(fake.state.calls['GET /data_attributes']).toBe(2);
    expect(fake.state.calls['POST /data_attributes']).toBe(4);

    // A fresh instance that did not ensure anything learns the types with one list, then writes in them.
    const fresh = adapter();
    const results = await fresh.upsertProfiles(
      [profile({ customerId: 'cus_props', properties: { stripe_mrr: 49.5, stripe_plan: 'Pro', stripe_delinquent: false, stripe_customer_since: '2024-03-01' } })],
      { backfill: false },
    );
    const c = fake.controls.contact({ external_id: 'cus_props' })!;
    expect(results.get('cus_props')).toEqual({ ok: true, externalId: c.id });
    expect(c.custom_attributes).toEqual({ stripe_mrr: 49.5, stripe_plan: 'Pro', stripe_delinquent: false, stripe_customer_since: 1_709_251_200 });
    expect(fake.state.calls['GET /data_attributes']).toBe(3);
    await fresh.upsertProfiles([profile({ customerId: 'cus_props', externalId: c.id, properties: { stripe_plan: 'Team' } })], { backfill: false });
    expect(fake.state.calls['GET /data_attributes']).toBe(3);
  });

  it('creates a new contact of role user with the customer id as external_id', async () => {
    const results = await adapter().upsertProfiles([profile({ customerId: 'cus_new1' })], { backfill: false });
    const c = fake.controls.contact({ external_id: 'cus_new1' })!;
    expect(results.get('cus_new1')).toEqual({ ok: true, externalId: c.id });
    expect(c).toMatchObject({ role: 'user', email: 'cus_new1@example.com', name: 'Ada Lovelace', unsubscribed_from_emails: false });
    expect(fake.state.contacts.size).toBe(1);
    // Looked up by external_id, then by email, then created with everything in one call.
    expect(fake.state.requests.map((r) => r.endpoint)).toEqual(['GET /contacts/find_by_external_id/{external_id}', 'POST /contacts/search', 'POST /contacts']);
  });

  it('an existing contact found by email gets the external_id (no second contact)', async () => {
    const seeded = fake.controls.seedContact({ email: 'known@example.com', name: 'Known' });
    fake.controls.seedContact({ email: 'known@example.com', external_id: 'cus_someone_else' });
    const results = await adapter().upsertProfiles([profile({ customerId: 'cus_known', email: 'known@example.com' })], { backfill: false });
    expect(results.get('cus_known')).toEqual({ ok: true, externalId: seeded.id });
    expect(fake.controls.contact({ id: seeded.id })).toMatchObject({ external_id: 'cus_known', name: 'Ada Lovelace' });
    expect(fake.state.contacts.size).toBe(2);
    expect(fake.state.calls['POST /contacts']).toBeUndefined();
  });

  it('an email change keeps one contact, found by external_id or by the kept Intercom id', async () => {
    const a = adapter();
    const first = await a.upsertProfiles([profile({ customerId: 'cus_move', email: 'old@example.com' })], { backfill: false });
    const id = (first.get('cus_move') as { externalId: string }).externalId;
    await a.upsertProfiles([profile({ customerId: 'cus_move', email: 'new@example.com', previousEmail: 'old@example.com' })], { backfill: false });
    expect(fake.state.contacts.size).toBe(1);
    expect(fake.controls.contact({ id })).toMatchObject({ email: 'new@example.com', external_id: 'cus_move' });

    // With the Intercom id kept, one call.
    const before = fake.state.requests.length;
    const r = await a.upsertProfiles([profile({ customerId: 'cus_move', email: 'newer@example.com', previousEmail: 'new@example.com', externalId: id })], { backfill: false });
    expect(r.get('cus_move')).toEqual({ ok: true, externalId: id });
    expect(fake.state.requests.slice(before).map((x) => x.endpoint)).toEqual(['PUT /contacts/{id}']);
    expect(fake.controls.contact({ id })!.email).toBe('newer@example.com');
    expect(fake.state.contacts.size).toBe(1);
  });

  it('a 409 on create (the contact not yet visible to search) is resolved to that contact', async () => {
    await fake.close();
    await start({ searchDelayMs: 60_000 });
    const hidden = fake.controls.seedContact({ email: 'race@example.com', justMade: true });
    const results = await adapter().upsertProfiles([profile({ customerId: 'cus_race', email: 'race@example.com' })], { backfill: false });
    expect(results.get('cus_race')).toEqual({ ok: true, externalId: hidden.id });
    expect(fake.state.requests.filter((r) => r.endpoint === 'POST /contacts').map((r) => r.status)).toEqual([409]);
    expect(fake.controls.contact({ id: hidden.id })!.external_id).toBe('cus_race');
    expect(fake.state.contacts.size).toBe(1);
  });

  it('an event sent 5 times lands once; value and currency go as a monetary amount; at most 10 metadata keys', async () => {
    const a = adapter();
    await a.upsertProfiles([profile({ customerId: 'cus_ev' })], { backfill: false });
    const props = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`p${i}`, i % 2 ? `v${i}` : i])) as Record<string, string | number>;
    const e = destinationEvent({ key: 'evt_1:successfully_paid', customerId: 'cus_ev', properties: { ...props, flag: true } });
    for (let i = 0; i < 5; i++) {
      const r = await a.sendEvents([e], { backfill: false });
      expect(r.get(e.key)).toEqual({ ok: true, externalId: null });
    }
    expect(fake.state.calls['POST /events']).toBe(5);
    expect(fake.state.events).toHaveLength(1);
    expect(fake.state.duplicateEvents).toBe(4);
    const landed = fake.state.events[0]!;
    expect(landed).toMatchObject({ event_name: 'Successfully Paid', created_at: 1_760_000_000, contactId: fake.controls.contact({ external_id: 'cus_ev' })!.id });
    expect(Object.keys(landed.metadata)).toHaveLength(10);
    expect(landed.metadata.amount).toEqual({ amount: 4999, currency: 'usd' });
    expect(fake.state.ignoredMetadataKeys).toEqual([]);

    // Yen has no minor unit; a zero amount is not a monetary amount.
    await a.sendEvents(
      [
        destinationEvent({ key: 'evt_2', customerId: 'cus_ev', time: 1_760_000_100, value: 500, currency: 'JPY', properties: {} }),
        destinationEvent({ key: 'evt_3', customerId: 'cus_ev', time: 1_760_000_200, value: 0, currency: 'USD', properties: {} }),
      ],
      { backfill: false },
    );
    expect(fake.state.events.slice(1).map((x) => x.metadata)).toEqual([{ amount: { amount: 500, currency: 'jpy' } }, { value: 0, currency: 'USD' }]);
  });

  it('unsubscribe sets unsubscribed_from_emails; delete removes the contact; gone already is done', async () => {
    const a = adapter();
    const r = await a.upsertProfiles([profile({ customerId: 'cus_unsub' }), profile({ customerId: 'cus_del' })], { backfill: false });
    await expect(a.removeProfile({ customerId: 'cus_unsub', email: 'cus_unsub@example.com', externalId: null }, 'unsubscribe')).resolves.toEqual({ ok: true, externalId: null });
    expect(fake.controls.contact({ external_id: 'cus_unsub' })!.unsubscribed_from_emails).toBe(true);

    const delId = (r.get('cus_del') as { externalId: string }).externalId;
    await expect(a.removeProfile({ customerId: 'cus_del', email: null, externalId: delId }, 'delete')).resolves.toEqual({ ok: true, externalId: null });
    expect(fake.controls.contact({ id: delId })).toBeUndefined();
    await expect(a.removeProfile({ customerId: 'cus_del', email: null, externalId: delId }, 'delete')).resolves.toEqual({ ok: true, externalId: null });
    await expect(a.removeProfile({ customerId: 'cus_never', email: null, externalId: null }, 'unsubscribe')).resolves.toEqual({ ok: true, externalId: null });
    expect(fake.state.contacts.size).toBe(1);
  });

  it('a 429 is waited out until X-RateLimit-Reset (penalty in the database), then succeeds', async () => {
    fake.controls.throttleNext(1);
    const before = Date.now();
    await expect(adapter().check()).resolves.toEqual({ label: 'Acme Support' });
    expect(fake.state.calls['GET /me']).toBe(2);
    const until = await bed.penaltyUntil('workspace');
    expect(until).not.toBeNull();
    expect(until!).toBeGreaterThan(before);
    expect(until! - before).toBeLessThanOrEqual(2_500);
  });

  it('X-RateLimit-Remaining: 0 makes the next request wait for the next period (no 429)', async () => {
    await fake.close();
    await start({ limitPerPeriod: 2 });
    await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
    const a = adapter();
    for (let i = 0; i < 5; i++) await a.check();
    expect(fake.state.throttled).toBe(0);
    expect(await bed.penaltyUntil('workspace')).not.toBeNull();
    expect(fake.state.calls['GET /me']).toBe(5);
  });

  it('a 429 storm fails the call rate_limited with a retry-after', async () => {
    fake.controls.throttleNext(100);
    const err = await errorOf(adapter().upsertProfiles([profile({ customerId: 'cus_storm' })], { backfill: false }));
    expect(err.errorClass).toBe('rate_limited');
    expect(err.retryAfterMs).toBeGreaterThan(0);
    expect(err.retryAfterMs).toBeLessThanOrEqual(11_000);
    expect(fake.state.throttled).toBe(3);
    expect(fake.state.contacts.size).toBe(0);
  });

  it('5xx then success; 5xx every time is retryable for that record', async () => {
    fake.controls.failNext(2, 503);
    const ok = await adapter().upsertProfiles([profile({ customerId: 'cus_5xx' })], { backfill: false });
    expect(ok.get('cus_5xx')).toEqual({ ok: true, externalId: expect.any(String) });
    expect(fake.state.contacts.size).toBe(1);

    fake.controls.failNext(3, 500);
    const failed = await adapter().sendEvents([destinationEvent({ key: 'evt_5xx', customerId: 'cus_5xx' })], { backfill: false });
    expect(failed.get('evt_5xx')).toMatchObject({ ok: false, errorClass: 'retryable' });
    expect(fake.state.events).toEqual([]);
  });

  it('a per-contact refusal is a record error with Intercom message; the others are written', async () => {
    await adapter().ensureProperties([{ name: 'stripe_plan', type: 'string' }]);
    const results = await adapter().upsertProfiles(
      [profile({ customerId: 'cus_good', properties: { stripe_plan: 'Pro' } }), profile({ customerId: 'cus_bad', properties: { never_declared: 'x' } })],
      { backfill: false },
    );
    expect(results.get('cus_good')).toEqual({ ok: true, externalId: expect.any(String) });
    expect(results.get('cus_bad')).toEqual({ ok: false, errorClass: 'record', message: expect.stringContaining("Custom attribute 'never_declared' does not exist") });
    expect(fake.controls.contact({ external_id: 'cus_bad' })).toBeUndefined();

    const ev = await adapter().sendEvents([destinationEvent({ key: 'evt_nobody', customerId: 'cus_nobody' })], { backfill: false });
    expect(ev.get('evt_nobody')).toEqual({ ok: false, errorClass: 'record', message: expect.stringContaining('User Not Found') });
  });
});
