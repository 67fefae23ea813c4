import type { Queryable } from './db';

export interface PushReadiness {
  /** Out-of-date customers a pusher could claim now (not leased, not waiting for a retry). */
  ready: number;
  /** How long the longest-waiting of them has been out of date (ms); 0 when none. */
  oldestMs: number;
  /** Events stored but not yet folded into customers (a burst still being applied). */
  backlog: number;
}

/** One cheap look at the work: what the batching policy of the pusher decides on. */
export async function pushReadiness(db: Queryable): Promise<PushReadiness> {
  const { rows } = await db.query<{ ready: string; oldest_ms: string | null; backlog: string }>(
    `SELECT
       (SELECT count(*) FROM customers
         WHERE version > synced_version AND status IS NOT NULL
           AND (claimed_until IS NULL OR claimed_until < now())
           AND (next_attempt_at IS NULL OR next_attempt_at <= now())) AS ready,
       (SELECT extract(epoch FROM now() - min(COALESCE(dirty_since, now()))) * 1000 FROM customers
         WHERE version > synced_version AND status IS NOT NULL
           AND (claimed_until IS NULL OR claimed_until < now())
           AND (next_attempt_at IS NULL OR next_attempt_at <= now())) AS oldest_ms,
       (SELECT count(*) FROM (SELECT 1 FROM stripe_events WHERE status = 'received' LIMIT 1000) b) AS backlog`,
  );
  const r = rows[0];
  return { ready: Number(r.ready), oldestMs: Number(r.oldest_ms ?? 0), backlog: Number(r.backlog) };
}

export interface BatchingPolicy {
  batchSize: number;
  /** A changed customer waits at least this long for more changes (coalescing one customer's burst). */
  settleMs: number;
  /** While a burst is being applied (backlog ≥ batchSize), wait up to this long to fill batches. */
  maxHoldMs: number;
}

/**
 * Push now, or wait for fuller batches? Full batch → now. While a large backlog of events is still being applied,
 * customers keep changing: hold (up to `maxHoldMs`) so each is written once with its final state, not once per
 * event. Otherwise write once the oldest change has settled — low latency when traffic is steady.
 */
export function shouldPush(r: PushReadiness, p: BatchingPolicy): boolean {
  if (r.ready === 0) return false;
  if (r.ready >= p.batchSize) return true;
  if (r.backlog >= p.batchSize) return r.oldestMs >= p.maxHoldMs;
  return r.oldestMs >= p.settleMs;
}
