import type { Db } from '../../src/adapters/store/db';
import { createDbRatePacer } from '../../src/adapters/destinations/rate-pacer';
import { dbKinds, migratedDb, type TestDatabase } from '../helpers/db';

/**
 * The database-backed rate pacer shared by every instance: slots taken a block at a time where the limit is large,
 * handed to the same process's next callers while fresh, never more requests counted in a window than allowed —
 * across two pacers (two instances) on one database.
 */
describe.each(dbKinds())('destination rate pacer on %s', (kind) => {
  let db: Db;
  let target: TestDatabase;
  let transactions = 0;
  /** The database, counting the pacer's transactions (one per take). */
  let counted: Db;

  beforeAll(async () => {
    ({ db, target } = await migratedDb(kind));
    counted = { ...db, transaction: (fn) => ((transactions += 1), db.transaction(fn)) };
  });
  afterAll(async () => {
    await db?.close();
    await target?.drop();
  });

  const rowsIn = async (bucket: string) =>
    (await db.query<{ at_ms: string }>('SELECT at_ms FROM destination_rate_calls WHERE bucket = $1 ORDER BY at_ms', [bucket])).rows.map((r) => Number(r.at_ms));
  /** The most rows counted in any window of `ms` (the pacer's own clock: the database's). */
  const mostInWindow = (times: number[], ms: number) => Math.max(...times.map((t, i) => times.slice(i).filter((u) => u < t + ms).length));

  /** `n` requests from each pacer, `workers` at a time each; answers when each got its slot (this clock). */
  async function load(pacers: ReturnType<typeof createDbRatePacer>[], bucket: string, limits: { count: number; windowMs: number }[], n: number, workers: number) {
    const times: number[] = [];
    await Promise.all(
      pacers.map(async (p) => {
        let left = n;
        await Promise.all(
          Array.from({ length: workers }, async () => {
            while (left-- > 0) {
              await p.acquire(bucket, limits);
              times.push(Date.now());
            }
          }),
        );
      }),
    );
    return times.sort((x, y) => x - y);
  }

  it('takes slots a block at a time for a large limit: far fewer transactions than requests', async () => {
    const pacers = [createDbRatePacer(counted, { block: 12 }), createDbRatePacer(counted, { block: 12 })];
    transactions = 0;
    // 144 requests from two instances, 16 at a time each (as many as two adapters' workers).
    await load(pacers, 'test:block', [{ count: 200, windowMs: 10_000 }], 72, 16);
    const rows = await rowsIn('test:block');
    // Every request counted, and at most a block per instance counted beyond them (taken, not used).
    expect(rows.length).toBeGreaterThanOrEqual(144);
    expect(rows.length).toBeLessThanOrEqual(144 + 2 * 12);
    // Blocks of 12: about a twelfth of the transactions one slot each would need.
    expect(transactions).toBeLessThan(144 / 4);
  });

  it('never lets two instances take more than the limit in a window, blocks included', async () => {
    const pacers = [createDbRatePacer(counted, { block: 12 }), createDbRatePacer(counted, { block: 12 })];
    // 24 per 500 ms: blocks of 3 (an eighth of the limit). 60 requests from two instances take over a second.
    const times = await load(pacers, 'test:limit', [{ count: 24, windowMs: 500 }], 30, 8);
    expect(times).toHaveLength(60);
    // A slot's request goes out at most the margin (100 ms) after the slot was counted: in any 400 ms of this
    // clock, at most the limit.
    expect(mostInWindow(times, 400)).toBeLessThanOrEqual(24);
    expect(times[times.length - 1]! - times[0]!).toBeGreaterThanOrEqual(800);
  });

  it('takes one slot at a time for a small limit, and drops a slot not used within the margin', async () => {
    const small = createDbRatePacer(counted, { block: 12 });
    transactions = 0;
    for (let i = 0; i < 4; i++) await small.acquire('test:small', [{ count: 10, windowMs: 1000 }]);
    expect(transactions).toBe(4);
    expect(await rowsIn('test:small')).toHaveLength(4);

    const large = createDbRatePacer(counted, { block: 12, marginMs: 50 });
    transactions = 0;
    await large.acquire('test:stale', [{ count: 1000, windowMs: 10_000 }]);
    await large.acquire('test:stale', [{ count: 1000, windowMs: 10_000 }]);
    expect(transactions).toBe(1); // the second came from the block
    await new Promise((r) => setTimeout(r, 120));
    await large.acquire('test:stale', [{ count: 1000, windowMs: 10_000 }]);
    expect(transactions).toBe(2); // the rest of the block was stale: a new take
    expect(await rowsIn('test:stale')).toHaveLength(24);
  });

  it("a penalty holds this instance at once (its slots taken ahead are dropped) and another once its slots are stale", async () => {
    const own = createDbRatePacer(counted, { block: 12 });
    await own.acquire('test:own-penalty', [{ count: 1000, windowMs: 10_000 }]);
    await own.penalize('test:own-penalty', 300);
    const t0 = Date.now();
    await own.acquire('test:own-penalty', [{ count: 1000, windowMs: 10_000 }]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);


    const p = createDbRatePacer(counted, { block: 12, marginMs: 50 });
    const q = createDbRatePacer(counted, { block: 12, marginMs: 50 });
    await p.acquire('test:penalty', [{ count: 1000, windowMs: 10_000 }]);
    await q.penalize('test:penalty', 400);
    await new Promise((r) => setTimeout(r, 80));
    const started = Date.now();
    await p.acquire('test:penalty', [{ count: 1000, windowMs: 10_000 }]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });
});
