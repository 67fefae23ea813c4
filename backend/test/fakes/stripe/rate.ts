/**
 * Per account+mode request bookkeeping: a rolling one-second limiter over accepted requests, and the
 * arrival times of every request (accepted or not) to report the busiest one-second window.
 */
export class RollingWindow {
  private readonly accepted: number[] = [];
  private readonly arrivals: number[] = [];

  /** Records an arrival at `now` (ms) and says whether it fits under `limit` per rolling second. */
  admit(now: number, limit: number): boolean {
    this.arrivals.push(now);
    while (this.accepted.length > 0 && (this.accepted[0] as number) <= now - 1000) this.accepted.shift();
    if (this.accepted.length >= limit) return false;
    this.accepted.push(now);
    return true;
  }

  /** Most arrivals within any window [t, t + 1000 ms). */
  peak(): number {
    let best = 0;
    let start = 0;
    for (let end = 0; end < this.arrivals.length; end++) {
      while ((this.arrivals[end] as number) - (this.arrivals[start] as number) >= 1000) start++;
      best = Math.max(best, end - start + 1);
    }
    return best;
  }
}
