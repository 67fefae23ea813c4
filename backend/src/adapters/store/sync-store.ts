import type { Queryable } from './db';
import type { ObjectRecord, RecordKind } from '../../domain/records';
import type { CustomerStatus } from '../../contracts/api';

export interface CustomerKey {
  account: string;
  livemode: boolean;
  customerId: string;
}

/**
 * Stores a record unless a record with a greater-or-equal version is already there: the row only moves forward
 * in (created, rank, event id) order, atomically, whatever the arrival order and however many instances write.
 */
export async function upsertRecord(tx: Queryable, account: string, livemode: boolean, r: ObjectRecord): Promise<boolean> {
  const { rows } = await tx.query(
    `INSERT INTO stripe_objects AS o
       (account_key, livemode, kind, object_id, customer_id, version_created, version_rank, version_event, data)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (account_key, livemode, kind, object_id) DO UPDATE SET
       customer_id = COALESCE(EXCLUDED.customer_id, o.customer_id),
       version_created = EXCLUDED.version_created,
       version_rank = EXCLUDED.version_rank,
       version_event = EXCLUDED.version_event,
       data = EXCLUDED.data,
       updated_at = now()
     WHERE (o.version_created, o.version_rank, o.version_event) < (EXCLUDED.version_created, EXCLUDED.version_rank, EXCLUDED.version_event)
     RETURNING 1`,
    [account, livemode, r.kind, r.objectId, r.customerId, r.version.created, r.version.rank, r.version.eventId, JSON.stringify(r.data)],
  );
  return rows.length > 0;
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

export async function recordsForCustomer(tx: Queryable, key: CustomerKey): Promise<ObjectRecord[]> {
  const { rows } = await tx.query<RecordRow>(
    `SELECT kind, object_id, customer_id, version_created, version_rank, version_event, data
       FROM stripe_objects WHERE account_key = $1 AND livemode = $2 AND customer_id = $3`,
    [key.account, key.livemode, key.customerId],
  );
  return rows.map(
    (r) =>
      ({
        kind: r.kind,
        objectId: r.object_id,
        customerId: r.customer_id,
        version: { created: Number(r.version_created), rank: r.version_rank, eventId: r.version_event },
        data: r.data,
      }) as ObjectRecord,
  );
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

/** Creates the customer row when missing and locks it for the rest of the transaction (per-customer order). */
export async function lockCustomer(tx: Queryable, key: CustomerKey): Promise<CustomerRow> {
  await tx.query(
    `INSERT INTO customers (account_key, livemode, customer_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
    [key.account, key.livemode, key.customerId],
  );
  const { rows } = await tx.query<{ version: string; synced_version: string; status: CustomerStatus | null; last_synced_at: Date | null }>(
    `SELECT version, synced_version, status, last_synced_at FROM customers
      WHERE account_key = $1 AND livemode = $2 AND customer_id = $3 FOR UPDATE`,
    [key.account, key.livemode, key.customerId],
  );
  const r = rows[0];
  return {
    version: Number(r.version),
    syncedVersion: Number(r.synced_version),
    status: r.status,
    lastSyncedAt: r.last_synced_at ? new Date(r.last_synced_at).toISOString() : null,
  };
}

/** Saves a new status and bumps the version; the pusher then writes it to the CRM. */
export async function saveCustomerStatus(tx: Queryable, key: CustomerKey, status: CustomerStatus): Promise<number> {
  const { rows } = await tx.query<{ version: string }>(
    `UPDATE customers SET status = $4, email = $5, version = version + 1, sync_state = 'pending', push_priority = 'live',
            dirty_since = CASE WHEN version > synced_version THEN COALESCE(dirty_since, now()) ELSE now() END,
            sync_reason = NULL, attempts = 0, next_attempt_at = NULL, updated_at = now()
      WHERE account_key = $1 AND livemode = $2 AND customer_id = $3 RETURNING version`,
    [key.account, key.livemode, key.customerId, JSON.stringify(status), status.email],
  );
  return Number(rows[0].version);
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

/** Queues one customer for a fresh push ("sync now"). */
export async function markForPush(db: Queryable, key: CustomerKey): Promise<boolean> {
  const r = await db.query(
    `UPDATE customers SET synced_version = LEAST(synced_version, version - 1), synced_properties = NULL, push_priority = 'live',
            sync_state = 'pending', attempts = 0, next_attempt_at = NULL, dirty_since = now()
      WHERE account_key = $1 AND livemode = $2 AND customer_id = $3 AND status IS NOT NULL AND version > 0`,
    [key.account, key.livemode, key.customerId],
  );
  return r.rowCount > 0;
}
