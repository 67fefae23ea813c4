import fc from 'fast-check';
import { dbKinds } from '../helpers/db';
import { startSyncHarness, TEST_PORTAL_ID, type SyncHarness } from '../helpers/sync-harness';
import { CARD_API_PREFIX } from '@stripe-hubspot-sync/contracts';
import { CARD_ENV, CARD_SECRET, hubspotSignatureV3 } from '../card/card-client';
import { customerStory } from '../card/card-seed';
import { anyBody, contentEncoding, contentType, expectNoServerError, extraHeaders, FUZZ_RUNS, headerValue, rawRequest, rowCounts } from './fuzz-support';
import type { RecoverySchedule } from '../../src/jobs/recovery';
import { completenessPlugin } from '../../src/jobs/backfill/plugin';
import { HUBSPOT_WEBHOOK_PATH } from '../../src/http/webhook-hubspot';

/**
 * The HubSpot card API with random bodies, headers, queries and signatures — and with properly signed random
 * bodies: never a 5xx, always our JSON error shape or a card answer, nothing written, and no customer data in
 * any refused answer.
 */

const ROUTES = ['/status', '/refresh', '/', '/status/', '/statu', '/refresh/x', '/../status'];
const queryOf = fc.oneof(
  fc.constant(''),
  fc.constantFrom(`?portalId=${TEST_PORTAL_ID}`, '?portalId=', '?portalId=abc', `?portalId=${TEST_PORTAL_ID}&portalId=1`, '?portalId[]=1', '?userEmail=a%40b.com'),
  fc.dictionary(fc.stringMatching(/^[a-zA-Z[\]]{1,9}$/), fc.string({ maxLength: 12 }), { maxKeys: 3 }).map((d) => `?${new URLSearchParams(d).toString()}`),
);
const path = fc.tuple(fc.constantFrom(...ROUTES), queryOf).map(([r, q]) => `${CARD_API_PREFIX}${r}${q}`);

/** Card bodies: random JSON, and near-valid `{portalId, contactId}` with odd values. */
const cardBody = (contactIds: () => string[]) =>
  fc.oneof(
    anyBody,
    fc
      .record({
        portalId: fc.oneof(fc.constantFrom(TEST_PORTAL_ID, String(TEST_PORTAL_ID), 0, -1, 1.5, 1e30, '4242abc', null, true, [TEST_PORTAL_ID]), fc.integer()),
        contactId: fc.oneof(fc.constantFrom(...contactIds(), '', '0', '1'.repeat(25), '12 3', null, 7), fc.string({ maxLength: 22 }), fc.bigInt({ min: 0n, max: 10n ** 21n }).map(String)),
        extra: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }),
      })
      .map(({ portalId, contactId, extra }) => JSON.stringify({ ...extra, portalId, contactId })),
  );

describe.each(dbKinds())('card API fuzz on %s', (kind) => {
  let h: SyncHarness;
  let linkedContact = '';
  beforeAll(async () => {
    h = await startSyncHarness({ kind, hubspot: { clientSecret: CARD_SECRET }, env: CARD_ENV });
    await h.send(...customerStory('cus_cardfuzz', 'cardfuzz@example.com'));
    await h.idle();
    linkedContact = h.contactOf('cus_cardfuzz')!.id;
  });
  afterAll(async () => {
    await h?.stop();
  });
  const url = (p: string) => `${h.server.url}${p}`;

  it('refuses requests that are not signed right: 4xx, no write, no customer data', async () => {
    const before = await rowCounts(h.server.db);
    const ts = () => String(Date.now());
    const signature = (p: string, body: string) =>
      fc.oneof(
        fc.record({ sig: fc.option(headerValue, { nil: undefined }), ts: fc.option(headerValue, { nil: undefined }) }),
        // Right recipe, wrong ingredient: secret, method, URL, body, or a stale timestamp.
        fc.constantFrom(
          (() => { const t = ts(); return { sig: hubspotSignatureV3('other-secret', 'POST', url(p), body, t), ts: t }; })(),
          (() => { const t = ts(); return { sig: hubspotSignatureV3(CARD_SECRET, 'GET', url(p), body, t), ts: t }; })(),
          (() => { const t = ts(); return { sig: hubspotSignatureV3(CARD_SECRET, 'POST', url(`${p}x`), body, t), ts: t }; })(),
          (() => { const t = ts(); return { sig: hubspotSignatureV3(CARD_SECRET, 'POST', url(p), `${body} `, t), ts: t }; })(),
          (() => { const t = String(Date.now() - 301_000); return { sig: hubspotSignatureV3(CARD_SECRET, 'POST', url(p), body, t), ts: t }; })(),
        ),
      );
    await fc.assert(
      fc.asyncProperty(
        fc.tuple(path, cardBody(() => [linkedContact])).chain(([p, body]) =>
          fc.record({ p: fc.constant(p), body: fc.constant(body), s: signature(p, typeof body === 'string' ? body : body.toString('utf8')) }),
        ),
        fc.constantFrom('POST', 'POST', 'POST', 'GET', 'PUT', 'DELETE', 'OPTIONS'),
        contentType,
        contentEncoding,
        extraHeaders,
        async ({ p, body, s }, method, ct, ce, extra) => {
          const headers: Record<string, string> = { ...extra };
          if (ct) headers['content-type'] = ct;
          if (ce) headers['content-encoding'] = ce;
          if (s.sig !== undefined) headers['x-hubspot-signature-v3'] = s.sig;
          if (s.ts !== undefined) headers['x-hubspot-request-timestamp'] = s.ts;
          const a = await rawRequest(h.server.url, { method, path: p, headers, body: method === 'GET' ? '' : body });
          expectNoServerError(a, `${method} ${p}`);
          expect(a.status).toBeGreaterThanOrEqual(400);
          expect(a.text).not.toContain('cus_cardfuzz');
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
    expect(await rowCounts(h.server.db)).toEqual(before);
  });

  it('answers properly signed random bodies with a card answer or a 4xx, never a 5xx, and writes nothing', async () => {
    const before = await rowCounts(h.server.db);
    const seen = new Set<number>();
    await fc.assert(
      fc.asyncProperty(path, cardBody(() => [linkedContact]), contentType, async (p, body, ct) => {
        const raw = typeof body === 'string' ? body : body.toString('utf8');
        // Sign exactly the bytes sent (random bytes are sent as their UTF-8 reading, which is what gets signed).
        const t = String(Date.now());
        const headers: Record<string, string> = {
          'x-hubspot-signature-v3': hubspotSignatureV3(CARD_SECRET, 'POST', url(p), raw, t),
          'x-hubspot-request-timestamp': t,
        };
        if (ct) headers['content-type'] = ct;
        const a = await rawRequest(h.server.url, { method: 'POST', path: p, headers, body: raw });
        expectNoServerError(a, `signed POST ${p}`);
        seen.add(a.status);
        if (a.status === 200) {
          const answer = JSON.parse(a.text) as { state: string; customers?: { customerId: string }[] };
          expect(['linked', 'not_linked']).toContain(answer.state);
          if (answer.state === 'linked') expect(answer.customers!.map((c) => c.customerId)).toEqual(['cus_cardfuzz']);
        }
      }),
      { numRuns: FUZZ_RUNS },
    );
    expect(await rowCounts(h.server.db)).toEqual(before);
    expect([...seen].every((status) => status === 200 || (status >= 400 && status < 500))).toBe(true);
    // The random paths reach the body checks only when they carry the signed portal (a few in a hundred runs): the
    // two refusals there, sent for sure.
    const p = `${CARD_API_PREFIX}/status?portalId=${TEST_PORTAL_ID}`;
    for (const [raw, code] of [
      ['{"portalId": ', 'malformed_json'],
      [JSON.stringify({ portalId: TEST_PORTAL_ID, contactId: 'not a number' }), 'bad_request'],
    ]) {
      const t = String(Date.now());
      const a = await rawRequest(h.server.url, {
        method: 'POST',
        path: p,
        headers: { 'content-type': 'application/json', 'x-hubspot-signature-v3': hubspotSignatureV3(CARD_SECRET, 'POST', url(p), raw, t), 'x-hubspot-request-timestamp': t },
        body: raw,
      });
      expect(a.status).toBe(400);
      expect(JSON.parse(a.text)).toMatchObject({ error: { code } });
    }
  });
});

/**
 * A card's hubspot.fetch may target any path of our origin, signed with the app's secret like a webhook: aimed at the
 * webhook route with deletion events of any portal's contacts, under any query HubSpot appends, it is refused and
 * forgets nothing.
 */
describe('card fetches aimed at the HubSpot webhook route', () => {
  let h: SyncHarness;
  let linkedContact = '';
  let schedule: RecoverySchedule | undefined;
  beforeAll(async () => {
    h = await startSyncHarness({
      kind: 'pglite',
      hubspot: { clientSecret: CARD_SECRET },
      env: CARD_ENV,
      engine: { plugins: [completenessPlugin({ recovery: { tickMs: 3_600_000 }, expose: (x) => (schedule = x.schedule) })] },
    });
    await h.send(...customerStory('cus_webhookfuzz', 'webhookfuzz@example.com'));
    await h.idle();
    // The schedule's first run (a few seconds after start) would forget the archived contact in its drift check: it
    // runs now, before the archive, and is not due again for an hour.
    await schedule!.tick();
    linkedContact = h.contactOf('cus_webhookfuzz')!.id;
    // Gone from HubSpot: only the route's refusal keeps its data.
    h.hubspot.portal(TEST_PORTAL_ID).contacts.get(linkedContact)!.archived = true;
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('refuses every signed request carrying the query HubSpot appends to card fetches, and deletes nothing', async () => {
    const before = await rowCounts(h.server.db);
    const cardQuery = fc
      .record(
        {
          portalId: fc.oneof(fc.constant(String(TEST_PORTAL_ID)), fc.integer({ min: 1, max: 1e9 }).map(String)),
          userId: fc.integer({ min: 1, max: 1e6 }).map(String),
          userEmail: fc.emailAddress(),
          appId: fc.integer({ min: 1, max: 1e6 }).map(String),
        },
        { requiredKeys: [] },
      )
      .filter((q) => Object.keys(q).length > 0)
      .map((q) => `?${new URLSearchParams(q).toString()}`);
    const events = fc.array(
      fc.record({
        subscriptionType: fc.constantFrom('contact.privacyDeletion', 'contact.deletion'),
        portalId: fc.constantFrom(TEST_PORTAL_ID, 999),
        objectId: fc.constantFrom(Number(linkedContact), 1),
      }),
      { minLength: 1, maxLength: 5 },
    );
    await fc.assert(
      fc.asyncProperty(cardQuery, events, async (query, body) => {
        const p = `${HUBSPOT_WEBHOOK_PATH}${query}`;
        const raw = JSON.stringify(body);
        const t = String(Date.now());
        const a = await rawRequest(h.server.url, {
          method: 'POST',
          path: p,
          headers: {
            'content-type': 'application/json',
            'x-hubspot-signature-v3': hubspotSignatureV3(CARD_SECRET, 'POST', `${h.server.url}${p}`, raw, t),
            'x-hubspot-request-timestamp': t,
          },
          body: raw,
        });
        expect(a.status).toBe(403);
      }),
      { numRuns: FUZZ_RUNS },
    );
    expect(await rowCounts(h.server.db)).toEqual(before);
  });
});
