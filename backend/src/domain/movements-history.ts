import type { ChargeData, DisputeData, InvoiceData, ObjectRecord, RecordOf, SubscriptionData, SubscriptionStatus, Version } from './records';
import { SUBSCRIPTION_STATUSES } from '@stripe-hubspot-sync/contracts';
import { monthlyAmountOfItems } from './mrr';
import { itemName, subscriptionItems } from './prices';
import { amount, isObject } from './mappings/read';

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
 * A version keeps only the facts the derivation reads — never personal data (email, name), so a customer deleted in
 * Stripe leaves none behind. Versions that can never make or change a movement are not kept at all: a charge with
 * nothing refunded (its refunded total, 0, is what a missing version stands for) and an invoice version neither
 * failed nor paid (the derivation looks only at failed attempts and payments).
 */

export type HistoryKind = 'subscription' | 'invoice' | 'charge' | 'dispute';
export const HISTORY_KINDS: readonly HistoryKind[] = ['subscription', 'invoice', 'charge', 'dispute'];

/** What a subscription was just before an event: status, monthly amount (minor units) and plan. */
export interface SubscriptionBefore {
  status: SubscriptionStatus;
  monthlyAmount: number;
  plan: string | null;
}

export type SubscriptionFacts = Pick<SubscriptionData, 'status' | 'currency' | 'plan' | 'monthlyAmount' | 'mrr' | 'trialEnd'> & {
  before?: SubscriptionBefore | null;
};
export type InvoiceFacts = Pick<
  InvoiceData,
  | 'status'
  | 'subscriptionId'
  | 'number'
  | 'amountDue'
  | 'amountPaid'
  | 'amountRemaining'
  | 'currency'
  | 'attemptCount'
  | 'paidAt'
  | 'paidOutOfBand'
  | 'lastAttemptFailed'
  | 'failureReason'
>;
export type ChargeFacts = Pick<ChargeData, 'amountRefunded' | 'refunded' | 'currency' | 'invoiceId'> & { refundedBefore?: number };
export type DisputeFacts = Pick<DisputeData, 'chargeId' | 'amount' | 'currency' | 'status' | 'reason' | 'created'>;

interface FactsByKind {
  subscription: SubscriptionFacts;
  invoice: InvoiceFacts;
  charge: ChargeFacts;
  dispute: DisputeFacts;
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

/**
 * The history entry of one applied record: null for kinds without history (customer, checkout session, …), a
 * record without its customer, and versions that cannot move revenue (see the header). `eventType` and
 * `previous` are the event's (null for API reads).
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
      const d = (record as RecordOf<'subscription'>).data;
      const data: SubscriptionFacts = { status: d.status, currency: d.currency, plan: d.plan, monthlyAmount: d.monthlyAmount, mrr: d.mrr, trialEnd: d.trialEnd };
      const before = source.fromEvent ? subscriptionBefore(source.eventType, previous, d) : undefined;
      if (before !== undefined) data.before = before;
      return { ...base, kind: 'subscription', data };
    }
    case 'charge': {
      const d = (record as RecordOf<'charge'>).data;
      if (d.amountRefunded <= 0) return null;
      const data: ChargeFacts = { amountRefunded: d.amountRefunded, refunded: d.refunded, currency: d.currency, invoiceId: d.invoiceId };
      const before = refundedBefore(previous);
      if (before !== undefined) data.refundedBefore = before;
      return { ...base, kind: 'charge', data };
    }
    case 'invoice': {
      const d = (record as RecordOf<'invoice'>).data;
      if (!d.lastAttemptFailed && d.status !== 'paid') return null;
      const data: InvoiceFacts = {
        status: d.status,
        subscriptionId: d.subscriptionId,
        number: d.number,
        amountDue: d.amountDue,
        amountPaid: d.amountPaid,
        amountRemaining: d.amountRemaining,
        currency: d.currency,
        attemptCount: d.attemptCount,
        paidAt: d.paidAt,
        paidOutOfBand: d.paidOutOfBand,
        lastAttemptFailed: d.lastAttemptFailed,
        failureReason: d.failureReason,
      };
      return { ...base, kind: 'invoice', data };
    }
    case 'dispute': {
      const d = (record as RecordOf<'dispute'>).data;
      const data: DisputeFacts = { chargeId: d.chargeId, amount: d.amount, currency: d.currency, status: d.status, reason: d.reason, created: d.created };
      return { ...base, kind: 'dispute', data };
    }
    default:
      return null;
  }
}
