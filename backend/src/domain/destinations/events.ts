import {
  DESTINATION_EVENT_CATALOG,
  REVENUE_MOVEMENT_LABELS,
  minorToDecimal,
  type DestinationEventKey,
  type RevenueMovementKind,
} from '@stripe-hubspot-sync/contracts';
import type { DestinationEvent, DestinationValue } from './port';

/**
 * The events a destination receives for one customer, computed from the customer's folded state (pure): the
 * newest state of its invoices and charges, and its revenue movements (derived from the whole history, so duplicate
 * and shuffled deliveries give the same set). Each event has a stable key, the same however often it is derived:
 * - Issued Invoice: `in_…:issued` (a finalized invoice: open, paid or uncollectible);
 * - Successfully Paid: `in_…:paid` for a paid invoice, `ch_…:paid` for a succeeded charge with no invoice;
 * - Failed Payment, Refunded, Revenue Movement: the movement's id (e.g. `in_x:failed:2`, `sub_x:evt_y:upgrade`).
 * The key is what destinations deduplicate on (Klaviyo `unique_id`, Loops `Idempotency-Key`); we also record each
 * key sent, so an event goes out at most once per destination even across restarts.
 */

export interface InvoiceState {
  id: string;
  status: string | null;
  amountDue: number;
  amountPaid: number;
  currency: string | null;
  created: number | null;
  paidAt: number | null;
  number: string | null;
  subscriptionId: string | null;
  /** The Stripe event that last changed it. */
  eventId: string;
}

export interface ChargeState {
  id: string;
  status: string | null;
  amount: number;
  currency: string | null;
  created: number | null;
  invoiceId: string | null;
  eventId: string;
}

export interface MovementRow {
  movementId: string;
  kind: RevenueMovementKind;
  occurredAt: number;
  currency: string | null;
  amount: number;
  mrrBefore: number | null;
  mrrAfter: number | null;
  subjectId: string;
  sourceEvent: string;
}

const NAMES = new Map<DestinationEventKey, string>(DESTINATION_EVENT_CATALOG.map((e) => [e.key, e.name]));

function major(minor: number | null, currency: string | null): number | null {
  if (minor === null || !currency) return null;
  return minorToDecimal(minor, currency);
}

function event(
  key: string,
  kind: DestinationEventKey,
  customer: { customerId: string; email: string | null },
  time: number,
  minor: number | null,
  currency: string | null,
  properties: Record<string, DestinationValue>,
): DestinationEvent & { eventKind: DestinationEventKey } {
  return {
    key,
    eventKind: kind,
    customerId: customer.customerId,
    email: customer.email,
    name: NAMES.get(kind)!,
    time,
    value: major(minor, currency),
    currency: currency ? currency.toUpperCase() : null,
    properties,
  };
}

export function customerEvents(
  customer: { customerId: string; email: string | null },
  state: { invoices: readonly InvoiceState[]; charges: readonly ChargeState[]; movements: readonly MovementRow[] },
  enabled: readonly DestinationEventKey[],
): (DestinationEvent & { eventKind: DestinationEventKey })[] {
  const on = new Set(enabled);
  const out: (DestinationEvent & { eventKind: DestinationEventKey })[] = [];
  const paidInvoices = new Set<string>();
  for (const inv of state.invoices) {
    const finalized = inv.status === 'open' || inv.status === 'paid' || inv.status === 'uncollectible';
    const props = { invoiceId: inv.id, invoiceNumber: inv.number, subscriptionId: inv.subscriptionId, stripeEventId: inv.eventId };
    if (finalized && on.has('issued_invoice') && inv.created !== null) {
      out.push(event(`${inv.id}:issued`, 'issued_invoice', customer, inv.created, inv.amountDue, inv.currency, props));
    }
    if (inv.status === 'paid') {
      paidInvoices.add(inv.id);
      if (on.has('successfully_paid') && inv.amountPaid > 0) {
        out.push(event(`${inv.id}:paid`, 'successfully_paid', customer, inv.paidAt ?? inv.created ?? 0, inv.amountPaid, inv.currency, props));
      }
    }
  }
  if (on.has('successfully_paid')) {
    for (const ch of state.charges) {
      // A charge of an invoice we hold as paid is that invoice's payment: one event, the invoice's.
      if (ch.status !== 'succeeded' || (ch.invoiceId !== null && paidInvoices.has(ch.invoiceId))) continue;
      out.push(
        event(`${ch.id}:paid`, 'successfully_paid', customer, ch.created ?? 0, ch.amount, ch.currency, {
          chargeId: ch.id,
          invoiceId: ch.invoiceId,
          stripeEventId: ch.eventId,
        }),
      );
    }
  }
  for (const m of state.movements) {
    const kind: DestinationEventKey = m.kind === 'payment_failed' ? 'failed_payment' : m.kind === 'refund' ? 'refunded' : 'revenue_movement';
    if (!on.has(kind)) continue;
    out.push(
      event(m.movementId, kind, customer, m.occurredAt, m.amount, m.currency, {
        movement: m.kind,
        movementLabel: REVENUE_MOVEMENT_LABELS[m.kind] ?? m.kind,
        subjectId: m.subjectId,
        mrrBefore: major(m.mrrBefore, m.currency),
        mrrAfter: major(m.mrrAfter, m.currency),
        stripeEventId: m.sourceEvent,
      }),
    );
  }
  return out.sort((a, b) => a.time - b.time || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
