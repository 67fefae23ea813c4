import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Db } from '../../src/adapters/store/db';
import { insertEvents } from '../../src/adapters/store/inbox';
import { createLogger } from '../../src/logger';
import { EVENTS_QUEUE, JobQueue } from '../../src/queue/job-queue';
import { dbKinds, freshDatabase, type TestDatabase } from '../helpers/db';
import { postWebhook, spawnServerProcess, TEST_WEBHOOK_SECRETS, waitFor, type ServerProcess } from '../helpers/server';
import { randomId, stripeEvent, stripeObject } from '../helpers/stripe-fixtures';

/**
 * The real process (`node --require tsx/cjs src/main.ts`) is killed with SIGKILL while webhooks are arriving and
 * started again on the same storage: every acknowledged event is still there and gets processed; a job held
 * by a worker that died runs again.
 */
jest.setTimeout(240_000);

const EVENT_TYPES = ['customer.created', 'invoice.paid', 'charge.succeeded', 'customer.subscription.updated'];

describe.each(dbKinds())('durability on %s', (kind) => {
  let database: TestDatabase;
  let dataDir: string | undefined;
  let env: Record<string, string>;
  let proc: ServerProcess | undefined;
  const acked = new Set<string>();
  /** The storage as the first test leaves it, still open (opening PGlite takes seconds). */
  let openedDb: Db | undefined;

  beforeAll(async () => {
    if (kind === 'pglite') {
      dataDir = mkdtempSync(join(tmpdir(), 'shs-durability-'));
      database = await freshDatabase('pglite', { dataDir });
    } else {
      database = await freshDatabase('postgres');
    }
    env = {
      STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRETS.join(','),
      ...(database.url ? { DATABASE_URL: database.url } : { DATA_DIR: dataDir as string }),
      // A job held by a dead worker is retried after 2 s (the default is 60 s).
      QUEUE_EXPIRE_SECONDS: '2',
    };
  });

  afterAll(async () => {
    await proc?.stop('SIGKILL');
    await openedDb?.close();
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  /** Waits until the server has nothing left to do, stops it with SIGTERM (exit 0), and opens the storage. */
  async function drainAndStop(p: ServerProcess): Promise<Db> {
    let zeroSince = 0;
    await waitFor(
      async () => {
        const text = await (await fetch(`${p.url}/metrics`)).text();
        const depth = Number(/^queue_depth (\d+)/m.exec(text)?.[1] ?? NaN);
        if (depth !== 0) zeroSince = 0;
        else zeroSince ||= Date.now();
        // Jobs a dead PostgreSQL worker held are not waiting until they expire (2 s): stay idle longer than that.
        return zeroSince > 0 && Date.now() - zeroSince > (kind === 'postgres' ? 4_000 : 1_000);
      },
      { timeoutMs: 90_000, intervalMs: 250, what: 'the queue to drain' },
    );
    expect(await p.stop('SIGTERM')).toBe(0);
    return database.open();
  }

  it('keeps every acknowledged event across kill -9, and processes it after the restart', async () => {
    proc = await spawnServerProcess({ env });
    const events = Array.from({ length: 400 }, (_, i) =>
      stripeEvent(EVENT_TYPES[i % EVENT_TYPES.length], stripeObject('customer', { id: randomId('cus') })),
    );
    // 16 senders; the process is killed once 300 are acknowledged, with requests still in flight.
    let next = 0;
    let killed = false;
    const sender = async () => {
      while (next < events.length) {
        const event = events[next++];
        const res = await postWebhook((proc as ServerProcess).url, event).catch(() => undefined);
        if (res?.status === 200) acked.add(event.id as string);
        if (acked.size >= 300 && !killed) {
          killed = true;
          (proc as ServerProcess).child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, sender));
    expect(await proc.stop('SIGKILL')).toBeNull(); // it died of the signal
    expect(killed).toBe(true);
    expect(acked.size).toBeGreaterThanOrEqual(300);

    proc = await spawnServerProcess({ env });
    // Every acknowledged event is stored: a redelivery is a duplicate.
    const sample = [...acked].slice(0, 50);
    for (const id of sample) {
      const event = events.find((e) => e.id === id) as object;
      expect((await postWebhook(proc.url, event)).body).toEqual({ received: true, duplicate: true });
    }

    const db = await drainAndStop(proc);
    proc = undefined;
    openedDb = db;
    const { rows } = await db.query<{ id: string; status: string }>(
      'SELECT id, status FROM stripe_events WHERE id = ANY($1::text[])',
      [[...acked]],
    );
    expect(rows).toHaveLength(acked.size);
    // Settled by the sync engine: with no HubSpot portal connected in this test, customer events end skipped.
    expect(rows.filter((r) => ['received', 'applied'].includes(r.status))).toEqual([]);
  });

  it('runs again a job that a worker held when it died', async () => {
    // A worker takes the job and dies without finishing it: fetch it with a queue of our own, then drop that queue.
    const eventId = randomId('evt');
    let db = openedDb ?? (await database.open());
    openedDb = undefined;
    try {
      const queue = await JobQueue.start(db, { expireSeconds: 2, retryLimit: 3 }, createLogger({ level: 'silent' }));
      const event = stripeEvent('customer.updated', stripeObject('customer', { id: randomId('cus') }), { id: eventId });
      await insertEvents(
        db,
        [
          {
            id: eventId,
            type: 'customer.updated',
            accountId: null,
            livemode: false,
            created: event.created as number,
            rawPayload: JSON.stringify(event),
            status: 'received',
            statusReason: null,
          },
        ],
        (source) => queue.eventJobsFrom(source),
      );
      const held = await queue.boss.fetch<{ eventId: string }>(EVENTS_QUEUE);
      expect(held.map((j) => j.data.eventId)).toEqual([eventId]);
      await queue.stop(1_000); // a fetched job is not the worker's: it stays active, like a dead worker's
      const { rows } = await db.query<{ state: string }>(`SELECT state FROM pgboss.job WHERE data->>'eventId' = $1`, [eventId]);
      expect(rows.map((r) => r.state)).toEqual(['active']);
    } finally {
      await db.close();
    }

    proc = await spawnServerProcess({ env });
    db = await drainAndStop(proc);
    proc = undefined;
    try {
      const status = await db.query<{ status: string }>('SELECT status FROM stripe_events WHERE id = $1', [eventId]);
      expect(['received', 'applied']).not.toContain(status.rows[0].status);
      const { rows } = await db.query<{ state: string; retry_count: number }>(
        `SELECT state, retry_count FROM pgboss.job WHERE data->>'eventId' = $1
          UNION ALL SELECT state, retry_count FROM pgboss.archive WHERE data->>'eventId' = $1`,
        [eventId],
      );
      expect(rows).toEqual([{ state: 'completed', retry_count: 1 }]);
    } finally {
      await db.close();
    }
  });
});
