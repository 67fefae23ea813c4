import { shouldPush } from './push-readiness';

const policy = { batchSize: 100, settleMs: 200, maxHoldMs: 3000 };

describe('pusher batching policy', () => {
  it('waits for nothing when there is nothing', () => {
    expect(shouldPush({ ready: 0, oldestMs: 99_999, backlog: 0 }, policy)).toBe(false);
  });
  it('writes a full batch at once when no burst is being applied', () => {
    expect(shouldPush({ ready: 100, oldestMs: 0, backlog: 10 }, policy)).toBe(true);
  });
  it('holds even full batches while a burst is being applied (its customers may change again), not a flood', () => {
    expect(shouldPush({ ready: 400, oldestMs: 1000, backlog: 1600 }, policy)).toBe(false);
    expect(shouldPush({ ready: 400, oldestMs: 3100, backlog: 1600 }, policy)).toBe(true);
    expect(shouldPush({ ready: 500, oldestMs: 0, backlog: 5000 }, policy)).toBe(true);
  });
  it('writes steady traffic once the oldest change settled', () => {
    expect(shouldPush({ ready: 3, oldestMs: 150, backlog: 10 }, policy)).toBe(false);
    expect(shouldPush({ ready: 3, oldestMs: 250, backlog: 10 }, policy)).toBe(true);
  });
  it('holds partial batches while a burst is still being applied, but not beyond the hold time', () => {
    expect(shouldPush({ ready: 40, oldestMs: 1000, backlog: 800 }, policy)).toBe(false);
    expect(shouldPush({ ready: 40, oldestMs: 3100, backlog: 800 }, policy)).toBe(true);
  });
  it('holds while the merchant`s events still arrive at a batch per second or more (a burst applied as fast as it is received), as for a backlog; not steady traffic', () => {
    // 60 events in the last 500 ms: 120/s, a burst still arriving.
    expect(shouldPush({ ready: 40, oldestMs: 1000, backlog: 10, arriving: 60 }, policy)).toBe(false);
    expect(shouldPush({ ready: 40, oldestMs: 3100, backlog: 10, arriving: 60 }, policy)).toBe(true);
    // Even a full batch waits (its customers may change again), unless a flood's worth is ready.
    expect(shouldPush({ ready: 100, oldestMs: 0, backlog: 10, arriving: 60 }, policy)).toBe(false);
    expect(shouldPush({ ready: 500, oldestMs: 0, backlog: 10, arriving: 60 }, policy)).toBe(true);
    // 25 events in 500 ms (50/s, steady traffic): written once settled.
    expect(shouldPush({ ready: 3, oldestMs: 250, backlog: 0, arriving: 25 }, policy)).toBe(true);
    // The burst has stopped arriving: the rest goes once settled.
    expect(shouldPush({ ready: 40, oldestMs: 250, backlog: 0, arriving: 0 }, policy)).toBe(true);
  });
});
