import { dbKinds } from '../helpers/db';
import { startSyncHarness, TEST_PORTAL_ID, type SyncHarness } from '../helpers/sync-harness';
import { CARD_ENV, CARD_SECRET, cardCall, cardUrl, hubspotSignatureV3 } from './card-client';
import { customerStory } from './card-seed';

/**
 * X-HubSpot-Signature-v3 on the card API, through HTTP: requests signed by an independent implementation of
 * HubSpot's recipe are accepted; every way of getting it wrong is a 401 (or 403 for a portal mismatch) with an
 * `{error:{code,message}}` body that leaks no customer data.
 */

describe.each(dbKinds())('card signature on %s', (kind) => {
  let h: SyncHarness;
  let contactId: string;
  const body = () => ({ portalId: TEST_PORTAL_ID, contactId });
  const expectRefused = (r: { status: number; body: any }, status: number, code: string) => {
    expect(r.status).toBe(status);
    expect(r.body).toEqual({ error: { code, message: expect.any(String) } });
  };

  beforeAll(async () => {
    h = await startSyncHarness({ kind, hubspot: { clientSecret: CARD_SECRET }, env: CARD_ENV });
    await h.send(...customerStory('cus_cardsig', 'sig@example.com'));
    await h.idle();
    contactId = h.contactOf('cus_cardsig')!.id;
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('accepts a valid signature over the full URL with HubSpot’s query (an escaped @ included)', async () => {
    const r = await cardCall(h.server.url, '/status', body());
    expect(r.status).toBe(200);
    expect(r.body.state).toBe('linked');
    expect(r.body.customers[0].customerId).toBe('cus_cardsig');
  });

  it('refuses a signed request without the portal HubSpot appends and signs: it did not come from a card (403)', async () => {
    expectRefused(await cardCall(h.server.url, '/status', body(), { queryPortalId: null }), 403, 'forbidden');
    expectRefused(await cardCall(h.server.url, '/refresh', body(), { queryPortalId: null }), 403, 'forbidden');
    // An empty or non-numeric portal in the query is no portal either.
    for (const query of ['', 'abc', `${TEST_PORTAL_ID}x`]) {
      const r = await cardCall(h.server.url, '/status', body(), { queryPortalId: query });
      expectRefused(r, 403, 'forbidden');
      expect(JSON.stringify(r.body)).not.toContain('cus_cardsig');
    }
  });

  it('refuses a tampered body', async () => {
    const signed = JSON.stringify({ portalId: TEST_PORTAL_ID, contactId: '1' });
    expectRefused(await cardCall(h.server.url, '/status', body(), { signedBody: signed }), 401, 'invalid_signature');
    // One extra space is a different body.
    const raw = JSON.stringify(body());
    expectRefused(await cardCall(h.server.url, '/status', body(), { rawBody: `${raw} `, signedBody: raw }), 401, 'invalid_signature');
  });

  it('refuses a signature made with another secret', async () => {
    expectRefused(await cardCall(h.server.url, '/status', body(), { secret: `${CARD_SECRET}x` }), 401, 'invalid_signature');
    expectRefused(await cardCall(h.server.url, '/status', body(), { secret: '' }), 401, 'invalid_signature');
  });

  it('refuses timestamps older or newer than five minutes, and accepts just inside', async () => {
    const now = Date.now();
    expectRefused(await cardCall(h.server.url, '/status', body(), { timestampMs: now - 5 * 60_000 - 5_000 }), 401, 'stale_signature');
    expectRefused(await cardCall(h.server.url, '/status', body(), { timestampMs: now + 5 * 60_000 + 5_000 }), 401, 'stale_signature');
    expect((await cardCall(h.server.url, '/status', body(), { timestampMs: now - 4 * 60_000 })).status).toBe(200);
    // Seconds instead of milliseconds is not a HubSpot timestamp.
    const r = await cardCall(h.server.url, '/status', body(), { timestampMs: Math.floor(now / 1000) });
    expect(r.status).toBe(401);
  });

  it('refuses a signature made for another URL', async () => {
    const base = h.server.url;
    // Signed for /refresh, sent to /status.
    expectRefused(await cardCall(base, '/status', body(), { signedUrl: cardUrl(base, '/refresh', TEST_PORTAL_ID) }), 401, 'invalid_signature');
    // Signed for another host and for https.
    expectRefused(await cardCall(base, '/status', body(), { signedUrl: cardUrl('http://evil.example.com', '/status', TEST_PORTAL_ID) }), 401, 'invalid_signature');
    expectRefused(await cardCall(base, '/status', body(), { signedUrl: cardUrl(base.replace('http:', 'https:'), '/status', TEST_PORTAL_ID) }), 401, 'invalid_signature');
    // Signed without the query HubSpot appended.
    expectRefused(await cardCall(base, '/status', body(), { signedUrl: cardUrl(base, '/status', null) }), 401, 'invalid_signature');
  });

  it('refuses a body naming another portal than the query HubSpot signed (403)', async () => {
    const r = await cardCall(h.server.url, '/status', body(), { queryPortalId: TEST_PORTAL_ID + 1 });
    expectRefused(r, 403, 'forbidden');
    const refresh = await cardCall(h.server.url, '/refresh', { portalId: 1, contactId }, { queryPortalId: TEST_PORTAL_ID });
    expectRefused(refresh, 403, 'forbidden');
  });

  it('refuses requests without the signature headers', async () => {
    expectRefused(await cardCall(h.server.url, '/status', body(), { headers: { 'x-hubspot-signature-v3': undefined } }), 401, 'missing_signature');
    expectRefused(await cardCall(h.server.url, '/status', body(), { headers: { 'x-hubspot-request-timestamp': undefined } }), 401, 'missing_signature');
    expectRefused(
      await cardCall(h.server.url, '/status', body(), { headers: { 'x-hubspot-signature-v3': undefined, 'x-hubspot-request-timestamp': undefined } }),
      401,
      'missing_signature',
    );
  });

  it('refuses junk in the signature headers without a 5xx', async () => {
    const ts = String(Date.now());
    const good = hubspotSignatureV3(CARD_SECRET, 'POST', cardUrl(h.server.url, '/status', TEST_PORTAL_ID), JSON.stringify(body()), ts);
    for (const headers of [
      { 'x-hubspot-signature-v3': 'not base64 at all' },
      { 'x-hubspot-signature-v3': good.slice(0, -2) },
      { 'x-hubspot-signature-v3': `${good}==` },
      { 'x-hubspot-request-timestamp': 'yesterday' },
      { 'x-hubspot-request-timestamp': '-1' },
      { 'x-hubspot-request-timestamp': '9'.repeat(40) },
    ]) {
      const r = await cardCall(h.server.url, '/status', body(), { headers });
      expect(r.status).toBe(401);
      expect(JSON.stringify(r.body)).not.toContain('cus_cardsig');
    }
  });

  it('answers a body it cannot decode (unknown or broken Content-Encoding) with a 4xx, not a 500', async () => {
    expectRefused(await cardCall(h.server.url, '/status', body(), { headers: { 'content-encoding': 'x-bogus' } }), 415, 'bad_request');
    expectRefused(await cardCall(h.server.url, '/status', body(), { headers: { 'content-encoding': 'gzip' } }), 400, 'bad_request');
  });

  it('checks the signature before the body: a signed malformed body is a 400, an unsigned one a 401', async () => {
    expectRefused(await cardCall(h.server.url, '/status', body(), { rawBody: '{"portalId":' }), 400, 'malformed_json');
    expectRefused(await cardCall(h.server.url, '/status', body(), { rawBody: '{"portalId":' , signedBody: '{}' }), 401, 'invalid_signature');
    expectRefused(await cardCall(h.server.url, '/status', { portalId: TEST_PORTAL_ID, contactId: 'abc' }), 400, 'bad_request');
  });
});

describe('card signature behind a TLS proxy (PUBLIC_URL)', () => {
  const PUBLIC = 'https://sync.example.com';
  let h: SyncHarness;
  beforeAll(async () => {
    h = await startSyncHarness({ kind: 'pglite', hubspot: { clientSecret: CARD_SECRET }, env: { ...CARD_ENV, PUBLIC_URL: PUBLIC } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('checks the signature over the public https URL HubSpot called, not the local one', async () => {
    const body = { portalId: TEST_PORTAL_ID, contactId: '1' };
    const viaProxy = await cardCall(h.server.url, '/status', body, { signedUrl: cardUrl(PUBLIC, '/status', TEST_PORTAL_ID) });
    expect(viaProxy.status).toBe(200);
    expect(viaProxy.body).toMatchObject({ state: 'not_linked', reason: 'no_customer' });
    const local = await cardCall(h.server.url, '/status', body);
    expect(local.status).toBe(401);
    expect(local.body.error.code).toBe('invalid_signature');
    const plainHttp = await cardCall(h.server.url, '/status', body, { signedUrl: cardUrl(PUBLIC.replace('https', 'http'), '/status', TEST_PORTAL_ID) });
    expect(plainHttp.status).toBe(401);
  });
});
