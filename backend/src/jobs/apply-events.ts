import type { Db, Queryable } from '../adapters/store/db';
import type { EventProcessor, StoredEvent } from './types';
import { accountKey, settingsCache } from '../adapters/store/settings-store';
import {
  customerKeyId,
  customerOfObject,
  lockCustomers,
  objectKeyId,
  recordsForCustomers,
  rewriteRecordData,
  saveCustomerStatuses,
  upsertRecords,
  type CustomerKey,
  type CustomerRow,
} from '../adapters/store/sync-store';
import { markEvents, type EventOutcomeUpdate } from '../adapters/store/event-outcomes';
import { accountModeId, holdAccounts } from '../adapters/store/tombstones';
import { forgetDeletedCustomers } from '../adapters/store/retention';
import { recordHistory } from '../adapters/store/movements-store';
import { withMovementFacts } from '../domain/crm/movement-facts';
import { previousAttributesOf } from '../domain/movements-history';
import { isDeletedCustomer, withoutPersonalData } from '../domain/personal-data';
import { mapEvent } from '../domain/events';
import { deriveCustomerStatus } from '../domain/customer-view';
import { sameStatus } from '../domain/sync/status';
import { compareVersions } from '../domain/ordering';
import type { ObjectRecord } from '../domain/records';
import type { SyncEventType } from '@stripe-hubspot-sync/contracts';
import type { CustomerStatus } from '@stripe-hubspot-sync/contracts';

export interface ApplyDeps {
  db: Db;
  /** Handlers for events that are not customer facts (install lifecycle); keyed by type. */
  lifecycle?: Partial<Record<string, (event: StoredEvent) => Promise<void>>>;
  /** Called after a batch changed customers, so the pusher starts at once. */
  onCustomersChanged?: () => void;
}

/**
 * Folds a batch of stored events into per-customer state. Idempotent and order-independent: each object only
 * moves to a greater version, and a customer's status is re-derived from its objects under the customer's row
 * lock. The whole batch is one transaction of a handful of set-based statements (see `applyCustomers`).
 */
export function createApplyProcessor(deps: ApplyDeps): EventProcessor {
  return {
    async process(events) {
      const settingsOf = settingsCache(deps.db);
      const groups = new Map<string, CustomerRecords>();
      const outcomes: EventOutcomeUpdate[] = [];
      const sources: BatchEvent[] = [];
      // Install lifecycle (an uninstall deletes the account's data) runs after the batch's customer facts, so
      // facts of the same batch cannot bring deleted rows back.
      const lifecycle: (() => Promise<void>)[] = [];
      for (const event of events) {
        const handler = deps.lifecycle?.[event.type];
        if (handler) {
          lifecycle.push(() => handler(event));
          continue;
        }
        sources.push({ id: event.id, account: accountKey(event.accountId), livemode: event.livemode, created: event.created });
        const mapped = await prepare(deps, event, settingsOf);
        if ('outcome' in mapped) {
          outcomes.push(mapped.outcome);
          continue;
        }
        const id = customerKeyId(mapped.key);
        const group = groups.get(id) ?? { key: mapped.key, batches: [] };
        group.batches.push({ eventId: event.id, records: mapped.records, source: { type: event.type, previous: previousAttributesOf(event.payload) } });
        groups.set(id, group);
      }
      const results = await applyCustomers(deps.db, [...groups.values()], outcomes, sources);
      for (const run of lifecycle) await run();
      if ([...results.values()].some((r) => r.changed)) deps.onCustomersChanged?.();
    },
  };
}

type Prepared = { key: CustomerKey; records: ObjectRecord[] } | { outcome: EventOutcomeUpdate };

async function prepare(deps: ApplyDeps, event: StoredEvent, settingsOf: ReturnType<typeof settingsCache>): Promise<Prepared> {
  const skip = (status: 'ignored' | 'skipped', reason: string): Prepared => ({ outcome: { eventId: event.id, status, reason } });
  const account = accountKey(event.accountId);
  const { settings } = await settingsOf(account, event.livemode);
  if (!settings.events.includes(event.type as SyncEventType)) {
    return skip('ignored', `${event.type} is turned off in the sync settings`);
  }
  const mapped = mapEvent(event.payload as unknown as Parameters<typeof mapEvent>[0]);
  if ('skip' in mapped) return skip('skipped', mapped.skip);
  let customerId = mapped.customerId;
  if (!customerId) {
    // A dispute names only its charge: the charge we stored tells whose it is.
    const dispute = mapped.records.find((r) => r.kind === 'dispute');
    const chargeId = dispute ? (dispute.data as { chargeId?: string | null }).chargeId : null;
    if (chargeId) customerId = await customerOfObject(deps.db, account, event.livemode, 'charge', chargeId);
  }
  if (!customerId) return skip('skipped', 'The event names no Stripe customer we know');
  const records = mapped.records.map((r) => (r.customerId ? r : { ...r, customerId }) as ObjectRecord);
  return { key: { account, livemode: event.livemode, customerId }, records };
}

export interface RecordBatch {
  /** The inbox event the records came from (its outcome is recorded), or null for API reads (refresh, backfill). */
  eventId: string | null;
  records: ObjectRecord[];
  /** The event's type and `data.previous_attributes` (revenue movements, see movements-store.ts). */
  source?: { type: string; previous: Record<string, unknown> | null };
}

export interface CustomerRecords {
  key: CustomerKey;
  batches: RecordBatch[];
}

export interface ApplyOutcome {
  changed: boolean;
  version: number;
}

/** An inbox event of the batch: where it comes from, for the uninstall tombstones. */
export interface BatchEvent {
  id: string;
  account: string;
  livemode: boolean;
  /** `event.created`, unix seconds. */
  created: number;
}

const SUPERSEDED = 'Superseded: a newer event for the same Stripe object was already applied';

/**
 * Folds records into one customer under its row lock: each object moves only to a greater version, then the
 * customer's status is re-derived from all its objects and saved with a new version when it changed. Used by
 * webhooks, the card's refresh and the backfill alike, so all three obey the same order rule.
 */
export async function applyCustomerRecords(db: Db, key: CustomerKey, batches: RecordBatch[]): Promise<ApplyOutcome> {
  const results = await applyCustomers(db, [{ key, batches }]);
  return results.get(customerKeyId(key)) as ApplyOutcome;
}

/**
 * `applyCustomerRecords` for many customers in one transaction, with a fixed number of statements whatever
 * their count: lock every customer (in key byte order), fold the records per object in memory by the order
 * rule and store the winners in one upsert that again only moves rows forward, re-read the objects of the
 * customers that changed, derive their statuses, save the changed ones, and record every event's outcome
 * (`extraOutcomes` too: events the caller settled without records). Answers each customer's outcome by
 * `customerKeyId`. A deadlock with another instance (PostgreSQL aborts one side) is retried at once.
 *
 * Nothing of an account the app was uninstalled from comes back (see tombstones.ts): the batch holds its accounts
 * first; an event created up to the uninstall is deleted from the inbox instead of applied, and API reads
 * (refresh, backfill) of such an account are dropped (their customers answer unchanged, version 0). `events`
 * names the inbox events of the batch (`extraOutcomes` and record batches) with their account and `created`.
 *
 * A customer deleted in Stripe keeps no personal data: its records lose email and name (versions kept), and so
 * do its read model, its applied events' payloads and what HubSpot last received (see retention.ts).
 */
export async function applyCustomers(
  db: Db,
  items: readonly CustomerRecords[],
  extraOutcomes: readonly EventOutcomeUpdate[] = [],
  events: readonly BatchEvent[] = [],
): Promise<Map<string, ApplyOutcome>> {
  if (items.length === 0 && events.length === 0) {
    await markEvents(db, extraOutcomes);
    return new Map();
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction((tx) => applyInTransaction(tx, items, extraOutcomes, events));
    } catch (err) {
      const code = (err as { code?: unknown } | null)?.code;
      if ((code === '40P01' || code === '40001') && attempt < 3) continue;
      throw err;
    }
  }
}

async function applyInTransaction(
  tx: Queryable,
  allItems: readonly CustomerRecords[],
  allOutcomes: readonly EventOutcomeUpdate[],
  events: readonly BatchEvent[],
): Promise<Map<string, ApplyOutcome>> {
  const { items, extraOutcomes, dropped } = await withoutUninstalled(tx, allItems, allOutcomes, events);
  if (items.length === 0) {
    await markEvents(tx, extraOutcomes);
    return dropped;
  }
  const before = await lockCustomers(
    tx,
    items.map((i) => i.key),
  );

  // Per object, the batch's newest record (the order rule); only winners go to the store.
  const winners = new Map<string, { account: string; livemode: boolean; record: ObjectRecord }>();
  for (const { key, batches } of items) {
    for (const b of batches) {
      for (const record of b.records) {
        const id = objectKeyId(key.account, key.livemode, record);
        const current = winners.get(id);
        if (!current || compareVersions(record.version, current.record.version) > 0) {
          winners.set(id, { account: key.account, livemode: key.livemode, record });
        }
      }
    }
  }
  const stored = await upsertRecords(tx, [...winners.values()]);
  // Every movement the history of each customer it grew for derives now (by customerKeyId).
  const movements = await recordHistory(tx, items);
  const landed = (key: CustomerKey, r: ObjectRecord) => {
    const id = objectKeyId(key.account, key.livemode, r);
    return stored.has(id) && winners.get(id)?.record === r;
  };

  const outcomes: EventOutcomeUpdate[] = [...extraOutcomes];
  const touched: { item: CustomerRecords; row: CustomerRow; events: string[] }[] = [];
  const results = new Map<string, ApplyOutcome>(dropped);
  for (const item of items) {
    const id = customerKeyId(item.key);
    const row = before.get(id) as CustomerRow;
    const events: string[] = [];
    let any = false;
    for (const b of item.batches) {
      if (b.records.some((r) => landed(item.key, r))) {
        any = true;
        if (b.eventId) events.push(b.eventId);
      } else if (b.eventId) outcomes.push({ eventId: b.eventId, status: 'skipped', reason: SUPERSEDED });
    }
    // A version that derives a movement without landing (an upgrade delivered after the later downgrade) still
    // re-derives the status: its movement facts change, so the customer is written and the movement sent.
    if (any || movements.has(id)) touched.push({ item, row, events });
    else results.set(id, { changed: false, version: row.version });
  }

  const recordsOf = await recordsForCustomers(
    tx,
    touched.map((t) => t.item.key),
  );
  const deleted = await clearDeletedCustomers(tx, items, before, touched, recordsOf);
  const now = new Date().toISOString();
  const changes: { key: CustomerKey; status: CustomerStatus }[] = [];
  const derived = touched.map((t) => {
    const { key } = t.item;
    const derivedStatus = deriveCustomerStatus(recordsOf.get(customerKeyId(key)) ?? [], {
      accountId: key.account || null,
      livemode: key.livemode,
      lastSyncedAt: t.row.lastSyncedAt,
      updatedAt: now,
      customerId: key.customerId,
    });
    const status = withMovementFacts(derivedStatus, movements.get(customerKeyId(key)), t.row.status);
    const changed = !t.row.status || !sameStatus(t.row.status, status);
    if (changed) changes.push({ key, status });
    return { ...t, changed };
  });
  const versions = await saveCustomerStatuses(tx, changes);

  for (const d of derived) {
    const { key } = d.item;
    const id = customerKeyId(key);
    const version = d.changed ? (versions.get(id) as number) : d.row.version;
    const alreadySynced = !d.changed && d.row.syncedVersion >= d.row.version && d.row.version > 0;
    for (const eventId of d.events) {
      outcomes.push({
        eventId,
        status: alreadySynced ? 'synced' : 'applied',
        reason: alreadySynced ? 'No change for HubSpot' : null,
        customer: { customerId: key.customerId, version },
      });
    }
    results.set(id, { changed: d.changed, version });
  }
  await markEvents(tx, outcomes);
  await forgetDeletedCustomers(tx, deleted.keys, deleted.eventIds);
  return results;
}

/**
 * Holds the batch's accounts against an uninstall running at the same time (see tombstones.ts) and takes out what
 * an uninstall forbids: events created up to it (deleted from the inbox: nothing of them is kept) and API reads.
 * Answers what is left, and the unchanged outcome of each customer dropped whole.
 */
async function withoutUninstalled(
  tx: Queryable,
  items: readonly CustomerRecords[],
  extraOutcomes: readonly EventOutcomeUpdate[],
  events: readonly BatchEvent[],
): Promise<{ items: CustomerRecords[]; extraOutcomes: EventOutcomeUpdate[]; dropped: Map<string, ApplyOutcome> }> {
  const tombstones = await holdAccounts(tx, [...items.map((i) => i.key), ...events]);
  const dropped = new Map<string, ApplyOutcome>();
  if (tombstones.size === 0) return { items: [...items], extraOutcomes: [...extraOutcomes], dropped };
  const eventOf = new Map(events.map((e) => [e.id, e]));
  const discarded: string[] = [];
  const forbids = (eventId: string, fallback: { account: string; livemode: boolean; created: number }) => {
    const e = eventOf.get(eventId) ?? fallback;
    const uninstalled = tombstones.get(accountModeId(e));
    return uninstalled !== undefined && e.created <= uninstalled;
  };
  const kept: CustomerRecords[] = [];
  for (const item of items) {
    const uninstalled = tombstones.get(accountModeId(item.key));
    if (uninstalled === undefined) {
      kept.push(item);
      continue;
    }
    const batches = item.batches.filter((b) => {
      if (!b.eventId) return false;
      const created = Math.max(0, ...b.records.map((r) => r.version.created));
      if (!forbids(b.eventId, { ...item.key, created })) return true;
      discarded.push(b.eventId);
      return false;
    });
    if (batches.length > 0) kept.push({ key: item.key, batches });
    else dropped.set(customerKeyId(item.key), { changed: false, version: 0 });
  }
  const outcomes = extraOutcomes.filter((o) => {
    const e = eventOf.get(o.eventId);
    if (!e || !forbids(o.eventId, e)) return true;
    discarded.push(o.eventId);
    return false;
  });
  if (discarded.length > 0) await tx.query('DELETE FROM stripe_events WHERE id = ANY($1::text[])', [discarded]);
  return { items: kept, extraOutcomes: outcomes, dropped };
}

/**
 * Customers deleted in Stripe: the records of the touched ones lose their personal fields (in `recordsOf` too, so
 * the status derived next has none either, and in the store). Answers every customer of the batch that is deleted
 * and its events, for `forgetDeletedCustomers` once the outcomes are recorded.
 */
async function clearDeletedCustomers(
  tx: Queryable,
  items: readonly CustomerRecords[],
  before: Map<string, CustomerRow>,
  touched: readonly { item: CustomerRecords }[],
  recordsOf: Map<string, ObjectRecord[]>,
): Promise<{ keys: CustomerKey[]; eventIds: string[] }> {
  const rewrite: { account: string; livemode: boolean; record: ObjectRecord }[] = [];
  const deletedNow = new Set<string>();
  for (const { item } of touched) {
    const id = customerKeyId(item.key);
    const records = recordsOf.get(id) ?? [];
    if (!isDeletedCustomer(records, item.key.customerId)) continue;
    deletedNow.add(id);
    const cleared = records.map((r) => {
      const out = withoutPersonalData(r);
      if (out !== r) rewrite.push({ account: item.key.account, livemode: item.key.livemode, record: out });
      return out;
    });
    recordsOf.set(id, cleared);
  }
  await rewriteRecordData(tx, rewrite);
  const touchedIds = new Set(touched.map((t) => customerKeyId(t.item.key)));
  const keys: CustomerKey[] = [];
  const eventIds: string[] = [];
  for (const item of items) {
    const id = customerKeyId(item.key);
    // Not touched (every record superseded): the stored status tells.
    if (!deletedNow.has(id) && !(!touchedIds.has(id) && before.get(id)?.status?.deleted)) continue;
    keys.push(item.key);
    for (const b of item.batches) if (b.eventId) eventIds.push(b.eventId);
  }
  return { keys, eventIds };
}
