import type { Db } from '../../src/adapters/store/db';
import { insertEvents, type NewInboxEvent } from '../../src/adapters/store/inbox';
import { IngestPressure } from '../../src/ingest/pressure';
import type { EventProcessor } from '../../src/jobs/types';
import { createLogger } from '../../src/logger';
import { createMetrics } from '../../src/metrics';
import { startEventWorker, PRESSURE_SLICE } from '../../src/queue/event-worker';
import { JobQueue } from '../../src/queue/job-queue';
import { ApplyBacklog } from '../../src/queue/apply-backlog';
import { dbKinds, migratedDb, type TestDatabase } from '../helpers/db';
import { waitFor } from '../helpers/server';
import { randomId } from '../helpers/stripe-fixtures';

function event(accountId: string): NewInboxEvent {
  return {
    id: randomId('evt'),
    type: 'customer.updated',
    accountId,
    livemode: false,
    created: 1_700_000_000,
    rawPayload: '{"object":"event"}',
    status: 'received',
    statusReason: null,
  };
}

describe.each(dbKinds())('the event worker under a flood takes a quiet merchant`s events in its first slice on %s', (kind) => {
  let db: Db;
  let target: TestDatabase;
  let queue: JobQueue;

  beforeAll(async () => {
    ({ db, target } = await migratedDb(kind));
  });
  // A queue (and its one events worker) per test.
  beforeEach(async () => {
    queue = await JobQueue.start(db, { expireSeconds: 45, retryLimit: 2, pollingIntervalSeconds: 0.5 }, createLogger({ level: 'silent' }));
  });
  afterEach(async () => {
    await queue?.stop(1_000);
  });
  afterAll(async () => {
    await db?.close();
    await target?.drop();
  });

  it('takes a quiet merchant`s jobs first, in a small batch', async () => {
    const flooding = randomId('acct');
    const quiet = event(randomId('acct'));
    const flood = Array.from({ length: 99 }, () => event(flooding));
    await insertEvents(db, flood, (source) => queue.eventJobsFrom(source));
    await insertEvents(db, [quiet], (source) => queue.eventJobsFrom(source));

    // Always flooded (a frozen clock with a burst recorded), never waiting (maxDeferMs 0): slices, no delay.
    const pressure = new IngestPressure({ busyRate: 1, maxDeferMs: 0, now: () => 0 });
    pressure.record(1_000);
    const slices: string[][] = [];
    const processor: EventProcessor = {
      async process(events) {
        slices.push(events.map((e) => e.id));
      },
    };
    await startEventWorker({ db, queue, processor, logger: createLogger({ level: 'silent' }), metrics: createMetrics(), batchSize: 100, pressure });
    await waitFor(() => slices.flat().length >= 100, { what: 'the batch processed', timeoutMs: 20_000 });

    expect(slices.length).toBeGreaterThan(1);
    expect(slices[0].length).toBeLessThanOrEqual(PRESSURE_SLICE);
    expect(slices[0]).toContain(quiet.id);
    expect(slices.flat().sort()).toEqual([...flood, quiet].map((e) => e.id).sort());
  });

  it('takes a quiet merchant`s event stored during the flood in its next small batch, before the flood`s backlog', async () => {
    const flooding = randomId('acct');
    const flood = Array.from({ length: 100 }, () => event(flooding));
    await insertEvents(db, flood, (source) => queue.eventJobsFrom(source));
    const quiet = event(randomId('acct'));
    const pressure = new IngestPressure({ busyRate: 1, maxDeferMs: 0, now: () => 0 });
    pressure.record(1_000);
    const batches: string[][] = [];
    const processor: EventProcessor = {
      async process(events) {
        batches.push(events.map((e) => e.id));
        // The quiet merchant's event arrives while the flood's first batch is being applied.
        if (batches.length === 1) await insertEvents(db, [quiet], (source) => queue.eventJobsFrom(source));
      },
    };
    await startEventWorker({ db, queue, processor, logger: createLogger({ level: 'silent' }), metrics: createMetrics(), batchSize: 100, pressure });
    await waitFor(() => batches.flat().length >= 101, { what: 'the flood and the quiet event processed', timeoutMs: 20_000 });

    expect(batches.every((b) => b.length <= PRESSURE_SLICE)).toBe(true);
    expect(batches[1]).toContain(quiet.id);
    expect(batches.flat().sort()).toEqual([...flood, quiet].map((e) => e.id).sort());
  });

  it('tells the backlog while its fetches come back full, and no more once one is not (what destination passes wait on)', async () => {
    const account = randomId('acct');
    await insertEvents(db, Array.from({ length: 25 }, () => event(account)), (source) => queue.eventJobsFrom(source));
    const backlog = new ApplyBacklog({ windowMs: 60_000 });
    const seen: { size: number; busy: boolean }[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const processor: EventProcessor = {
      async process(events) {
        seen.push({ size: events.length, busy: backlog.busy() });
        if (seen.length === 1) await held;
      },
    };
    await startEventWorker({ db, queue, processor, logger: createLogger({ level: 'silent' }), metrics: createMetrics(), batchSize: 10, backlog });
    await waitFor(() => seen.length >= 1, { what: 'the first batch', timeoutMs: 20_000 });
    // The first fetch took the 10 it asked for: 15 more wait.
    expect(seen[0]).toEqual({ size: 10, busy: true });
    release();
    await waitFor(() => seen.flat().reduce((n, b) => n + b.size, 0) >= 25, { what: 'every event applied', timeoutMs: 20_000 });
    expect(seen.map((b) => b.size)).toEqual([10, 10, 5]);
    // The last fetch took 5 of 10: nothing waits any more.
    await waitFor(() => !backlog.busy(), { what: 'the backlog seen empty', timeoutMs: 5_000 });
  });
});
