import type Stripe from 'stripe';
import type { Queryable } from './db';
import type { StoredEvent } from '../../jobs/types';
import { TOMBSTONE_HOLDS } from './tombstones';

/**
 * The inbox (`stripe_events`): every verified Stripe event, keyed by its id. Written by the webhook's group
 * commit, read by the queue worker.
 */

export interface NewInboxEvent {
  id: string;
  type: string;
  accountId: string | null;
  livemode: boolean;
  created: number;
  /** The verified request body: a JSON text (stored as jsonb). */
  rawPayload: string;
  status: 'received' | 'ignored';
  statusReason: string | null;
}

export interface StoreResult {
  /** Ids stored now (the others were stored before, or refused). */
  inserted: Set<string>;
  /** Ids refused because their account was uninstalled after they were created (see tombstones.ts). */
  refused: Set<string>;
}

/**
 * Inserts the events whose id is not stored yet, all in one statement, except those of an account the app was
 * uninstalled from that were created up to the uninstall (a late retry must not bring its data back). Ids must be
 * unique within `events`; at most 8,000 events per call.
 *
 * `enqueue`, when given, builds the body of a data-modifying CTE that reads the inserted rows from `new_events`
 * (columns `id`, `status`), its parameters the statement's first ones: the inserts and the jobs then commit
 * together in this one statement.
 */
export async function storeInboxEvents(
  q: Queryable,
  events: readonly NewInboxEvent[],
  enqueue?: (source: string) => { sql: string; params: unknown[]; ctes?: string },
): Promise<StoreResult> {
  if (events.length === 0) return { inserted: new Set(), refused: new Set() };
  const jobs = enqueue?.('new_events');
  const offset = jobs?.params.length ?? 0;
  // One multi-row VALUES with a parameter per field: cheaper to parse than arrays of large JSON strings.
  const COLUMNS = 8;
  const rows = events.map((_, i) => {
    const p = (k: number) => `$${offset + i * COLUMNS + k}`;
    return `(${p(1)}::text, ${p(2)}::text, ${p(3)}::text, ${p(4)}::boolean, ${p(5)}::bigint, ${p(6)}::jsonb, ${p(7)}::text, ${p(8)}::text)`;
  });
  const params: unknown[] = [
    ...(jobs?.params ?? []),
    ...events.flatMap((e) => [e.id, e.type, e.accountId, e.livemode, e.created, e.rawPayload, e.status, e.statusReason]),
  ];
  const sql = `WITH incoming (id, type, account_id, livemode, created, payload, status, status_reason) AS (VALUES ${rows.join(', ')}),
     refused AS (
       SELECT i.id FROM incoming i JOIN account_tombstones t ON t.account_key = COALESCE(i.account_id, '') AND t.livemode = i.livemode
        WHERE ${TOMBSTONE_HOLDS} AND i.created <= t.uninstalled_created),
     new_events AS (
       INSERT INTO stripe_events (id, type, account_id, livemode, created, payload, status, status_reason)
       SELECT * FROM incoming i WHERE NOT EXISTS (SELECT 1 FROM refused r WHERE r.id = i.id)
       ON CONFLICT (id) DO NOTHING RETURNING id, status, account_id, livemode)
     ${jobs?.ctes ? `, ${jobs.ctes}` : ''}
     ${jobs ? `, new_jobs AS (${jobs.sql})` : ''}
     SELECT id, false AS refused FROM new_events UNION ALL SELECT id, true FROM refused`;
  const { rows: answered } = await q.query<{ id: string; refused: boolean }>(sql, params);
  const out: StoreResult = { inserted: new Set(), refused: new Set() };
  for (const r of answered) (r.refused ? out.refused : out.inserted).add(r.id);
  return out;
}

/** `storeInboxEvents`, answering only the ids stored now. */
export async function insertEvents(
  q: Queryable,
  events: readonly NewInboxEvent[],
  enqueue?: (source: string) => { sql: string; params: unknown[]; ctes?: string },
): Promise<Set<string>> {
  return (await storeInboxEvents(q, events, enqueue)).inserted;
}

/**
 * A JSON text PostgreSQL's jsonb accepts: the escapes it refuses — `\u0000` (NUL) and a surrogate escape that is
 * not half of a pair — become `\ufffd` (the replacement character). Everything else is left as it is. A signed
 * Stripe event can carry them (customer-entered metadata); refusing it would make Stripe retry it for days.
 */
export function jsonbSafe(json: string): string {
  if (!json.includes('\\u')) return json;
  return json.replace(
    /\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|\\u([0-9a-fA-F]{4})|\\[^u]/g,
    (escape, single: string | undefined) =>
      single !== undefined && (single === '0000' || /^[dD][89a-fA-F]/.test(single)) ? '\\ufffd' : escape,
  );
}

interface EventRow {
  id: string;
  type: string;
  account_id: string | null;
  livemode: boolean;
  created: string | number;
  payload: Stripe.Event | string;
  received_at: Date | string;
}

/** The stored events with these ids (missing ids are left out), in the order of `ids`. */
export async function loadEvents(q: Queryable, ids: readonly string[]): Promise<StoredEvent[]> {
  if (ids.length === 0) return [];
  const { rows } = await q.query<EventRow>(
    `SELECT id, type, account_id, livemode, created, payload, received_at FROM stripe_events WHERE id = ANY($1::text[])`,
    [ids],
  );
  const byId = new Map(rows.map((r) => [r.id, toStoredEvent(r)]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

function toStoredEvent(r: EventRow): StoredEvent {
  return {
    id: r.id,
    type: r.type,
    accountId: r.account_id,
    livemode: r.livemode,
    created: Number(r.created),
    payload: typeof r.payload === 'string' ? (JSON.parse(r.payload) as Stripe.Event) : r.payload,
    receivedAt: r.received_at instanceof Date ? r.received_at.toISOString() : new Date(r.received_at).toISOString(),
  };
}

/** Marks events still `received` as `processed` (the default processor's outcome). Answers how many changed. */
export async function markProcessed(q: Queryable, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const r = await q.query(
    `UPDATE stripe_events SET status = 'processed', processed_at = now()
      WHERE id = ANY($1::text[]) AND status = 'received'`,
    [ids],
  );
  return r.rowCount;
}

/** Marks events `failed` with a reason, unless a processor already gave them a final status. */
export async function markFailed(q: Queryable, ids: readonly string[], reason: string): Promise<number> {
  if (ids.length === 0) return 0;
  const r = await q.query(
    `UPDATE stripe_events SET status = 'failed', status_reason = $2, processed_at = now()
      WHERE id = ANY($1::text[]) AND status = 'received'`,
    [ids, reason.slice(0, 1000)],
  );
  return r.rowCount;
}

export interface InboxCounts {
  [status: string]: number;
}

/** Events per status (tests, diagnostics). */
export async function countByStatus(q: Queryable): Promise<InboxCounts> {
  const { rows } = await q.query<{ status: string; n: string | number }>(
    'SELECT status, count(*) AS n FROM stripe_events GROUP BY status',
  );
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}
