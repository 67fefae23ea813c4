import type { Queryable } from './db';
import type { ObjectRecord, RecordKind } from '../../domain/records';
import type { CustomerStatus } from '@stripe-hubspot-sync/contracts';

export interface CustomerKey {
  account: string;
  livemode: boolean;
  customerId: string;
}

interface RecordRow {
  kind: RecordKind;
  object_id: string;
  customer_id: string | null;
  version_created: string | number;
  version_rank: number;
  version_event: string;
  data: unknown;
}

/** The customer that owns a stored object (e.g. the charge a dispute is about). */
export async function customerOfObject(db: Queryable, account: string, livemode: boolean, kind: RecordKind, objectId: string): Promise<string | null> {
  const { rows } = await db.query<{ customer_id: string | null }>(
    'SELECT customer_id FROM stripe_objects WHERE account_key = $1 AND livemode = $2 AND kind = $3 AND object_id = $4',
    [account, livemode, kind, objectId],
  );
  return rows[0]?.customer_id ?? null;
}

export interface CustomerRow {
  version: number;
  syncedVersion: number;
  status: CustomerStatus | null;
  lastSyncedAt: string | null;
}

/** The read model of one customer (null when we know nothing of it). */
export async function customerStatus(db: Queryable, key: CustomerKey): Promise<CustomerStatus | null> {
  const { rows } = await db.query<{ status: CustomerStatus | null; last_synced_at: Date | null }>(
    'SELECT status, last_synced_at FROM customers WHERE account_key = $1 AND livemode = $2 AND customer_id = $3',
    [key.account, key.livemode, key.customerId],
  );
  const r = rows[0];
  if (!r?.status) return null;
  return { ...r.status, lastSyncedAt: r.last_synced_at ? new Date(r.last_synced_at).toISOString() : null };
}

/** Marks every customer of an account and mode for a fresh push (after connecting a portal or a settings change). */
export async function markAllForPush(db: Queryable, account: string, livemode: boolean): Promise<number> {
  const r = await db.query(
    `UPDATE customers SET synced_version = 0, synced_properties = NULL, sync_state = 'pending', sync_reason = NULL, push_priority = 'backfill',
            attempts = 0, next_attempt_at = NULL, dirty_since = now()
      WHERE account_key = $1 AND livemode = $2 AND status IS NOT NULL AND version > 0`,
    [account, livemode],
  );
  return r.rowCount;
}

/**
 * Queues one customer for a fresh push ("sync now"). With `ifSyncedAt`, only while the customer is still synced at
 * exactly that version (a repair decided on what was written then: a newer write since makes it moot).
 */
export async function markForPush(db: Queryable, key: CustomerKey, opts: { ifSyncedAt?: number } = {}): Promise<boolean> {
  const r = await db.query(
    `UPDATE customers SET synced_version = LEAST(synced_version, version - 1), synced_properties = NULL, push_priority = 'live',
            sync_state = 'pending', attempts = 0, next_attempt_at = NULL, dirty_since = now()
      WHERE account_key = $1 AND livemode = $2 AND customer_id = $3 AND status IS NOT NULL AND version > 0
        AND ($4::bigint IS NULL OR (synced_version = $4::bigint AND version = synced_version))`,
    [key.account, key.livemode, key.customerId, opts.ifSyncedAt ?? null],
  );
  return r.rowCount > 0;
}

// Set-based: one statement for all the customers of a worker batch, whatever their count.

/** A stable string for a customer key (map keys). */
export function customerKeyId(k: CustomerKey): string {
  return `${k.account}\u0000${k.livemode ? 1 : 0}\u0000${k.customerId}`;
}

/** Byte order of customer keys: the order rows are locked in, so two transactions never wait on each other in a cycle. */
export function compareCustomerKeys(a: CustomerKey, b: CustomerKey): number {
  const x = customerKeyId(a);
  const y = customerKeyId(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

const keyArrays = (keys: readonly CustomerKey[]) => [keys.map((k) => k.account), keys.map((k) => k.livemode), keys.map((k) => k.customerId)];

/**
 * Per-customer order: creates the missing customer rows and locks all of them (in key byte order) for the
 * rest of the transaction. Answers each customer's row by `customerKeyId`.
 */
export async function lockCustomers(tx: Queryable, keys: readonly CustomerKey[]): Promise<Map<string, CustomerRow>> {
  const sorted = [...keys].sort(compareCustomerKeys);
  await tx.query(
    `INSERT INTO customers (account_key, livemode, customer_id)
     SELECT * FROM unnest($1::text[], $2::boolean[], $3::text[]) ON CONFLICT DO NOTHING`,
    keyArrays(sorted),
  );
  const { rows } = await tx.query<{
    account_key: string;
    livemode: boolean;
    customer_id: string;
    version: string;
    synced_version: string;
    status: CustomerStatus | null;
    last_synced_at: Date | null;
  }>(
    `SELECT c.account_key, c.livemode, c.customer_id, c.version, c.synced_version, c.status, c.last_synced_at
       FROM customers c
       JOIN unnest($1::text[], $2::boolean[], $3::text[]) AS v(account_key, livemode, customer_id)
         ON c.account_key = v.account_key AND c.livemode = v.livemode AND c.customer_id = v.customer_id
      ORDER BY c.account_key COLLATE "C", c.livemode, c.customer_id COLLATE "C"
      FOR UPDATE OF c`,
    keyArrays(sorted),
  );
  return new Map(
    rows.map((r) => [
      customerKeyId({ account: r.account_key, livemode: r.livemode, customerId: r.customer_id }),
      {
        version: Number(r.version),
        syncedVersion: Number(r.synced_version),
        status: r.status,
        lastSyncedAt: r.last_synced_at ? new Date(r.last_synced_at).toISOString() : null,
      },
    ]),
  );
}

/** A stable string for a stored object (map keys). */
export function objectKeyId(account: string, livemode: boolean, r: Pick<ObjectRecord, 'kind' | 'objectId'>): string {
  return `${account}\u0000${livemode ? 1 : 0}\u0000${r.kind}\u0000${r.objectId}`;
}

/**
 * Stores records unless a record with a greater version is already there: a row only moves forward in
 * (created, rank, event id) order, atomically, whatever the arrival order and however many instances write.
 * The same version again (a retried job) is rewritten as it was, so it counts as stored. At most one record per
 * object: fold the batch first. Answers the `objectKeyId`s that were stored.
 */
export async function upsertRecords(
  tx: Queryable,
  records: readonly { account: string; livemode: boolean; record: ObjectRecord }[],
): Promise<Set<string>> {
  if (records.length === 0) return new Set();
  const { rows } = await tx.query<{ account_key: string; livemode: boolean; kind: RecordKind; object_id: string }>(
    `INSERT INTO stripe_objects AS o
       (account_key, livemode, kind, object_id, customer_id, version_created, version_rank, version_event, data)
     SELECT * FROM unnest($1::text[], $2::boolean[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::integer[], $8::text[], $9::jsonb[])
     ON CONFLICT (account_key, livemode, kind, object_id) DO UPDATE SET
       customer_id = COALESCE(EXCLUDED.customer_id, o.customer_id),
       version_created = EXCLUDED.version_created,
       version_rank = EXCLUDED.version_rank,
       version_event = EXCLUDED.version_event,
       data = EXCLUDED.data,
       updated_at = now()
     WHERE (o.version_created, o.version_rank, o.version_event) <= (EXCLUDED.version_created, EXCLUDED.version_rank, EXCLUDED.version_event)
     RETURNING o.account_key, o.livemode, o.kind, o.object_id`,
    [
      records.map((x) => x.account),
      records.map((x) => x.livemode),
      records.map((x) => x.record.kind),
      records.map((x) => x.record.objectId),
      records.map((x) => x.record.customerId ?? null),
      records.map((x) => x.record.version.created),
      records.map((x) => x.record.version.rank),
      records.map((x) => x.record.version.eventId),
      records.map((x) => JSON.stringify(x.record.data)),
    ],
  );
  return new Set(rows.map((r) => objectKeyId(r.account_key, r.livemode, { kind: r.kind, objectId: r.object_id })));
}

/** The stored records of each customer; answers each customer's records by `customerKeyId`. */
export async function recordsForCustomers(tx: Queryable, keys: readonly CustomerKey[]): Promise<Map<string, ObjectRecord[]>> {
  const out = new Map<string, ObjectRecord[]>(keys.map((k) => [customerKeyId(k), []]));
  if (keys.length === 0) return out;
  const { rows } = await tx.query<RecordRow & { account_key: string; livemode: boolean }>(
    `SELECT o.account_key, o.livemode, o.kind, o.object_id, o.customer_id, o.version_created, o.version_rank, o.version_event, o.data
       FROM stripe_objects o
       JOIN unnest($1::text[], $2::boolean[], $3::text[]) AS v(account_key, livemode, customer_id)
         ON o.account_key = v.account_key AND o.livemode = v.livemode AND o.customer_id = v.customer_id`,
    keyArrays(keys),
  );
  for (const r of rows) {
    out.get(customerKeyId({ account: r.account_key, livemode: r.livemode, customerId: r.customer_id as string }))?.push({
      kind: r.kind,
      objectId: r.object_id,
      customerId: r.customer_id,
      version: { created: Number(r.version_created), rank: r.version_rank, eventId: r.version_event },
      data: r.data,
    } as ObjectRecord);
  }
  return out;
}

/**
 * Saves new statuses and bumps the versions (rows locked by `lockCustomers`); the pusher then writes them to the CRM.
 * Answers each new version by `customerKeyId`.
 */
export async function saveCustomerStatuses(
  tx: Queryable,
  items: readonly { key: CustomerKey; status: CustomerStatus }[],
): Promise<Map<string, number>> {
  if (items.length === 0) return new Map();
  const keys = items.map((i) => i.key);
  const { rows } = await tx.query<{ account_key: string; livemode: boolean; customer_id: string; version: string }>(
    `UPDATE customers c SET status = v.status, email = v.email, version = c.version + 1, sync_state = 'pending', push_priority = 'live',
            dirty_since = CASE WHEN c.version > c.synced_version THEN COALESCE(c.dirty_since, now()) ELSE now() END,
            sync_reason = NULL, attempts = 0, next_attempt_at = NULL, updated_at = now()
       FROM unnest($1::text[], $2::boolean[], $3::text[], $4::jsonb[], $5::text[]) AS v(account_key, livemode, customer_id, status, email)
      WHERE c.account_key = v.account_key AND c.livemode = v.livemode AND c.customer_id = v.customer_id
      RETURNING c.account_key, c.livemode, c.customer_id, c.version`,
    [...keyArrays(keys), items.map((i) => JSON.stringify(i.status)), items.map((i) => i.status.email)],
  );
  return new Map(
    rows.map((r) => [customerKeyId({ account: r.account_key, livemode: r.livemode, customerId: r.customer_id }), Number(r.version)]),
  );
}

/**
 * Replaces the data of stored records in place, keeping their versions (a deleted customer's records losing their
 * personal fields: the order rule is untouched). Rows locked through their customers by `lockCustomers`.
 */
export async function rewriteRecordData(
  tx: Queryable,
  records: readonly { account: string; livemode: boolean; record: ObjectRecord }[],
): Promise<void> {
  if (records.length === 0) return;
  await tx.query(
    `UPDATE stripe_objects o SET data = v.data, updated_at = now()
       FROM unnest($1::text[], $2::boolean[], $3::text[], $4::text[], $5::jsonb[]) AS v(account_key, livemode, kind, object_id, data)
      WHERE o.account_key = v.account_key AND o.livemode = v.livemode AND o.kind = v.kind AND o.object_id = v.object_id`,
    [
      records.map((x) => x.account),
      records.map((x) => x.livemode),
      records.map((x) => x.record.kind),
      records.map((x) => x.record.objectId),
      records.map((x) => JSON.stringify(x.record.data)),
    ],
  );
}
