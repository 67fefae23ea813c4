import type { Db } from '../../src/adapters/store/db';
import { insertEvents, type NewInboxEvent } from '../../src/adapters/store/inbox';
import { createLogger } from '../../src/logger';
import { EVENTS_QUEUE, JobQueue, type EventJobData } from '../../src/queue/job-queue';
import { dbKinds, migratedDb, type TestDatabase } from '../helpers/db';
import { randomId } from '../helpers/stripe-fixtures';

function event(accountId: string, livemode = false): NewInboxEvent {
  return {
    id: randomId('evt'),
    type: 'customer.updated',
    accountId,
    livemode,
    created: 1_700_000_000,
    rawPayload: '{"object":"event"}',
    status: 'received',
    statusReason: null,
  };
}

describe.each(dbKinds())('fairness between merchants in the events queue on %s', (kind) => {
  let db: Db;
  let target: TestDatabase;
  let queue: JobQueue;

  beforeAll(async () => {
    ({ db, target } = await migratedDb(kind));
    queue = await JobQueue.start(db, { expireSeconds: 45, retryLimit: 2 }, createLogger({ level: 'silent' }));
  });
  afterAll(async () => {
    await queue?.stop(1_000);
    await db?.close();
    await target?.drop();
  });

  const store = (events: NewInboxEvent[]) => insertEvents(db, events, (source) => queue.eventJobsFrom(source));
  const take = async (n: number): Promise<string[]> =>
    ((await queue.boss.fetch<EventJobData>(EVENTS_QUEUE, { batchSize: n })) ?? []).map((j) => j.data.eventId);
  const drain = async (): Promise<string[]> => {
    const all: string[] = [];
    for (let batch = await take(50); batch.length > 0; batch = await take(50)) all.push(...batch);
    return all;
  };

  it('takes a quiet account`s jobs before the backlog of a flooding account enqueued earlier, and still drains the flood', async () => {
    await drain();
    const flooding = randomId('acct');
    const quiet = randomId('acct');
    const flood: NewInboxEvent[] = [];
    for (let i = 0; i < 4; i++) {
      const batch = Array.from({ length: 100 }, () => event(flooding));
      await store(batch);
      flood.push(...batch);
    }
    const late = [event(quiet), event(quiet, true)];
    await store([late[0]]);
    await store([late[1]]);

    const first = await take(10);
    expect(first).toEqual(expect.arrayContaining(late.map((e) => e.id)));
    const rest = await drain();
    expect([...first, ...rest].sort()).toEqual([...flood, ...late].map((e) => e.id).sort());
  });

  it('gives each (account, mode) a priority from its own recent volume, the same in live and test mode', async () => {
    await drain();
    const account = randomId('acct');
    const test = Array.from({ length: 9 }, () => event(account, false));
    const live = event(account, true);
    await store(test);
    await store([live]);
    const { rows } = await db.query<{ event_id: string; priority: number }>(
      `SELECT data->>'eventId' AS event_id, priority FROM pgboss.job WHERE name = $1 AND data->>'eventId' = ANY($2::text[])`,
      [EVENTS_QUEUE, [...test, live].map((e) => e.id)],
    );
    const priorities = rows.map((r) => r.priority).sort((a, b) => b - a);
    // Test mode: ranks 1..9 in the batch → -floor(log2 n) = 0, -1, -1, -2, -2, -2, -2, -3, -3; live mode is its own.
    expect(priorities).toEqual([0, 0, -1, -1, -2, -2, -2, -2, -3, -3]);
    expect(rows.find((r) => r.event_id === live.id)?.priority).toBe(0);

    // A later batch counts the events received before it.
    const next = event(account, false);
    await store([next]);
    const { rows: later } = await db.query<{ priority: number }>(
      `SELECT priority FROM pgboss.job WHERE name = $1 AND data->>'eventId' = $2`,
      [EVENTS_QUEUE, next.id],
    );
    expect(later).toEqual([{ priority: -3 }]); // 9 recent + rank 1 = 10 → -3
  });
});
