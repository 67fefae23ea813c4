import { ApplyBacklog, foregroundOf, waitForQuiet } from '../../src/queue/apply-backlog';

describe('the apply backlog (what destination passes wait on)', () => {
  it('is busy for a window after a full fetch, and not after a fetch that took fewer than it asked', () => {
    let now = 0;
    const backlog = new ApplyBacklog({ windowMs: 1000, now: () => now });
    expect(backlog.busy()).toBe(false);
    backlog.recordFetch(100, 100);
    expect(backlog.busy()).toBe(true);
    now = 999;
    expect(backlog.busy()).toBe(true);
    now = 1000;
    expect(backlog.busy()).toBe(false);
    backlog.recordFetch(25, 25);
    expect(backlog.busy()).toBe(true);
    backlog.recordFetch(7, 25);
    expect(backlog.busy()).toBe(false);
    backlog.recordFetch(0, 0);
    expect(backlog.busy()).toBe(false);
  });

  it('foregroundOf is busy when any part is; waitForQuiet waits for quiet, at most its limit', async () => {
    let a = false;
    let b = false;
    const fg = foregroundOf({ busy: () => a }, undefined, { busy: () => b });
    expect(fg.busy()).toBe(false);
    b = true;
    expect(fg.busy()).toBe(true);
    // Busy throughout: it gives up after its limit.
    const capped = await waitForQuiet(fg, 120, 10);
    expect(capped).toBeGreaterThanOrEqual(115);
    expect(capped).toBeLessThan(1_000);
    // Quiet after ~60 ms: it returns then, long before its limit.
    setTimeout(() => (b = false), 60);
    const waited = await waitForQuiet(fg, 10_000, 10);
    expect(waited).toBeGreaterThanOrEqual(50);
    expect(waited).toBeLessThan(2_000);
    a = false;
    expect(await waitForQuiet(fg, 10_000)).toBeLessThan(20);
  });
});
