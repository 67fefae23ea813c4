import type { Db, Queryable } from '../store/db';
import { RateBudgetTimeoutError } from './errors';

/**
 * The per-portal HubSpot request budget, kept in the database so that every instance of the backend shares it.
 *
 * - At most `limitPer10s` requests start in any rolling window of `windowMs` (+ `marginMs` for the time between
 *   taking a slot and the request reaching HubSpot), per portal; search requests also count in a separate
 *   `searchPerSecond` budget.
 * - `acquire` takes a slot in one transaction serialised per portal by `pg_advisory_xact_lock`: it reads the
 *   recent calls (table `hubspot_rate_calls`), and either records its own call or learns how long to wait
 *   (until the oldest call that keeps the window full leaves it), sleeps and tries again.
 * - `penalize` (after a 429, or when HubSpot says no request is left) makes every instance wait.
 * - Times come from the database clock, so instances on different hosts agree.
 */

export type CallKind = 'crm' | 'search';
export type PenaltyScope = 'crm' | 'search';

export interface RateBudgetOptions {
  /** HUBSPOT_RATE_LIMIT_PER_10S: requests per rolling window per portal. Default 100. */
  limitPer10s?: number;
  /** Search requests per second per portal. Default 4. */
  searchPerSecond?: number;
  /** The rolling window. Default 10 000 ms. */
  windowMs?: number;
  /** Added to each window to absorb the delay between taking a slot and HubSpot seeing the request. Default 250 ms. */
  marginMs?: number;
  /** How long call rows are kept (diagnostics, tests); never less than the window. Default: the window. */
  retainMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface AcquireOptions {
  /** Fraction of the budget this caller may use (e.g. 0.5 for a backfill): it waits while the window is that full. */
  share?: number;
  /** Fail with `RateBudgetTimeoutError` rather than wait longer than this in total. Default: wait as long as it takes. */
  maxWaitMs?: number;
}

export interface RateBudget {
  readonly limitPer10s: number;
  readonly searchPerSecond: number;
  /** Waits until the portal has room for one request of this kind, and takes it. Answers how long it waited. */
  acquire(portalId: number, kind: CallKind, options?: AcquireOptions): Promise<{ waitedMs: number }>;
  /** No request of `scope` for this portal (from any instance) for `waitMs` from now (database clock). */
  penalize(portalId: number, waitMs: number, scope?: PenaltyScope): Promise<void>;
  /** Reads HubSpot's `X-HubSpot-RateLimit-*` answer headers: no request left → pause for the interval. */
  observe(portalId: number, headers: Record<string, string> | undefined): Promise<void>;
  /** Requests recorded in the current window (diagnostics and tests). */
  usage(portalId: number): Promise<{ inWindow: number; searchInWindow: number; penaltyUntilMs: number | null }>;
}

const LOCK_NAMESPACE = 0x48534254; // "HSBT"
const NOW_MS = `(extract(epoch from clock_timestamp()) * 1000)::bigint`;
const SEARCH_WINDOW_MS = 1000;

export function createRateBudget(db: Db, options: RateBudgetOptions = {}): RateBudget {
  const limit = positiveInt(options.limitPer10s ?? 100, 'limitPer10s');
  const searchLimit = positiveInt(options.searchPerSecond ?? 4, 'searchPerSecond');
  const windowMs = options.windowMs ?? 10_000;
  const marginMs = options.marginMs ?? 250;
  const retainMs = Math.max(options.retainMs ?? 0, windowMs + marginMs);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let acquisitions = 0;

  /** One attempt: records the call and answers 0, or answers how long to wait. */
  const tryTake = (portalId: number, kind: CallKind, share: number) =>
    db.transaction(async (tx) => {
      await lockPortal(tx, portalId);
      const now = Number((await tx.query<{ now: string }>(`SELECT ${NOW_MS} AS now`)).rows[0]!.now);
      const scopes = kind === 'search' ? ['crm', 'search'] : ['crm'];
      const penalty = await tx.query<{ until_ms: string }>(
        `SELECT max(until_ms) AS until_ms FROM hubspot_rate_penalties
          WHERE portal_id = $1 AND scope = ANY($2::text[]) AND until_ms > $3`,
        [portalId, scopes, now],
      );
      const until = penalty.rows[0]?.until_ms;
      if (until != null) return Number(until) - now;

      const window = windowMs + marginMs;
      await tx.query('DELETE FROM hubspot_rate_calls WHERE portal_id = $1 AND at_ms <= $2', [portalId, now - retainMs]);
      const allowed = Math.max(1, Math.floor(limit * share));
      let wait = await waitFor(tx, portalId, null, now, window, allowed);
      if (kind === 'search') {
        const searchAllowed = Math.max(1, Math.floor(searchLimit * share));
        wait = Math.max(wait, await waitFor(tx, portalId, 'search', now, SEARCH_WINDOW_MS + marginMs, searchAllowed));
      }
      if (wait > 0) return wait;
      await tx.query('INSERT INTO hubspot_rate_calls (portal_id, kind, at_ms) VALUES ($1, $2, $3)', [
        portalId,
        kind,
        now,
      ]);
      return 0;
    });

  const purgeStale = async () => {
    const horizon = `${NOW_MS} - ${Math.max(60_000, retainMs)}`;
    await db.query(`DELETE FROM hubspot_rate_calls WHERE at_ms < ${horizon}`);
    await db.query(`DELETE FROM hubspot_rate_penalties WHERE until_ms < ${horizon}`);
  };

  const budget: RateBudget = {
    limitPer10s: limit,
    searchPerSecond: searchLimit,

    async acquire(portalId, kind, opts = {}) {
      const share = opts.share ?? 1;
      if (!(share > 0 && share <= 1)) throw new RangeError('share must be in (0, 1]');
      if (++acquisitions % 500 === 0) await purgeStale();
      let waited = 0;
      for (;;) {
        const wait = await tryTake(portalId, kind, share);
        if (wait <= 0) return { waitedMs: waited };
        const nap = wait + Math.floor(Math.random() * 20);
        if (opts.maxWaitMs !== undefined && waited + nap > opts.maxWaitMs) {
          throw new RateBudgetTimeoutError(portalId, waited + nap);
        }
        await sleep(nap);
        waited += nap;
      }
    },

    async penalize(portalId, waitMs, scope = 'crm') {
      await db.query(
        `INSERT INTO hubspot_rate_penalties (portal_id, scope, until_ms) VALUES ($1, $2, ${NOW_MS} + $3)
         ON CONFLICT (portal_id, scope)
         DO UPDATE SET until_ms = greatest(hubspot_rate_penalties.until_ms, EXCLUDED.until_ms)`,
        [portalId, scope, Math.max(0, Math.ceil(waitMs))],
      );
    },

    async observe(portalId, headers) {
      if (!headers) return;
      const remaining = intHeader(headers, 'x-hubspot-ratelimit-remaining');
      if (remaining === undefined || remaining > 0) return;
      const interval = intHeader(headers, 'x-hubspot-ratelimit-interval-milliseconds');
      await budget.penalize(portalId, interval && interval > 0 ? Math.min(interval, windowMs) : windowMs);
    },

    async usage(portalId) {
      const r = await db.query<{ n: number; s: number; p: string | null }>(
        `SELECT
           (SELECT count(*)::int FROM hubspot_rate_calls WHERE portal_id = $1 AND at_ms > ${NOW_MS} - $2) AS n,
           (SELECT count(*)::int FROM hubspot_rate_calls
             WHERE portal_id = $1 AND kind = 'search' AND at_ms > ${NOW_MS} - $3) AS s,
           (SELECT max(until_ms) FROM hubspot_rate_penalties WHERE portal_id = $1 AND until_ms > ${NOW_MS}) AS p`,
        [portalId, windowMs, SEARCH_WINDOW_MS],
      );
      const row = r.rows[0]!;
      return { inWindow: Number(row.n), searchInWindow: Number(row.s), penaltyUntilMs: row.p == null ? null : Number(row.p) };
    },
  };
  return budget;
}

/** How long until the window (of all calls, or of one kind) has room for one more: 0 when it has room now. */
async function waitFor(
  tx: Queryable,
  portalId: number,
  kind: CallKind | null,
  now: number,
  window: number,
  allowed: number,
): Promise<number> {
  // The `allowed`-th most recent call in the window: while it is there, the window is full.
  const r = await tx.query<{ at_ms: string }>(
    `SELECT at_ms FROM hubspot_rate_calls
      WHERE portal_id = $1 AND at_ms > $2 ${kind ? 'AND kind = $4' : ''}
      ORDER BY at_ms DESC OFFSET $3 LIMIT 1`,
    kind ? [portalId, now - window, allowed - 1, kind] : [portalId, now - window, allowed - 1],
  );
  const at = r.rows[0]?.at_ms;
  return at == null ? 0 : Number(at) + window - now + 1;
}

async function lockPortal(tx: Queryable, portalId: number): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1::int, $2::int)', [LOCK_NAMESPACE, portalId % 2147483647]);
}

function intHeader(headers: Record<string, string>, name: string): number | undefined {
  const raw = headers[name] ?? headers[name.toLowerCase()];
  if (raw === undefined) return undefined;
  const n = Number.parseInt(String(raw), 10);
  return Number.isFinite(n) ? n : undefined;
}

function positiveInt(n: number, name: string): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${name} must be a positive integer`);
  return n;
}
