/** Per-portal rolling-window rate limits and the failure injections of the fake. */
import { seededRandom } from '../../helpers/seeded-random';

export class RollingLimiter {
  private hits = new Map<number, number[]>();

  constructor(
    public limit: number,
    public windowMs: number,
  ) {}

  /** Requests of the portal inside the window ending at `now`. */
  count(portalId: number, now: number): number {
    const list = this.hits.get(portalId);
    if (!list) return 0;
    const from = now - this.windowMs;
    while (list.length > 0 && list[0]! <= from) list.shift();
    return list.length;
  }

  record(portalId: number, now: number): void {
    const list = this.hits.get(portalId) ?? [];
    list.push(now);
    this.hits.set(portalId, list);
  }

  clear(): void {
    this.hits.clear();
  }
}

/** Deterministic PRNG (mulberry32) so a failRate run is repeatable. */
export { seededRandom };

export interface Injected {
  status: number;
  body?: unknown;
}

export class Injector {
  private queue: { remaining: number; status: number; body?: unknown }[] = [];
  private rate: { fraction: number; status: number } | null = null;
  private locks = 0;
  private holds: { remaining: number; ms: number }[] = [];
  private random: () => number;
  latencyMs: number | null = null;

  constructor(private seedValue: number) {
    this.random = seededRandom(seedValue);
  }

  failNext(count: number, status: number, body?: unknown): void {
    if (count > 0) this.queue.push({ remaining: count, status, body });
  }

  failRate(fraction: number, status: number): void {
    this.rate = fraction > 0 ? { fraction, status } : null;
  }

  lockNext(count: number): void {
    this.locks += Math.max(0, count);
  }

  delayNext(count: number, ms: number): void {
    if (count > 0 && ms > 0) this.holds.push({ remaining: count, ms });
  }

  /** How long this CRM write is held before it is applied (consumes one delayNext), 0 for none. */
  nextHold(isWrite: boolean): number {
    const head = this.holds[0];
    if (!isWrite || !head) return 0;
    head.remaining -= 1;
    if (head.remaining <= 0) this.holds.shift();
    return head.ms;
  }

  seed(seed: number): void {
    this.seedValue = seed;
    this.random = seededRandom(seed);
  }

  /** The failure this CRM request gets, if any (consumes one failNext / lockNext). */
  next(isWrite: boolean): Injected | null {
    const head = this.queue[0];
    if (head) {
      head.remaining -= 1;
      if (head.remaining <= 0) this.queue.shift();
      return { status: head.status, body: head.body };
    }
    if (isWrite && this.locks > 0) {
      this.locks -= 1;
      return { status: 423 };
    }
    if (this.rate && this.random() < this.rate.fraction) return { status: this.rate.status };
    return null;
  }

  clear(): void {
    this.queue = [];
    this.rate = null;
    this.locks = 0;
    this.holds = [];
    this.latencyMs = null;
    this.random = seededRandom(this.seedValue);
  }
}
