import type { Db } from '../../src/adapters/store/db';
import { insertEvents, type NewInboxEvent } from '../../src/adapters/store/inbox';
import { createLogger } from '../../src/logger';
import { EVENTS_QUEUE, JobQueue } from '../../src/queue/job-queue';
import { dbKinds, migratedDb, type TestDatabase } from '../helpers/db';
import { randomId } from '../helpers/stripe-fixtures';

function row(status: 'received' | 'ignored', payload: string = '{"object":"event"}'): NewInboxEvent {
  return {
    id: randomId('evt'),
    type: status === 'received' ? 'customer.updated' : 'balance.available',
    accountId: null,
    livemode: false,
    created: 1_700_000_000,
    rawPayload: payload,
    status,
    statusReason: status === 'received' ? null : 'unhandled event type',
  };
}

const JOB_COLUMNS = 'name, priority, state, retry_limit, retry_delay, retry_backoff, expire_in, dead_letter, policy';

describe.each(dbKinds())('storing events and enqueueing their jobs in one statement on %s', (kind) => {
  let db: Db;
  let target: TestDatabase;
  let queue: JobQueue;

  beforeAll(async () => {
    ({ db, target } = await migratedDb(kind));
    queue = await JobQueue.start(db, { expireSeconds: 45, retryLimit: 4 }, createLogger({ level: 'silent' }));
  });
  afterAll(async () => {
    await queue?.stop(1_000);
    await db?.close();
    await target?.drop();
  });

  const store = (events: NewInboxEvent[]) => insertEvents(db, events, (source) => queue.eventJobsFrom(source));
  const jobsFor = async (ids: string[]) =>
    (await db.query<{ event_id: string }>(`SELECT data->>'eventId' AS event_id FROM pgboss.job WHERE data->>'eventId' = ANY($1::text[])`, [ids]))
      .rows.map((r) => r.event_id)
      .sort();

  it('enqueues one job per new handled event: none for duplicates or unhandled types', async () => {
    const earlier = row('received');
    expect([...(await store([earlier]))]).toEqual([earlier.id]);
    const handled = row('received');
    const unhandled = row('ignored');
    const inserted = await store([handled, unhandled, { ...earlier }]);
    expect([...inserted].sort()).toEqual([handled.id, unhandled.id].sort());
    expect(await jobsFor([earlier.id, handled.id, unhandled.id])).toEqual([earlier.id, handled.id].sort());
  });

  it('writes jobs exactly like pg-boss`s own insert (queue retry, expiry and dead-letter settings)', async () => {
    // An account with no recent events: its first job has pg-boss's default priority (0).
    const ours = { ...row('received'), accountId: randomId('acct') };
    await store([ours]);
    const viaBoss = randomId('evt');
    await queue.boss.insert([{ name: EVENTS_QUEUE, data: { eventId: viaBoss } }]);
    const { rows } = await db.query(
      `SELECT data->>'eventId' AS event_id, ${JOB_COLUMNS}, keep_until - created_on AS keep_for
         FROM pgboss.job WHERE data->>'eventId' = ANY($1::text[])`,
      [[ours.id, viaBoss]],
    );
    const strip = (r: Record<string, unknown>) => {
      const { event_id: _id, keep_for, ...rest } = r;
      // keep_until is computed from now(): equal to the second.
      return { ...rest, keepForSeconds: Math.round(intervalSeconds(keep_for)) };
    };
    expect(rows).toHaveLength(2);
    expect(strip(rows[0])).toEqual(strip(rows[1]));
    expect(rows[0]).toMatchObject({ name: EVENTS_QUEUE, state: 'created', retry_limit: 4, dead_letter: 'stripe-events-dead' });
  });

  it('is atomic: when one event cannot be stored, neither the batch nor any job is', async () => {
    const good = row('received');
    const bad = row('received', '{"text":"\\u0000"}'); // jsonb refuses the NUL character
    await expect(store([good, bad])).rejects.toThrow();
    const { rows } = await db.query('SELECT id FROM stripe_events WHERE id = ANY($1::text[])', [[good.id, bad.id]]);
    expect(rows).toEqual([]);
    expect(await jobsFor([good.id, bad.id])).toEqual([]);
  });
});

/** A PostgreSQL interval as node-postgres or PGlite answers it, in seconds. */
function intervalSeconds(v: unknown): number {
  if (typeof v === 'string') {
    const m = /(?:(\d+) days? )?(\d+):(\d+):(\d+(?:\.\d+)?)/.exec(v);
    if (m) return Number(m[1] ?? 0) * 86400 + Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
  }
  const o = (v ?? {}) as Record<string, number>;
  return (o.days ?? 0) * 86400 + (o.hours ?? 0) * 3600 + (o.minutes ?? 0) * 60 + (o.seconds ?? 0) + (o.milliseconds ?? 0) / 1000;
}
