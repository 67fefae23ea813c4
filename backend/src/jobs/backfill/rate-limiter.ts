/**
 * A sliding-window limiter: at most `perSecond` request starts in any window of one second (+ `marginMs`, so
 * that jitter between our start and the server's arrival cannot squeeze one more into the server's second).
 * For one backfill run, in one process: exactly one runner holds a run, so its limiter is the run's limit.
 */
export class SlidingWindowLimiter {
  private readonly starts: number[] = [];
  private readonly windowMs: number;

  constructor(
    readonly perSecond: number,
    opts: { marginMs?: number; now?: () => number; sleep?: (ms: number, signal?: AbortSignal) => Promise<void> } = {},
  ) {
    if (!Number.isInteger(perSecond) || perSecond < 1) throw new RangeError('perSecond must be a positive integer');
    this.windowMs = 1000 + (opts.marginMs ?? 100);
    this.now = opts.now ?? (() => performance.now());
    this.sleep = opts.sleep ?? abortableSleep;
  }

  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  /** Waits until one more request may start, and counts it. Rejects when `signal` aborts. */
  async acquire(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const now = this.now();
      while (this.starts.length > 0 && this.starts[0] <= now - this.windowMs) this.starts.shift();
      if (this.starts.length < this.perSecond) {
        this.starts.push(now);
        return;
      }
      await this.sleep(this.starts[0] + this.windowMs - now + 1, signal);
    }
  }
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
