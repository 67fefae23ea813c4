import type { Db, Queryable } from '../../adapters/store/db';
import { markBackfillPriority } from '../../adapters/store/backfill-store';
import { mapStripeObject } from '../../domain/events';
import type { EventMeta, ObjectRecord } from '../../domain/records';
import { applyCustomerRecords } from '../apply-events';

/**
 * Folds one page of Stripe objects read by a backfill into the customers, through `applyCustomerRecords` (the
 * same fold as webhooks and the card's refresh, so the same order rule). The objects' version is the read:
 * `created` = when the page was requested, id `backfill_<run>` — a webhook created later wins over the read, and
 * the read wins over webhooks created before it.
 */

/** The pseudo-event a backfilled object is versioned with. */
export function backfillMeta(runId: string, objectType: string, readAt: number, account: string, livemode: boolean): EventMeta {
  return { id: `backfill_${runId}`, type: `${objectType}.backfill`, created: readAt, livemode, account: account || null };
}

/** The page's records grouped by customer, and how many objects were skipped (no customer, malformed). */
export function recordsByCustomer(
  objects: Record<string, unknown>[],
  meta: (objectType: string) => EventMeta,
): { groups: Map<string, ObjectRecord[]>; skipped: number } {
  const groups = new Map<string, ObjectRecord[]>();
  let skipped = 0;
  for (const o of objects) {
    const out = mapStripeObject(o, meta(typeof o.object === 'string' ? o.object : 'unknown'));
    if ('skip' in out || !out.customerId) {
      skipped++;
      continue;
    }
    const customerId = out.customerId;
    const records = out.records.map((r) => (r.customerId ? r : ({ ...r, customerId } as ObjectRecord)));
    groups.set(customerId, [...(groups.get(customerId) ?? []), ...records]);
  }
  return { groups, skipped };
}

/** A `Db` whose statements and "transactions" all run in the caller's open transaction `tx`. */
export function transactionBoundDb(tx: Queryable, kind: Db['kind']): Db {
  const unavailable = () => Promise.reject(new Error('not available inside a transaction'));
  return {
    kind,
    query: (sql, params) => tx.query(sql, params),
    transaction: (fn) => fn(tx),
    exec: unavailable,
    queryPrepared: (_name, sql, params) => tx.query(sql, [...params]),
    close: unavailable,
  };
}

/**
 * Applies each customer's records inside `tx` (the page's transaction, which also commits the checkpoint), in
 * customer id order, and marks the customers whose status changed for a backfill-priority HubSpot write.
 * Answers the changed customers.
 */
export async function foldGroups(
  tx: Queryable,
  kind: Db['kind'],
  account: string,
  livemode: boolean,
  groups: Map<string, ObjectRecord[]>,
): Promise<string[]> {
  const bound = transactionBoundDb(tx, kind);
  const changed: string[] = [];
  for (const customerId of [...groups.keys()].sort()) {
    const out = await applyCustomerRecords(bound, { account, livemode, customerId }, [{ eventId: null, records: groups.get(customerId)! }]);
    if (out.changed) changed.push(customerId);
  }
  await markBackfillPriority(tx, account, livemode, changed);
  return changed;
}

/**
 * The same fold for a server database: each customer in its own transaction (as webhooks do), `concurrency` at a
 * time, stopping between customers when `signal` aborts. A page applied only in part is harmless: every object
 * only moves to a greater version, so whoever resumes folds the page again to the same result.
 */
export async function foldGroupsConcurrently(
  db: Db,
  account: string,
  livemode: boolean,
  groups: Map<string, ObjectRecord[]>,
  concurrency: number,
  signal: AbortSignal,
): Promise<string[]> {
  const ids = [...groups.keys()].sort();
  const changed: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      signal.throwIfAborted();
      const customerId = ids[next++];
      const out = await applyCustomerRecords(db, { account, livemode, customerId }, [{ eventId: null, records: groups.get(customerId)! }]);
      if (out.changed) changed.push(customerId);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, ids.length)) }, worker));
  await markBackfillPriority(db, account, livemode, changed);
  return changed.sort();
}
