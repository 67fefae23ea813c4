import { createDbRatePacer } from '../../src/adapters/destinations/rate-pacer';
import { createKlaviyoAdapter, type KlaviyoAdapterOptions } from '../../src/adapters/klaviyo/adapter';
import type { Db } from '../../src/adapters/store/db';
import { DestinationError, type DestinationEvent, type ProfileWrite, type RatePacer } from '../../src/domain/destinations/port';
import { dbKinds, migratedDb, type TestDatabase } from '../helpers/db';
import { startFakeKlaviyo, type FakeKlaviyo, type FakeKlaviyoOptions } from '../fakes/klaviyo/server';

/**
 * The Klaviyo destination through the real `klaviyo-api` SDK against the fake Klaviyo, with the database-backed
 * pacer: the key check, identity (external id, then email, then the kept profile id), bulk import jobs and their
 * per-record refusals, events sent once per key with their value and time, rate limits and failures.
 */

const PREFIX = 'test-dst:';

function profile(customerId: string, email: string | null, extra: Partial<ProfileWrite> = {}): ProfileWrite {
  return { customerId, email, previousEmail: null, firstName: 'Ada', lastName: 'Lovelace', externalId: null, properties: { MRR: 49.5, Plan: 'pro' }, ...extra };
}

function event(key: string, customerId: string, extra: Partial<DestinationEvent> = {}): DestinationEvent {
  return { key, customerId, email: `${customerId}@example.com`, name: 'Successfully Paid', time: 1_700_000_000, value: 49.99, currency: 'EUR', properties: { invoice: 'in_1' }, ...extra };
}

async function failureOf(p: Promise<unknown>): Promise<DestinationError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(DestinationError);
  return e as DestinationError;
}

describe.each(dbKinds())('Klaviyo destination (%s)', (kind) => {
  let db: Db;
  let target: TestDatabase;
  let fake: FakeKlaviyo;
  let pacer: RatePacer;

  beforeAll(async () => {
    ({ db, target } = await migratedDb(kind));
    const shared = createDbRatePacer(db);
    pacer = {
      acquire: (bucket, limits) => shared.acquire(`${PREFIX}${bucket}`, limits),
      penalize: (bucket, waitMs) => shared.penalize(`${PREFIX}${bucket}`, waitMs),
    };
  });
  beforeEach(async () => {
    await db.query('DELETE FROM destination_rate_calls');
    await db.query('DELETE FROM destination_rate_penalties');
  });
  afterEach(async () => {
    await fake?.close();
  });
  afterAll(async () => {
    await db?.close();
    await target?.drop();
  });

  async function setup(fakeOptions: FakeKlaviyoOptions = {}, options: KlaviyoAdapterOptions = {}, apiKey?: string) {
    fake = await startFakeKlaviyo({ organizationName: 'Acme Coffee', ...fakeOptions });
    return createKlaviyoAdapter({ apiKey: apiKey ?? fake.apiKey, baseUrl: fake.url, pacer, timeoutMs: 5000 }, { retryBaseMs: 50, jobPollMs: 50, ...options });
  }

  it('checks the key: the label is the account organization name; a revoked or wrong key is a connection error', async () => {
    const adapter = await setup();
    expect(adapter.kind).toBe('klaviyo');
    await expect(adapter.check()).resolves.toEqual({ label: 'Acme Coffee' });
    fake.controls.revokeKey();
    const e = await failureOf(adapter.check());
    expect(e.errorClass).toBe('connection');
    expect(e.status).toBe(401);
    expect(e.message).not.toContain(fake.apiKey);
    const wrong = createKlaviyoAdapter({ apiKey: 'pk_wrong', baseUrl: fake.url, pacer });
    expect((await failureOf(wrong.upsertProfiles([profile('cus_w', 'w@example.com')], { backfill: false }))).errorClass).toBe('connection');
    await expect(adapter.ensureProperties([{ name: 'MRR', type: 'number' }])).resolves.toBeUndefined();
  });

  it('creates a profile by external id and email, then finds an existing email-only profile and gives it the external id', async () => {
    const adapter = await setup();
    const created = await adapter.upsertProfiles([profile('cus_new', 'new@example.com')], { backfill: false });
    const id = (created.get('cus_new') as { ok: true; externalId: string }).externalId;
    expect(id).toMatch(/^01/);
    expect(fake.state.profiles.get(id)).toMatchObject({
      external_id: 'cus_new',
      email: 'new@example.com',
      first_name: 'Ada',
      last_name: 'Lovelace',
      properties: { MRR: 49.5, Plan: 'pro' },
    });

    // A profile Klaviyo already has by email only (a newsletter signup), before we ever wrote it.
    const signup = await fetch(`${fake.url}/api/profile-import`, {
      method: 'POST',
      headers: { Authorization: `Klaviyo-API-Key ${fake.apiKey}`, revision: '2026-07-15', 'Content-Type': 'application/vnd.api+json' },
      body: JSON.stringify({ data: { type: 'profile', attributes: { email: 'old@example.com', properties: { source: 'signup' } } } }),
    });
    const existing = ((await signup.json()) as { data: { id: string } }).data.id;
    const found = await adapter.upsertProfiles([profile('cus_old', 'old@example.com')], { backfill: false });
    expect(found.get('cus_old')).toEqual({ ok: true, externalId: existing });
    expect(fake.state.profiles.get(existing)).toMatchObject({ external_id: 'cus_old', properties: { source: 'signup', Plan: 'pro' } });
    expect(fake.state.profiles.size).toBe(2);
    // Two writes of the adapter, one of the signup.
    expect(fake.state.calls.create_or_update_profile).toBe(3);
  });

  it('moves the same profile on an email change, by the kept profile id or by the external id alone; a stale id is let go', async () => {
    const adapter = await setup();
    const first = await adapter.upsertProfiles([profile('cus_m', 'm1@example.com')], { backfill: false });
    const id = (first.get('cus_m') as { ok: true; externalId: string }).externalId;
    const byId = await adapter.upsertProfiles([profile('cus_m', 'm2@example.com', { previousEmail: 'm1@example.com', externalId: id })], { backfill: false });
    expect(byId.get('cus_m')).toEqual({ ok: true, externalId: id });
    const byExternal = await adapter.upsertProfiles([profile('cus_m', 'm3@example.com', { previousEmail: 'm2@example.com' })], { backfill: false });
    expect(byExternal.get('cus_m')).toEqual({ ok: true, externalId: id });
    expect(fake.state.profiles.size).toBe(1);
    expect(fake.state.profiles.get(id)!.email).toBe('m3@example.com');

    const stale = await adapter.upsertProfiles([profile('cus_m', 'm4@example.com', { externalId: '01DELETEDPROFILE0000000000' })], { backfill: false });
    expect(stale.get('cus_m')).toEqual({ ok: true, externalId: id });
    expect(fake.state.profiles.get(id)!.email).toBe('m4@example.com');

    // The new email belongs to another Klaviyo profile: refused for this record, with Klaviyo's detail.
    await adapter.upsertProfiles([profile('cus_other', 'taken@example.com')], { backfill: false });
    const clash = await adapter.upsertProfiles([profile('cus_m', 'taken@example.com', { externalId: id })], { backfill: false });
    expect(clash.get('cus_m')).toEqual({ ok: false, errorClass: 'record', message: expect.stringContaining('A profile already exists with one of these identifiers') });
  });

  it('sends 50 profiles as one bulk import job (plus polls); a record Klaviyo refuses comes back as a record error', async () => {
    const adapter = await setup({ jobPollsBeforeComplete: 1 });
    expect(adapter.maxProfilesPerCall).toBe(1000);
    const batch = Array.from({ length: 50 }, (_, i) => profile(`cus_b${i}`, i === 17 ? 'not-an-email' : `b${i}@example.com`));
    // A profile id we kept that Klaviyo no longer has: that record is written again by its identifiers.
    batch[30] = { ...batch[30]!, externalId: '01GONEPROFILE0000000000000' };
    const results = await adapter.upsertProfiles(batch, { backfill: true });
    expect(results.size).toBe(50);
    expect(results.get('cus_b17')).toEqual({ ok: false, errorClass: 'record', message: expect.stringContaining("Invalid email address: 'not-an-email'") });
    expect(results.get('cus_b30')).toEqual({ ok: true, externalId: fake.state.profileByExternalId('cus_b30')!.id });
    expect([...results.values()].filter((r) => r.ok)).toHaveLength(49);
    expect(fake.state.calls).toEqual({
      bulk_import_profiles: 1,
      get_bulk_import_profiles_job: 2,
      get_errors_for_bulk_import_profiles_job: 1,
      create_or_update_profile: 1,
    });
    expect(fake.state.profiles.size).toBe(49);
    expect(fake.state.profileByExternalId('cus_b3')).toMatchObject({ email: 'b3@example.com', properties: { MRR: 49.5 } });
  });

  it('answers a bulk job that does not complete in time as retryable', async () => {
    const adapter = await setup({ jobPollsBeforeComplete: 1000 }, { jobWaitMs: 400 });
    const batch = Array.from({ length: 8 }, (_, i) => profile(`cus_s${i}`, `s${i}@example.com`));
    const results = await adapter.upsertProfiles(batch, { backfill: false });
    expect([...results.values()]).toEqual(Array(8).fill({ ok: false, errorClass: 'retryable', message: expect.stringContaining('processing') }));
  });

  it('sends events once per key (5 sends, one event each) with value, currency and time as sent; backfill does not fire flows', async () => {
    const adapter = await setup();
    expect(adapter.maxEventsPerCall).toBe(1000);
    const events = [event('evt_a', 'cus_e1'), event('evt_b', 'cus_e1', { name: 'Refunded', value: -10, time: 1_700_000_100 }), event('evt_c', 'cus_e2', { value: null, currency: null })];
    for (let i = 0; i < 5; i++) {
      const results = await adapter.sendEvents(events, { backfill: false });
      expect([...results.entries()]).toEqual(events.map((e) => [e.key, { ok: true, externalId: null }]));
    }
    expect(fake.state.calls.bulk_create_events).toBe(5);
    expect(fake.state.events).toHaveLength(3);
    expect(fake.state.droppedEvents).toHaveLength(12);
    const p1 = fake.state.profileByExternalId('cus_e1')!;
    expect(p1.email).toBe('cus_e1@example.com');
    expect(fake.state.eventsOf(p1.id)).toEqual([
      expect.objectContaining({ metric: 'Successfully Paid', uniqueId: 'evt_a', value: 49.99, valueCurrency: 'EUR', time: '2023-11-14T22:13:20.000Z', properties: { invoice: 'in_1' }, backfill: false }),
      expect.objectContaining({ metric: 'Refunded', uniqueId: 'evt_b', value: -10, valueCurrency: 'EUR', time: '2023-11-14T22:15:00.000Z', backfill: false }),
    ]);
    expect(fake.state.eventsOf(fake.state.profileByExternalId('cus_e2')!.id)).toEqual([expect.objectContaining({ uniqueId: 'evt_c', value: null, valueCurrency: null })]);

    await adapter.sendEvents([event('evt_hist', 'cus_e1', { time: 1_600_000_000 })], { backfill: true });
    expect(fake.state.events.find((e) => e.uniqueId === 'evt_hist')).toMatchObject({ backfill: true, time: '2020-09-13T12:26:40.000Z' });
  });

  it('answers an event Klaviyo refuses as a record error and still sends the others', async () => {
    const adapter = await setup();
    const results = await adapter.sendEvents([event('evt_ok', 'cus_ok'), event('evt_bad', 'cus_bad', { email: 'broken@' }), event('evt_ok2', 'cus_ok2')], { backfill: false });
    expect(results.get('evt_bad')).toEqual({ ok: false, errorClass: 'record', message: expect.stringContaining('Invalid email address') });
    expect(results.get('evt_ok')).toEqual({ ok: true, externalId: null });
    expect(results.get('evt_ok2')).toEqual({ ok: true, externalId: null });
    expect(fake.state.events.map((e) => e.uniqueId)).toEqual(['evt_ok', 'evt_ok2']);
  });

  it('honours a 429 Retry-After through the shared pacer: the penalty is in the database and the call succeeds after it', async () => {
    const adapter = await setup();
    fake.controls.throttleNext(1, 1, 'create_or_update_profile');
    const started = Date.now();
    const dbBefore = Number((await db.query<{ now: string }>('SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint AS now')).rows[0]!.now);
    const results = await adapter.upsertProfiles([profile('cus_r', 'r@example.com')], { backfill: false });
    expect(results.get('cus_r')).toMatchObject({ ok: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    // The throttled attempt, then the one after the wait.
    expect(fake.state.calls.create_or_update_profile).toBe(2);
    const penalty = await db.query<{ until_ms: string }>('SELECT until_ms FROM destination_rate_penalties WHERE bucket = $1', [`${PREFIX}create_or_update_profile`]);
    expect(penalty.rows).toHaveLength(1);
    expect(Number(penalty.rows[0]!.until_ms)).toBeGreaterThanOrEqual(dbBefore + 1000);
    // Both attempts were counted in the shared windows (slots are taken a block at a time: at least these two).
    const calls = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM destination_rate_calls WHERE bucket = $1', [`${PREFIX}create_or_update_profile`]);
    expect(Number(calls.rows[0]!.n)).toBeGreaterThanOrEqual(2);
  });

  it('gives up a 429 storm longer than its retries as rate_limited, with the wait', async () => {
    const adapter = await setup({}, { maxAttempts: 3 });
    fake.controls.throttleNext(10, 1, 'bulk_create_events');
    const e = await failureOf(adapter.sendEvents([event('evt_s', 'cus_s')], { backfill: false }));
    expect(e.errorClass).toBe('rate_limited');
    expect(e.retryAfterMs).toBe(1000);
    expect(e.status).toBe(429);
    expect(fake.state.calls.bulk_create_events).toBe(3);
    expect(fake.state.events).toHaveLength(0);
  });

  it('pauses every instance when the answer says none is left in the window (RateLimit-Remaining: 0)', async () => {
    const adapter = await setup({ limits: { create_or_update_profile: { burstPerSecond: 10, steadyPerMinute: 1 } } });
    await adapter.upsertProfiles([profile('cus_l', 'l@example.com')], { backfill: false });
    const penalty = await db.query<{ until_ms: string }>('SELECT until_ms FROM destination_rate_penalties WHERE bucket = $1', [`${PREFIX}create_or_update_profile`]);
    expect(penalty.rows).toHaveLength(1);
  });

  it('retries a 5xx then succeeds; a 5xx that lasts is retryable', async () => {
    const adapter = await setup();
    fake.controls.failNext(2, 503, 'create_or_update_profile');
    const results = await adapter.upsertProfiles([profile('cus_5', 'five@example.com')], { backfill: false });
    expect(results.get('cus_5')).toMatchObject({ ok: true });
    expect(fake.state.calls.create_or_update_profile).toBe(3);
    fake.controls.failNext(10, 500, 'bulk_create_events');
    const e = await failureOf(adapter.sendEvents([event('evt_5', 'cus_5')], { backfill: false }));
    expect(e.errorClass).toBe('retryable');
    expect(e.status).toBe(500);
    expect(fake.state.calls.bulk_create_events).toBe(4);
  });

  it('deletes a profile by its id, or finds it by external id; unsubscribe is not offered', async () => {
    const adapter = await setup();
    const r = await adapter.upsertProfiles([profile('cus_d1', 'd1@example.com'), profile('cus_d2', 'd2@example.com')], { backfill: false });
    const id1 = (r.get('cus_d1') as { ok: true; externalId: string }).externalId;
    const id2 = (r.get('cus_d2') as { ok: true; externalId: string }).externalId;
    await adapter.sendEvents([event('evt_d', 'cus_d1', { email: 'd1@example.com' })], { backfill: false });
    await expect(adapter.removeProfile({ customerId: 'cus_d1', email: 'd1@example.com', externalId: id1 }, 'delete')).resolves.toEqual({ ok: true, externalId: null });
    await expect(adapter.removeProfile({ customerId: 'cus_d2', email: 'd2@example.com', externalId: null }, 'delete')).resolves.toEqual({ ok: true, externalId: null });
    expect(fake.state.deletions).toEqual([
      { id: id1, deleted: [id1] },
      { id: id2, deleted: [id2] },
    ]);
    expect(fake.state.profiles.size).toBe(0);
    expect(fake.state.events).toHaveLength(0);
    const unsubscribe = await adapter.removeProfile({ customerId: 'cus_d3', email: 'd3@example.com', externalId: null }, 'unsubscribe');
    expect(unsubscribe).toEqual({ ok: false, errorClass: 'record', message: expect.stringContaining('unsubscribe') });
  });
});
