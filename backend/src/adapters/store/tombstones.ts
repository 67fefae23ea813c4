import type { Queryable } from './db';

/**
 * Uninstall tombstones (`account_tombstones`): once the app is uninstalled from an account in one mode and its
 * data deleted, nothing of that account created up to the uninstall may be stored again — not a late Stripe retry,
 * not a worker batch that was already running on another instance, not a backfill page or a card refresh — until
 * the app is installed again (an `account.application.authorized` created after the uninstall).
 *
 * Order between the deletion and appliers that run at the same time is kept by a transaction-level advisory lock
 * per account and mode: appliers hold it shared for their transaction, the deletion holds it exclusively, so an
 * applier either commits before the deletion (which then deletes what it wrote) or sees the tombstone.
 */

/** The SQL condition under which the row `t` of account_tombstones holds. */
export const TOMBSTONE_HOLDS = `(t.reinstalled_created IS NULL OR t.reinstalled_created <= t.uninstalled_created)`;

export interface AccountMode {
  account: string;
  livemode: boolean;
}

/** The advisory lock key of an account and mode (a 64-bit hash; a collision only serialises two accounts). */
const lockKey = (account: string, livemode: string) => `hashtextextended('tombstone:' || ${account} || ':' || ${livemode}::text, 0)`;

/**
 * Within a transaction: waits for any uninstall of these accounts in progress, then holds them (shared) until the
 * transaction ends, and answers each tombstone that holds (the uninstall's `created`) by `accountModeId`. Two
 * statements: the tombstones are read after the locks are held, so an uninstall that committed while this waited
 * is seen.
 */
export async function holdAccounts(tx: Queryable, accounts: readonly AccountMode[]): Promise<Map<string, number>> {
  const unique = new Map(accounts.map((a) => [accountModeId(a), a]));
  if (unique.size === 0) return new Map();
  // Locked in one order by every transaction, so two of them never wait on each other in a cycle.
  const sorted = [...unique.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([, a]) => a);
  const params = [sorted.map((a) => a.account), sorted.map((a) => a.livemode)];
  await tx.query(
    `SELECT count(pg_advisory_xact_lock_shared(${lockKey('v.account_key', 'v.livemode')})::text)
       FROM unnest($1::text[], $2::boolean[]) AS v(account_key, livemode)`,
    params,
  );
  const { rows } = await tx.query<{ account_key: string; livemode: boolean; uninstalled_created: string }>(
    `SELECT t.account_key, t.livemode, t.uninstalled_created
       FROM account_tombstones t JOIN unnest($1::text[], $2::boolean[]) AS v(account_key, livemode)
         ON t.account_key = v.account_key AND t.livemode = v.livemode
      WHERE ${TOMBSTONE_HOLDS}`,
    params,
  );
  return new Map(rows.map((r) => [accountModeId({ account: r.account_key, livemode: r.livemode }), Number(r.uninstalled_created)]));
}

/**
 * Within the deletion's transaction: waits for the appliers of this account holding it, then keeps them out until
 * the transaction ends.
 */
export async function lockAccountExclusively(tx: Queryable, a: AccountMode): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(${lockKey('$1::text', '$2::boolean')})::text`, [a.account, a.livemode]);
}

/**
 * Records an uninstall (the newest one wins). Answers whether the tombstone holds after it: false when an install
 * newer than this uninstall was already seen (events delivered out of order), so the uninstall is stale.
 */
export async function recordUninstall(tx: Queryable, a: AccountMode, created: number): Promise<boolean> {
  const { rows } = await tx.query<{ holds: boolean }>(
    `INSERT INTO account_tombstones AS t (account_key, livemode, uninstalled_created) VALUES ($1, $2, $3)
     ON CONFLICT (account_key, livemode) DO UPDATE SET
       uninstalled_created = GREATEST(t.uninstalled_created, EXCLUDED.uninstalled_created),
       uninstalled_at = CASE WHEN EXCLUDED.uninstalled_created > t.uninstalled_created THEN now() ELSE t.uninstalled_at END
     RETURNING ${TOMBSTONE_HOLDS} AS holds`,
    [a.account, a.livemode, created],
  );
  return rows[0]?.holds === true;
}

/** `uninstalled_created` of a marker row: before any event's `created` (the webhook refuses negative ones). */
const NO_UNINSTALL = -1;

/**
 * Records an install (the newest one wins). Answers true when it lifted a tombstone (it is newer than the
 * uninstall). Without a tombstone it leaves a marker (uninstalled before any event), so an uninstall older than
 * this install that is delivered after it is known to be stale — and the marker never holds, even for an install
 * created at 0.
 */
export async function recordInstall(db: Queryable, a: AccountMode, created: number): Promise<boolean> {
  const { rows } = await db.query<{ lifted: boolean }>(
    `WITH before AS (SELECT ${TOMBSTONE_HOLDS} AS held FROM account_tombstones t WHERE t.account_key = $1 AND t.livemode = $2)
     INSERT INTO account_tombstones AS t (account_key, livemode, uninstalled_created, reinstalled_created) VALUES ($1, $2, ${NO_UNINSTALL}, $3)
     ON CONFLICT (account_key, livemode) DO UPDATE SET reinstalled_created = GREATEST(t.reinstalled_created, EXCLUDED.reinstalled_created)
     RETURNING COALESCE((SELECT held FROM before), false) AND NOT ${TOMBSTONE_HOLDS} AS lifted`,
    [a.account, a.livemode, created],
  );
  return rows[0]?.lifted === true;
}

/** Whether an install newer than `created` was already seen: an uninstall created then is stale. */
export async function installedSince(db: Queryable, a: AccountMode, created: number): Promise<boolean> {
  const { rows } = await db.query(
    'SELECT 1 FROM account_tombstones WHERE account_key = $1 AND livemode = $2 AND reinstalled_created > $3',
    [a.account, a.livemode, created],
  );
  return rows.length > 0;
}

/** The tombstone of an account and mode (the uninstall's `created`, unix seconds), or null when none holds. */
export async function tombstoneOf(db: Queryable, a: AccountMode): Promise<number | null> {
  const { rows } = await db.query<{ uninstalled_created: string }>(
    `SELECT t.uninstalled_created FROM account_tombstones t WHERE t.account_key = $1 AND t.livemode = $2 AND ${TOMBSTONE_HOLDS}`,
    [a.account, a.livemode],
  );
  return rows[0] ? Number(rows[0].uninstalled_created) : null;
}

export function accountModeId(a: AccountMode): string {
  return `${a.account}\u0000${a.livemode ? 1 : 0}`;
}
