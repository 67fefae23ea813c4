import { Client } from 'pg';
import type { Queryable } from '../../src/adapters/store/db';
import { deleteAccountData } from '../../src/adapters/store/data-deletion';
import { insertEvents, jsonbSafe, loadEvents } from '../../src/adapters/store/inbox';
import { holdAccounts } from '../../src/adapters/store/tombstones';
import { createApplyProcessor } from '../../src/jobs/apply-events';
import { completenessPlugin } from '../../src/jobs/backfill/plugin';
import { syncEngineServerOptions } from '../../src/sync/engine';
import { createCustomerRefresher, RefreshNotPossible } from '../../src/sync/refresh';
import { startFakeStripe, type FakeStripe } from '../fakes/stripe';
import { appRequest, TEST_APP_SECRET } from '../helpers/app-api';
import { dbKinds } from '../helpers/db';
import { postWebhook, startTestServer, waitFor, type TestServer } from '../helpers/server';
import { stripeEvent, stripeObject } from '../helpers/stripe-fixtures';

/**
 * After `account.application.deauthorized`, nothing of that account (in that mode) created up to the uninstall
 * comes back: a late Stripe retry is acknowledged and not stored, a batch loaded before the uninstall and applied
 * after it writes nothing, a backfill or a card refresh is refused — until an install newer than the uninstall.
 */

const NOW = Math.floor(Date.now() / 1000);
type Json = Record<string, unknown>;

function customerEvent(type: string, account: string, created: number, customerId: string): Json {
  return stripeEvent(type, stripeObject('customer', { id: customerId, email: `${customerId}@example.com`, name: 'Gone Person' }), {
    account,
    created,
  });
}

function lifecycleEvent(type: 'account.application.deauthorized' | 'account.application.authorized', account: string, created: number): Json {
  return stripeEvent(type, { id: 'ca_sync', object: 'application', name: 'Stripe → HubSpot' }, { account, created });
}

async function count(db: Queryable, table: string, account: string): Promise<number> {
  const column = table === 'stripe_events' ? "COALESCE(account_id, '')" : 'account_key';
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE ${column} = $1 AND livemode = false`, [account]);
  return rows[0].n;
}

async function statusOf(db: Queryable, id: string): Promise<string | undefined> {
  return (await db.query<{ status: string }>('SELECT status FROM stripe_events WHERE id = $1', [id])).rows[0]?.status;
}

describe.each(dbKinds())('uninstall tombstones (%s)', (kind) => {
  let server: TestServer;
  let stripe: FakeStripe;

  beforeAll(async () => {
    stripe = await startFakeStripe();
    server = await startTestServer({
      kind,
      env: { STRIPE_APP_SECRET: TEST_APP_SECRET, STRIPE_API_KEY: 'sk_test_fake', STRIPE_API_BASE_URL: stripe.url },
      queue: { pollingIntervalSeconds: 0.5 },
      ...syncEngineServerOptions({ plugins: [completenessPlugin({ recovery: { tickMs: 3_600_000 } })] }),
    });
  });
  afterAll(async () => {
    await server?.stop();
    await stripe?.close();
  });

  const processed = (id: string) => waitFor(async () => (await statusOf(server.db, id)) === 'processed', { what: `${id} processed` });

  it('acknowledges and drops a late retry created before the uninstall, refuses backfills and refreshes, until the next install', async () => {
    const account = 'acct_tombstoned';
    const uninstalledAt = NOW - 100;
    const first = customerEvent('customer.created', account, uninstalledAt - 50, 'cus_tomb_1');
    expect((await postWebhook(server.url, first)).status).toBe(200);
    await waitFor(async () => (await count(server.db, 'customers', account)) === 1, { what: 'the customer' });

    const uninstall = lifecycleEvent('account.application.deauthorized', account, uninstalledAt);
    expect((await postWebhook(server.url, uninstall)).status).toBe(200);
    await processed(uninstall.id as string);
    expect(await count(server.db, 'customers', account)).toBe(0);

    // Stripe retries an event from before the uninstall (and one of the very same second): 200, nothing stored.
    for (const created of [uninstalledAt - 20, uninstalledAt]) {
      const late = customerEvent('customer.updated', account, created, 'cus_tomb_1');
      const res = await postWebhook(server.url, late);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ received: true, duplicate: false, discarded: expect.any(String) });
      expect(await statusOf(server.db, late.id as string)).toBeUndefined();
    }
    // The other mode of the same account is not concerned.
    const otherMode = stripeEvent('customer.created', stripeObject('customer', { id: 'cus_tomb_live' }), { account, created: uninstalledAt - 20, livemode: true });
    expect((await postWebhook(server.url, otherMode)).body).toEqual({ received: true, duplicate: false });

    const backfill = await appRequest(server.url, 'POST', '/backfill', { accountId: account }, { mode: 'test' });
    expect(backfill.status).toBe(409);
    expect(backfill.body.error.code).toBe('uninstalled');
    expect(await count(server.db, 'backfills', account)).toBe(0);

    const refresh = createCustomerRefresher(server.db, 'sk_test_fake', stripe.url, () => undefined);
    const refused = await refresh(account, false, 'cus_tomb_1', new AbortController().signal).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RefreshNotPossible);
    expect((refused as RefreshNotPossible).cardWarning).toMatch(/uninstalled/);
    expect(stripe.requests).toHaveLength(0);
    for (const table of ['customers', 'stripe_objects']) expect(await count(server.db, table, account)).toBe(0);
    expect(await count(server.db, 'stripe_events', account)).toBe(1); // the uninstall itself

    // Installed again: what is created from then on is stored and applied, and a backfill may start.
    const install = lifecycleEvent('account.application.authorized', account, uninstalledAt + 10);
    expect((await postWebhook(server.url, install)).status).toBe(200);
    await processed(install.id as string);
    const after = customerEvent('customer.created', account, uninstalledAt + 20, 'cus_tomb_2');
    expect((await postWebhook(server.url, after)).body).toEqual({ received: true, duplicate: false });
    await waitFor(async () => (await count(server.db, 'customers', account)) === 1, { what: 'the new customer' });
    expect((await appRequest(server.url, 'POST', '/backfill', { accountId: account }, { mode: 'test' })).status).toBe(200);
  });

  it('writes nothing from a batch loaded before the uninstall and applied after it', async () => {
    const account = 'acct_inflight';
    const events = [
      customerEvent('customer.created', account, NOW - 30, 'cus_flight_1'),
      customerEvent('customer.updated', account, NOW - 20, 'cus_flight_1'),
      customerEvent('customer.created', account, NOW - 10, 'cus_flight_2'),
    ];
    // Stored without jobs: this test plays the worker that loaded them just before the uninstall.
    await insertEvents(
      server.db,
      events.map((e) => ({
        id: e.id as string,
        type: e.type as string,
        accountId: account,
        livemode: false,
        created: e.created as number,
        rawPayload: jsonbSafe(JSON.stringify(e)),
        status: 'received' as const,
        statusReason: null,
      })),
    );
    const batch = await loadEvents(
      server.db,
      events.map((e) => e.id as string),
    );
    expect(batch).toHaveLength(3);

    const uninstall = lifecycleEvent('account.application.deauthorized', account, NOW);
    expect((await postWebhook(server.url, uninstall)).status).toBe(200);
    await processed(uninstall.id as string);

    await createApplyProcessor({ db: server.db }).process(batch);
    for (const table of ['customers', 'stripe_objects']) expect(await count(server.db, table, account)).toBe(0);
    expect(await count(server.db, 'stripe_events', account)).toBe(1);
  });

  it('deletes nothing for an uninstall older than an install already seen (delivered out of order)', async () => {
    const account = 'acct_reordered';
    const install = lifecycleEvent('account.application.authorized', account, NOW - 10);
    expect((await postWebhook(server.url, install)).status).toBe(200);
    await processed(install.id as string);
    const customer = customerEvent('customer.created', account, NOW - 5, 'cus_reordered');
    expect((await postWebhook(server.url, customer)).status).toBe(200);
    await waitFor(async () => (await count(server.db, 'customers', account)) === 1, { what: 'the customer' });

    const staleUninstall = lifecycleEvent('account.application.deauthorized', account, NOW - 20);
    expect((await postWebhook(server.url, staleUninstall)).status).toBe(200);
    await waitFor(async () => (await statusOf(server.db, staleUninstall.id as string)) === 'skipped', { what: 'the stale uninstall' });
    expect(await count(server.db, 'customers', account)).toBe(1);
    const later = customerEvent('customer.updated', account, NOW - 4, 'cus_reordered');
    expect((await postWebhook(server.url, later)).body).toEqual({ received: true, duplicate: false });
  });
});

// Two connections at once: PostgreSQL only (the embedded database has one connection, so it runs them in turn).
for (const kind of dbKinds().filter((k) => k === 'postgres')) {
  describe(`an applier running on another instance during an uninstall (${kind})`, () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer({ kind });
    });
    afterAll(() => server?.stop());

    const connect = async () => {
      const client = new Client({ connectionString: server.database.url });
      await client.connect();
      const q: Queryable = {
        query: async (sql, params) => {
          const r = await client.query(sql, params as unknown[]);
          return { rows: r.rows, rowCount: r.rowCount ?? 0 };
        },
      };
      return { client, q };
    };

    it('the uninstall waits for it and deletes what it wrote; an applier after the uninstall sees the tombstone', async () => {
      const account = 'acct_concurrent';
      const applier = await connect();
      try {
        await applier.client.query('BEGIN');
        expect((await holdAccounts(applier.q, [{ account, livemode: false }])).size).toBe(0);

        let done = false;
        const deletion = deleteAccountData(server.db, account, false, { uninstall: { created: NOW } }).then((r) => {
          done = true;
          return r;
        });
        // The applier writes while it holds the account; the uninstall cannot have gone ahead of it.
        await applier.client.query(`INSERT INTO customers (account_key, livemode, customer_id, email) VALUES ($1, false, 'cus_racing', 'r@example.com')`, [account]);
        await new Promise((r) => setTimeout(r, 200));
        expect(done).toBe(false);
        await applier.client.query('COMMIT');
        expect(await deletion).not.toBeNull();
        expect(await count(server.db, 'customers', account)).toBe(0);

        await applier.client.query('BEGIN');
        expect([...(await holdAccounts(applier.q, [{ account, livemode: false }])).values()]).toEqual([NOW]);
        await applier.client.query('ROLLBACK');
      } finally {
        await applier.client.end();
      }
    });
  });
}
