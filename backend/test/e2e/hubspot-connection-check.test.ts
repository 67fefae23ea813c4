import { dbKinds } from '../helpers/db';
import { startSyncHarness, TEST_PORTAL_ID, TEST_PRIVATE_APP_TOKEN, type SyncHarness } from '../helpers/sync-harness';
import { randomId, stripeEvent, stripeObject } from '../helpers/stripe-fixtures';
import { appRequest, TEST_APP_SECRET } from '../helpers/app-api';
import { waitFor } from '../helpers/server';
import { DESTINATION_PORT } from '../../src/adapters/destinations/registry';
import type { SyncEngine } from '../../src/sync/engine';

/**
 * "Check connection" in the Stripe App (`POST /hubspot/connection/test`): the destination port's check of HubSpot,
 * now, instead of the minute's check. A refused token pauses the connection and keeps every change; once the
 * token works, a check lifts the pause and the kept customers are written at once; an outage changes nothing.
 */

const SELF = 'acct_1SelfHostedCheck';
let clock = 1_796_000_000;
const customer = (id: string, extra: Record<string, unknown> = {}, type = 'customer.created') =>
  stripeEvent(type, stripeObject('customer', { id, email: `${id}@example.com`, created: clock, ...extra }), { created: ++clock });

const caller = { accountId: SELF };
const check = (h: SyncHarness, mode = 'test') => appRequest(h.server.url, 'POST', '/hubspot/connection/test', caller, { mode });
const health = async (h: SyncHarness) => (await appRequest(h.server.url, 'GET', '/settings?mode=test', caller)).body.connection?.health;

describe.each(dbKinds())('checking the HubSpot connection from the Stripe App on %s', (kind) => {
  let h: SyncHarness;
  let engine: SyncEngine | undefined;
  beforeAll(async () => {
    h = await startSyncHarness({
      kind,
      env: {
        STRIPE_APP_SECRET: TEST_APP_SECRET,
        STRIPE_ACCOUNT_ID: SELF,
        HUBSPOT_PRIVATE_APP_PORTAL_ID: String(TEST_PORTAL_ID),
        HUBSPOT_PRIVATE_APP_MODES: 'test',
      },
      // The periodic check waits ten minutes here: only the merchant's check can lift the pause within the test.
      engine: {
        health: { connectionCheckMs: 600_000, tickMs: 100 },
        hubspotRetry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
        plugins: [(_ctx, e) => void (engine = e)],
      },
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('runs every destination of the port, HubSpot included, through exactly one of its engines', () => {
    const kinds = engine!.destinations.flatMap((e) => e.kinds);
    expect([...kinds].sort()).toEqual(Object.keys(DESTINATION_PORT).sort());
    expect(engine!.destinations[0]!.kinds).toEqual(['hubspot']);
  });

  it('answers that the connection works', async () => {
    const r = await check(h);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      ok: true,
      message: `HubSpot portal ${TEST_PORTAL_ID} answers: the connection works.`,
      connection: { portalId: TEST_PORTAL_ID, health: { state: 'ok' } },
    });
  });

  it('refuses a mode with no portal (404 not_connected), and a request without a mode (400)', async () => {
    const live = await check(h, 'live');
    expect(live.status).toBe(404);
    expect(live.body.error?.code ?? live.body.code).toBe('not_connected');
    const none = await appRequest(h.server.url, 'POST', '/hubspot/connection/test', caller, {});
    expect(none.status).toBe(400);
  });

  it('an outage is said as such and changes nothing', async () => {
    h.hubspot.inject.failNext(1, 503);
    const r = await check(h);
    expect(r.status).toBe(200);
    expect(r.body.ok).toBe(false);
    expect(r.body.message).toMatch(/^HubSpot did not answer .*nothing is lost/);
    expect(r.body.connection.health).toMatchObject({ state: 'ok' });
  });

  it('pauses on a refused token, and lifts the pause at once when the token works again', async () => {
    const ids = [randomId('cus'), randomId('cus')];
    await h.send(...ids.map((id) => customer(id)));
    await h.idle();

    h.hubspot.revokePrivateAppToken(TEST_PRIVATE_APP_TOKEN);
    await h.send(...ids.map((id) => customer(id, { delinquent: true }, 'customer.updated')));
    await waitFor(async () => (await health(h))?.state === 'paused', { what: 'the connection paused by the pusher' });
    const refused = await check(h);
    expect(refused.body).toMatchObject({ ok: false, connection: { health: { state: 'paused', code: 'INVALID_AUTHENTICATION' } } });
    expect(refused.body.message).toMatch(/^HubSpot refuses our access: .*Writing is paused and every change is kept\.$/);
    await waitFor(async () => (await health(h))?.waiting === 2, { what: 'both customers kept for the connection' });

    h.hubspot.addPrivateAppToken(TEST_PRIVATE_APP_TOKEN, TEST_PORTAL_ID);
    const works = await check(h);
    expect(works.body).toMatchObject({ ok: true, connection: { health: { state: 'ok', code: null } } });
    expect(works.body.message).toBe(
      `HubSpot portal ${TEST_PORTAL_ID} answers: the connection works. The 2 customers kept while it was refused are being written now.`,
    );
    // Written well before the ten-minute periodic check would have looked.
    await h.idle(20_000);
    for (const id of ids) expect(h.contactOf(id)?.properties.stripe_delinquent).toBe('true');
    expect(await health(h)).toMatchObject({ state: 'ok', waiting: 0 });
  }, 60_000);
});
