import type { EventMeta, InvoiceData, MapOutcome, UpcomingInvoiceData } from '../records';
import { versionOf } from '../ordering';
import { customerRef } from './customer-ref';
import { invoiceProducts } from './products';
import { amountOr0, count, currency, email, field, idOf, isObject, list, malformed, str, timestamp, type Json } from './read';

/**
 * The subscription an invoice bills: `parent.subscription_details.subscription` (API 2025-03-31.basil and
 * later), else the top-level `subscription` (earlier versions), else a line item's subscription.
 */
export function invoiceSubscriptionId(o: Json): string | null {
  const direct = idOf(field(o, 'parent', 'subscription_details', 'subscription')) ?? idOf(o.subscription);
  if (direct) return direct;
  for (const line of list(o.lines)) {
    const id =
      idOf(field(line, 'parent', 'subscription_item_details', 'subscription')) ?? idOf(field(line, 'subscription'));
    if (id) return id;
  }
  return null;
}

/** The paying charge and payment intent: old top-level fields, or the `payments` list when it is included. */
function paymentLinks(o: Json): { chargeId: string | null; paymentIntentId: string | null } {
  let chargeId = idOf(o.charge);
  let paymentIntentId = idOf(o.payment_intent);
  for (const p of list(o.payments)) {
    chargeId ??= idOf(field(p, 'payment', 'charge'));
    paymentIntentId ??= idOf(field(p, 'payment', 'payment_intent'));
  }
  return { chargeId, paymentIntentId };
}

/** A failure message when the payload expands the charge or the payment intent; null otherwise. */
function failureReason(o: Json): string | null {
  const charge = o.charge;
  if (isObject(charge)) {
    const m = str(charge.failure_message) ?? str(field(charge, 'outcome', 'seller_message'));
    if (m) return m;
  }
  const pi = o.payment_intent;
  if (isObject(pi)) return str(field(pi, 'last_payment_error', 'message'));
  return null;
}

/**
 * invoice.finalized | paid | payment_failed | voided | marked_uncollectible (and other invoice events) → an
 * `invoice` record. Only an `open` invoice counts in the open amount due: a voided or uncollectible one leaves it.
 */
export function mapInvoice(object: unknown, meta: EventMeta): MapOutcome {
  const bad = malformed(object, 'invoice');
  if (bad) return { skip: bad };
  const o = object as Json;
  const customer = customerRef(o.customer);
  if (!customer.id) return { skip: 'invoice has no customer' };
  const status = str(o.status);
  const failedNow = meta.type === 'invoice.payment_failed';
  const data: InvoiceData = {
    status,
    subscriptionId: invoiceSubscriptionId(o),
    number: str(o.number),
    amountDue: amountOr0(o.amount_due),
    amountPaid: amountOr0(o.amount_paid),
    amountRemaining: amountOr0(o.amount_remaining),
    currency: currency(o.currency),
    attemptCount: count(o.attempt_count),
    attempted: o.attempted === true,
    paidAt: timestamp(field(o, 'status_transitions', 'paid_at')),
    paidOutOfBand: o.paid_out_of_band === true,
    created: timestamp(o.created),
    lastAttemptFailed: status !== 'paid' && failedNow,
    failureReason: status !== 'paid' ? failureReason(o) : null,
    ...paymentLinks(o),
    email: email(o.customer_email) ?? customer.email,
    name: str(o.customer_name),
    products: invoiceProducts(o),
  };
  return {
    records: [{ kind: 'invoice', objectId: o.id as string, customerId: customer.id, version: versionOf(meta, 'invoice', o), data }],
    customerId: customer.id,
    email: data.email,
  };
}

/**
 * invoice.upcoming → an `upcoming_invoice` record. The object is a preview without an id: the record is keyed
 * by the subscription it belongs to, else by the customer.
 */
export function mapUpcomingInvoice(object: unknown, meta: EventMeta): MapOutcome {
  const bad = malformed(object, 'invoice', false);
  if (bad) return { skip: bad };
  const o = object as Json;
  const customer = customerRef(o.customer);
  if (!customer.id) return { skip: 'upcoming invoice has no customer' };
  const subscriptionId = invoiceSubscriptionId(o);
  const data: UpcomingInvoiceData = {
    subscriptionId,
    amountDue: amountOr0(o.amount_due),
    currency: currency(o.currency),
    nextPaymentAttempt: timestamp(o.next_payment_attempt) ?? timestamp(o.period_end),
    periodEnd: timestamp(o.period_end),
  };
  return {
    records: [
      {
        kind: 'upcoming_invoice',
        objectId: subscriptionId ?? customer.id,
        customerId: customer.id,
        version: versionOf(meta, 'upcoming_invoice', o),
        data,
      },
    ],
    customerId: customer.id,
    email: email(o.customer_email) ?? customer.email,
  };
}
