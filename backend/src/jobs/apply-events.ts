import type { Db } from '../adapters/store/db';
import type { EventProcessor, StoredEvent } from './types';
import { accountKey, settingsCache } from '../adapters/store/settings-store';
import {
  customerOfObject,
  lockCustomer,
  recordsForCustomer,
  saveCustomerStatus,
  upsertRecord,
  type CustomerKey,
} from '../adapters/store/sync-store';
import { markEvent } from '../adapters/store/event-outcomes';
import { mapEvent } from '../domain/events';
import { deriveCustomerStatus } from '../domain/customer-view';
import { sameStatus } from '../domain/sync/status';
import type { ObjectRecord } from '../domain/records';
import type { SyncEventType } from '../contracts/catalog';

export interface ApplyDeps {
  db: Db;
  /** Handlers for events that are not customer facts (install lifecycle); keyed by type. */
  lifecycle?: Partial<Record<string, (event: StoredEvent) => Promise<void>>>;
  /** Called after a batch changed customers, so the pusher starts at once. */
  onCustomersChanged?: () => void;
  /** Customers folded at once on PostgreSQL (default 6; keep below the pool size). */
  concurrency?: number;
}

interface Mapped {
  event: StoredEvent;
  key: CustomerKey;
  records: ObjectRecord[];
}

/**
 * Folds a batch of stored events into per-customer state. Idempotent and order-independent: each object only
 * moves to a greater version, and a customer's status is re-derived from its objects under the customer's row
 * lock. Events of one customer in one batch share one transaction.
 */
export function createApplyProcessor(deps: ApplyDeps): EventProcessor {
  return {
    async process(events) {
      const settingsOf = settingsCache(deps.db);
      const groups = new Map<string, Mapped[]>();
      // Install lifecycle (an uninstall deletes the account's data) runs after the batch's customer facts, so
      // facts of the same batch cannot bring deleted rows back.
      const lifecycle: (() => Promise<void>)[] = [];
      for (const event of events) {
        const handler = deps.lifecycle?.[event.type];
        if (handler) {
          lifecycle.push(() => handler(event));
          continue;
        }
        const mapped = await prepare(deps, event, settingsOf);
        if (!mapped) continue;
        const id = `${mapped.key.account}|${mapped.key.livemode}|${mapped.key.customerId}`;
        const group = groups.get(id) ?? [];
        group.push(mapped);
        groups.set(id, group);
      }
      // Customers are independent (each is folded under its own row lock): on PostgreSQL fold several at once.
      // PGlite has one connection, where concurrency only queues.
      let changed = false;
      const pending = [...groups.values()];
      const lanes = deps.db.kind === 'postgres' ? Math.min(deps.concurrency ?? 6, pending.length) : 1;
      await Promise.all(
        Array.from({ length: lanes }, async () => {
          for (let group = pending.shift(); group; group = pending.shift()) {
            if (await applyCustomerGroup(deps.db, group)) changed = true;
          }
        }),
      );
      for (const run of lifecycle) await run();
      if (changed) deps.onCustomersChanged?.();
    },
  };
}

async function prepare(
  deps: ApplyDeps,
  event: StoredEvent,
  settingsOf: ReturnType<typeof settingsCache>,
): Promise<Mapped | null> {
  const account = accountKey(event.accountId);
  const { settings } = await settingsOf(account, event.livemode);
  if (!settings.events.includes(event.type as SyncEventType)) {
    await markEvent(deps.db, event.id, 'ignored', `${event.type} is turned off in the sync settings`);
    return null;
  }
  const mapped = mapEvent(event.payload as unknown as Parameters<typeof mapEvent>[0]);
  if ('skip' in mapped) {
    await markEvent(deps.db, event.id, 'skipped', mapped.skip);
    return null;
  }
  let customerId = mapped.customerId;
  if (!customerId) {
    // A dispute names only its charge: the charge we stored tells whose it is.
    const dispute = mapped.records.find((r) => r.kind === 'dispute');
    const chargeId = dispute ? (dispute.data as { chargeId?: string | null }).chargeId : null;
    if (chargeId) customerId = await customerOfObject(deps.db, account, event.livemode, 'charge', chargeId);
  }
  if (!customerId) {
    await markEvent(deps.db, event.id, 'skipped', 'The event names no Stripe customer we know');
    return null;
  }
  const records = mapped.records.map((r) => (r.customerId ? r : { ...r, customerId }) as ObjectRecord);
  return { event, key: { account, livemode: event.livemode, customerId }, records };
}

async function applyCustomerGroup(db: Db, group: Mapped[]): Promise<boolean> {
  const outcome = await applyCustomerRecords(db, group[0].key, group.map((m) => ({ eventId: m.event.id, records: m.records })));
  return outcome.changed;
}

export interface RecordBatch {
  /** The inbox event the records came from (its outcome is recorded), or null for API reads (refresh, backfill). */
  eventId: string | null;
  records: ObjectRecord[];
}

/**
 * Folds records into one customer under its row lock: each object moves only to a greater version, then the
 * customer's status is re-derived from all its objects and saved with a new version when it changed. Used by
 * webhooks, the card's refresh and the backfill alike, so all three obey the same order rule.
 */
export async function applyCustomerRecords(
  db: Db,
  key: CustomerKey,
  batches: RecordBatch[],
): Promise<{ changed: boolean; version: number }> {
  return db.transaction(async (tx) => {
    const before = await lockCustomer(tx, key);
    const stored: RecordBatch[] = [];
    for (const b of batches) {
      let any = false;
      for (const r of b.records) if (await upsertRecord(tx, key.account, key.livemode, r)) any = true;
      if (any) stored.push(b);
      else if (b.eventId) await markEvent(tx, b.eventId, 'skipped', 'Superseded: a newer event for the same Stripe object was already applied');
    }
    if (stored.length === 0) return { changed: false, version: before.version };
    const records = await recordsForCustomer(tx, key);
    const status = deriveCustomerStatus(records, {
      accountId: key.account || null,
      livemode: key.livemode,
      lastSyncedAt: before.lastSyncedAt,
      updatedAt: new Date().toISOString(),
      customerId: key.customerId,
    });
    const changed = !before.status || !sameStatus(before.status, status);
    const version = changed ? await saveCustomerStatus(tx, key, status) : before.version;
    const alreadySynced = !changed && before.syncedVersion >= before.version && before.version > 0;
    for (const b of stored) {
      if (!b.eventId) continue;
      await markEvent(tx, b.eventId, alreadySynced ? 'synced' : 'applied', alreadySynced ? 'No change for HubSpot' : null, {
        customerId: key.customerId,
        version,
      });
    }
    return { changed, version };
  });
}
