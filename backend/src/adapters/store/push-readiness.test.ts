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
});
