import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Db } from '../../src/adapters/store/db';
import { scheduledJobState } from '../../src/adapters/store/backfill-store';
import { migrate } from '../../src/adapters/store/migrate';
import { createApplyProcessor } from '../../src/jobs/apply-events';
import {
  recoverMissedEvents,
  startRecoverySchedule,
  type RecoverySchedule,
  type RecoveryScheduleOptions,
  type RecoveryTarget,
} from '../../src/jobs/recovery';
import { createIngestor, type Ingestor } from '../../src/ingest/ingestor';
import { createMetrics } from '../../src/metrics';
import { JobQueue } from '../../src/queue/job-queue';
import { dbKinds, freshDatabase, migratedDb, type TestDatabase } from '../helpers/db';
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

/**
 * After an unclean stop the inbox may lack webhooks that were acknowledged (the embedded database cannot fsync: a
 * power loss loses its last writes) while Stripe counts them as delivered. Every process keeps a heartbeat and
 * deletes it at a clean stop; a stale heartbeat makes a running process list every event since it, delivered or not.
 */
describe.each(dbKinds())('recovery after an unclean stop (%s)', (kind) => {
  const ACCOUNT = 'acct_unclean';
  const HOUR = 3_600_000;
  let fake: FakeStripe;
  let database: TestDatabase;
  let dataDir: string | undefined;
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    fake = await startFakeStripe();
    if (kind === 'pglite') dataDir = mkdtempSync(join(tmpdir(), 'shs-unclean-'));
    database = await freshDatabase(kind, dataDir ? { dataDir } : {});
  });
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await database?.drop();
    await fake?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  /** One backend process on the shared storage: its database handle, an ingestor, and its recovery schedule. */
  async function startProcess(owner: string, tuning: Partial<RecoveryScheduleOptions> = {}) {
    const db = await database.open();
    await migrate(db);
    const queue = await JobQueue.start(db, { expireSeconds: 60, retryLimit: 3 }, silentLogger);
    const ingestor = createIngestor({ db, queue, metrics: createMetrics(), logger: silentLogger });
    const recovered: RecoveryTarget[] = [];
    const schedule = startRecoverySchedule({
      db,
      logger: silentLogger,
      intervalMinutes: 60,
      tickMs: HOUR,
      heartbeatMs: HOUR,
      owner,
      targets: async () => [{ account: ACCOUNT, livemode: false }],
      recover: (target, signal) => {
        recovered.push(target);
        return recoverMissedEvents({ ingestor, stripeFor: fakeStripeFor(fake), logger: silentLogger, signal }, target);
      },
      ...tuning,
    });
    let stopped = false;
    /** A clean stop: the schedule first (it deletes the heartbeat), then the queue and the database. */
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      await schedule.stop();
      await ingestor.close();
      await queue.stop(1_000);
      await db.close();
    };
    /** Dies uncleanly: the storage goes away under it; the schedule's clean-stop record never reaches it. */
    const crash = async () => {
      if (stopped) return;
      stopped = true;
      await ingestor.close();
      await queue.stop(1_000).catch(() => undefined);
      await db.close();
      await schedule.stop(); // only to end its timers: its database is gone
    };
    cleanups.push(stop);
    return { db, schedule, recovered, stop, crash };
  }

  const eventRequests = () => fake.requests.filter((r) => r.path === '/v1/events' && r.account === ACCOUNT);
  const runs = async (db: Db) =>
    (await db.query<{ instance_id: string }>('SELECT instance_id FROM instance_runs ORDER BY instance_id')).rows.map((r) => r.instance_id);

  it('lists the events since the last heartbeat, delivered ones included, and ingests the missing ones once', async () => {
    const a = await startProcess('instance-a');
    await a.schedule.heartbeat();
    expect(await runs(a.db)).toEqual(['instance-a']);
    const { rows } = await a.db.query<{ hb: string }>(
      `SELECT floor(extract(epoch FROM heartbeat_at))::bigint AS hb FROM instance_runs WHERE instance_id = 'instance-a'`,
    );
    const heartbeat = Number(rows[0].hb);
    await a.crash();

    // Stripe delivered these (to the process that died, which acknowledged and lost them, or to nobody).
    const account = fake.account(ACCOUNT, false);
    const customers = [0, 1, 2, 3].map((i) => account.addCustomer({ email: `u${i}@example.com`, created: heartbeat - 7200 }));
    const afterHeartbeat = [0, 1].map((i) => account.addEvent('customer.created', customers[i], { delivered: true, created: heartbeat + 1 }));
    const withinMargin = account.addEvent('customer.updated', customers[2], { delivered: true, created: heartbeat - 300 });
    const longBefore = account.addEvent('customer.updated', customers[3], { delivered: true, created: heartbeat - 3600 });
    const expected = [...afterHeartbeat, withinMargin].map((e) => e.id as string).sort();
    const before = eventRequests().length;

    const b = await startProcess('instance-b', { staleAfterSeconds: 0 });
    await b.schedule.heartbeat();
    expect(b.recovered).toEqual([{ account: ACCOUNT, livemode: false, since: heartbeat - 900 }]);
    const listed = eventRequests().slice(before);
    expect(listed).toHaveLength(1);
    expect(listed[0].query).not.toHaveProperty('delivery_success');
    expect(listed[0].query).toMatchObject({ created: { gte: String(heartbeat - 900) } });

    const stored = await b.db.query<{ id: string; jobs: number }>(
      `SELECT e.id, (SELECT count(*)::int FROM pgboss.job j WHERE j.data->>'eventId' = e.id) AS jobs
         FROM stripe_events e WHERE e.id = ANY($1::text[]) ORDER BY e.id`,
      [[...expected, longBefore.id]],
    );
    expect(stored.rows).toEqual(expected.map((id) => ({ id, jobs: 1 })));
    // The unclean stop is settled: not listed again by this process or any other.
    expect(await runs(b.db)).toEqual(['instance-b']);
    expect(await b.schedule.heartbeat()).toBeNull();
    expect(eventRequests().length).toBe(before + 1);
    expect(b.recovered).toHaveLength(1);

    await b.stop();
    const c = await startProcess('instance-c', { staleAfterSeconds: 0 });
    try {
      // b's clean stop deleted its heartbeat: c (which takes any heartbeat as stale) finds nothing to recover.
      expect(await c.schedule.heartbeat()).toBeNull();
      expect(c.recovered).toEqual([]);
      expect(await runs(c.db)).toEqual(['instance-c']);
    } finally {
      await c.stop();
    }
  });

  it('after a clean stop, a new process lists nothing extra', async () => {
    const d = await startProcess('instance-d');
    await d.schedule.heartbeat();
    await d.stop();
    const before = eventRequests().length;
    const e = await startProcess('instance-e', { staleAfterSeconds: 0 });
    try {
      expect(await e.schedule.heartbeat()).toBeNull();
      expect(e.recovered).toEqual([]);
      expect(eventRequests().length).toBe(before);
    } finally {
      await e.stop();
    }
  });

  it('keeps an unclean stop claimed when its recovery fails, and recovers it once the claim runs out', async () => {
    const f = await startProcess('instance-f');
    await f.schedule.heartbeat();
    await f.crash();
    let failing = true;
    const g = await startProcess('instance-g', {
      staleAfterSeconds: 0,
      recover: async () => {
        if (failing) throw new Error('Stripe is down');
        return { listed: 0, inserted: 0 };
      },
    });
    try {
      await g.schedule.heartbeat();
      const claimed = await g.db.query<{ recovery_owner: string }>(`SELECT recovery_owner FROM instance_runs WHERE instance_id = 'instance-f'`);
      expect(claimed.rows).toEqual([{ recovery_owner: 'instance-g' }]);
      // Claimed: nobody takes it up again before the lease runs out.
      expect(await g.schedule.heartbeat()).toBeNull();
      failing = false;
      await g.db.query(`UPDATE instance_runs SET recovery_until = now() - interval '1 second' WHERE instance_id = 'instance-f'`);
      const again = await g.schedule.heartbeat();
      expect(again).toMatchObject({ complete: true, stops: [{ instanceId: 'instance-f' }] });
      expect(await runs(g.db)).toEqual(['instance-g']);
    } finally {
      await g.stop();
    }
  });
});
