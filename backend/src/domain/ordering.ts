import type { ObjectRecord, RecordKind, Version } from './records';
import { recordKey } from './records';
import { field, str } from './mappings/read';

/**
 * ORDERING RULE — how we decide which event's facts about a Stripe object are the newest.
 *
 * Stripe delivers events at least once and in no particular order, and `created` has one-second resolution.
 * Every record carries the Version of the event that produced it, and a stored record is only replaced by a
 * record with a strictly greater Version. Versions are compared as the tuple (created, rank, eventId):
 *
 *   1. `created` — an event created in an earlier second always loses to a later one.
 *   2. `rank` — for two events of the same object in the same second:
 *      a. the event type's place in the object's lifecycle: `*.created` < `*.updated` < `*.deleted`;
 *         invoice: created < finalized < updated < payment_failed < marked_uncollectible < paid = voided;
 *         charge: pending < failed < succeeded < captured = updated < refunded;
 *         dispute: created < updated = funds_withdrawn < closed = funds_reinstated;
 *         checkout session: completed < async_payment_succeeded = async_payment_failed < expired;
 *      b. then the object's status, by precedence (the later / more final state wins):
 *         subscription: incomplete < trialing < active < past_due < unpaid < paused < incomplete_expired < canceled;
 *         invoice: draft < open < uncollectible < void < paid;
 *         charge: pending < failed < succeeded;
 *         dispute: warning_needs_response < warning_under_review < needs_response < under_review
 *                  < warning_closed < won = prevented < lost;
 *         checkout session: open < expired < complete; customer: not deleted < deleted;
 *      c. then a progress counter: a charge's amount_refunded (a larger refund total wins), an invoice's
 *         attempt_count, a checkout session's payment_status (unpaid < no_payment_required < paid).
 *   3. `eventId` — byte order (PostgreSQL `COLLATE "C"`), so that equal ranks still have one winner.
 *
 * Consequences: a late `active` update in the same second as a `canceled` one never wins; `invoice.paid`
 * beats `invoice.payment_failed` of the same second; a duplicate delivery (same event id, same version) is a
 * no-op. The order is total, so folding the same events in any arrival order yields the same records. The rule
 * cannot see a genuine same-second regression (e.g. past_due → active within one second): the card's Refresh
 * and the backfill read the object from Stripe (when an API key is configured) and settle it.
 *
 * `rank` packs (a, b, c) into a 31-bit integer (PostgreSQL `integer`): lifecycle in bits 28–30, status in bits
 * 24–27, progress in bits 0–23. Progress values up to 2^23 are exact; above that they keep their order in steps
 * of 1,024 (a refund total of about 86 million in major units saturates).
 */

type EventLike = { id: string; type: string; created: number };

const LIFECYCLE = new Map<string, number>(Object.entries({
  'customer.created': 0,
  'customer.updated': 2,
  'customer.deleted': 6,
  'customer.subscription.created': 0,
  'customer.subscription.trial_will_end': 1,
  'customer.subscription.updated': 2,
  'customer.subscription.pending_update_applied': 2,
  'customer.subscription.pending_update_expired': 2,
  'customer.subscription.paused': 3,
  'customer.subscription.resumed': 3,
  'customer.subscription.deleted': 6,
  'invoice.created': 0,
  'invoice.finalized': 1,
  'invoice.updated': 2,
  'invoice.payment_action_required': 2,
  'invoice.upcoming': 2,
  'invoice.payment_failed': 3,
  'invoice.marked_uncollectible': 4,
  'invoice.paid': 5,
  'invoice.payment_succeeded': 5,
  'invoice.voided': 5,
  'invoice.deleted': 6,
  'charge.pending': 0,
  'charge.failed': 1,
  'charge.succeeded': 2,
  'charge.captured': 3,
  'charge.updated': 3,
  'charge.expired': 3,
  'charge.refunded': 4,
  'charge.refund.updated': 4,
  'charge.dispute.created': 0,
  'charge.dispute.updated': 2,
  'charge.dispute.funds_withdrawn': 2,
  'charge.dispute.closed': 5,
  'charge.dispute.funds_reinstated': 5,
  'checkout.session.completed': 2,
  'checkout.session.async_payment_succeeded': 4,
  'checkout.session.async_payment_failed': 4,
  'checkout.session.expired': 5,
}));

/** Event types outside the table: `.created` first, `.deleted` last, anything else in between. */
function lifecycleOf(type: string): number {
  const known = LIFECYCLE.get(type);
  if (known !== undefined) return known;
  if (type.endsWith('.created')) return 0;
  if (type.endsWith('.deleted')) return 6;
  return 2;
}

const precedence = (o: Record<string, number>): Map<string, number> => new Map(Object.entries(o));

const STATUS_PRECEDENCE: Partial<Record<RecordKind, Map<string, number>>> = {
  subscription: precedence({
    incomplete: 1,
    trialing: 2,
    active: 3,
    past_due: 4,
    unpaid: 5,
    paused: 6,
    incomplete_expired: 7,
    canceled: 8,
  }),
  invoice: precedence({ draft: 1, open: 2, uncollectible: 3, void: 4, paid: 5 }),
  charge: precedence({ pending: 1, failed: 2, succeeded: 3 }),
  dispute: precedence({
    warning_needs_response: 1,
    warning_under_review: 2,
    needs_response: 3,
    under_review: 4,
    warning_closed: 5,
    won: 6,
    prevented: 6,
    lost: 7,
  }),
  checkout_session: precedence({ open: 1, expired: 2, complete: 3 }),
};

const PAYMENT_STATUS_PRECEDENCE = precedence({ unpaid: 1, no_payment_required: 2, paid: 3 });

function statusOf(kind: RecordKind, object: unknown): number {
  if (kind === 'customer') return field(object, 'deleted') === true ? 1 : 0;
  const status = str(field(object, 'status'));
  return (status && STATUS_PRECEDENCE[kind]?.get(status)) || 0;
}

const EXACT_PROGRESS = 2 ** 23;
const MAX_PROGRESS = 2 ** 24 - 1;

/** A counter squeezed into 24 bits, keeping its order (exact below 2^23, then in steps of 1,024). */
function packProgress(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return 0;
  const v = Math.floor(value);
  if (v < EXACT_PROGRESS) return v;
  return Math.min(MAX_PROGRESS, EXACT_PROGRESS + Math.floor((v - EXACT_PROGRESS) / 1024));
}

function progressOf(kind: RecordKind, object: unknown): number {
  switch (kind) {
    case 'charge':
      return packProgress(field(object, 'amount_refunded'));
    case 'invoice':
      return packProgress(field(object, 'attempt_count'));
    case 'checkout_session':
      return PAYMENT_STATUS_PRECEDENCE.get(String(field(object, 'payment_status'))) ?? 0;
    default:
      return 0;
  }
}

/** The tie rank of an event about an object of `kind` (see the rule above). */
export function rankOf(type: string, kind: RecordKind, object: unknown): number {
  const lifecycle = Math.min(7, lifecycleOf(type));
  const status = Math.min(15, statusOf(kind, object));
  return lifecycle * 2 ** 28 + status * 2 ** 24 + progressOf(kind, object);
}

export function versionOf(event: EventLike, kind: RecordKind, object: unknown): Version {
  return { created: event.created, rank: rankOf(event.type, kind, object), eventId: event.id };
}

/** Strict total order of versions: negative when a is older than b, 0 only for the same version. */
export function compareVersions(a: Version, b: Version): number {
  if (a.created !== b.created) return a.created < b.created ? -1 : 1;
  if (a.rank !== b.rank) return a.rank < b.rank ? -1 : 1;
  if (a.eventId === b.eventId) return 0;
  return a.eventId < b.eventId ? -1 : 1;
}

/** Whether an incoming record should replace the stored one (nothing stored: yes; same version: no). */
export function isNewer(incoming: Version, stored: Version | null | undefined): boolean {
  return !stored || compareVersions(incoming, stored) > 0;
}

/**
 * Folds records as the store does: per (kind, object id) the record with the greatest version stays. The
 * result is sorted by key, so any arrival order of the same records gives the same array.
 */
export function foldRecords(records: Iterable<ObjectRecord>, into: Map<string, ObjectRecord> = new Map()): ObjectRecord[] {
  for (const r of records) {
    const key = recordKey(r);
    const stored = into.get(key);
    if (isNewer(r.version, stored?.version)) into.set(key, r);
  }
  return [...into.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
}
