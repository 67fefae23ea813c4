import type { Db } from '../../src/adapters/store/db';
import { backfillById } from '../../src/adapters/store/backfill-store';
import { startBackfillRunner, type BackfillRunner } from '../../src/jobs/backfill/runner';
import { createBackfillService, stripeKeys } from '../../src/jobs/backfill/service';
import { dbKinds, migratedDb, type TestDatabase } from '../helpers/db';
import { seedAccount, startFakeStripe, type FakeStripe } from '../fakes/stripe';
import { differences, expectedStatuses, fakeStripeFor, listRequests, silentLogger, storedReadTimes, storedStatuses, until } from './helpers';

describe.each(dbKinds())('backfill service (%s)', (kind) => {
  let fake: FakeStripe;
  let db: Db;
  let target: TestDatabase;
  const runners: BackfillRunner[] = [];
  const runner = (opts: Partial<Parameters<typeof startBackfillRunner>[0]> = {}) => {
    const r = startBackfillRunner({ db, logger: silentLogger, stripeFor: fakeStripeFor(fake), pollMs: 50, ratePerSecond: { test: 1000, live: 1000 }, ...opts });
    runners.push(r);
    return r;
  };

  beforeAll(async () => {
    fake = await startFakeStripe({ ratePerSecond: 100_000 });
    ({ db, target } = await migratedDb(kind));
  });
  afterEach(async () => {
    // Runners poll for any running backfill: each test uses only its own.
    for (const r of runners.splice(0)) await r.stop();
  });
  afterAll(async () => {
    await db?.close();
    await target?.drop();
    await fake?.close();
  });

  it('has no progress before the first start; a second start while running answers the same run', async () => {
    const service = createBackfillService({ db, hasKey: () => true });
    expect(await service.progress('acct_none', false)).toBeNull();
    const a = await service.start('acct_idem', false);
    const [b, c] = await Promise.all([service.start('acct_idem', false), service.start('acct_idem', false)]);
    expect(b.id).toBe(a.id);
    expect(c.id).toBe(a.id);
    expect(a).toMatchObject({ status: 'running', phase: 'customers', done: 0, total: null, percent: null, finishedAt: null, error: null });
    // Nobody runs it: cancel ends it at once.
    expect(await service.cancel('acct_idem', false)).toMatchObject({ id: a.id, status: 'canceled' });
    expect(await service.cancel('acct_idem', false)).toMatchObject({ id: a.id, status: 'canceled' });
    // A new start after that is a new run.
    const d = await service.start('acct_idem', false);
    expect(d.id).not.toBe(a.id);
    await service.cancel('acct_idem', false);
  });

  it('fails with a clear error when no Stripe key reads that mode', async () => {
    expect(stripeKeys('sk_live_abc')).toEqual({ live: 'sk_live_abc' });
    expect(stripeKeys('rk_test_x', 'sk_live_y')).toEqual({ test: 'rk_test_x', live: 'sk_live_y' });
    const keys = stripeKeys('sk_live_only');
    const service = createBackfillService({ db, hasKey: (live) => Boolean(live ? keys.live : keys.test) });
    const p = await service.start('acct_nokey', false);
    expect(p).toMatchObject({ status: 'failed', error: expect.stringMatching(/No Stripe API key .* test mode/) });
    expect(await service.progress('acct_nokey', false)).toMatchObject({ id: p.id, status: 'failed' });
    // A runner without a client for the mode fails the run the same way.
    const r = runner({ stripeFor: () => null });
    const svc = createBackfillService({ db, wake: r.wake, hasKey: () => true });
    const started = await svc.start('acct_noclient', true);
    const ended = await until(async () => ((await backfillById(db, started.id))?.status === 'failed' ? backfillById(db, started.id) : null), 'failure');
    expect(ended!.error).toMatch(/live mode/);
    await r.stop();
  });

  it('is canceled by its runner between two pages, keeping what it read', async () => {
    seedAccount(fake.account('acct_cancel', false), 300);
    fake.setLatency(30);
    try {
      let cancel: (() => void) | null = null;
      const asked = new Promise<void>((resolve) => (cancel = resolve));
      const r = runner({ onCheckpoint: (c) => c.pages === 2 && cancel?.() });
      const service = createBackfillService({ db, wake: r.wake, hasKey: () => true });
      const started = await service.start('acct_cancel', false);
      await asked;
      const asking = await service.cancel('acct_cancel', false);
      expect(asking!.id).toBe(started.id);
      const ended = await until(async () => {
        const p = await service.progress('acct_cancel', false);
        return p?.status === 'canceled' ? p : null;
      }, 'cancel');
      expect(ended.finishedAt).not.toBeNull();
      expect(ended.done).toBeGreaterThanOrEqual(200);
      expect(ended.done).toBeLessThan(400);
      const requests = listRequests(fake, 'acct_cancel', false).length;
      await new Promise((res) => setTimeout(res, 300));
      expect(listRequests(fake, 'acct_cancel', false).length).toBe(requests);
      const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM customers WHERE account_key = 'acct_cancel'`);
      expect(rows[0].n).toBe(ended.done);
    } finally {
      fake.setLatency(0);
    }
  });

  it('a gracefully stopped runner gives its run back at once; another runner finishes it', async () => {
    seedAccount(fake.account('acct_handover', false), 250);
    let stop: (() => void) | null = null;
    const stopping = new Promise<void>((resolve) => (stop = resolve));
    const a = runner({ owner: 'a', leaseSeconds: 600, onCheckpoint: (c) => c.pages === 2 && stop?.() });
    const service = createBackfillService({ db, wake: a.wake, hasKey: () => true });
    const started = await service.start('acct_handover', false);
    await stopping;
    await a.stop();
    const held = await backfillById(db, started.id);
    expect(held).toMatchObject({ status: 'running', leaseOwner: null });
    // The lease was ten minutes: only a released lease lets `b` in this soon.
    runner({ owner: 'b' });
    const done = await until(async () => ((await backfillById(db, started.id))?.status === 'completed' ? true : null), 'completion', 60_000);
    expect(done).toBe(true);
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM customers WHERE account_key = 'acct_handover'`);
    expect(rows[0].n).toBe(250);
  });

  it('folds customers in parallel transactions when asked, to the same read model', async () => {
    seedAccount(fake.account('acct_parallel', false), 250);
    const r = runner({ foldConcurrency: 4 });
    const service = createBackfillService({ db, wake: r.wake, hasKey: () => true });
    await service.start('acct_parallel', false);
    await until(async () => (await service.progress('acct_parallel', false))?.status === 'completed', 'completion', 60_000);
    const expected = expectedStatuses(fake.account('acct_parallel', false), 'acct_parallel', false, await storedReadTimes(db, 'acct_parallel', false));
    expect(expected.size).toBe(250);
    expect(differences(expected, await storedStatuses(db, 'acct_parallel', false))).toEqual([]);
  });

  it('several runners on one database: exactly one reads each page', async () => {
    const account = fake.account('acct_many', false);
    seedAccount(account, 230);
    const rs = [runner({ owner: 'x' }), runner({ owner: 'y' }), runner({ owner: 'z' })];
    const service = createBackfillService({ db, wake: () => rs.forEach((r) => r.wake()), hasKey: () => true });
    await service.start('acct_many', false);
    await until(async () => (await service.progress('acct_many', false))?.status === 'completed', 'completion', 60_000);
    const pages = (n: number) => Math.max(1, Math.ceil(n / 100));
    const expected = pages(account.customers.size) + pages(account.subscriptions.size) + pages(account.invoices.size) + pages(account.charges.size) + 3;
    expect(listRequests(fake, 'acct_many', false)).toHaveLength(expected);
  });

  it('shows a Stripe outage while retrying, resumes when Stripe is back, and fails after repeated failures', async () => {
    seedAccount(fake.account('acct_down', false), 20);
    seedAccount(fake.account('acct_down2', false), 20);
    const r = runner({ leaseSeconds: 1, maxFailures: 3, retry: { maxAttempts: 2, baseDelayMs: 10 } });
    const service = createBackfillService({ db, wake: r.wake, hasKey: () => true });
    fake.setDown(true);
    try {
      await service.start('acct_down', false);
      const retrying = await until(async () => {
        const p = await service.progress('acct_down', false);
        return p?.error ? p : null;
      }, 'the first failure', 30_000);
      expect(retrying).toMatchObject({ status: 'running', error: expect.stringMatching(/did not answer the customers list after 2 attempts/) });
      fake.setDown(false);
      const done = await until(async () => {
        const p = await service.progress('acct_down', false);
        return p?.status === 'completed' ? p : null;
      }, 'completion', 30_000);
      expect(done.error).toBeNull();

      fake.setDown(true);
      await service.start('acct_down2', false);
      const failed = await until(async () => {
        const p = await service.progress('acct_down2', false);
        return p?.status === 'failed' ? p : null;
      }, 'the failure', 30_000);
      expect(failed.error).toMatch(/Stripe did not answer/);
    } finally {
      fake.setDown(false);
    }
  });
});
