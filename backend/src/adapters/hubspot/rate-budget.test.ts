import type { Db } from '../store/db';
import { migrate } from '../store/migrate';
import { dbKinds, freshDatabase, migratedDb, type TestDatabase } from '../../../test/helpers/db';
import { createRateBudget } from './rate-budget';
import { RateBudgetTimeoutError } from './errors';

/** True when no `window` ms span holds more than `limit` of the times. */
function withinLimit(times: number[], limit: number, window: number): boolean {
  const t = [...times].sort((a, b) => a - b);
  for (let i = 0; i + limit < t.length; i++) if (t[i + limit]! - t[i]! < window) return false;
  return true;
}

/** The call log as the database recorded it (kept with `retainMs`). */
async function loggedTimes(db: Db, portalId: number): Promise<number[]> {
  const r = await db.query<{ at_ms: string }>('SELECT at_ms FROM hubspot_rate_calls WHERE portal_id = $1', [portalId]);
  return r.rows.map((row) => Number(row.at_ms));
}

describe.each(dbKinds())('rate budget on %s', (kind) => {
  let db: Db;
  let target: TestDatabase;
  let portal = 1000;
  beforeAll(async () => {
    ({ db, target } = await migratedDb(kind));
  });
  afterAll(async () => {
    await db.close();
    await target.drop();
  });
  beforeEach(() => {
    portal += 1;
  });

  it('lets `limit` requests through at once, then spaces them so no window holds more', async () => {
    const budget = createRateBudget(db, { limitPer10s: 5, windowMs: 600, marginMs: 20, retainMs: 60_000 });
    const start = Date.now();
    const times: number[] = [];
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        await budget.acquire(portal, 'crm');
        times.push(Date.now());
      }),
    );
    const sorted = [...times].sort((a, b) => a - b);
    expect(sorted[4]! - start).toBeLessThan(1000);
    // 12 requests at 5 per 600 ms need two full windows.
    expect(sorted[11]! - start).toBeGreaterThanOrEqual(1200);
    const logged = await loggedTimes(db, portal);
    expect(logged).toHaveLength(12);
    expect(withinLimit(logged, 5, 600)).toBe(true);
  });

  it('keeps budgets of different portals apart', async () => {
    const budget = createRateBudget(db, { limitPer10s: 2, windowMs: 5000 });
    await budget.acquire(portal, 'crm');
    await budget.acquire(portal, 'crm');
    const started = Date.now();
    await budget.acquire(portal + 100_000, 'crm');
    expect(Date.now() - started).toBeLessThan(400);
    expect((await budget.usage(portal)).inWindow).toBe(2);
  });

  it('holds search requests to their own per-second budget, counted in the 10 s budget too', async () => {
    const budget = createRateBudget(db, { limitPer10s: 50, searchPerSecond: 2, marginMs: 0 });
    const start = Date.now();
    await budget.acquire(portal, 'search');
    await budget.acquire(portal, 'search');
    await budget.acquire(portal, 'crm');
    expect(Date.now() - start).toBeLessThan(500);
    await budget.acquire(portal, 'search');
    expect(Date.now() - start).toBeGreaterThanOrEqual(1000);
    const usage = await budget.usage(portal);
    expect(usage.inWindow).toBe(4);
    expect(usage.searchInWindow).toBeLessThanOrEqual(2);
  });

  it('makes every caller wait out a penalty; a search penalty leaves other requests alone', async () => {
    const budget = createRateBudget(db, { limitPer10s: 100 });
    // The penalty runs from when it was set: measure from before that (on a loaded machine setting it takes time).
    let start = Date.now();
    await budget.penalize(portal, 400, 'search');
    const set = Date.now();
    await budget.acquire(portal, 'crm');
    expect(Date.now() - set).toBeLessThan(300);
    await budget.acquire(portal, 'search');
    expect(Date.now() - start).toBeGreaterThanOrEqual(380);

    start = Date.now();
    await budget.penalize(portal, 300);
    const other = createRateBudget(db, { limitPer10s: 100 });
    await other.acquire(portal, 'crm');
    expect(Date.now() - start).toBeGreaterThanOrEqual(280);
  });

  it('a shorter penalty never shortens a longer one', async () => {
    const budget = createRateBudget(db);
    await budget.penalize(portal, 5000);
    await budget.penalize(portal, 10);
    const { penaltyUntilMs } = await budget.usage(portal);
    expect(penaltyUntilMs! - Date.now()).toBeGreaterThan(4000);
  });

  it('stops when HubSpot says no request is left, for the interval it names', async () => {
    const budget = createRateBudget(db);
    await budget.observe(portal, { 'x-hubspot-ratelimit-remaining': '7', 'x-hubspot-ratelimit-interval-milliseconds': '10000' });
    expect((await budget.usage(portal)).penaltyUntilMs).toBeNull();
    await budget.observe(portal, { 'x-hubspot-ratelimit-remaining': '0', 'x-hubspot-ratelimit-interval-milliseconds': '350' });
    const start = Date.now();
    await budget.acquire(portal, 'crm');
    expect(Date.now() - start).toBeGreaterThanOrEqual(330);
  });

  it('a caller with a share waits when the window is that full; a full-budget caller still gets through', async () => {
    const budget = createRateBudget(db, { limitPer10s: 4, windowMs: 5000 });
    await budget.acquire(portal, 'crm', { share: 0.5 });
    await budget.acquire(portal, 'crm', { share: 0.5 });
    await expect(budget.acquire(portal, 'crm', { share: 0.5, maxWaitMs: 200 })).rejects.toBeInstanceOf(
      RateBudgetTimeoutError,
    );
    const start = Date.now();
    await budget.acquire(portal, 'crm');
    await budget.acquire(portal, 'crm');
    expect(Date.now() - start).toBeLessThan(400);
    await expect(budget.acquire(portal, 'crm', { maxWaitMs: 100 })).rejects.toThrow(/no room/);
  });

  it('rejects nonsense settings', () => {
    expect(() => createRateBudget(db, { limitPer10s: 0 })).toThrow(RangeError);
    expect(() => createRateBudget(db, { searchPerSecond: 1.5 })).toThrow(RangeError);
    return expect(createRateBudget(db).acquire(portal, 'crm', { share: 0 })).rejects.toThrow(RangeError);
  });
});

// Two "instances": two Db handles (two connection pools) on one PostgreSQL database. Runs when DATABASE_URL is set.
if (process.env.DATABASE_URL) describe('rate budget shared by two instances on PostgreSQL', () => {
  let target: TestDatabase;
  let a: Db;
  let b: Db;
  beforeAll(async () => {
    target = await freshDatabase('postgres');
    a = await target.open();
    b = await target.open();
    await Promise.all([migrate(a), migrate(b)]);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await target.drop();
  });

  it('two Db handles together never exceed the limit', async () => {
    const options = { limitPer10s: 6, windowMs: 700, marginMs: 20, retainMs: 60_000 };
    const budgetA = createRateBudget(a, options);
    const budgetB = createRateBudget(b, options);
    await Promise.all([
      ...Array.from({ length: 9 }, () => budgetA.acquire(77, 'crm')),
      ...Array.from({ length: 9 }, () => budgetB.acquire(77, 'crm')),
    ]);
    const logged = await loggedTimes(a, 77);
    expect(logged).toHaveLength(18);
    expect(withinLimit(logged, 6, 700)).toBe(true);
  });
});
