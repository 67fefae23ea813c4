import { ApiKeySession, ProfilesApi, RetryWithExponentialBackoff } from 'klaviyo-api';
import { startFakeKlaviyo, type FakeKlaviyo } from '../fakes/klaviyo/server';

/**
 * The fake Klaviyo itself: it refuses what Klaviyo's published contract refuses (a body the operation's schema
 * does not allow, a missing or wrong key, a missing revision), answers Klaviyo's JSON:API error shape, applies
 * Klaviyo's identity rules and its per-operation fixed-window limits with their headers.
 */

const REVISION = '2026-07-15';

async function send(fake: FakeKlaviyo, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${fake.url}${path}`, {
    method,
    headers: {
      Authorization: `Klaviyo-API-Key ${fake.apiKey}`,
      revision: REVISION,
      'Content-Type': 'application/vnd.api+json',
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are read field by field in assertions
  const json = text ? (JSON.parse(text) as Record<string, any>) : undefined;
  return { status: res.status, headers: res.headers, body: json };
}

const profile = (attributes: Record<string, unknown>, id?: string) => ({ data: { type: 'profile', ...(id ? { id } : {}), attributes } });

describe('fake Klaviyo', () => {
  let fake: FakeKlaviyo;
  beforeEach(async () => {
    fake = await startFakeKlaviyo({ limits: { get_accounts: { burstPerSecond: 2, steadyPerMinute: 3 } } });
  });
  afterEach(async () => {
    await fake.close();
  });

  it('refuses a body its operation schema does not allow, in the JSON:API error shape, through the real SDK too', async () => {
    const raw = await send(fake, 'POST', '/api/profile-import', { data: { type: 'person', attributes: { email: 7 } } });
    expect(raw.status).toBe(400);
    expect(raw.body!.errors.length).toBeGreaterThan(0);
    for (const e of raw.body!.errors) {
      expect(e).toEqual({ id: expect.any(String), status: 400, code: 'invalid', title: 'Invalid input.', detail: expect.any(String), source: { pointer: expect.any(String) } });
    }
    expect(raw.body!.errors.map((e: { source: { pointer: string } }) => e.source.pointer)).toEqual(
      expect.arrayContaining(['/data/type', '/data/attributes/email']),
    );

    const sdk = new ProfilesApi(new ApiKeySession(fake.apiKey, new RetryWithExponentialBackoff({ numRetries: 0 })));
    sdk.basePath = fake.url;
    const refused = await sdk
      .bulkImportProfiles({ data: { type: 'profile-bulk-import-job', attributes: {} as never } })
      .then(() => null, (e: { response?: { status: number; data: unknown } }) => e.response);
    expect(refused?.status).toBe(400);
    expect(refused?.data).toEqual({
      errors: [expect.objectContaining({ code: 'invalid', detail: "'profiles' is a required property", source: { pointer: '/data/attributes/profiles' } })],
    });
    expect(fake.state.jobs.size).toBe(0);
    expect(fake.state.calls.bulk_import_profiles).toBe(1);
  });

  it('refuses a missing or wrong key (401), a revoked key, and a request without the revision header (400)', async () => {
    expect((await send(fake, 'GET', '/api/accounts', undefined, { Authorization: '' })).status).toBe(401);
    const wrong = await send(fake, 'GET', '/api/accounts', undefined, { Authorization: 'Klaviyo-API-Key pk_not_this_one' });
    expect(wrong.status).toBe(401);
    expect(wrong.body!.errors[0].code).toBe('authentication_failed');
    const noRevision = await send(fake, 'GET', '/api/accounts', undefined, { revision: '' });
    expect(noRevision.status).toBe(400);
    expect(noRevision.body!.errors[0].source).toEqual({ parameter: 'revision' });
    expect((await send(fake, 'GET', '/api/accounts')).status).toBe(200);
    fake.controls.revokeKey();
    expect((await send(fake, 'GET', '/api/accounts')).status).toBe(401);
  });

  it('applies the identity rules: an id moves its profile to a new email; identifiers of two profiles are a 409 naming the other', async () => {
    const a = await send(fake, 'POST', '/api/profile-import', profile({ email: 'a@example.com', external_id: 'cus_a' }));
    expect(a.status).toBe(201);
    const b = await send(fake, 'POST', '/api/profile-import', profile({ email: 'b@example.com' }));
    expect(b.status).toBe(201);
    const again = await send(fake, 'POST', '/api/profile-import', profile({ email: 'A@example.com', properties: { plan: 'pro' } }));
    expect(again.status).toBe(200);
    expect(again.body!.data.id).toBe(a.body!.data.id);

    const conflict = await send(fake, 'POST', '/api/profile-import', profile({ external_id: 'cus_a', email: 'b@example.com' }));
    expect(conflict.status).toBe(409);
    expect(conflict.body!.errors[0]).toMatchObject({ code: 'duplicate_profile', status: 409, meta: { duplicate_profile_id: b.body!.data.id } });

    const moved = await send(fake, 'POST', '/api/profile-import', profile({ email: 'a2@example.com' }, a.body!.data.id));
    expect(moved.status).toBe(200);
    expect(fake.state.profiles.get(a.body!.data.id)).toMatchObject({ email: 'a2@example.com', external_id: 'cus_a', properties: { plan: 'pro' } });
    expect(fake.state.profiles.size).toBe(2);
    const missing = await send(fake, 'POST', '/api/profile-import', profile({ email: 'c@example.com' }, '01NOSUCHPROFILE000000000000'));
    expect(missing.status).toBe(404);
    const bad = await send(fake, 'POST', '/api/profile-import', profile({ email: 'not-an-email' }));
    expect(bad.status).toBe(400);
    expect(bad.body!.errors[0].source.pointer).toBe('/data/attributes/email');
  });

  it('rate limits each operation in fixed windows, with Retry-After and RateLimit-* headers; injected 429s and 5xx', async () => {
    const first = await send(fake, 'GET', '/api/accounts');
    expect(first.headers.get('ratelimit-limit')).toBe('3');
    expect(first.headers.get('ratelimit-remaining')).toBe('2');
    expect(Number(first.headers.get('ratelimit-reset'))).toBeGreaterThan(0);
    await send(fake, 'GET', '/api/accounts');
    const third = await send(fake, 'GET', '/api/accounts');
    expect(third.status).toBe(429);
    expect(third.body!.errors[0].code).toBe('throttled');
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(third.headers.get('ratelimit-limit')).toBe('3');
    // Another operation has its own window.
    expect((await send(fake, 'GET', '/api/profiles')).status).toBe(200);

    fake.controls.throttleNext(1, 7, 'get_profiles');
    fake.controls.failNext(1, 503);
    const throttled = await send(fake, 'GET', '/api/profiles');
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('7');
    expect((await send(fake, 'GET', '/api/profiles')).status).toBe(503);
    expect((await send(fake, 'GET', '/api/profiles')).status).toBe(200);
    expect(fake.state.calls).toMatchObject({ get_accounts: 3, get_profiles: 4 });
  });

  it('keeps one event per profile, metric and unique_id; a bulk job completes after a poll and lists refused records', async () => {
    const entry = (uniqueId: string) => ({
      type: 'event-bulk-create',
      attributes: {
        profile: { data: { type: 'profile', attributes: { external_id: 'cus_e', email: 'e@example.com' } } },
        events: {
          data: [
            {
              type: 'event',
              attributes: { properties: {}, metric: { data: { type: 'metric', attributes: { name: 'Successfully Paid' } } }, unique_id: uniqueId, value: 5, value_currency: 'USD' },
            },
          ],
        },
      },
    });
    const job = (entries: unknown[]) => ({ data: { type: 'event-bulk-create-job', attributes: { 'events-bulk-create': { data: entries } } } });
    expect((await send(fake, 'POST', '/api/event-bulk-create-jobs', job([entry('evt_1'), entry('evt_1')]))).status).toBe(202);
    expect((await send(fake, 'POST', '/api/event-bulk-create-jobs', job([entry('evt_1'), entry('evt_2')]))).status).toBe(202);
    expect(fake.state.events.map((e) => e.uniqueId)).toEqual(['evt_1', 'evt_2']);
    expect(fake.state.droppedEvents).toHaveLength(2);

    const records = [
      { type: 'profile', attributes: { email: 'ok@example.com', external_id: 'cus_ok' } },
      { type: 'profile', attributes: { email: 'nope', external_id: 'cus_bad' } },
    ];
    const created = await send(fake, 'POST', '/api/profile-bulk-import-jobs', { data: { type: 'profile-bulk-import-job', attributes: { profiles: { data: records } } } });
    expect(created.status).toBe(202);
    const id = created.body!.data.id as string;
    expect((await send(fake, 'GET', `/api/profile-bulk-import-jobs/${id}`)).body!.data.attributes.status).toBe('processing');
    const done = await send(fake, 'GET', `/api/profile-bulk-import-jobs/${id}`);
    expect(done.body!.data.attributes).toMatchObject({ status: 'complete', total_count: 2, completed_count: 1, failed_count: 1 });
    const errors = await send(fake, 'GET', `/api/profile-bulk-import-jobs/${id}/import-errors`);
    expect(errors.body!.data).toEqual([
      expect.objectContaining({
        type: 'import-error',
        attributes: expect.objectContaining({ code: 'invalid', source: { pointer: '/data/attributes/profiles/data/1/attributes/email' }, original_payload: records[1] }),
      }),
    ]);
    expect(fake.state.profileByExternalId('cus_ok')).toBeDefined();
    expect(fake.state.profileByExternalId('cus_bad')).toBeUndefined();
  });
});
