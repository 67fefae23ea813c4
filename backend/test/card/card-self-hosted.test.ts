import { ConfigError, loadConfig, redactedConfig } from '../../src/config';
import { dbKinds } from '../helpers/db';
import { startSyncHarness, TEST_PORTAL_ID, TEST_PRIVATE_APP_TOKEN, type SyncHarness } from '../helpers/sync-harness';
import { CARD_SECRET, cardCall } from './card-client';
import { customerStory } from './card-seed';

/**
 * The card for self-hosters: a merchant's backend with a private-app token and no OAuth app (no HubSpot client id
 * or secret, no token encryption key) verifies its own private HubSpot app's card requests with that app's client
 * secret (HUBSPOT_CARD_CLIENT_SECRET).
 */

const SELF_HOSTED_SECRET = 'self-hosted-card-client-secret';

describe.each(dbKinds())('the self-hosted card on %s', (kind) => {
  let h: SyncHarness;
  let contactId = '';
  beforeAll(async () => {
    // The harness connects TEST_PORTAL_ID with a private-app token (HUBSPOT_ACCESS_TOKEN) and nothing else.
    h = await startSyncHarness({ kind, env: { HUBSPOT_CARD_CLIENT_SECRET: SELF_HOSTED_SECRET } });
    expect(h.server.config.hubspot).toMatchObject({ clientId: undefined, clientSecret: undefined, cardClientSecret: SELF_HOSTED_SECRET });
    expect(h.server.config.tokenEncryptionKey).toBeUndefined();
    await h.send(...customerStory('cus_selfhosted', 'self-hosted@example.com'));
    await h.idle();
    contactId = h.contactOf('cus_selfhosted')!.id;
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("answers a request signed with the self-hosted app's secret with the contact's status", async () => {
    const r = await cardCall(h.server.url, '/status', { portalId: TEST_PORTAL_ID, contactId }, { secret: SELF_HOSTED_SECRET });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ state: 'linked', syncing: 0, customers: [{ customerId: 'cus_selfhosted', email: 'self-hosted@example.com' }] });
  });

  it('refuses a request signed with another secret (the marketplace app’s, or any other)', async () => {
    for (const secret of [CARD_SECRET, `${SELF_HOSTED_SECRET}x`, '']) {
      const r = await cardCall(h.server.url, '/status', { portalId: TEST_PORTAL_ID, contactId }, { secret });
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ error: { code: 'invalid_signature', message: expect.any(String) } });
    }
  });

  it('does not offer "Check Stripe again" without a Stripe API key, and its refresh looks nothing up', async () => {
    const stranger = h.hubspot.portal(TEST_PORTAL_ID).addContact({ email: 'stranger@example.com' });
    for (const path of ['/status', '/refresh']) {
      const r = await cardCall(h.server.url, path, { portalId: TEST_PORTAL_ID, contactId: stranger.id }, { secret: SELF_HOSTED_SECRET });
      expect(r.body).toMatchObject({ state: 'not_linked', reason: 'no_customer', canCheckStripe: false });
      expect(r.body.warning).toBeUndefined();
    }
  });

  it('reads nothing of the private-app portal for another portal', async () => {
    const r = await cardCall(h.server.url, '/status', { portalId: TEST_PORTAL_ID + 1, contactId }, { secret: SELF_HOSTED_SECRET });
    expect(r.body).toMatchObject({ state: 'not_linked', reason: 'no_install', canCheckStripe: false });
    expect(JSON.stringify(r.body)).not.toContain('cus_selfhosted');
  });
});

describe('a backend without any HubSpot app secret', () => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await startSyncHarness({ kind: 'pglite' });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('answers the card 503 in words for HubSpot users: no configuration names', async () => {
    const r = await cardCall(h.server.url, '/status', { portalId: TEST_PORTAL_ID, contactId: '1' });
    expect(r.status).toBe(503);
    expect(r.body).toEqual({ error: { code: 'not_configured', message: expect.any(String) } });
    expect(r.body.error.message).not.toMatch(/HUBSPOT_|STRIPE_|SECRET/);
  });
});

describe('HUBSPOT_CARD_CLIENT_SECRET', () => {
  const configError = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (err) {
      if (err instanceof ConfigError) return err;
      throw err;
    }
    throw new Error('expected a ConfigError');
  };

  it('needs the private-app token whose portal the self-hosted card reads', () => {
    const err = configError({ HUBSPOT_CARD_CLIENT_SECRET: SELF_HOSTED_SECRET });
    expect(err.variables).toEqual(['HUBSPOT_CARD_CLIENT_SECRET']);
    expect(err.message).toContain('HUBSPOT_ACCESS_TOKEN');
  });

  it('must look like a client secret, and is never logged', () => {
    expect(configError({ HUBSPOT_ACCESS_TOKEN: TEST_PRIVATE_APP_TOKEN, HUBSPOT_CARD_CLIENT_SECRET: 'has spaces in it' }).variables).toEqual([
      'HUBSPOT_CARD_CLIENT_SECRET',
    ]);
    expect(configError({ HUBSPOT_ACCESS_TOKEN: TEST_PRIVATE_APP_TOKEN, HUBSPOT_CARD_CLIENT_SECRET: 'short' }).variables).toEqual([
      'HUBSPOT_CARD_CLIENT_SECRET',
    ]);
    const config = loadConfig({ HUBSPOT_ACCESS_TOKEN: TEST_PRIVATE_APP_TOKEN, HUBSPOT_CARD_CLIENT_SECRET: SELF_HOSTED_SECRET });
    expect(config.hubspot.cardClientSecret).toBe(SELF_HOSTED_SECRET);
    // Without OAuth credentials: the self-hosted card turns no OAuth on.
    expect([config.hubspot.clientId, config.hubspot.clientSecret, config.tokenEncryptionKey]).toEqual([undefined, undefined, undefined]);
    expect(JSON.stringify(redactedConfig(config))).not.toContain(SELF_HOSTED_SECRET);
  });
});
