import { advance, emptyProgress, extrapolate, toBackfillProgress, type ProgressState } from '../../src/jobs/backfill/progress';
import { SlidingWindowLimiter } from '../../src/jobs/backfill/rate-limiter';

describe('backfill progress estimate', () => {
  it('extrapolates a newest-first list over the time axis down to the floor', () => {
    // 100 objects read over the newest 10% of [floor, newest]: about 1,000.
    expect(extrapolate({ count: 100, newest: 1000, oldest: 900, floor: 0, hasMore: true })).toBe(1000);
    // A list without more is exact.
    expect(extrapolate({ count: 37, newest: 1000, oldest: 900, floor: 0, hasMore: false })).toBe(37);
    // Never below what was read (+1 while there is more), unknown without a floor.
    expect(extrapolate({ count: 100, newest: 1000, oldest: 1000, floor: 0, hasMore: true })).toBe(101);
    expect(extrapolate({ count: 100, newest: 1000, oldest: 900, floor: null, hasMore: true })).toBeNull();
  });

  it('moves through the phases, fixing the floor when the customers phase ends', () => {
    let s = { phase: 'customers' as const, cursor: null as string | null, progress: emptyProgress() };
    const a = advance(s, { created: [500, 400], hasMore: true, lastId: 'cus_2' });
    expect(a).toMatchObject({ phase: 'customers', cursor: 'cus_2', progress: { counts: { customers: 2 }, pages: 1 } });
    s = { ...s, cursor: a.cursor, progress: a.progress };
    const b = advance(s, { created: [300, 100], hasMore: false, lastId: 'cus_4' });
    expect(b).toMatchObject({ phase: 'subscriptions', cursor: null, progress: { counts: { customers: 4 }, floor: 100, phaseNewest: null } });
    const c = advance({ phase: 'subscriptions', cursor: null, progress: b.progress }, { created: [500, 400], hasMore: true, lastId: 'sub_2' });
    // 2 objects over [400, 500] of a list reaching back to 100: about 8.
    expect(c.progress.estimates.subscriptions).toBe(8);
    const d = advance({ phase: 'charges', cursor: 'ch_1', progress: c.progress }, { created: [], hasMore: false, lastId: null });
    expect(d.phase).toBe('done');
  });

  it('reports no total while counting customers, then percent and time left, and 100% when completed', () => {
    const startedAt = new Date('2026-01-01T00:00:00Z');
    const run = (phase: 'customers' | 'invoices', progress: Partial<ProgressState>, status: 'running' | 'completed' = 'running') =>
      toBackfillProgress({
        id: 'bf_1',
        status,
        phase,
        progress: { ...emptyProgress(), ...progress },
        startedAt,
        updatedAt: new Date(startedAt.getTime() + 10_000),
        finishedAt: status === 'completed' ? new Date(startedAt.getTime() + 10_000) : null,
        error: null,
      });
    expect(run('customers', { counts: { customers: 300 } })).toMatchObject({ done: 300, total: null, percent: null, etaSeconds: null });
    const mid = run('invoices', { counts: { customers: 100, subscriptions: 100, invoices: 100 }, estimates: { invoices: 300, charges: 500 } });
    // done 300 of 100 + 100 + 300 + 500 = 1,000 in 10 s (30/s): 700 left take 23 s.
    expect(mid).toMatchObject({ done: 300, total: 1000, percent: 30, etaSeconds: 23 });
    expect(run('invoices', { counts: { customers: 5 } }, 'completed')).toMatchObject({ total: 5, percent: 100, etaSeconds: 0 });
  });
});

describe('SlidingWindowLimiter', () => {
  it('lets at most perSecond requests start in any window of a second plus the margin', async () => {
    let now = 0;
    const starts: number[] = [];
    const limiter = new SlidingWindowLimiter(5, { marginMs: 100, now: () => now, sleep: async (ms) => void (now += ms) });
    for (let i = 0; i < 23; i++) {
      await limiter.acquire();
      starts.push(now);
    }
    for (let i = 5; i < starts.length; i++) expect(starts[i] - starts[i - 5]).toBeGreaterThanOrEqual(1100);
    // It waits only as long as needed: 23 starts in 4 windows.
    expect(starts[22]).toBeLessThan(4 * 1100 + 10);
  });

  it('stops waiting when aborted', async () => {
    const limiter = new SlidingWindowLimiter(1);
    await limiter.acquire();
    const controller = new AbortController();
    const waiting = limiter.acquire(controller.signal);
    controller.abort(new Error('stopped'));
    await expect(waiting).rejects.toThrow('stopped');
  });
});
