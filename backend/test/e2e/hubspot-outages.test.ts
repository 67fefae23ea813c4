import { dbKinds } from '../helpers/db';
import { startSyncHarness, TEST_PORTAL_ID, TEST_PRIVATE_APP_TOKEN, type SyncHarness } from '../helpers/sync-harness';
import { randomId, stripeEvent, stripeObject } from '../helpers/stripe-fixtures';
import { appRequest, TEST_APP_SECRET } from '../helpers/app-api';
import { waitFor } from '../helpers/server';

/**
 * HubSpot failures that end: a revoked token (every call 401) while webhooks keep arriving, and a long outage
 * (every call 503). Nothing is dead-lettered, nothing needs a manual replay, and once HubSpot answers again every
 * customer's latest facts land within seconds.
 */

const SELF = 'acct_1SelfHostedOutage';
const harnessPusher = { settleMs: 20, pollMs: 50, minPassIntervalMs: 50 };
let clock = 1_795_000_000;
const customer = (id: string, extra: Record<string, unknown> = {}, type = 'customer.created') =>
  stripeEvent(type, stripeObject('customer', { id, email: `${id}@example.com`, created: clock, ...extra }), { created: ++clock });

async function counts(h: SyncHarness) {
  const { rows } = await h.server.db.query<{ dead: string; failed: string; dirty: string }>(
    `SELECT (SELECT count(*) FROM dead_letters) AS dead,
            (SELECT count(*) FROM stripe_events WHERE status = 'failed') AS failed,
            (SELECT count(*) FROM customers WHERE version > synced_version) AS dirty`,
  );
  return { dead: Number(rows[0].dead), failed: Number(rows[0].failed), dirty: Number(rows[0].dirty) };
}

const health = async (h: SyncHarness) =>
  (await appRequest(h.server.url, 'GET', '/settings?mode=test', { accountId: SELF })).body.connection?.health;

describe.each(dbKinds())('a revoked private-app token on %s', (kind) => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await startSyncHarness({
      kind,
      env: { STRIPE_APP_SECRET: TEST_APP_SECRET, STRIPE_ACCOUNT_ID: SELF, HUBSPOT_PRIVATE_APP_PORTAL_ID: String(TEST_PORTAL_ID) },
      engine: { health: { connectionCheckMs: 300, tickMs: 100 } },
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('pauses the connection, keeps every change, and resumes by itself once the token works again', async () => {
    const ids = Array.from({ length: 5 }, () => randomId('cus'));
    await h.send(...ids.map((id) => customer(id)));
    await h.idle();
    expect(h.contacts()).toHaveLength(5);
    expect(await health(h)).toMatchObject({ state: 'ok', waiting: 0 });

    h.hubspot.revokePrivateAppToken(TEST_PRIVATE_APP_TOKEN);
    const writesBefore = h.hubspot.requests.length;
    const late = randomId('cus');
    await h.send(...ids.map((id) => customer(id, { delinquent: true }, 'customer.updated')));
    const paused = await waitFor(async () => {
      const hl = await health(h);
      return hl?.state === 'paused' ? hl : null;
    }, { what: 'the connection shown paused' });
    expect(paused).toMatchObject({ code: 'INVALID_AUTHENTICATION', message: expect.stringMatching(/Authentication credentials not found/) });
    expect(Date.parse(paused.since)).toBeGreaterThan(0);

    // Webhooks keep arriving while it is paused.
    await h.send(customer(late));
    await waitFor(async () => (await counts(h)).dirty === 6, { what: 'six customers waiting' });
    await waitFor(async () => {
      const { rows } = await h.server.db.query<{ n: string }>(
        `SELECT count(*) AS n FROM customers WHERE version > synced_version AND sync_reason LIKE 'Waiting: HubSpot refuses our access%'`,
      );
      return Number(rows[0].n) === 6;
    }, { what: 'every waiting customer held for the connection' });
    expect(await counts(h)).toEqual({ dead: 0, failed: 0, dirty: 6 });
    expect((await health(h)).waiting).toBe(6);
    // Held, not hammered: contact writes stopped at the first refusal.
    const refusedWrites = h.hubspot.requests
      .slice(writesBefore)
      .filter((r) => r.status === 401 && r.path.startsWith('/crm/v3/objects/contacts/batch'));
    expect(refusedWrites.length).toBeLessThanOrEqual(2);

    h.hubspot.addPrivateAppToken(TEST_PRIVATE_APP_TOKEN, TEST_PORTAL_ID);
    await h.idle(20_000);
    for (const id of ids) {
      expect(h.contactOf(id)?.properties.stripe_delinquent).toBe('true');
    }
    expect(h.contactOf(late)).toBeDefined();
    expect(await counts(h)).toEqual({ dead: 0, failed: 0, dirty: 0 });
    expect(await health(h)).toMatchObject({ state: 'ok', code: null, since: null, waiting: 0 });
  }, 90_000);
});

describe.each(dbKinds())('a long HubSpot outage on %s', (kind) => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await startSyncHarness({
      kind,
      // Customers' retries back off from two minutes: without a wake-up they would wait that long after recovery.
      engine: {
        pusher: { ...harnessPusher, retry: { baseMs: 120_000, maxMs: 600_000 } },
        hubspotRetry: { maxAttempts: 2, baseDelayMs: 20, maxDelayMs: 50 },
        health: { outageProbeMs: 300, tickMs: 100 },
      },
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('writes every waiting customer within seconds once HubSpot answers again', async () => {
    const synced = randomId('cus');
    await h.send(customer(synced));
    await h.idle();

    h.hubspot.inject.failRate(1, 503);
    const ids = Array.from({ length: 12 }, () => randomId('cus'));
    await h.send(customer(synced, { delinquent: true }, 'customer.updated'), ...ids.map((id) => customer(id)));
    // Every customer has failed at least once and now waits minutes.
    await waitFor(async () => {
      const { rows } = await h.server.db.query<{ n: string }>(
        `SELECT count(*) AS n FROM customers
          WHERE version > synced_version AND waiting_on_portal = $1 AND next_attempt_at > now() + interval '50 seconds'`,
        [TEST_PORTAL_ID],
      );
      return Number(rows[0].n) === 13;
    }, { timeoutMs: 30_000, what: 'all 13 customers backing off for minutes' });
    expect(await counts(h)).toEqual({ dead: 0, failed: 0, dirty: 13 });

    h.hubspot.inject.clear();
    await h.idle(8_000);
    expect(h.contactOf(synced)?.properties.stripe_delinquent).toBe('true');
    for (const id of ids) expect(h.contactOf(id)).toBeDefined();
    expect(await counts(h)).toEqual({ dead: 0, failed: 0, dirty: 0 });
  }, 90_000);
});
