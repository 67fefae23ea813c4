import { Registry } from 'prom-client';
import type { Db } from '../store/db';
import { migrate } from '../store/migrate';
import { dbKinds, freshDatabase, migratedDb, type TestDatabase } from '../../../test/helpers/db';
import { startFakeHubSpot, type FakeHubSpot } from '../../../test/fakes/hubspot/server';
import { createHubSpotAdapter, staticTokenAuth } from './adapter';
import { createCaller, type PortalAuth } from './call';
import { createHubSpotClients } from './client';
import { ConnectionHubSpotError, PermanentHubSpotError, RetryableHubSpotError } from './errors';
import { createRateBudget } from './rate-budget';
import { bindPortal } from './portal';

/** The retrying caller against the fake HubSpot, through the real SDK. */

let db: Db;
let target: TestDatabase;
let fake: FakeHubSpot;
let nextPortal = 5000;
const fastRetry = { baseDelayMs: 20, maxDelayMs: 200, rateLimitDelayMs: 50, deadlineMs: 20_000 };

beforeAll(async () => {
  ({ db, target } = await migratedDb('pglite'));
  fake = await startFakeHubSpot();
});
afterAll(async () => {
  await fake.close();
  await db.close();
  await target.drop();
});
afterEach(() => fake.inject.clear());

function newPortal(): { portalId: number; auth: PortalAuth } {
  const portalId = ++nextPortal;
  fake.addPrivateAppToken(`pat-${portalId}`, portalId);
  return { portalId, auth: staticTokenAuth(portalId, `pat-${portalId}`) };
}

const readContact = (portal: ReturnType<ReturnType<typeof createHubSpotAdapter>['portal']>) =>
  portal.call('crm', 'contacts.batch.read', (c, sdk) =>
    c.crm.contacts.batchApi.read({ idProperty: 'email', inputs: [{ id: 'a@example.com' }], properties: [], propertiesWithHistory: [] }, false, sdk),
  );

describe('callHubSpot against the fake HubSpot', () => {
  it('retries 5xx with backoff and succeeds; metrics count the attempts', async () => {
    const registry = new Registry();
    const adapter = createHubSpotAdapter({ db, apiBaseUrl: fake.url, retry: fastRetry, registry });
    const { portalId, auth } = newPortal();
    fake.portal(portalId).addContact({ email: 'a@example.com' });
    fake.inject.failNext(2, 503);
    const answer = await readContact(adapter.portal(auth));
    expect(answer.results).toHaveLength(1);
    expect(fake.requestCount({ portalId, pathPrefix: '/crm/v3/objects/contacts/batch/read' })).toBe(3);
    const metrics = await registry.getMetricsAsJSON();
    const value = (name: string, labels: Record<string, string>) =>
      metrics.find((m) => m.name === name)?.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;
    expect(value('hubspot_requests_total', { operation: 'contacts.batch.read', status: '503' })).toBe(2);
    expect(value('hubspot_requests_total', { operation: 'contacts.batch.read', status: '200' })).toBe(1);
    expect(value('hubspot_retries_total', { operation: 'contacts.batch.read', reason: 'server' })).toBe(2);
    expect(value('hubspot_call_outcomes_total', { outcome: 'ok' })).toBe(1);
    adapter.close();
  });

  it('waits at least 2 s after 423 Locked', async () => {
    const adapter = createHubSpotAdapter({ db, apiBaseUrl: fake.url, retry: fastRetry });
    const { portalId, auth } = newPortal();
    fake.inject.lockNext(1);
    const started = Date.now();
    const results = await adapter.portal(auth).call('crm', 'contacts.batch.upsert', (c, sdk) =>
      c.crm.contacts.batchApi.upsert({ inputs: [{ id: 'l@example.com', idProperty: 'email', properties: {} }] }, sdk),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(results.results).toHaveLength(1);
    expect(fake.requestCount({ portalId })).toBe(2);
    adapter.close();
  });

  it('gives up after the bounded attempts with a RetryableHubSpotError', async () => {
    const adapter = createHubSpotAdapter({ db, apiBaseUrl: fake.url, retry: { ...fastRetry, maxAttempts: 3 } });
    const { portalId, auth } = newPortal();
    fake.inject.failNext(10, 502);
    const err = await readContact(adapter.portal(auth)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableHubSpotError);
    expect(err).toMatchObject({ reason: 'server', status: 502, attempts: 3, operation: 'contacts.batch.read' });
    expect(fake.requestCount({ portalId })).toBe(3);
    adapter.close();
  });

  it('surfaces a permanent 400 with HubSpot’s own message, without retrying', async () => {
    const adapter = createHubSpotAdapter({ db, apiBaseUrl: fake.url, retry: fastRetry });
    const { portalId, auth } = newPortal();
    const err = await adapter
      .portal(auth)
      .call('crm', 'contacts.batch.create', (c, sdk) =>
        c.crm.contacts.batchApi.create({ inputs: [{ properties: { no_such_property: 'x' }, associations: [] }] }, sdk),
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentHubSpotError);
    const e = err as PermanentHubSpotError;
    expect(e.status).toBe(400);
    expect(e.category).toBe('VALIDATION_ERROR');
    expect(e.message).toMatch(/Property values were not valid/);
    expect(e.message).toMatch(/no_such_property/);
    expect(fake.requestCount({ portalId })).toBe(1);
    adapter.close();
  });

  it('recovers from a 429 storm, pausing the portal for every caller', async () => {
    const adapter = createHubSpotAdapter({ db, apiBaseUrl: fake.url, retry: fastRetry });
    const { portalId, auth } = newPortal();
    fake.inject.failNext(4, 429);
    const portal = adapter.portal(auth);
    const answers = await Promise.all([readContact(portal), readContact(portal)]);
    expect(answers).toHaveLength(2);
    expect(fake.requests.filter((r) => r.portalId === portalId && r.status === 429)).toHaveLength(4);
    expect(fake.requests.filter((r) => r.portalId === portalId && r.status < 300)).toHaveLength(2);
    adapter.close();
  });

  it('stops before a burst limit lower than ours when the RateLimit headers say none is left', async () => {
    const adapter = createHubSpotAdapter({ db, apiBaseUrl: fake.url, retry: fastRetry });
    const { portalId, auth } = newPortal();
    fake.inject.setBurstLimit(4, 600);
    const portal = adapter.portal(auth);
    for (let i = 0; i < 10; i++) await readContact(portal);
    const mine = fake.requests.filter((r) => r.portalId === portalId);
    expect(mine).toHaveLength(10);
    expect(mine.filter((r) => r.status === 429)).toHaveLength(0);
    adapter.close();
  });

  it('gets every concurrent call through a burst limit lower than ours', async () => {
    const adapter = createHubSpotAdapter({ db, apiBaseUrl: fake.url, retry: { ...fastRetry, maxAttempts: 10 } });
    const { portalId, auth } = newPortal();
    fake.inject.setBurstLimit(4, 600);
    const portal = adapter.portal(auth);
    await Promise.all(Array.from({ length: 10 }, () => readContact(portal)));
    const mine = fake.requests.filter((r) => r.portalId === portalId);
    expect(mine.filter((r) => r.status < 300)).toHaveLength(10);
    // Requests already in flight get 429s; then the penalties keep the retries from spiralling.
    expect(mine.filter((r) => r.status === 429).length).toBeLessThanOrEqual(10);
    adapter.close();
  });

  it('does not retry a 429 of the DAILY policy', async () => {
    const adapter = createHubSpotAdapter({ db, apiBaseUrl: fake.url, retry: fastRetry });
    const { portalId, auth } = newPortal();
    fake.inject.failNext(1, 429, { status: 'error', message: 'You have reached your daily limit.', errorType: 'RATE_LIMIT', correlationId: 'c', policyName: 'DAILY' });
    const err = await readContact(adapter.portal(auth)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableHubSpotError);
    expect(err).toMatchObject({ reason: 'daily_limit', status: 429, message: 'You have reached your daily limit.', attempts: 1 });
    expect((err as RetryableHubSpotError).retryAfterMs).toBeGreaterThan(0);
    expect(fake.requestCount({ portalId })).toBe(1);
    adapter.close();
  });

  it('refreshes the token once after a 401, then retries', async () => {
    const adapter = createHubSpotAdapter({ db, apiBaseUrl: fake.url, retry: fastRetry });
    const { portalId } = newPortal();
    const refreshed: string[] = [];
    const auth: PortalAuth = {
      portalId,
      accessToken: async () => 'revoked-token',
      refreshAfterUnauthorized: async (rejected) => {
        refreshed.push(rejected);
        return `pat-${portalId}`;
      },
    };
    const answer = await readContact(adapter.portal(auth));
    expect(answer.results).toEqual([]);
    expect(refreshed).toEqual(['revoked-token']);

    const stubborn: PortalAuth = { ...auth, refreshAfterUnauthorized: async (r) => (refreshed.push(r), 'still-bad') };
    const err = await readContact(adapter.portal(stubborn)).catch((e: unknown) => e);
    // A 401 that stays after a refresh refuses the connection, not the record.
    expect(err).toBeInstanceOf(ConnectionHubSpotError);
    expect(err).toMatchObject({ status: 401, category: 'INVALID_AUTHENTICATION', severity: 'paused' });
    expect(refreshed).toEqual(['revoked-token', 'revoked-token']);
    adapter.close();
  });

  it('answers a refused token (401) or missing scopes (403) with a connection refusal, without retrying', async () => {
    const adapter = createHubSpotAdapter({ db, apiBaseUrl: fake.url, retry: fastRetry });
    const { portalId, auth } = newPortal();
    const revoked = await readContact(adapter.portal({ ...auth, accessToken: async () => 'revoked-private-token' })).catch((e: unknown) => e);
    expect(revoked).toBeInstanceOf(ConnectionHubSpotError);
    expect(revoked).toMatchObject({ status: 401, category: 'INVALID_AUTHENTICATION', severity: 'paused' });

    fake.inject.failNext(1, 403, { status: 'error', message: 'This app hasn\'t been granted all required scopes to make this call.', category: 'MISSING_SCOPES', correlationId: 'c-1' });
    const before = fake.requestCount({ portalId });
    const scopes = await readContact(adapter.portal(auth)).catch((e: unknown) => e);
    expect(scopes).toBeInstanceOf(ConnectionHubSpotError);
    expect(scopes).toMatchObject({ status: 403, category: 'MISSING_SCOPES' });
    expect(fake.requestCount({ portalId }) - before).toBe(1);
    adapter.close();
  });

  it('tells who listens which portal answered, and makes only the attempts a call asks for', async () => {
    const succeeded: number[] = [];
    const adapter = createHubSpotAdapter({ db, apiBaseUrl: fake.url, retry: fastRetry, onCallSucceeded: (p) => succeeded.push(p) });
    const { portalId, auth } = newPortal();
    fake.inject.failNext(1, 503);
    const err = await adapter.callHubSpot(auth, 'crm', (c, sdk) => c.crm.contacts.basicApi.getPage(1, undefined, undefined, undefined, undefined, false, sdk), {
      operation: 'probe',
      maxAttempts: 1,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableHubSpotError);
    expect(fake.requestCount({ portalId })).toBe(1);
    expect(succeeded).toEqual([]);
    await readContact(adapter.portal(auth));
    expect(succeeded).toEqual([portalId]);
    adapter.close();
  });

  it('treats an unreachable HubSpot as a retryable network failure', async () => {
    const adapter = createHubSpotAdapter({ db, apiBaseUrl: 'http://127.0.0.1:9', retry: { ...fastRetry, maxAttempts: 2 } });
    const err = await readContact(adapter.portal(staticTokenAuth(++nextPortal, 'x'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableHubSpotError);
    expect(err).toMatchObject({ reason: 'network', attempts: 2 });
    // URLs are left out of messages (the token-info URL carries a token).
    expect((err as Error).message).toMatch(/request to <url> failed.*ECONNREFUSED/);
    adapter.close();
  });

  it('fails a silent request after the timeout, and retries it', async () => {
    const adapter = createHubSpotAdapter({ db, apiBaseUrl: fake.url, timeoutMs: 150, retry: { ...fastRetry, maxAttempts: 2 } });
    const { portalId, auth } = newPortal();
    fake.inject.latency(600);
    const err = await readContact(adapter.portal(auth)).catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'network' });
    expect((err as Error).message).toMatch(/timed out/);
    expect(fake.requestCount({ portalId })).toBe(2);
    adapter.close();
  });
});

describe.each(dbKinds())('rate budget seen from the fake HubSpot (%s)', (kind) => {
  let target2: TestDatabase;
  let handles: Db[] = [];
  beforeAll(async () => {
    target2 = await freshDatabase(kind);
    const first = await target2.open();
    await migrate(first);
    // PostgreSQL: two "instances" (two pools on one database). PGlite is one process: one handle.
    handles = kind === 'postgres' ? [first, await target2.open()] : [first];
  });
  afterAll(async () => {
    for (const h of handles) await h.close();
    await target2.drop();
  });

  it('never sends more than the limit in any window, under concurrency', async () => {
    const { portalId, auth } = newPortal();
    const windowMs = 1000;
    fake.inject.setBurstLimit(8, windowMs);
    const clients = createHubSpotClients({ baseUrl: fake.url });
    const portals = handles.map((h) =>
      bindPortal(createCaller({ budget: createRateBudget(h, { limitPer10s: 8, windowMs, marginMs: 250 }), clients, retry: fastRetry }), auth),
    );
    await Promise.all(Array.from({ length: 30 }, (_, i) => readContact(portals[i % portals.length]!)));
    // The 250 ms margin covers the time between taking a slot and the request reaching HubSpot.
    const times = fake.requests.filter((r) => r.portalId === portalId).map((r) => r.at).sort((a, b) => a - b);
    expect(times).toHaveLength(30);
    for (let i = 0; i + 8 < times.length; i++) expect(times[i + 8]! - times[i]!).toBeGreaterThan(windowMs);
    expect(fake.requests.filter((r) => r.portalId === portalId && r.status === 429)).toHaveLength(0);
    clients.close();
  });
});
