import type { Db, Queryable } from '../../src/adapters/store/db';
import { insertEvents, markProcessed, type NewInboxEvent } from '../../src/adapters/store/inbox';
import { purgeSettledPayloads } from '../../src/adapters/store/retention';
import type { EventProcessor } from '../../src/jobs/types';
import { createLogger } from '../../src/logger';
import { createMetrics } from '../../src/metrics';
import { startEventWorker } from '../../src/queue/event-worker';
import { STUCK_REASON, sweepStuckEvents } from '../../src/queue/event-sweeper';
import { EVENTS_QUEUE, JobQueue } from '../../src/queue/job-queue';
import type { ProcessorFactory } from '../../src/server';
import { syncEngineServerOptions } from '../../src/sync/engine';
import { appRequest, TEST_APP_SECRET } from '../helpers/app-api';
import { dbKinds, migratedDb, type TestDatabase } from '../helpers/db';
import { postWebhook, startTestServer, waitFor, type TestServer } from '../helpers/server';
import { randomId, stripeEvent, stripeObject } from '../helpers/stripe-fixtures';

/**
 * Every event ends synced, skipped, ignored or failed with its reason — never stuck: one event that cannot be
 * processed fails alone (not its batch), a failure to load the batch on the last attempt still marks the events
 * failed, a sweeper enqueues events a crash left without a job (once; then they are failed), and failed events are
 * visible in the Stripe App's activity and replayable, one or all, by their own account only.
 */

const silent = createLogger({ level: 'silent' });

function inboxRow(id: string): NewInboxEvent {
  return {
    id,
    type: 'customer.updated',
    accountId: null,
    livemode: false,
    created: Math.floor(Date.now() / 1000),
    rawPayload: JSON.stringify({ id, object: 'event', type: 'customer.updated' }),
    status: 'received',
    statusReason: null,
  };
}

async function statusOf(db: Queryable, id: string): Promise<{ status: string; status_reason: string | null } | undefined> {
  const { rows } = await db.query<{ status: string; status_reason: string | null }>('SELECT status, status_reason FROM stripe_events WHERE id = $1', [id]);
  return rows[0];
}

async function jobCount(db: Queryable, eventId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND data->>'eventId' = $2`, [
    EVENTS_QUEUE,
    eventId,
  ]);
  return rows[0].n;
}

describe.each(dbKinds())('the event worker and the sweeper (%s)', (kind) => {
  let db: Db;
  let target: TestDatabase;
  let queue: JobQueue;
  const calls: string[][] = [];

  beforeAll(async () => {
    ({ db, target } = await migratedDb(kind));
    // retryLimit 0: the first attempt is the last.
    queue = await JobQueue.start(db, { expireSeconds: 30, retryLimit: 0, pollingIntervalSeconds: 0.5 }, silent);
    const processor: EventProcessor = {
      async process(events) {
        calls.push(events.map((e) => e.id));
        if (events.some((e) => e.id.startsWith('evt_poison'))) throw new Error('poisoned payload');
        await markProcessed(
          db,
          events.map((e) => e.id),
        );
      },
    };
    await startEventWorker({ db, queue, processor, logger: silent, metrics: createMetrics(), batchSize: 100, expireSeconds: 30 });
  });
  afterAll(async () => {
    await queue?.stop(1_000);
    await db?.close();
    await target?.drop();
  });

  it('fails only the event that cannot be processed: the rest of its batch is processed', async () => {
    const good = Array.from({ length: 5 }, () => randomId('evt_good'));
    const poison = randomId('evt_poison');
    const ids = [good[0], good[1], poison, good[2], good[3], good[4]];
    // One statement: the worker's next fetch takes all six together.
    await insertEvents(db, ids.map(inboxRow), (source) => queue.eventJobsFrom(source));
    await waitFor(async () => (await Promise.all(ids.map((id) => statusOf(db, id)))).every((s) => s?.status !== 'received'), {
      what: 'every event settled',
    });
    expect(calls.some((c) => ids.every((id) => c.includes(id)))).toBe(true); // they were one batch
    for (const id of good) expect((await statusOf(db, id))?.status).toBe('processed');
    expect(await statusOf(db, poison)).toEqual({ status: 'failed', status_reason: 'Could not be processed (1 attempt): poisoned payload' });
  });

  it('marks the events failed when loading them fails on the last attempt', async () => {
    const id = randomId('evt_unloadable');
    // The event and its job appear together with a table the worker cannot read the payload from.
    await db.transaction(async (tx) => {
      await insertEvents(tx, [inboxRow(id)], (source) => queue.eventJobsFrom(source));
      await tx.query('ALTER TABLE stripe_events RENAME COLUMN payload TO payload_away');
    });
    try {
      const settled = await waitFor(async () => ((await statusOf(db, id))?.status === 'failed' ? statusOf(db, id) : null), {
        what: 'the event marked failed',
      });
      expect(settled?.status_reason).toMatch(/^Could not be processed \(1 attempt\): .*payload/);
    } finally {
      await db.query('ALTER TABLE stripe_events RENAME COLUMN payload_away TO payload');
    }
  });

  it('enqueues events a crash left without a job once, even from two sweepers at once; leaves the others', async () => {
    const stuck = Array.from({ length: 3 }, () => randomId('evt_stuck'));
    const recent = randomId('evt_recent');
    const waiting = randomId('evt_waiting');
    await insertEvents(db, [...stuck, recent, waiting].map(inboxRow)); // no jobs
    await db.query(`UPDATE stripe_events SET received_at = now() - interval '1 hour' WHERE id = ANY($1::text[])`, [[...stuck, waiting]]);
    // `waiting` has a job, due in an hour (a retry backing off): it is not stuck.
    await queue.boss.send(EVENTS_QUEUE, { eventId: waiting }, { startAfter: 3600 });

    const [a, b] = await Promise.all([
      sweepStuckEvents(db, queue, { stuckMinutes: 10 }),
      sweepStuckEvents(db, queue, { stuckMinutes: 10 }),
    ]);
    expect([...a.requeued, ...b.requeued].sort()).toEqual([...stuck].sort());
    expect([...a.failed, ...b.failed]).toEqual([]);
    for (const id of stuck) expect(await jobCount(db, id)).toBe(1);
    expect(await jobCount(db, recent)).toBe(0);
    expect(await jobCount(db, waiting)).toBe(1);
    await waitFor(async () => (await Promise.all(stuck.map((id) => statusOf(db, id)))).every((s) => s?.status === 'processed'), {
      what: 'the swept events processed',
    });
    expect((await statusOf(db, recent))?.status).toBe('received');
    expect((await statusOf(db, waiting))?.status).toBe('received');
    // A second sweep finds nothing more to do.
    expect(await sweepStuckEvents(db, queue, { stuckMinutes: 10 })).toEqual({ requeued: [], failed: [] });
  });

  it('marks an event failed when it is found stuck again after being enqueued again', async () => {
    const id = randomId('evt_stuck_twice');
    await insertEvents(db, [inboxRow(id)]);
    await db.query(`UPDATE stripe_events SET received_at = now() - interval '2 hours', requeued_at = now() - interval '1 hour' WHERE id = $1`, [id]);
    const r = await sweepStuckEvents(db, queue, { stuckMinutes: 10 });
    expect(r).toEqual({ requeued: [], failed: [id] });
    expect(await statusOf(db, id)).toEqual({ status: 'failed', status_reason: STUCK_REASON });
    expect(await jobCount(db, id)).toBe(0);
  });
});

describe.each(dbKinds())('failed events in the Stripe App (%s)', (kind) => {
  const ACCOUNT = 'acct_failedevents';
  const OTHER = 'acct_someoneelse';
  let server: TestServer;
  let failing = true;

  beforeAll(async () => {
    const engine = syncEngineServerOptions({ pusher: { settleMs: 20, pollMs: 50, minPassIntervalMs: 50 } });
    server = await startTestServer({
      kind,
      env: { STRIPE_APP_SECRET: TEST_APP_SECRET, QUEUE_RETRY_LIMIT: '0' },
      queue: { pollingIntervalSeconds: 0.5, maintenanceIntervalSeconds: 1 },
      extend: engine.extend,
      // The real apply processor, except that it throws for the poisoned events while `failing`.
      processor: async (ctx) => {
        const real = await (engine.processor as ProcessorFactory)(ctx);
        return {
          async process(events) {
            if (failing && events.some((e) => e.id.startsWith('evt_poison'))) throw new Error('poisoned payload');
            await real.process(events);
          },
        };
      },
    });
  });
  afterAll(() => server?.stop());

  const app = (method: string, path: string, account: string, body?: unknown) => appRequest(server.url, method, path, { accountId: account }, body);
  const poisoned = () =>
    stripeEvent('customer.created', stripeObject('customer', { id: randomId('cus'), email: 'failed@example.com' }), {
      id: randomId('evt_poison'),
      account: ACCOUNT,
    });
  const failed = (id: string) => waitFor(async () => (await statusOf(server.db, id))?.status === 'failed', { what: `${id} failed` });
  const settled = (id: string) =>
    waitFor(async () => !['received', 'failed'].includes((await statusOf(server.db, id))?.status ?? 'received'), { what: `${id} processed` });

  it('shows failed events with the error, replays one and all, only for their own account', async () => {
    const [e1, e2] = [poisoned(), poisoned()];
    for (const e of [e1, e2]) expect((await postWebhook(server.url, e)).status).toBe(200);
    await failed(e1.id as string);
    await failed(e2.id as string);

    const activity = await app('GET', '/activity?mode=test', ACCOUNT);
    expect(activity.status).toBe(200);
    const listed = (activity.body.failedEvents as { id: string; reason: string; replayable: boolean }[]).map((f) => f.id).sort();
    expect(listed).toEqual([e1.id, e2.id].sort());
    expect(activity.body.failedEvents[0]).toMatchObject({ type: 'customer.created', replayable: true, reason: 'Could not be processed (1 attempt): poisoned payload' });
    const filtered = await app('GET', '/activity?mode=test&outcome=failed', ACCOUNT);
    expect(filtered.body.events.map((e: { id: string }) => e.id).sort()).toEqual([e1.id, e2.id].sort());
    expect(filtered.body.events[0]).toMatchObject({ outcome: 'failed', failure: 'processing' });
    // Another account sees none of them and cannot replay them.
    expect((await app('GET', '/activity?mode=test', OTHER)).body.failedEvents).toEqual([]);
    expect((await app('POST', '/events/replay', OTHER, { mode: 'test', all: true })).body).toEqual({ replayed: 0 });
    expect((await app('POST', '/events/replay', OTHER, { mode: 'test', ids: [e1.id] })).body).toEqual({ replayed: 0 });
    expect((await statusOf(server.db, e1.id as string))?.status).toBe('failed');

    failing = false;
    expect((await app('POST', '/events/replay', ACCOUNT, { mode: 'test', ids: [e1.id] })).body).toEqual({ replayed: 1 });
    await settled(e1.id as string);
    expect((await statusOf(server.db, e2.id as string))?.status).toBe('failed');
    expect((await server.db.query('SELECT 1 FROM customers WHERE account_key = $1', [ACCOUNT])).rows).toHaveLength(1);
    // Replaying the same event again finds nothing to do.
    expect((await app('POST', '/events/replay', ACCOUNT, { mode: 'test', ids: [e1.id] })).body).toEqual({ replayed: 0 });

    expect((await app('POST', '/events/replay', ACCOUNT, { mode: 'test', all: true })).body).toEqual({ replayed: 1 });
    await settled(e2.id as string);
    expect((await app('GET', '/activity?mode=test', ACCOUNT)).body.failedEvents).toEqual([]);
    failing = true;
  });

  it('cannot replay an event whose payload was removed, and refuses bad requests', async () => {
    const e = poisoned();
    expect((await postWebhook(server.url, e)).status).toBe(200);
    await failed(e.id as string);
    await server.db.query(`UPDATE stripe_events SET received_at = now() - interval '2 days' WHERE id = $1`, [e.id]);
    expect(await purgeSettledPayloads(server.db, 1)).toBeGreaterThanOrEqual(1);

    const activity = await app('GET', '/activity?mode=test', ACCOUNT);
    expect(activity.body.failedEvents.find((f: { id: string }) => f.id === e.id)).toMatchObject({ replayable: false });
    expect((await app('POST', '/events/replay', ACCOUNT, { mode: 'test', ids: [e.id] })).body).toEqual({ replayed: 0 });
    expect((await statusOf(server.db, e.id as string))?.status).toBe('failed');

    expect((await app('POST', '/events/replay', ACCOUNT, { mode: 'test' })).status).toBe(400);
    expect((await app('POST', '/events/replay', ACCOUNT, { mode: 'both', all: true })).status).toBe(400);
    const unsigned = await appRequest(server.url, 'POST', '/events/replay', { accountId: ACCOUNT, secret: 'absec_wrong' }, { mode: 'test', all: true });
    expect(unsigned.status).toBe(401);
  });
});
