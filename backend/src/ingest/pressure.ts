import { waitForQuiet } from '../queue/apply-backlog';

/**
 * Acknowledgements first. Stripe waits for our 2xx, times out and retries, and a flood of webhooks (a bulk
 * import, a renewal run, a replay after an outage) arrives all at once; applying events to customers can
 * happen a moment later, since every acknowledged event is already durable. So while the webhook route is
 * under a flood, the event worker waits before each batch (at most `maxDeferMs`, so it always progresses)
 * and leaves the CPU and the database to the acknowledgements. At ordinary rates it never waits.
 *
 * Process-local on purpose: it is about this machine's CPU, not about correctness. Several instances on one
 * PostgreSQL each yield to their own webhook traffic.
 */

export interface IngestPressureOptions {
  /** Acknowledgements per second above which the worker yields; 0 turns yielding off. */
  busyRate: number;
  /** Longest a worker batch waits for a quiet moment. */
  maxDeferMs: number;
  /** The window the rate is measured over (default 500 ms). */
  windowMs?: number;
  /** Clock (tests). */
  now?: () => number;
}

export class IngestPressure {
  /** Acknowledged counts per 50 ms slot, newest last: [slot start, count]. */
  private slots: [number, number][] = [];
  private readonly windowMs: number;
  private readonly now: () => number;
  private static readonly SLOT_MS = 50;

  constructor(private readonly options: IngestPressureOptions) {
    this.windowMs = options.windowMs ?? 500;
    this.now = options.now ?? (() => performance.now());
  }

  /** Records `n` events acknowledged now. */
  record(n: number): void {
    if (n <= 0 || this.options.busyRate <= 0) return;
    const slot = Math.floor(this.now() / IngestPressure.SLOT_MS) * IngestPressure.SLOT_MS;
    const last = this.slots[this.slots.length - 1];
    if (last && last[0] === slot) last[1] += n;
    else this.slots.push([slot, n]);
    this.prune();
  }

  /** Acknowledgements per second over the window. */
  rate(): number {
    this.prune();
    const n = this.slots.reduce((sum, [, count]) => sum + count, 0);
    return (n * 1000) / this.windowMs;
  }

  busy(): boolean {
    return this.options.busyRate > 0 && this.rate() > this.options.busyRate;
  }

  /**
   * Resolves once the webhook route is not busy, or after `maxDeferMs` (or `limitMs`, when smaller). Answers how
   * long it waited (ms).
   */
  async yieldToAcknowledgements(limitMs = Infinity): Promise<number> {
    return waitForQuiet(this, Math.max(0, Math.min(this.options.maxDeferMs, limitMs)), IngestPressure.SLOT_MS, () => this.now());
  }

  private prune(): void {
    const oldest = this.now() - this.windowMs;
    let drop = 0;
    while (drop < this.slots.length && this.slots[drop][0] + IngestPressure.SLOT_MS <= oldest) drop += 1;
    if (drop > 0) this.slots.splice(0, drop);
  }
}
