import type { Queryable } from './db';

export interface PushReadiness {
  /** Out-of-date customers a pusher could claim now (not leased, not waiting for a retry). */
  ready: number;
  /** How long the longest-waiting of them has been out of date (ms); 0 when none. */
  oldestMs: number;
  /** Events stored but not yet folded into customers (a burst still being applied). */
  backlog: number;
  /** The merchant's events received in the last `ARRIVAL_WINDOW_MS` (at most `ARRIVAL_CAP`): a burst still arriving. */
  arriving?: number;
}

/** The readiness of one merchant (account, mode). */
export interface MerchantReadiness extends PushReadiness {
  account: string;
  livemode: boolean;
}

/** Events looked at, at most, to count each merchant's backlog (the oldest stored ones still to apply). */
const BACKLOG_SAMPLE = 5000;
/** The window over which a merchant's arriving events are counted, and the most counted. */
export const ARRIVAL_WINDOW_MS = 500;
const ARRIVAL_CAP = 1000;

/**
 * One cheap look at the work, merchant by merchant: what the batching policy of the pusher decides on. A merchant's
 * backlog counts its events still to apply among the first `BACKLOG_SAMPLE` waiting, so a flood of one merchant's
 * events makes only that merchant's writes wait for fuller batches. `exclude`: merchants left out (this pusher is
 * still writing a batch of theirs and will not claim them now).
 */
export async function pushReadiness(db: Queryable, exclude: readonly { account: string; livemode: boolean }[] = []): Promise<MerchantReadiness[]> {
  const { rows } = await db.query<{ account_key: string; livemode: boolean; ready: string; oldest_ms: string | null; backlog: string | null; arriving: string }>(
    `WITH ready AS (
       SELECT account_key, livemode, count(*) AS ready,
              extract(epoch FROM now() - min(COALESCE(dirty_since, now()))) * 1000 AS oldest_ms
         FROM customers
        WHERE version > synced_version AND status IS NOT NULL
          AND (claimed_until IS NULL OR claimed_until < now())
          AND (next_attempt_at IS NULL OR next_attempt_at <= now())
          AND NOT EXISTS (SELECT 1 FROM unnest($1::text[], $2::boolean[]) AS x(account_key, livemode)
                           WHERE x.account_key = customers.account_key AND x.livemode = customers.livemode)
        GROUP BY account_key, livemode),
     backlog AS (
       SELECT COALESCE(account_id, '') AS account_key, livemode, count(*) AS backlog
         FROM (SELECT account_id, livemode FROM stripe_events WHERE status = 'received' LIMIT ${BACKLOG_SAMPLE}) b
        GROUP BY 1, 2)
     SELECT r.account_key, r.livemode, r.ready, r.oldest_ms, b.backlog,
            (SELECT count(*) FROM (SELECT 1 FROM stripe_events e
                                    WHERE COALESCE(e.account_id, '') = r.account_key AND e.livemode = r.livemode
                                      AND e.received_at > now() - make_interval(secs => ${ARRIVAL_WINDOW_MS / 1000})
                                    LIMIT ${ARRIVAL_CAP}) a) AS arriving
       FROM ready r LEFT JOIN backlog b ON b.account_key = r.account_key AND b.livemode = r.livemode`,
    [exclude.map((e) => e.account), exclude.map((e) => e.livemode)],
  );
  return rows.map((r) => ({
    account: r.account_key,
    livemode: r.livemode,
    ready: Number(r.ready),
    oldestMs: Number(r.oldest_ms ?? 0),
    backlog: Number(r.backlog ?? 0),
    arriving: Number(r.arriving),
  }));
}

export interface BatchingPolicy {
  batchSize: number;
  /** A changed customer waits at least this long for more changes (coalescing one customer's burst). */
  settleMs: number;
  /** While a burst is being applied (backlog ≥ batchSize), wait up to this long to fill batches. */
  maxHoldMs: number;
}

/** While a merchant's burst is being applied, this many full batches ready go at once (a flood keeps flowing). */
export const FLOOD_BATCHES = 5;

/**
 * Push now, or wait for fuller batches? While a burst of the merchant's events is under way — a large backlog still
 * to apply, or events still arriving at a batch per second or more (on the embedded database a burst is applied
 * about as fast as it is received, so no backlog builds up) — customers keep changing: hold (up to `maxHoldMs`) so
 * each is written once with its final state, not once per event — even a full batch, since its customers may change
 * again before the burst is over; only when `FLOOD_BATCHES` full batches are ready (a flood, not a burst) do they go
 * at once. Otherwise a full batch goes now, and a partial one once the oldest change has settled — low latency when
 * traffic is steady.
 */
export function shouldPush(r: PushReadiness, p: BatchingPolicy): boolean {
  if (r.ready === 0) return false;
  const arrivingPerSecond = ((r.arriving ?? 0) * 1000) / ARRIVAL_WINDOW_MS;
  if (r.backlog >= p.batchSize || arrivingPerSecond >= p.batchSize) return r.ready >= FLOOD_BATCHES * p.batchSize || r.oldestMs >= p.maxHoldMs;
  if (r.ready >= p.batchSize) return true;
  return r.oldestMs >= p.settleMs;
}
