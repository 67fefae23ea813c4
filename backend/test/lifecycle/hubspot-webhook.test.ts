import { suppressedCustomers } from '../../src/adapters/store/data-deletion';
import { completenessPlugin } from '../../src/jobs/backfill/plugin';
import type { RecoverySchedule } from '../../src/jobs/recovery';
import { HUBSPOT_WEBHOOK_PATH } from '../../src/http/webhook-hubspot';
import { CARD_ENV, CARD_SECRET, hubspotSignatureV3 } from '../card/card-client';
import { customerStory } from '../card/card-seed';
import { TEST_APP_SECRET } from '../helpers/app-api';
import { dbKinds } from '../helpers/db';
import { connectHubSpot } from '../helpers/hubspot-oauth';
import { startSyncHarness, TEST_PORTAL_ID, type SyncHarness } from '../helpers/sync-harness';
import { waitFor } from '../helpers/server';

/**
 * HubSpot's webhooks through HTTP against the running product: signature v3 over the raw body, an array of events;
 * a contact's deletion forgets what HubSpot held from us, a privacy deletion forgets the linked customers entirely
 * and suppresses them — but only for a portal where the signing app is installed, only once HubSpot confirms the
 * contact is gone, and never from a card's hubspot.fetch (signed with the same secret).
 */

const SELF_HOSTED_SECRET = 'self-hosted-app-client-secret';
const ACCOUNT = 'acct_hswebhook';
const OAUTH_PORTAL = 7707;
const STRANGER_PORTAL = 999;
const ENV = { ...CARD_ENV, STRIPE_APP_SECRET: TEST_APP_SECRET, HUBSPOT_CARD_CLIENT_SECRET: SELF_HOSTED_SECRET };

describe.each(dbKinds())('POST /webhooks/hubspot (%s)', (kind) => {
  let h: SyncHarness;
  /** Each customer's contact, as the pusher created it. */
  const contacts: Record<string, string> = {};
  const contactOf = (customerId: string) => contacts[customerId]!;
  const deleteInHubSpot = (portalId: number, contactId: string) => {
    const contact = h.hubspot.portal(portalId).contacts.get(contactId)!;
    contact.archived = true;
    contact.archivedAt = new Date().toISOString();
  };

  beforeAll(async () => {
    let schedule: RecoverySchedule | undefined;
    const plugin = completenessPlugin({ recovery: { tickMs: 3_600_000 }, expose: (x) => (schedule = x.schedule) });
    h = await startSyncHarness({ kind, hubspot: { clientSecret: CARD_SECRET }, env: ENV, engine: { plugins: [plugin] } });
    await connectHubSpot(h.server.url, h.hubspot, { caller: { accountId: ACCOUNT }, mode: 'test', portalId: OAUTH_PORTAL });
    // Four customers of the OAuth-connected account (test mode), each on its own contact in OAUTH_PORTAL; one of
    // the self-hosted merchant (private-app token) in TEST_PORTAL_ID.
    await h.send(
      ...['cus_wh1', 'cus_wh2', 'cus_wh3', 'cus_wh4'].flatMap((id) => customerStory(id, `${id}@example.com`, { account: ACCOUNT })),
      ...customerStory('cus_whself', 'self@example.com'),
      ...customerStory('cus_whself2', 'self2@example.com'),
    );
    await h.idle();
    for (const id of ['cus_wh1', 'cus_wh2', 'cus_wh3', 'cus_wh4']) {
      contacts[id] = h.hubspot.portal(OAUTH_PORTAL).contactByProperty('stripe_customer_id', id)!.id;
    }
    contacts.cus_whself = h.contactOf('cus_whself')!.id;
    contacts.cus_whself2 = h.contactOf('cus_whself2')!.id;
    // The schedule's first run (a few seconds after start) has a drift check that forgets a contact found deleted in
    // HubSpot, as this webhook does: it runs now, before any test deletes one, and is not due again for an hour.
    await schedule!.tick();
  });
  afterAll(async () => {
    await h?.stop();
  });

  async function send(body: unknown, opts: { secret?: string; timestamp?: number; sign?: boolean; query?: string } = {}) {
    const raw = typeof body === 'string' ? body : JSON.stringify(body);
    const url = `${h.server.url}${HUBSPOT_WEBHOOK_PATH}${opts.query ?? ''}`;
    const ts = String(opts.timestamp ?? Date.now());
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (opts.sign !== false) {
      headers['x-hubspot-signature-v3'] = hubspotSignatureV3(opts.secret ?? CARD_SECRET, 'POST', url, raw, ts);
      headers['x-hubspot-request-timestamp'] = ts;
    }
    const res = await fetch(url, { method: 'POST', headers, body: raw, signal: AbortSignal.timeout(30_000) });
    return { status: res.status, body: (await res.json()) as { error?: { code: string } } & Record<string, unknown> };
  }
  const hsEvent = (subscriptionType: string, objectId: string | number, portalId = OAUTH_PORTAL) => ({
    eventId: Math.floor(Math.random() * 1e9),
    subscriptionId: 1,
    portalId,
    appId: 5,
    occurredAt: Date.now(),
    subscriptionType,
    attemptNumber: 0,
    objectId: Number(objectId),
    changeFlag: 'DELETED',
    changeSource: 'CRM_UI',
  });
  const count = async (sql: string, params: unknown[] = []) => (await h.server.db.query<{ n: number }>(sql, params)).rows[0]!.n;
  const linksOf = (customerId: string) => count('SELECT count(*)::int AS n FROM contact_links WHERE customer_id = $1', [customerId]);
  const links = () => count('SELECT count(*)::int AS n FROM contact_links');
  const row = async (customerId: string, account = ACCOUNT) =>
    (
      await h.server.db.query<{ sync_state: string; synced_properties: unknown; status: unknown }>(
        'SELECT sync_state, synced_properties, status FROM customers WHERE account_key = $1 AND livemode = false AND customer_id = $2',
        [account, customerId],
      )
    ).rows[0];
  const contactReads = (portalId: number) => h.hubspot.requestCount({ portalId, pathPrefix: '/crm/v3/objects/contacts/batch/read' });

  it('refuses a card fetch aimed at it: a user of another portal cannot delete this portal’s contact', async () => {
    const victim = contactOf('cus_wh4');
    deleteInHubSpot(OAUTH_PORTAL, victim); // even a contact that is gone: a card may not speak for HubSpot's webhooks
    // hubspot.fetch from a card in portal 999 is signed with the same client secret, over the URL with the query
    // HubSpot appends; its body names OAUTH_PORTAL's contact.
    const attack = await send([hsEvent('contact.privacyDeletion', victim)], { query: `?portalId=${STRANGER_PORTAL}&userId=1&userEmail=a%40example.com&appId=5` });
    expect(attack).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    for (const query of ['?userId=1', '?appId=5', '?userEmail=x%40example.com', `?portalId=${OAUTH_PORTAL}`, '?PortalId=1']) {
      expect((await send([hsEvent('contact.privacyDeletion', victim)], { query })).status).toBe(403);
    }
    // The self-hosted app's card is refused the same way.
    expect((await send([hsEvent('contact.privacyDeletion', victim)], { query: '?portalId=1', secret: SELF_HOSTED_SECRET })).status).toBe(403);
    expect(await linksOf('cus_wh4')).toBe(1);
    expect(await row('cus_wh4')).toMatchObject({ sync_state: 'synced' });
    expect(await suppressedCustomers(h.server.db, ACCOUNT, false, ['cus_wh4'])).toEqual(new Set());
  });

  it('refuses unsigned, wrongly signed, stale and malformed requests, changing nothing', async () => {
    const before = await links();
    const body = [hsEvent('contact.privacyDeletion', contactOf('cus_wh4'))];
    expect(await send(body, { sign: false })).toMatchObject({ status: 401, body: { error: { code: 'missing_signature' } } });
    expect(await send(body, { secret: 'not-the-secret' })).toMatchObject({ status: 401, body: { error: { code: 'invalid_signature' } } });
    expect(await send(body, { timestamp: Date.now() - 10 * 60_000 })).toMatchObject({ status: 401, body: { error: { code: 'stale_signature' } } });
    expect(await send('[{"subscriptionType":')).toMatchObject({ status: 400, body: { error: { code: 'malformed_json' } } });
    expect(await send({ subscriptionType: 'contact.deletion' })).toMatchObject({ status: 400, body: { error: { code: 'bad_request' } } });
    expect(await send([{ subscriptionType: 'contact.deletion', portalId: OAUTH_PORTAL }])).toMatchObject({ status: 400 });
    expect(await links()).toBe(before);
  });

  it('acknowledges event types it does not handle', async () => {
    const before = await links();
    expect(await send([hsEvent('contact.propertyChange', contactOf('cus_wh1')), hsEvent('contact.creation', 1)])).toMatchObject({
      status: 200,
      body: { received: 2, handled: 0 },
    });
    expect(await links()).toBe(before);
  });

  it('ignores events of a portal the signing app is not installed in', async () => {
    const self = contactOf('cus_whself');
    deleteInHubSpot(TEST_PORTAL_ID, self);
    const before = await links();
    // A portal nothing is connected to; the private-app token's portal, named by the marketplace app; the OAuth
    // portal, named by the self-hosted app.
    expect(await send([hsEvent('contact.privacyDeletion', 12345, STRANGER_PORTAL)])).toMatchObject({ status: 200, body: { handled: 0, ignored: 1 } });
    expect(await send([hsEvent('contact.deletion', self, TEST_PORTAL_ID)])).toMatchObject({ status: 200, body: { handled: 0, ignored: 1 } });
    const oauthContact = contactOf('cus_wh1');
    expect(await send([hsEvent('contact.deletion', oauthContact)], { secret: SELF_HOSTED_SECRET })).toMatchObject({
      status: 200,
      body: { handled: 0, ignored: 1 },
    });
    expect(await links()).toBe(before);
  });

  it('keeps a contact HubSpot still has: a deletion is confirmed with HubSpot first', async () => {
    const contactId = contactOf('cus_wh1');
    const reads = contactReads(OAUTH_PORTAL);
    const r = await send([hsEvent('contact.deletion', contactId), hsEvent('contact.privacyDeletion', contactId)]);
    expect(r).toMatchObject({ status: 200, body: { handled: 0, kept: 2, customers: 0 } });
    expect(contactReads(OAUTH_PORTAL)).toBe(reads + 1); // one batch read for the portal's contacts
    expect(await linksOf('cus_wh1')).toBe(1);
    expect(await row('cus_wh1')).toMatchObject({ sync_state: 'synced' });
  });

  it('answers 503 and changes nothing when HubSpot cannot confirm, so that HubSpot delivers again', async () => {
    const contactId = contactOf('cus_wh1');
    deleteInHubSpot(OAUTH_PORTAL, contactId);
    h.hubspot.inject.failNext(1, 400);
    const r = await send([hsEvent('contact.privacyDeletion', contactId)]);
    expect(r).toMatchObject({ status: 503, body: { error: { code: 'service_unavailable' } } });
    expect(await linksOf('cus_wh1')).toBe(1);
    expect(await row('cus_wh1')).toBeDefined();
  });

  it('a contact deletion removes the link and what HubSpot held, keeping the Stripe facts', async () => {
    const contactId = contactOf('cus_wh2');
    deleteInHubSpot(OAUTH_PORTAL, contactId);
    expect(await send([hsEvent('contact.deletion', contactId)])).toMatchObject({ status: 200, body: { handled: 1, customers: 1, kept: 0 } });
    expect(await linksOf('cus_wh2')).toBe(0);
    expect(await row('cus_wh2')).toMatchObject({ sync_state: 'skipped', synced_properties: null, status: expect.objectContaining({ customerId: 'cus_wh2' }) });
    expect(await count(`SELECT count(*)::int AS n FROM stripe_objects WHERE customer_id = 'cus_wh2'`)).toBeGreaterThan(0);
    expect(await count(`SELECT count(*)::int AS n FROM stripe_events WHERE customer_id = 'cus_wh2'`)).toBeGreaterThan(0);
  });

  it('a privacy deletion after the deletion still forgets the customer entirely, and suppresses it', async () => {
    expect(await send([hsEvent('contact.privacyDeletion', contactOf('cus_wh2'))])).toMatchObject({ status: 200, body: { handled: 1, customers: 1 } });
    expect(await row('cus_wh2')).toBeUndefined();
    expect(await count(`SELECT count(*)::int AS n FROM stripe_objects WHERE customer_id = 'cus_wh2'`)).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM stripe_events WHERE customer_id = 'cus_wh2'`)).toBe(0);
    expect(await suppressedCustomers(h.server.db, ACCOUNT, false, ['cus_wh2', 'cus_wh3'])).toEqual(new Set(['cus_wh2']));
  });

  it('a privacy deletion and a deletion in one batch forget the contact, and nothing else', async () => {
    const contactId = contactOf('cus_wh3');
    deleteInHubSpot(OAUTH_PORTAL, contactId);
    const before = await links();
    const r = await send([hsEvent('contact.deletion', contactId), hsEvent('contact.privacyDeletion', contactId)]);
    expect(r).toMatchObject({ status: 200, body: { handled: 2 } });
    expect(await row('cus_wh3')).toBeUndefined();
    expect(await suppressedCustomers(h.server.db, ACCOUNT, false, ['cus_wh3'])).toEqual(new Set(['cus_wh3']));
    expect(await links()).toBe(before - 1);
    expect(await row('cus_wh4')).toMatchObject({ sync_state: 'synced' });
    expect(await count(`SELECT count(*)::int AS n FROM stripe_objects WHERE customer_id = 'cus_wh4'`)).toBeGreaterThan(0);
  });

  it('takes the self-hosted app’s deliveries for the private-app token’s portal, signed with its own secret', async () => {
    // Its own contact: cus_whself's was deleted in HubSpot by an earlier test, and any pass since may have relinked it.
    // Nothing left to write for it (a pass after the deletion would find the contact gone and relink the customer).
    await waitFor(
      async () =>
        (
          await h.server.db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM customers WHERE account_key = '' AND customer_id = 'cus_whself2'
                AND version = synced_version AND next_attempt_at IS NULL AND (claimed_until IS NULL OR claimed_until < now())`,
          )
        ).rows[0]!.n === 1,
      { what: 'cus_whself2 fully written, with no retry pending', timeoutMs: 20_000 },
    );
    const pending = await h.server.db.query(`SELECT sync_state, sync_reason, attempts FROM customers WHERE customer_id = 'cus_whself2'`);
    expect(pending.rows).toEqual([{ sync_state: 'synced', sync_reason: null, attempts: 0 }]);
    // The contact it is linked to now (a pass may have linked it again since the first write).
    const linked = await h.server.db.query<{ contact_id: string }>(`SELECT contact_id FROM contact_links WHERE customer_id = 'cus_whself2'`);
    expect(linked.rows).toHaveLength(1);
    const contactId = String(linked.rows[0]!.contact_id);
    deleteInHubSpot(TEST_PORTAL_ID, contactId);
    const r = await send([hsEvent('contact.deletion', contactId, TEST_PORTAL_ID)], { secret: SELF_HOSTED_SECRET });
    expect(r).toMatchObject({ status: 200, body: { handled: 1, customers: 1 } });
    expect(await linksOf('cus_whself2')).toBe(0);
  });
});

describe('POST /webhooks/hubspot without a client secret', () => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await startSyncHarness({ kind: 'pglite', engine: { plugins: [completenessPlugin({ recovery: { tickMs: 3_600_000 } })] } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('answers 503 not_configured', async () => {
    const res = await fetch(`${h.server.url}${HUBSPOT_WEBHOOK_PATH}`, { method: 'POST', body: '[]' });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { code: 'not_configured' } });
  });
});
