import { startFakeHubSpot, type FakeHubSpot } from './server';
import { raw, sdkClient, sdkError } from './test-support';

/** Burst rate limit (rolling window per portal), its headers, and injected 423/5xx/latency failures. */

let fake: FakeHubSpot;

beforeAll(async () => {
  fake = await startFakeHubSpot({ burstLimit: 5, burstWindowMs: 3000 });
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('burst limit', () => {
  it('answers 429 TEN_SECONDLY_ROLLING past the limit, with the rate-limit headers, and recovers after the window', async () => {
    const hs = sdkClient(fake, 1);
    const remaining: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await hs.crm.contacts.basicApi.getPageWithHttpInfo(1);
      expect(res.httpStatusCode).toBe(200);
      remaining.push(res.headers['x-hubspot-ratelimit-remaining']!);
      expect(res.headers['x-hubspot-ratelimit-max']).toBe('5');
      expect(res.headers['x-hubspot-ratelimit-interval-milliseconds']).toBe('3000');
    }
    expect(remaining).toEqual(['4', '3', '2', '1', '0']);
    const e = await sdkError(hs.crm.contacts.basicApi.getPage(1));
    expect(e.code).toBe(429);
    expect(e.body).toMatchObject({
      status: 'error',
      message: 'You have reached your ten_secondly_rolling limit.',
      errorType: 'RATE_LIMIT',
      policyName: 'TEN_SECONDLY_ROLLING',
    });
    expect(typeof e.body.correlationId).toBe('string');
    expect(e.headers['x-hubspot-ratelimit-remaining']).toBe('0');
    // The refused request is in the log, with its status.
    expect(fake.requests.at(-1)).toMatchObject({ status: 429, portalId: 1 });
    expect(fake.requestCount({ portalId: 1 })).toBe(6);
    // Rolling window: once the earlier requests leave it, requests pass again.
    fake.inject.setBurstLimit(5, 100);
    await sleep(120);
    await hs.crm.contacts.basicApi.getPage(1);
  });

  it('counts per portal: one portal at its limit does not limit another', async () => {
    const a = sdkClient(fake, 1);
    const b = sdkClient(fake, 2);
    for (let i = 0; i < 5; i++) await a.crm.contacts.basicApi.getPage(1);
    expect((await sdkError(a.crm.contacts.basicApi.getPage(1))).code).toBe(429);
    await b.crm.contacts.basicApi.getPage(1);
    expect(fake.requestCount({ portalId: 2, method: 'get', pathPrefix: '/crm/v3/objects/contacts' })).toBe(1);
  });

  it('setBurstLimit changes the limit until inject.clear()', async () => {
    const hs = sdkClient(fake, 3);
    fake.inject.setBurstLimit(1, 1000);
    await hs.crm.contacts.basicApi.getPage(1);
    const e = await sdkError(hs.crm.contacts.basicApi.getPage(1));
    expect(e.code).toBe(429);
    expect(e.headers['x-hubspot-ratelimit-max']).toBe('1');
    fake.inject.clear();
    const ok = await hs.crm.contacts.basicApi.getPageWithHttpInfo(1);
    expect(ok.headers['x-hubspot-ratelimit-max']).toBe('5');
  });
});

describe('injected failures', () => {
  it('failNext answers the next N CRM requests with the status and a HubSpot-like body', async () => {
    const hs = sdkClient(fake, 1);
    fake.inject.failNext(2, 503);
    const first = await sdkError(hs.crm.contacts.basicApi.getPage(1));
    expect(first.code).toBe(503);
    expect(first.body).toMatchObject({ status: 'error', category: 'SERVICE_UNAVAILABLE' });
    expect((await sdkError(hs.crm.contacts.basicApi.getPage(1))).code).toBe(503);
    await hs.crm.contacts.basicApi.getPage(1);
  });

  it('failNext with an explicit body answers that body', async () => {
    const hs = sdkClient(fake, 1);
    fake.inject.failNext(1, 500, { status: 'error', message: 'boom', category: 'INTERNAL_ERROR', correlationId: 'c-1' });
    const e = await sdkError(hs.crm.contacts.basicApi.getPage(1));
    expect(e).toMatchObject({ code: 500, body: { message: 'boom', correlationId: 'c-1' } });
  });

  it('lockNext answers 423 to writes only, leaving the data unchanged', async () => {
    const hs = sdkClient(fake, 1);
    fake.inject.lockNext(1);
    await hs.crm.contacts.basicApi.getPage(1);
    const e = await sdkError(
      hs.crm.contacts.batchApi.upsert({ inputs: [{ id: 'l@example.com', idProperty: 'email', properties: {} }] }),
    );
    expect(e.code).toBe(423);
    expect(e.body).toMatchObject({ status: 'error', category: 'LOCKED' });
    expect(fake.portal(1).contacts.size).toBe(0);
    await hs.crm.contacts.batchApi.upsert({ inputs: [{ id: 'l@example.com', idProperty: 'email', properties: {} }] });
    expect(fake.portal(1).contacts.size).toBe(1);
  });

  it('failRate fails a seeded, repeatable share of CRM requests', async () => {
    const run = async (): Promise<number[]> => {
      fake.reset();
      fake.addPrivateAppToken('pat', 1);
      fake.inject.setBurstLimit(1000);
      fake.inject.seed(42);
      fake.inject.failRate(0.3, 502);
      const statuses: number[] = [];
      for (let i = 0; i < 40; i++) statuses.push((await raw(fake, 'GET', '/crm/v3/objects/contacts', { token: 'pat' })).status);
      return statuses;
    };
    const first = await run();
    const second = await run();
    expect(second).toEqual(first);
    const failed = first.filter((s) => s === 502).length;
    expect(failed).toBeGreaterThan(4);
    expect(failed).toBeLessThan(20);
  });

  it('injections do not touch OAuth routes', async () => {
    fake.inject.failNext(1, 500);
    fake.issueAuthorizationCode('code-1', 9);
    const res = await raw(fake, 'POST', '/oauth/v1/token', {
      form: { grant_type: 'authorization_code', code: 'code-1', redirect_uri: 'https://x.test/cb', client_id: 'test-client-id', client_secret: 'test-client-secret' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-hubspot-ratelimit-max')).toBeNull();
  });

  it('latency delays every response', async () => {
    const hs = sdkClient(fake, 1);
    fake.inject.latency(120);
    const t0 = Date.now();
    await hs.crm.contacts.basicApi.getPage(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(110);
  });
});

describe('authentication', () => {
  it('answers 401 INVALID_AUTHENTICATION without a known token, logging no portal', async () => {
    const none = await raw(fake, 'GET', '/crm/v3/objects/contacts');
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ status: 'error', category: 'INVALID_AUTHENTICATION' });
    expect(String(none.body.message)).toMatch(/^Authentication credentials not found/);
    const unknown = await raw(fake, 'GET', '/crm/v3/objects/contacts', { token: 'who' });
    expect(unknown.status).toBe(401);
    expect(fake.requests.map((r) => r.portalId)).toEqual([null, null]);
  });
});
