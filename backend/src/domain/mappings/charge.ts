import type { ChargeData, EventMeta, MapOutcome } from '../records';
import { versionOf } from '../ordering';
import { customerRef } from './customer-ref';
import { amountOr0, currency, email, field, idOf, list, malformed, str, timestamp, type Json } from './read';

const VOID_REFUND = new Set(['failed', 'canceled']);

/**
 * When the latest refund was issued: the newest refund of the payload's `refunds` list (Stripe includes it only
 * in API versions before 2022-11-15 or when expanded), else the time of the charge.refunded event itself.
 */
function refundedAt(o: Json, meta: EventMeta, amountRefunded: number): number | null {
  if (amountRefunded <= 0) return null;
  const times = list(o.refunds)
    .filter((r) => !VOID_REFUND.has(str(field(r, 'status')) ?? ''))
    .map((r) => timestamp(field(r, 'created')))
    .filter((t): t is number => t !== null);
  if (times.length > 0) return Math.max(...times);
  return meta.type === 'charge.refunded' ? meta.created : null;
}

/**
 * charge.succeeded | failed | refunded (and other charge events) → a `charge` record. A failed charge is a failed
 * payment with its reason; when it belongs to an invoice, the invoice counts it (see payment-history.ts).
 */
export function mapCharge(object: unknown, meta: EventMeta): MapOutcome {
  const bad = malformed(object, 'charge');
  if (bad) return { skip: bad };
  const o = object as Json;
  const customer = customerRef(o.customer);
  if (!customer.id) return { skip: 'charge has no customer (a guest payment)' };
  const status = str(o.status);
  const data: ChargeData = {
    status,
    amount: amountOr0(o.amount),
    amountCaptured: amountOr0(o.amount_captured),
    amountRefunded: amountOr0(o.amount_refunded),
    refunded: o.refunded === true,
    currency: currency(o.currency),
    created: timestamp(o.created),
    failureMessage: status === 'failed' ? (str(o.failure_message) ?? str(field(o, 'outcome', 'seller_message'))) : null,
    invoiceId: idOf(o.invoice),
    paymentIntentId: idOf(o.payment_intent),
    email: email(field(o, 'billing_details', 'email')) ?? email(o.receipt_email) ?? customer.email,
    disputed: o.disputed === true,
    refundedAt: refundedAt(o, meta, amountOr0(o.amount_refunded)),
  };
  return {
    records: [{ kind: 'charge', objectId: o.id as string, customerId: customer.id, version: versionOf(meta, 'charge', o), data }],
    customerId: customer.id,
    email: customer.email ?? data.email,
  };
}
