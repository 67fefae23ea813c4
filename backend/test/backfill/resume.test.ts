import type { Db } from '../../src/adapters/store/db';
import { backfillById } from '../../src/adapters/store/backfill-store';
import { startBackfillRunner, type BackfillRunner } from '../../src/jobs/backfill/runner';
import { createBackfillService } from '../../src/jobs/backfill/service';
import { dbKinds, migratedDb, type TestDatabase } from '../helpers/db';
import { PLATFORM_ACCOUNT, seedAccount, startFakeStripe, type FakeStripe } from '../fakes/stripe';
import { differences, expectedStatuses, storedReadTimes, fakeStripeFor, listRequests, silentLogger, storedStatuses, until } from './helpers';

/**
 * A 1,500-customer backfill killed in the middle (the runner abandons its page and its lease, like a crashed
 * process) is resumed by another runner on the same database from the last committed page, and ends with every
 * customer's read model equal to what the domain derives from the fake's objects, none duplicated.
 * The fake's rate is high here: rate limits are tested in rate.test.ts.
 */
// 1,500 on PostgreSQL (CI runs it; 15 pages of each object list, so the kill at the third invoice page lands
// mid-list); the embedded database folds the same pages several times slower on this 2-core machine, so its variant
// backfills 700 to keep the suite's time bounded. BACKFILL_N=5000 runs a larger size.
const sizeFor = (kind: string) => Number(process.env.BACKFILL_N ?? (kind === 'postgres' ? 1500 : 700));

describe.each(dbKinds().map((k) => [k, sizeFor(k)] as const))('a %s backfill of %i customers, killed in the middle', (kind, N) => {
  let fake: FakeStripe;
  let db: Db;
  let target: TestDatabase;
  const runners: BackfillRunner[] = [];

  beforeAll(async () => {
    fake = await startFakeStripe({ ratePerSecond: 100_000 });
    seedAccount(fake.account(PLATFORM_ACCOUNT, true), N);
    ({ db, target } = await migratedDb(kind));
  });
  afterAll(async () => {
    for (const r of runners) await r.stop();
    await db?.close();
    await target?.drop();
    await fake?.close();
  });

  it('resumes from its checkpoint and finishes with every read model correct', async () => {
    const account = fake.account(PLATFORM_ACCOUNT, true);
    const stripeFor = fakeStripeFor(fake);
    const runnerOptions = { db, logger: silentLogger, stripeFor, ratePerSecond: { live: 10_000 }, leaseSeconds: 2, pollMs: 100, foldConcurrency: 4 };
    let killAt: (() => void) | null = null;
    let invoicePages = 0;
    const killed = new Promise<void>((resolve) => (killAt = resolve));
    const first = startBackfillRunner({
      ...runnerOptions,
      owner: 'instance-a',
      onCheckpoint: (c) => {
        // A few pages into the invoices phase.
        if (c.phase === 'invoices' && ++invoicePages === 3) killAt?.();
      },
    });
    runners.push(first);
    const service = createBackfillService({ db, wake: first.wake, hasKey: () => true });
    const started = await service.start('', true);
    expect(started).toMatchObject({ status: 'running', phase: 'customers', done: 0 });

    await killed;
    await first.kill();
    const checkpoint = (await backfillById(db, started.id))!;
    expect(checkpoint.status).toBe('running');
    expect(checkpoint.phase).toBe('invoices');
    expect(checkpoint.cursor).toMatch(/^in_/);
    expect(checkpoint.leaseOwner).toBe('instance-a');
    const mid = await service.progress('', true);
    expect(mid!.total).toBeGreaterThan(mid!.done);
    expect(mid!.percent).toBeGreaterThan(0);
    expect(mid!.percent).toBeLessThan(100);
    const requestsBefore = listRequests(fake, PLATFORM_ACCOUNT, true).length;

    const second = startBackfillRunner({ ...runnerOptions, owner: 'instance-b' });
    runners.push(second);
    const finished = await until(async () => {
      const p = await service.progress('', true);
      return p?.status === 'completed' ? p : null;
    }, 'the backfill to complete', 420_000, 200);

    // Resumed, not restarted: the second runner's first list request continues after the checkpoint's cursor.
    const after = listRequests(fake, PLATFORM_ACCOUNT, true).slice(requestsBefore);
    expect(after[0]).toMatchObject({ path: '/v1/invoices', query: expect.objectContaining({ starting_after: checkpoint.cursor }) });
    const pages = (n: number) => Math.max(1, Math.ceil(n / 100));
    const minimum =
      pages(account.customers.size) + pages(account.subscriptions.size) + pages(account.invoices.size) + pages(account.charges.size) + 3;
    const total = listRequests(fake, PLATFORM_ACCOUNT, true).length;
    // At most the page the killed runner was folding is read twice.
    expect(total).toBeGreaterThanOrEqual(minimum);
    expect(total).toBeLessThanOrEqual(minimum + 1);

    const objects = account.customers.size + account.subscriptions.size + account.invoices.size + account.charges.size;
    expect(finished).toMatchObject({ status: 'completed', phase: 'done', percent: 100, total: finished.done });
    expect(finished.done).toBeGreaterThanOrEqual(objects);

    const expected = expectedStatuses(account, '', true, await storedReadTimes(db, '', true));
    const stored = await storedStatuses(db, '', true);
    expect(expected.size).toBe(N);
    expect(stored.size).toBe(N);
    const diff = differences(expected, stored);
    expect(diff).toEqual([]);

    const counts = await db.query<{ customers: number; objects: number; distinct: number }>(
      `SELECT (SELECT count(*)::int FROM customers) AS customers, (SELECT count(*)::int FROM stripe_objects) AS objects,
              (SELECT count(DISTINCT (kind, object_id))::int FROM stripe_objects) AS distinct`,
    );
    expect(counts.rows[0]).toEqual({ customers: N, objects, distinct: objects });
    // Every object carries this run's read: read between the start and the end of the run.
    const versions = await db.query<{ n: number; lo: string; hi: string }>(
      `SELECT count(*)::int AS n, min(version_created) AS lo, max(version_created) AS hi FROM stripe_objects WHERE version_event = $1`,
      [`backfill_${started.id}`],
    );
    expect(versions.rows[0].n).toBe(objects);
    expect(Number(versions.rows[0].lo)).toBeGreaterThanOrEqual(Math.floor(Date.parse(started.startedAt) / 1000) - 1);
    expect(Number(versions.rows[0].hi)).toBeLessThanOrEqual(Math.ceil(Date.parse(finished.finishedAt!) / 1000));
    const priority = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM customers WHERE push_priority = 'backfill'`);
    expect(priority.rows[0].n).toBe(N);
  }, 480_000);
});
