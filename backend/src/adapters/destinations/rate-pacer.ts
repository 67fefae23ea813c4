import type { Db, Queryable } from '../store/db';
import type { RatePacer } from '../../domain/destinations/port';

/**
 * The database-backed `RatePacer` of destinations: every instance of the backend shares each bucket's windows.
 * `acquire` takes slots in one transaction serialised per bucket (`pg_advisory_xact_lock` on the bucket's hash):
 * it checks the bucket's penalty, then each limit (at most `count` requests in any rolling `windowMs`, plus a
 * margin for the time between the slot and the request reaching the destination), and either records requests
 * or sleeps until the oldest request that keeps a window full leaves it. Times come from the database clock.
 *
 * Slots are taken a few at a time where the limits are large (a block of up to `block`, never more than an eighth
 * of the smallest limit: 16 for Intercom's 1,500 per 10 s, one for Loops' 10 per second) and handed to this
 * process's next callers; a slot not used within the margin is dropped (it was counted: never more requests than
 * allowed), and so are a bucket's slots when this process penalizes it (another instance's penalty holds this one
 * once its slots are older than the margin). One transaction then serves a block of requests instead of one: with many concurrent requests to one
 * destination, the bucket's lock is what bounded them.
 */

const NOW_MS = `(extract(epoch from clock_timestamp()) * 1000)::bigint`;
const LOCK_NAMESPACE = 0x44535452; // "DSTR"

export interface DbRatePacerOptions {
  /** Added to each window (ms); also how long a slot taken ahead may wait for its request. Default 100. */
  marginMs?: number;
  /** Most slots taken in one transaction. Default 16. */
  block?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Slots this process took ahead for one bucket and set of limits, and when (ms, this process's clock). */
interface Pool {
  slots: number;
  takenAt: number;
}

export function createDbRatePacer(db: Db, options: DbRatePacerOptions = {}): RatePacer & { usage(bucket: string, windowMs: number): Promise<number> } {
  const marginMs = options.marginMs ?? 100;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let takes = 0;

  const maxBlock = Math.max(1, options.block ?? 16);
  const pools = new Map<string, Pool>();
  /** The one transaction taking slots for a pool in this process, that the pool's other callers wait for. */
  const taking = new Map<string, Promise<unknown>>();
  const blockOf = (limits: readonly { count: number }[]) => Math.max(1, Math.min(maxBlock, Math.floor(Math.min(...limits.map((l) => l.count)) / 8)));

  /** Takes up to `want` slots: answers how many, or how long to wait when there is no room. */
  const tryTake = (bucket: string, limits: readonly { count: number; windowMs: number }[], want: number) =>
    db.transaction(async (tx): Promise<{ taken: number; wait: number }> => {
      await tx.query('SELECT pg_advisory_xact_lock($1::int, hashtext($2))', [LOCK_NAMESPACE, bucket]);
      const now = Number((await tx.query<{ now: string }>(`SELECT ${NOW_MS} AS now`)).rows[0]!.now);
      const penalty = await tx.query<{ until_ms: string }>(
        'SELECT until_ms FROM destination_rate_penalties WHERE bucket = $1 AND until_ms > $2',
        [bucket, now],
      );
      if (penalty.rows[0]) return { taken: 0, wait: Number(penalty.rows[0].until_ms) - now };
      const longest = Math.max(...limits.map((l) => l.windowMs)) + marginMs;
      await tx.query('DELETE FROM destination_rate_calls WHERE bucket = $1 AND at_ms <= $2', [bucket, now - longest]);
      let room = want;
      for (const l of limits) {
        const used = Number(
          (
            await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM destination_rate_calls WHERE bucket = $1 AND at_ms > $2', [
              bucket,
              now - (l.windowMs + marginMs),
            ])
          ).rows[0]!.n,
        );
        room = Math.min(room, l.count - used);
      }
      if (room <= 0) {
        let wait = 0;
        for (const l of limits) wait = Math.max(wait, await waitFor(tx, bucket, now, l.windowMs + marginMs, l.count));
        return { taken: 0, wait: Math.max(1, wait) };
      }
      await tx.query('INSERT INTO destination_rate_calls (bucket, at_ms) SELECT $1, $2 FROM generate_series(1, $3::int)', [bucket, now, room]);
      return { taken: room, wait: 0 };
    });

  /** A slot from this process's pool when one is fresh (taken within the margin): true when one was handed out. */
  const fromPool = (key: string): boolean => {
    const pool = pools.get(key);
    if (!pool || pool.slots <= 0 || Date.now() - pool.takenAt > marginMs) return false;
    pool.slots -= 1;
    return true;
  };

  return {
    async acquire(bucket, limits) {
      if (limits.length === 0 || limits.some((l) => !(l.count >= 1) || !(l.windowMs > 0))) {
        throw new RangeError('each limit needs a count ≥ 1 and a window > 0');
      }
      if (++takes % 500 === 0) {
        await db.query(`DELETE FROM destination_rate_penalties WHERE until_ms < ${NOW_MS} - 60000`);
        await db.query(`DELETE FROM destination_rate_calls WHERE at_ms < ${NOW_MS} - 3600000`);
      }
      const key = `${bucket}|${limits.map((l) => `${l.count}/${l.windowMs}`).join(',')}`;
      for (;;) {
        if (fromPool(key)) return;
        const pending = taking.get(key);
        if (pending) {
          await pending;
          continue;
        }
        const take = tryTake(bucket, limits, blockOf(limits));
        taking.set(key, take.catch(() => undefined));
        let answer: { taken: number; wait: number };
        try {
          answer = await take;
        } finally {
          taking.delete(key);
        }
        if (answer.taken > 0) {
          // One for this caller; the rest for the next callers of this process, while fresh.
          pools.set(key, { slots: answer.taken - 1, takenAt: Date.now() });
          return;
        }
        await sleep(answer.wait + Math.floor(Math.random() * 20));
      }
    },
    async penalize(bucket, waitMs) {
      // Slots this process took ahead for the bucket are not used: the wait applies to them too.
      for (const key of pools.keys()) if (key.startsWith(`${bucket}|`)) pools.delete(key);
      await db.query(
        `INSERT INTO destination_rate_penalties (bucket, until_ms) VALUES ($1, ${NOW_MS} + $2)
         ON CONFLICT (bucket) DO UPDATE SET until_ms = greatest(destination_rate_penalties.until_ms, EXCLUDED.until_ms)`,
        [bucket, Math.max(0, Math.ceil(waitMs))],
      );
    },
    async usage(bucket, windowMs) {
      const r = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM destination_rate_calls WHERE bucket = $1 AND at_ms > ${NOW_MS} - $2`,
        [bucket, windowMs],
      );
      return Number(r.rows[0]!.n);
    },
  };
}

/** How long until the window has room for one more request: 0 when it has room now. */
async function waitFor(tx: Queryable, bucket: string, now: number, window: number, allowed: number): Promise<number> {
  const r = await tx.query<{ at_ms: string }>(
    `SELECT at_ms FROM destination_rate_calls WHERE bucket = $1 AND at_ms > $2 ORDER BY at_ms DESC OFFSET $3 LIMIT 1`,
    [bucket, now - window, allowed - 1],
  );
  const at = r.rows[0]?.at_ms;
  return at == null ? 0 : Number(at) + window - now + 1;
}
