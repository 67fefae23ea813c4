import type { Db, Queryable } from './db';
import { customerKeyId, type CustomerKey } from './sync-store';
import type { ObjectRecord, Version } from '../../domain/records';
import { compareVersions } from '../../domain/ordering';
import { historyEntry, type HistoryEntry } from '../../domain/movements-history';
import { deriveMovements, type Movement } from '../../domain/movements';
import { accountModeSchema, check, customerIdsSchema } from './movements-store-read';

/**
 * Revenue movements, written side: the history of versions (`stripe_object_versions`) and the movement ledger
 * (`revenue_movements`). See domain/movements.ts for what a movement is and migration 012 for the tables.
 *
 * WHERE movements are derived: in the apply transaction, for the customers whose history grew in that batch, under
 * their row locks (`recordHistory`, called once by apply-events) — so the ledger is ready when the pusher runs, and
 * a duplicate delivery (no new version) costs the one insert and derives nothing. Two statements per batch with
 * new versions, whatever its size: one inserts the versions and reads back the grown customers' whole histories,
 * one upserts their movements and retracts the ones no longer derived.
 *
 * THE LEDGER is never deleted from (until the customer is). A movement is derived at a source version from versions
 * up to it only, so a new version re-derives only the customer's movements at or after the earliest new version
 * (`since`); those are upserted (same id: amounts and MRR figures refreshed to what the fuller history says) and
 * ledger rows in that range that are no longer derived get `retracted_at` — they stop being listed (card, pusher).
 * A movement already written to a portal keeps its written marker: a refresh or a retraction after the write is
 * not written again (HubSpot keeps what it was told; the marker's `hubspot_id` lets a writer find it). With
 * Stripe's `previous_attributes` in every `*.updated` event this only happens where Stripe sends no "before"
 * (a deletion, a refund event without it) and an earlier-created event arrives after a later one.
 */

/** One event's (or API read's) records of one customer, as apply-events batches them. */
export interface HistoryBatch {
  /** The inbox event, or null for an API read (card refresh, backfill): a snapshot, never a movement. */
  eventId: string | null;
  records: readonly ObjectRecord[];
  /** The event's type and `data.previous_attributes`. */
  source?: { type: string; previous: Record<string, unknown> | null };
}

export interface HistoryItem {
  key: CustomerKey;
  batches: readonly HistoryBatch[];
}

interface VersionRow {
  account_key: string;
  livemode: boolean;
  customer_id: string;
  kind: HistoryEntry['kind'];
  object_id: string;
  version_event: string;
  version_created: string | number;
  version_rank: number;
  from_event: boolean;
  facts: unknown;
  is_new: boolean;
}

const VERSION_COLUMNS = 'account_key, livemode, customer_id, kind, object_id, version_event, version_created, version_rank, from_event, facts';

function entryOfRow(r: VersionRow): HistoryEntry {
  return {
    kind: r.kind,
    objectId: r.object_id,
    customerId: r.customer_id,
    version: { created: Number(r.version_created), rank: r.version_rank, eventId: r.version_event },
    fromEvent: r.from_event,
    data: r.facts,
  } as HistoryEntry;
}

/** The history entries of a batch, each (customer, kind, object, version) once. */
function entriesOf(items: readonly HistoryItem[]): { key: CustomerKey; entry: HistoryEntry }[] {
  const out = new Map<string, { key: CustomerKey; entry: HistoryEntry }>();
  for (const { key, batches } of items) {
    for (const b of batches) {
      const source = { fromEvent: b.eventId !== null, eventType: b.source?.type ?? null, previous: b.source?.previous ?? null };
      for (const record of b.records) {
        if (record.customerId !== key.customerId) continue;
        const entry = historyEntry(record, source);
        if (!entry) continue;
        out.set(`${customerKeyId(key)}\u0000${entry.kind}\u0000${entry.objectId}\u0000${entry.version.eventId}`, { key, entry });
      }
    }
  }
  return [...out.values()];
}

/**
 * The apply path (inside the batch's transaction, customers locked): stores the batch's versions, then derives and
 * saves the movements of the customers whose history grew. Answers those customers' movements (all of them, by
 * `customerKeyId`).
 */
export async function recordHistory(tx: Queryable, items: readonly HistoryItem[]): Promise<Map<string, Movement[]>> {
  const entries = entriesOf(items);
  if (entries.length === 0) return new Map();
  const col = <T>(f: (x: { key: CustomerKey; entry: HistoryEntry }) => T) => entries.map(f);
  const { rows } = await tx.query<VersionRow>(
    `WITH ins AS (
       INSERT INTO stripe_object_versions (${VERSION_COLUMNS})
       SELECT * FROM unnest($1::text[], $2::boolean[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::integer[], $9::boolean[], $10::jsonb[])
       ON CONFLICT DO NOTHING
       RETURNING ${VERSION_COLUMNS}),
     grown AS (SELECT DISTINCT account_key, livemode, customer_id FROM ins)
     SELECT ${VERSION_COLUMNS.split(', ').map((c) => `v.${c}`).join(', ')}, false AS is_new
       FROM stripe_object_versions v
       JOIN grown g ON v.account_key = g.account_key AND v.livemode = g.livemode AND v.customer_id = g.customer_id
     UNION ALL
     SELECT ${VERSION_COLUMNS}, true AS is_new FROM ins`,
    [
      col((x) => x.key.account),
      col((x) => x.key.livemode),
      col((x) => x.key.customerId),
      col((x) => x.entry.kind),
      col((x) => x.entry.objectId),
      col((x) => x.entry.version.eventId),
      col((x) => x.entry.version.created),
      col((x) => x.entry.version.rank),
      col((x) => x.entry.fromEvent),
      col((x) => JSON.stringify(x.entry.data)),
    ],
  );
  type Grown = { key: CustomerKey; entries: HistoryEntry[]; since: Version | null; newestOld: Version | null };
  const histories = new Map<string, Grown>();
  for (const r of rows) {
    const key = { account: r.account_key, livemode: r.livemode, customerId: r.customer_id };
    const id = customerKeyId(key);
    const h = histories.get(id) ?? { key, entries: [], since: null, newestOld: null };
    const entry = entryOfRow(r);
    h.entries.push(entry);
    if (r.is_new && (!h.since || compareVersions(entry.version, h.since) < 0)) h.since = entry.version;
    if (!r.is_new && (!h.newestOld || compareVersions(entry.version, h.newestOld) > 0)) h.newestOld = entry.version;
    histories.set(id, h);
  }
  const derived = new Map<string, Movement[]>();
  const groups: LedgerGroup[] = [];
  for (const [id, h] of histories) {
    const movements = deriveMovements(h.key.customerId, h.entries);
    derived.set(id, movements);
    // Every ledger row's source is a stored version: when the new versions all come after the stored ones (delivery
    // in order, the usual case), no ledger row is at or after `since`, so nothing can need retracting.
    const retract = h.newestOld !== null && h.since !== null && compareVersions(h.newestOld, h.since) >= 0;
    groups.push({ key: h.key, movements, since: h.since, retract });
  }
  await saveMovements(tx, groups);
  return derived;
}

interface LedgerGroup {
  key: CustomerKey;
  /** Every movement the customer's history derives now. */
  movements: readonly Movement[];
  /** Only movements at or after this source version are saved (and may be retracted); null: all. */
  since: Version | null;
  /** Whether ledger rows in that range may have to be retracted (false: the caller knows there are none). */
  retract: boolean;
}

/**
 * Upserts the groups' movements (from `since` on) and retracts the customers' ledger rows in that range that are no
 * longer derived (for the groups that ask), in one statement — none when there is nothing to do. Answers how many rows changed (inserted, refreshed or un-retracted) and how many
 * were retracted.
 */
export async function saveMovements(tx: Queryable, groups: readonly LedgerGroup[]): Promise<{ changed: number; retracted: number }> {
  const retracting = groups.filter((g) => g.retract);
  const rows: { key: CustomerKey; m: Movement }[] = [];
  for (const g of groups) {
    const seen = new Set<string>();
    for (const m of g.movements) {
      if (seen.has(m.id) || (g.since && compareVersions(m.source, g.since) < 0)) continue;
      seen.add(m.id);
      rows.push({ key: g.key, m });
    }
  }
  if (rows.length === 0 && retracting.length === 0) return { changed: 0, retracted: 0 };
  const col = <T>(f: (x: { key: CustomerKey; m: Movement }) => T) => rows.map(f);
  const scope = <T>(f: (g: LedgerGroup) => T) => retracting.map(f);
  const { rows: out } = await tx.query<{ changed: number; retracted: number }>(
    `WITH d AS (
       SELECT * FROM unnest($1::text[], $2::boolean[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::numeric[],
                            $9::numeric[], $10::numeric[], $11::text[], $12::bigint[], $13::integer[], $14::text[], $15::jsonb[])
         AS d(account_key, livemode, movement_id, customer_id, kind, occurred_at, currency, amount,
              mrr_before, mrr_after, subject_id, source_created, source_rank, source_event, details)),
     up AS (
       INSERT INTO revenue_movements AS m
         (account_key, livemode, movement_id, customer_id, kind, occurred_at, currency, amount,
          mrr_before, mrr_after, subject_id, source_created, source_rank, source_event, details)
       SELECT account_key, livemode, movement_id, customer_id, kind, occurred_at, currency, amount,
              mrr_before, mrr_after, subject_id, source_created, source_rank, source_event, details FROM d
       ON CONFLICT (account_key, livemode, movement_id) DO UPDATE SET
         occurred_at = EXCLUDED.occurred_at, currency = EXCLUDED.currency, amount = EXCLUDED.amount,
         mrr_before = EXCLUDED.mrr_before, mrr_after = EXCLUDED.mrr_after, subject_id = EXCLUDED.subject_id,
         source_created = EXCLUDED.source_created, source_rank = EXCLUDED.source_rank, source_event = EXCLUDED.source_event,
         details = EXCLUDED.details, retracted_at = NULL, updated_at = now()
       WHERE (m.occurred_at, m.currency, m.amount, m.mrr_before, m.mrr_after, m.subject_id, m.source_created, m.source_rank,
              m.source_event, m.details, m.retracted_at)
             IS DISTINCT FROM
             (EXCLUDED.occurred_at, EXCLUDED.currency, EXCLUDED.amount, EXCLUDED.mrr_before, EXCLUDED.mrr_after, EXCLUDED.subject_id,
              EXCLUDED.source_created, EXCLUDED.source_rank, EXCLUDED.source_event, EXCLUDED.details, NULL::timestamptz)
       RETURNING 1),
     scope AS (
       SELECT * FROM unnest($16::text[], $17::boolean[], $18::text[], $19::bigint[], $20::integer[], $21::text[])
         AS s(account_key, livemode, customer_id, since_created, since_rank, since_event)),
     gone AS (
       UPDATE revenue_movements m SET retracted_at = now(), updated_at = now()
         FROM scope s
        WHERE m.account_key = s.account_key AND m.livemode = s.livemode AND m.customer_id = s.customer_id AND m.retracted_at IS NULL
          AND (s.since_created IS NULL
               OR (m.source_created, m.source_rank, m.source_event) >= (s.since_created, s.since_rank, s.since_event))
          AND NOT EXISTS (SELECT 1 FROM d WHERE d.account_key = m.account_key AND d.livemode = m.livemode AND d.movement_id = m.movement_id)
       RETURNING 1)
     SELECT (SELECT count(*) FROM up)::int AS changed, (SELECT count(*) FROM gone)::int AS retracted`,
    [
      col((x) => x.key.account),
      col((x) => x.key.livemode),
      col((x) => x.m.id),
      col((x) => x.key.customerId),
      col((x) => x.m.kind),
      col((x) => x.m.occurredAt),
      col((x) => x.m.currency),
      col((x) => x.m.amount),
      col((x) => x.m.mrrBefore),
      col((x) => x.m.mrrAfter),
      col((x) => x.m.subjectId),
      col((x) => x.m.source.created),
      col((x) => x.m.source.rank),
      col((x) => x.m.source.eventId),
      col((x) => JSON.stringify(x.m.details)),
      scope((g) => g.key.account),
      scope((g) => g.key.livemode),
      scope((g) => g.key.customerId),
      scope((g) => g.since?.created ?? null),
      scope((g) => g.since?.rank ?? null),
      scope((g) => g.since?.eventId ?? null),
    ],
  );
  return { changed: Number(out[0]?.changed ?? 0), retracted: Number(out[0]?.retracted ?? 0) };
}

/** The stored history of each customer (by `customerKeyId`). */
export async function historiesOf(db: Queryable, keys: readonly CustomerKey[]): Promise<Map<string, HistoryEntry[]>> {
  const out = new Map<string, HistoryEntry[]>(keys.map((k) => [customerKeyId(k), []]));
  if (keys.length === 0) return out;
  const { rows } = await db.query<VersionRow>(
    `SELECT ${VERSION_COLUMNS.split(', ').map((c) => `v.${c}`).join(', ')}
       FROM stripe_object_versions v
       JOIN unnest($1::text[], $2::boolean[], $3::text[]) AS k(account_key, livemode, customer_id)
         ON v.account_key = k.account_key AND v.livemode = k.livemode AND v.customer_id = k.customer_id`,
    [keys.map((k) => k.account), keys.map((k) => k.livemode), keys.map((k) => k.customerId)],
  );
  for (const r of rows) out.get(customerKeyId({ account: r.account_key, livemode: r.livemode, customerId: r.customer_id }))?.push(entryOfRow(r));
  return out;
}

/**
 * Derives the movements of `customerIds` from their whole stored history and brings the ledger in line
 * (idempotent: running it again changes nothing). Customers we do not know are ignored. Runs in its own
 * transaction holding the customers' rows, like an apply batch. Answers the movements derived per customer id.
 */
export async function recordMovements(db: Db, account: string, livemode: boolean, customerIds: readonly string[]): Promise<Map<string, Movement[]>> {
  check(accountModeSchema, { account, livemode }, 'account and mode');
  const ids = [...new Set(check(customerIdsSchema, customerIds, 'customerIds'))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (ids.length === 0) return new Map();
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ customer_id: string }>(
      `SELECT customer_id FROM customers WHERE account_key = $1 AND livemode = $2 AND customer_id = ANY($3::text[])
        ORDER BY customer_id COLLATE "C" FOR UPDATE`,
      [account, livemode, ids],
    );
    const keys = rows.map((r) => ({ account, livemode, customerId: r.customer_id }));
    const histories = await historiesOf(tx, keys);
    const out = new Map<string, Movement[]>();
    const groups: LedgerGroup[] = keys.map((key) => {
      const movements = deriveMovements(key.customerId, histories.get(customerKeyId(key)) ?? []);
      out.set(key.customerId, movements);
      return { key, movements, since: null, retract: true };
    });
    await saveMovements(tx, groups);
    return out;
  });
}
