import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import { dbKinds } from '../helpers/db';
import { startSyncHarness, type SyncHarness } from '../helpers/sync-harness';
import { TEST_WEBHOOK_SECRET } from '../helpers/server';
import { anyBody, webhookContentEncoding as contentEncoding, contentType, expectNoServerError, extraHeaders, FUZZ_RUNS, headerValue, rawRequest, rowCounts } from './fuzz-support';

/**
 * POST /webhooks/stripe with random bodies, headers and signatures that are not a valid signature of the body:
 * always a 4xx `{error}` answer, never a 5xx, the server keeps running, and nothing is stored.
 */

const nowS = () => Math.floor(Date.now() / 1000);
const hmac = (secret: string, payload: string) => createHmac('sha256', secret).update(payload, 'utf8').digest('hex');

/** Signature headers that do not verify `body`: junk, well-formed but wrong, right secret over other bytes, stale. */
const badSignature = (body: string) =>
  fc.oneof(
    headerValue,
    fc.tuple(fc.integer({ min: -1, max: 2 ** 40 }), fc.stringMatching(/^[0-9a-f]{64}$/)).map(([t, v]) => `t=${t},v1=${v}`),
    fc.string({ maxLength: 20 }).map((other) => {
      const t = nowS();
      return `t=${t},v1=${hmac(TEST_WEBHOOK_SECRET, `${t}.${body}${other}x`)}`;
    }),
    fc.integer({ min: 301, max: 10 ** 6 }).map((age) => {
      const t = nowS() - age;
      return `t=${t},v1=${hmac(TEST_WEBHOOK_SECRET, `${t}.${body}`)}`;
    }),
    fc.constant(undefined),
    fc.constantFrom('t=', 'v1=', ',', 't=1,v1=', `t=${nowS()},v0=${'0'.repeat(64)}`, 't=abc,v1=def'),
  );

describe.each(dbKinds())('webhook fuzz on %s', (kind) => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await startSyncHarness({ kind });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('refuses every request that is not signed right, with a 4xx and no write', async () => {
    const before = await rowCounts(h.server.db);
    let statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        anyBody.chain((body) => fc.record({ body: fc.constant(body), sig: badSignature(typeof body === 'string' ? body : body.toString('utf8')) })),
        contentType,
        contentEncoding,
        extraHeaders,
        async ({ body, sig }, ct, ce, extra) => {
          const headers: Record<string, string> = { ...extra };
          if (ct) headers['content-type'] = ct;
          if (ce) headers['content-encoding'] = ce;
          if (sig !== undefined) headers['stripe-signature'] = sig;
          const a = await rawRequest(h.server.url, { method: 'POST', path: '/webhooks/stripe', headers, body });
          expectNoServerError(a, 'POST /webhooks/stripe');
          expect(a.status).toBeGreaterThanOrEqual(400);
          statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
    expect(await rowCounts(h.server.db)).toEqual(before);
    // Most requests were refused for their signature (400), a few for their encoding (415); past the per-address
    // limit of refused signatures (SIGNATURE_FAILURES_PER_MINUTE), 429.
    expect([...statuses.keys()].every((s) => s === 400 || s === 413 || s === 415 || s === 429)).toBe(true);
    statuses = new Map();
  });

  it('answers other methods and paths around the webhook with a 4xx JSON error', async () => {
    const before = await rowCounts(h.server.db);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'POST'),
        fc.constantFrom('/webhooks/stripe/', '/webhooks/stripe/x', '/webhooks/Stripe', '/webhooks', '/webhooks/stripe?x=1', '/webhooks/stripe%00', '/webhooks//stripe', '/webhooks/stripe/..%2f'),
        anyBody,
        async (method, path, body) => {
          const a = await rawRequest(h.server.url, { method, path, headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=00' }, body: method === 'GET' || method === 'HEAD' ? '' : body });
          if (method === 'HEAD') expect(a.status).toBeLessThan(500);
          else expectNoServerError(a, `${method} ${path}`);
        },
      ),
      { numRuns: Math.ceil(FUZZ_RUNS / 2) },
    );
    expect(await rowCounts(h.server.db)).toEqual(before);
    const health = await rawRequest(h.server.url, { method: 'GET', path: '/healthz', headers: {}, body: '' });
    expect(health.status).toBe(200);
  });
});
