import type { Db } from '../../src/adapters/store/db';
import { startBackfillRunner, type BackfillRunner } from '../../src/jobs/backfill/runner';
import { createBackfillService } from '../../src/jobs/backfill/service';
import { migratedDb, type TestDatabase } from '../helpers/db';
import { seedAccount, startFakeStripe, type FakeStripe } from '../fakes/stripe';
import { differences, expectedStatuses, fakeStripeFor, listRequests, silentLogger, storedReadTimes, storedStatuses, until } from './helpers';

/**
 * The runner's read rate: at most 20 requests/s in live mode and 5/s in test mode, per account, as the fake
 * Stripe measures them (busiest rolling second). Tiny pages make the runner fast enough that only the limiter
 * holds it back, and a run takes at least as long as the limit requires.
 */
describe('backfill read rate', () => {
  let fake: FakeStripe;
  let db: Db;
  let target: TestDatabase;
  let runner: BackfillRunner | undefined;

  beforeAll(async () => {
    fake = await startFakeStripe();
    ({ db, target } = await migratedDb('pglite'));
  });
  afterEach(async () => {
    await runner?.stop();
    runner = undefined;
  });
  afterAll(async () => {
    await db?.close();
    await target?.drop();
    await fake?.close();
  });

  async function backfill(account: string, livemode: boolean, opts: { retry?: { baseDelayMs: number } } = {}) {
    runner = startBackfillRunner({ db, logger: silentLogger, stripeFor: fakeStripeFor(fake), pageSize: 2, pollMs: 50, ...opts });
    const service = createBackfillService({ db, wake: runner.wake, hasKey: () => true });
    const t0 = Date.now();
    await service.start(account, livemode);
    const done = await until(async () => {
      const p = await service.progress(account, livemode);
      return p && p.status !== 'running' ? p : null;
    }, 'the backfill to end', 60_000);
    return { done, seconds: (Date.now() - t0) / 1000, requests: listRequests(fake, account, livemode).length };
  }

  it.each([
    ['live', 20, true, 'acct_rate_live', 20],
    ['test', 5, false, 'acct_rate_test', 8],
  ])('%s mode stays at or under %i requests per second', async (_mode, limit, livemode, account, customers) => {
    seedAccount(fake.account(account, livemode), customers);
    const { done, seconds, requests } = await backfill(account, livemode);
    expect(done.status).toBe('completed');
    expect(requests).toBeGreaterThan(limit * 2);
    const peak = fake.peakRequestsPerSecond(account, livemode);
    expect(peak).toBeLessThanOrEqual(limit);
    // The limiter did hold it back: n requests at `limit` per second need about n / limit seconds.
    expect(seconds).toBeGreaterThanOrEqual(requests / limit - 1.5);
    expect(fake.requests.filter((r) => r.account === account && r.status === 429)).toHaveLength(0);
  });

  it('retries what Stripe rate-limits (429) and still reads everything', async () => {
    const account = 'acct_rate_429';
    seedAccount(fake.account(account, false), 6);
    fake.setRatePerSecond(3);
    try {
      const { done } = await backfill(account, false, { retry: { baseDelayMs: 50 } });
      expect(done.status).toBe('completed');
    } finally {
      fake.setRatePerSecond(25);
    }
    expect(fake.requests.filter((r) => r.account === account && r.status === 429).length).toBeGreaterThan(0);
    const expected = expectedStatuses(fake.account(account, false), account, false, await storedReadTimes(db, account, false));
    expect(differences(expected, await storedStatuses(db, account, false))).toEqual([]);
  });
});
