import type { ChargeData, DisputeData, InvoiceData, ObjectRecord, RecordOf, SubscriptionData, SubscriptionStatus, Version } from './records';
import { SUBSCRIPTION_STATUSES } from '@stripe-hubspot-sync/contracts';
import { monthlyAmountOfItems } from './mrr';
import { itemName, subscriptionItems } from './prices';
import { amount, isObject } from './mappings/read';
import { PERSONAL_FIELDS } from './personal-data';

/**
 * The HISTORY that revenue movements are derived from: every version of a customer's subscriptions, invoices,
 * charges and disputes that was ever applied (not only the newest, which is all `stripe_objects` keeps), each
 * with what the event itself says the object was just before it (Stripe's `data.previous_attributes`).
 *
 * Why the event's own "before": upgrade A→B (e1) and downgrade B→C (e2) delivered e2 first must yield a downgrade
 * B→C for e2, never an A→C comparison against whatever version happens to be stored. So a version carries:
 * - `before: null` — the event created the object (`*.created`): it did not exist before;
 * - `before: {…}` — the event's `previous_attributes` merged over the object (an `*.updated` event: fields it does
 *   not list did not change);
 * - no `before` — unknown (`*.deleted`, `trial_will_end`, an API read): the previous version in the history tells.
 * A version read from the Stripe API (card refresh, backfill) is `fromEvent: false`: a snapshot that gives context
 * to later versions but is never itself a movement (it says how things are, not what happened when).
 *
 * Versions keep no personal data (email, name): movements never need it, and a customer deleted in Stripe must
 * not leave it behind.
 */

export type HistoryKind = 'subscription' | 'invoice' | 'charge' | 'dispute';
export const HISTORY_KINDS: readonly HistoryKind[] = ['subscription', 'invoice', 'charge', 'dispute'];

/** What a subscription was just before an event: status, monthly amount (minor units) and plan. */
export interface SubscriptionBefore {
  status: SubscriptionStatus;
  monthlyAmount: number;
  plan: string | null;
}

export type SubscriptionFacts = SubscriptionData & { before?: SubscriptionBefore | null };
export type ChargeFacts = ChargeData & { refundedBefore?: number };

interface FactsByKind {
  subscription: SubscriptionFacts;
  invoice: InvoiceData;
  charge: ChargeFacts;
  dispute: DisputeData;
}

interface EntryOf<K extends HistoryKind> {
  kind: K;
  objectId: string;
  customerId: string;
  version: Version;
  /** False for an object read from the Stripe API (a snapshot), true for a Stripe event. */
  fromEvent: boolean;
  data: FactsByKind[K];
}

/** One version of one object in a customer's history. */
export type HistoryEntry = { [K in HistoryKind]: EntryOf<K> }[HistoryKind];

export function isHistoryKind(kind: string): kind is HistoryKind {
  return (HISTORY_KINDS as readonly string[]).includes(kind);
}

/** The event's `data.previous_attributes` (an object), else null. Never throws. */
export function previousAttributesOf(payload: unknown): Record<string, unknown> | null {
  const data = isObject(payload) ? payload.data : undefined;
  const previous = isObject(data) ? data.previous_attributes : undefined;
  return isObject(previous) ? previous : null;
}

const STATUSES = new Set<string>(SUBSCRIPTION_STATUSES.filter((s) => s !== 'none'));

/**
 * What the subscription was before the event, from the event alone (see the header): null when the event
 * created it, undefined when the event does not say. Item changes come as the whole previous `items` list
 * (Stripe sends an updated array whole); a previous `plan`/`quantity` without `items` (very old payloads) or a
 * previous list we cannot price while the object has items counts as "does not say".
 */
export function subscriptionBefore(
  eventType: string | null,
  previous: Record<string, unknown> | null,
  after: Pick<SubscriptionData, 'status' | 'monthlyAmount' | 'plan' | 'currency'>,
): SubscriptionBefore | null | undefined {
  if (eventType === 'customer.subscription.created') return null;
  if (!previous) return undefined;
  let status = after.status;
  if ('status' in previous) {
    const s = previous.status;
    if (typeof s !== 'string' || !STATUSES.has(s)) return undefined;
    status = s as SubscriptionStatus;
  }
  if (!('items' in previous)) {
    if ('plan' in previous || 'quantity' in previous) return undefined;
    return { status, monthlyAmount: after.monthlyAmount, plan: after.plan };
  }
  const items = subscriptionItems({ items: previous.items });
  if (items.length === 0 && (after.monthlyAmount !== 0 || after.plan !== null)) return undefined;
  const names = [...new Set(items.map((i) => itemName(i, after.currency)))];
  return { status, monthlyAmount: monthlyAmountOfItems(items), plan: names.length > 0 ? names.join(' + ') : null };
}

/** The refunded total before the event (`previous_attributes.amount_refunded`), when it says. */
export function refundedBefore(previous: Record<string, unknown> | null): number | undefined {
  const v = previous ? amount(previous.amount_refunded) : null;
  return v !== null && v >= 0 ? v : undefined;
}

function withoutPersonal<T extends object>(data: T): T {
  const out = { ...data } as Record<string, unknown>;
  for (const f of PERSONAL_FIELDS) delete out[f];
  return out as T;
}

/**
 * The history entry of one applied record: null for kinds without history (customer, checkout session, …) or a
 * record without its customer. `eventType` and `previous` are the event's (null for API reads).
 */
export function historyEntry(
  record: ObjectRecord,
  source: { fromEvent: boolean; eventType: string | null; previous: Record<string, unknown> | null },
): HistoryEntry | null {
  if (!record.customerId || !isHistoryKind(record.kind)) return null;
  const base = { objectId: record.objectId, customerId: record.customerId, version: record.version, fromEvent: source.fromEvent };
  const previous = source.fromEvent ? source.previous : null;
  switch (record.kind) {
    case 'subscription': {
      const r = record as RecordOf<'subscription'>;
      const data: SubscriptionFacts = withoutPersonal(r.data);
      delete data.before;
      const before = source.fromEvent ? subscriptionBefore(source.eventType, previous, r.data) : undefined;
      if (before !== undefined) data.before = before;
      return { ...base, kind: 'subscription', data };
    }
    case 'charge': {
      const r = record as RecordOf<'charge'>;
      const data: ChargeFacts = withoutPersonal(r.data);
      delete data.refundedBefore;
      const before = refundedBefore(previous);
      if (before !== undefined) data.refundedBefore = before;
      return { ...base, kind: 'charge', data };
    }
    case 'invoice':
      return { ...base, kind: 'invoice', data: withoutPersonal((record as RecordOf<'invoice'>).data) };
    case 'dispute':
      return { ...base, kind: 'dispute', data: withoutPersonal((record as RecordOf<'dispute'>).data) };
    default:
      return null;
  }
}
