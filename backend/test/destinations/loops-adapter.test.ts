import { destinationEvent, errorOf, profile, useAdapterTestBed } from './adapter-harness';
import { createLoopsAdapter } from '../../src/adapters/loops/adapter';
import { dbKinds } from '../helpers/db';
import { startFakeLoops, type FakeLoops } from '../fakes/loops/server';

/**
 * The Loops destination against the fake Loops API, with the database-backed pacer shared by instances (each test
 * has its own destination prefix, as the engine gives each destination its own buckets).
 */

describe.each(dbKinds())('Loops destination adapter on %s', (kind) => {
  const bed = useAdapterTestBed(kind);
  let fake: FakeLoops;

  beforeEach(async () => {
    fake = await startFakeLoops({ teamName: 'Acme Email' });
  });
  afterEach(async () => {
    await fake.close();
  });

  const adapter = (apiKey = fake.apiKey) => createLoopsAdapter({ apiKey, baseUrl: fake.url, pacer: bed.pacer(), timeoutMs: 5_000 });

  it('checks the key: the label is the team name', async () => {
    await expect(adapter().check()).resolves.toEqual({ label: 'Acme Email' });
    expect(fake.state.calls['GET /api/v1/api-key']).toBe(1);
  });

  it('a revoked or wrong key is a connection error, without the key in the message', async () => {
    const wrong = await errorOf(adapter('not-the-key').check());
    expect(wrong.errorClass).toBe('connection');
    expect(wrong.status).toBe(401);
    fake.controls.revokeKey();
    const revoked = await errorOf(adapter().upsertProfiles([profile({ customerId: 'cus_rev' })], { backfill: false }));
    expect(revoked.errorClass).toBe('connection');
    expect(revoked.message).not.toContain(fake.apiKey);
    expect(fake.state.calls['PUT /api/v1/contacts/update']).toBe(1);
  });

  it('creates the custom properties before use, with Loops types, and not again', async () => {
    const defs = [
      { name: 'stripeMrr', type: 'number' as const },
      { name: 'stripePlan', type: 'string' as const },
      { name: 'stripeDelinquent', type: 'boolean' as const },
      { name: 'stripeCustomerSince', type: 'date' as const },
    ];
    await adapter().ensureProperties(defs);
    expect([...fake.state.properties.values()].map((p) => [p.key, p.type])).toEqual(defs.map((d) => [d.name, d.type]));
    expect(fake.state.calls['POST /api/v1/contacts/properties']).toBe(4);

    // A second instance (another pass, another backend instance) lists once and creates nothing.
    const again = adapter();
    await again.ensureProperties(defs);
    expect(fake.state.calls['GET /api/v1/contacts/properties']).toBe(2);
    expect(fake.state.calls['POST /api/v1/contacts/properties']).toBe(4);

    const results = await again.upsertProfiles(
      [profile({ customerId: 'cus_props', properties: { stripeMrr: 49.5, stripePlan: 'Pro', stripeDelinquent: false, stripeCustomerSince: '2024-03-01', stripeUnset: null } })],
      { backfill: false },
    );
    expect(results.get('cus_props')).toEqual({ ok: true, externalId: expect.any(String) });
    const c = fake.controls.contact({ userId: 'cus_props' })!;
    expect(c.properties).toEqual({ stripeMrr: 49.5, stripePlan: 'Pro', stripeDelinquent: false, stripeCustomerSince: '2024-03-01T00:00:00.000Z' });
    // Nothing was created on the fly with a guessed type.
    expect(fake.state.autoCreatedProperties).toEqual([]);
  });

  it('creates a new contact by userId and email', async () => {
    const results = await adapter().upsertProfiles([profile({ customerId: 'cus_new1' })], { backfill: false });
    const c = fake.controls.contact({ userId: 'cus_new1' })!;
    expect(results.get('cus_new1')).toEqual({ ok: true, externalId: c.id });
    expect(c).toMatchObject({ email: 'cus_new1@example.com', firstName: 'Ada', lastName: 'Lovelace', subscribed: true });
    expect(fake.state.contacts.size).toBe(1);
  });

  it('an existing contact found by email gets the userId (no second contact)', async () => {
    const seeded = fake.controls.seedContact({ email: 'grace@example.com', firstName: 'Grace' });
    const results = await adapter().upsertProfiles([profile({ customerId: 'cus_grace', email: 'grace@example.com', firstName: 'Grace', lastName: 'Hopper' })], {
      backfill: false,
    });
    expect(results.get('cus_grace')).toEqual({ ok: true, externalId: seeded.id });
    expect(fake.state.contacts.size).toBe(1);
    expect(fake.controls.contact({ email: 'grace@example.com' })).toMatchObject({ id: seeded.id, userId: 'cus_grace', lastName: 'Hopper' });
  });

  it('an email change keeps one contact, moved to the new address', async () => {
    const a = adapter();
    await a.upsertProfiles([profile({ customerId: 'cus_move', email: 'old@example.com' })], { backfill: false });
    const before = fake.controls.contact({ userId: 'cus_move' })!;
    const results = await a.upsertProfiles([profile({ customerId: 'cus_move', email: 'new@example.com', previousEmail: 'old@example.com', externalId: before.id })], {
      backfill: false,
    });
    expect(results.get('cus_move')).toEqual({ ok: true, externalId: before.id });
    expect(fake.state.contacts.size).toBe(1);
    expect(fake.controls.contact({ email: 'old@example.com' })).toBeUndefined();
    expect(fake.controls.contact({ email: 'new@example.com' })?.id).toBe(before.id);
  });

  it('upserts a batch with one result per customer, under the rate, with bounded concurrency', async () => {
    const profiles = Array.from({ length: 14 }, (_, i) => profile({ customerId: `cus_b${i}` }));
    const results = await adapter().upsertProfiles(profiles, { backfill: true });
    expect([...results.keys()].sort()).toEqual(profiles.map((p) => p.customerId).sort());
    expect([...results.values()].every((r) => r.ok)).toBe(true);
    expect(fake.state.contacts.size).toBe(14);
    expect(fake.state.throttled).toBe(0);
  });

  it('an event sent 5 times with the same key lands once', async () => {
    const a = adapter();
    const e = destinationEvent({ key: 'evt_1PaidA:successfully_paid', customerId: 'cus_ev' });
    for (let i = 0; i < 5; i++) {
      const r = await a.sendEvents([e], { backfill: false });
      expect(r.get(e.key)).toEqual({ ok: true, externalId: null });
    }
    expect(fake.state.calls['POST /api/v1/events/send']).toBe(5);
    expect(fake.state.events).toHaveLength(1);
    const sent = fake.state.events[0]!;
    expect(sent).toMatchObject({ eventName: 'Successfully Paid', idempotencyKey: e.key, eventProperties: { invoiceId: 'in_123', value: 49.99, currency: 'USD' } });
    expect(fake.state.contacts.get(sent.contactId)).toMatchObject({ userId: 'cus_ev', email: 'cus_ev@example.com' });
    const req = fake.state.requests.find((r) => r.path === '/api/v1/events/send')!;
    expect(req.headers['idempotency-key']).toBe(e.key);
    expect(req.body).toMatchObject({ userId: 'cus_ev', email: 'cus_ev@example.com', eventName: 'Successfully Paid' });
  });

  it('a key longer than Loops takes is sent as its stable hash', async () => {
    const e = destinationEvent({ key: `evt_${'x'.repeat(120)}`, customerId: 'cus_long' });
    const a = adapter();
    expect((await a.sendEvents([e], { backfill: false })).get(e.key)).toEqual({ ok: true, externalId: null });
    expect((await a.sendEvents([e], { backfill: false })).get(e.key)).toEqual({ ok: true, externalId: null });
    expect(fake.state.events).toHaveLength(1);
    expect(fake.state.events[0]!.idempotencyKey).toMatch(/^[0-9a-f]{64}$/);
  });

  it('unsubscribes, then deletes; a contact already gone counts as done', async () => {
    const a = adapter();
    await a.upsertProfiles([profile({ customerId: 'cus_gone' })], { backfill: false });
    const ref = { customerId: 'cus_gone', email: 'cus_gone@example.com', externalId: null };
    expect(await a.removeProfile(ref, 'unsubscribe')).toEqual({ ok: true, externalId: expect.any(String) });
    expect(fake.controls.contact({ userId: 'cus_gone' })?.subscribed).toBe(false);
    expect(await a.removeProfile(ref, 'delete')).toEqual({ ok: true, externalId: null });
    expect(fake.controls.contact({ userId: 'cus_gone' })).toBeUndefined();
    // Gone already: both choices are done, and unsubscribing does not create a contact.
    expect(await a.removeProfile(ref, 'delete')).toEqual({ ok: true, externalId: null });
    expect(await a.removeProfile(ref, 'unsubscribe')).toEqual({ ok: true, externalId: null });
    expect(fake.state.contacts.size).toBe(0);
  });

  it('a 429 then success: retried after the pacer penalty, recorded in the database', async () => {
    fake.controls.throttleNext(1);
    const started = Date.now();
    const results = await adapter().upsertProfiles([profile({ customerId: 'cus_429' })], { backfill: false });
    expect(results.get('cus_429')?.ok).toBe(true);
    expect(fake.state.calls['PUT /api/v1/contacts/update']).toBe(2);
    expect(await bed.penaltyUntil('team')).not.toBeNull();
    // The retry waited out the penalty (1 s, on the database clock).
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('a 429 storm ends in rate_limited with a wait, after a bounded number of tries', async () => {
    fake.controls.throttleNext(50);
    const err = await errorOf(adapter().upsertProfiles([profile({ customerId: 'cus_storm' })], { backfill: false }));
    expect(err.errorClass).toBe('rate_limited');
    expect(err.retryAfterMs).toBe(1000);
    expect(fake.state.calls['PUT /api/v1/contacts/update']).toBe(3);
    expect(fake.state.contacts.size).toBe(0);
  });

  it('5xx then success; 5xx that persists is retryable', async () => {
    fake.controls.failNext(2, 503);
    const ok = await adapter().upsertProfiles([profile({ customerId: 'cus_5xx' })], { backfill: false });
    expect(ok.get('cus_5xx')?.ok).toBe(true);
    expect(fake.state.calls['PUT /api/v1/contacts/update']).toBe(3);

    fake.controls.failNext(10, 500);
    const failed = await adapter().upsertProfiles([profile({ customerId: 'cus_5xx2' })], { backfill: false });
    expect(failed.get('cus_5xx2')).toEqual({ ok: false, errorClass: 'retryable', message: expect.stringContaining('500') });
    const err = await errorOf(adapter().check());
    expect(err.errorClass).toBe('retryable');
  });

  it("a per-contact refusal is a record error with Loops' message; the others go through", async () => {
    const results = await adapter().upsertProfiles(
      [profile({ customerId: 'cus_ok' }), profile({ customerId: 'cus_bad', email: 'not-an-email' })],
      { backfill: false },
    );
    expect(results.get('cus_ok')?.ok).toBe(true);
    expect(results.get('cus_bad')).toEqual({ ok: false, errorClass: 'record', message: expect.stringContaining('Invalid email address.') });
  });

  it('network failure (nothing listening) is retryable', async () => {
    await fake.close();
    const a = createLoopsAdapter({ apiKey: 'k', baseUrl: fake.url, pacer: bed.pacer(), timeoutMs: 2_000 });
    const err = await errorOf(a.check());
    expect(err.errorClass).toBe('retryable');
    fake = await startFakeLoops();
  });
});
