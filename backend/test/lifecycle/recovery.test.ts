import type { Db } from '../../src/adapters/store/db';
import { scheduledJobState } from '../../src/adapters/store/backfill-store';
import { createApplyProcessor } from '../../src/jobs/apply-events';
import { recoverMissedEvents, startRecoverySchedule, type RecoverySchedule } from '../../src/jobs/recovery';
import { createIngestor, type Ingestor } from '../../src/ingest/ingestor';
import { dbKinds, migratedDb, type TestDatabase } from '../helpers/db';
import { postWebhook, startTestServer, waitFor, type TestServer } from '../helpers/server';
import { startFakeStripe, type FakeStripe } from '../fakes/stripe';
import { fakeStripeFor, silentLogger } from '../backfill/helpers';

/**
 * Recovery of missed events: the events Stripe failed to deliver in the last 30 days are put into the inbox
 * (with their jobs) through the ingestor, processed like webhooks, exactly once however often recovery runs.
 */
describe.each(dbKinds())('recovery of missed events (%s)', (kind) => {
  let server: TestServer;
  let fake: FakeStripe;
  let ingestor: Ingestor;

  beforeAll(async () => {
    fake = await startFakeStripe();
    server = await startTestServer({ kind, queue: { pollingIntervalSeconds: 0.5 }, processor: (ctx) => createApplyProcessor({ db: ctx.db }) });
    ingestor = createIngestor({ db: server.db, queue: server.queue, metrics: server.metrics, logger: server.logger });
  });
  afterAll(async () => {
    await ingestor?.close();
    await server?.stop();
    await fake?.close();
  });

  it('inserts exactly the missed events once, and they are processed like webhooks', async () => {
    const account = fake.account('acct_missed', false);
    const now = Math.floor(Date.now() / 1000);
    const customers = [0, 1, 2, 3].map((i) => account.addCustomer({ email: `m${i}@example.com`, created: now - 3600 }));
    const missed = customers.slice(0, 3).map((c) => account.addEvent('customer.created', c, { delivered: false, created: now - 600 }));
    // Missed at first, then delivered by a retry we stored: listed again, but already in the inbox.
    const stored = account.addEvent('customer.updated', customers[3], { delivered: false, created: now - 300 });
    expect((await postWebhook(server.url, stored)).status).toBe(200);
    account.addEvent('customer.updated', customers[0], { delivered: true, created: now - 200 });
    account.addEvent('payout.paid', { id: 'po_1', object: 'payout' }, { delivered: false, created: now - 100 });
    // Another account's failures are not this account's.
    fake.account('acct_other', false).addEvent('customer.created', fake.account('acct_other', false).addCustomer({ email: 'o@example.com' }), { delivered: false });

    const deps = { ingestor, stripeFor: fakeStripeFor(fake), logger: silentLogger };
    const first = await recoverMissedEvents(deps, { account: 'acct_missed', livemode: false });
    expect(first).toEqual({ listed: 4, inserted: 3 });
    const second = await recoverMissedEvents(deps, { account: 'acct_missed', livemode: false });
    expect(second).toEqual({ listed: 4, inserted: 0 });

    const ids = [...missed.map((e) => e.id as string), stored.id as string];
    const { rows } = await server.db.query<{ id: string; account_id: string; n: number }>(
      `SELECT e.id, e.account_id, (SELECT count(*)::int FROM pgboss.job j WHERE j.data->>'eventId' = e.id) AS n
         FROM stripe_events e WHERE e.id = ANY($1::text[]) ORDER BY e.id`,
      [ids],
    );
    expect(rows.map((r) => [r.id, r.account_id, r.n])).toEqual(ids.sort().map((id) => [id, 'acct_missed', 1]));
    expect((await server.db.query(`SELECT 1 FROM stripe_events WHERE type = 'payout.paid'`)).rows).toHaveLength(0);
    // Processed like webhooks: the three customers exist in the read model.
    await waitFor(
      async () =>
        (await server.db.query(`SELECT 1 FROM customers WHERE account_key = 'acct_missed' AND status IS NOT NULL AND customer_id = ANY($1::text[])`, [
          customers.slice(0, 3).map((c) => c.id),
        ])).rows.length === 3,
      { what: 'the recovered events to be applied' },
    );
    // The request asked for undelivered, handled types of the last 30 days.
    const req = fake.requests.find((r) => r.path === '/v1/events' && r.account === 'acct_missed')!;
    expect(req.query).toMatchObject({ delivery_success: 'false', created: { gte: expect.any(String) } });
    expect(Number((req.query.created as { gte: string }).gte)).toBeGreaterThanOrEqual(now - 30 * 86_400 - 5);
    expect(req.query.types).toContain('invoice.payment_failed');
  });

  it('needs a key for the mode', async () => {
    const result = await recoverMissedEvents({ ingestor, stripeFor: () => null, logger: silentLogger }, { account: 'acct_missed', livemode: true });
    expect(result).toMatchObject({ listed: 0, inserted: 0, skipped: expect.stringMatching(/live mode/) });
  });
});

describe.each(dbKinds())('recovery schedule (%s)', (kind) => {
  let db: Db;
  let target: TestDatabase;
  const schedules: RecoverySchedule[] = [];
  beforeAll(async () => {
    ({ db, target } = await migratedDb(kind));
  });
  afterAll(async () => {
    for (const s of schedules) await s.stop();
    await db?.close();
    await target?.drop();
  });

  it('runs on one instance per interval, target by target, an error in one not stopping the others', async () => {
    const calls: string[] = [];
    const make = (owner: string) => {
      const s = startRecoverySchedule({
        db,
        logger: silentLogger,
        intervalMinutes: 60,
        tickMs: 3_600_000,
        owner,
        targets: async () => [
          { account: 'acct_1', livemode: false },
          { account: 'acct_2', livemode: true },
        ],
        recover: async (t) => {
          calls.push(`${owner}:recover:${t.account}`);
          if (t.account === 'acct_1') throw new Error('Stripe is down');
          return { listed: 0, inserted: 0 };
        },
        driftCheck: async (t) => {
          calls.push(`${owner}:drift:${t.account}`);
          return { checked: 0 };
        },
      });
      schedules.push(s);
      return s;
    };
    const a = make('a');
    const b = make('b');
    const [ra, rb] = await Promise.all([a.tick(), b.tick()]);
    const ran = [ra, rb].filter((r) => r !== null);
    expect(ran).toHaveLength(1);
    expect(ran[0]).toMatchObject({
      'acct_1:test': { recovery: { error: 'Stripe is down' }, drift: { checked: 0 } },
      'acct_2:live': { recovery: { listed: 0, inserted: 0 }, drift: { checked: 0 } },
    });
    const owner = ra ? 'a' : 'b';
    expect(calls).toEqual([`${owner}:recover:acct_1`, `${owner}:drift:acct_1`, `${owner}:recover:acct_2`, `${owner}:drift:acct_2`]);
    // Not due again within the interval, on either instance.
    expect(await a.tick()).toBeNull();
    expect(await b.tick()).toBeNull();
    const state = await scheduledJobState(db, 'recovery');
    expect(state?.lastFinishedAt).not.toBeNull();
    // Once the interval has passed, it is due again.
    await db.query(`UPDATE scheduled_jobs SET last_started_at = now() - interval '61 minutes' WHERE name = 'recovery'`);
    expect(await b.tick()).not.toBeNull();
  });
});
