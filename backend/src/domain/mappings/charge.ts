import type { ChargeData, EventMeta, MapOutcome } from '../records';
import { versionOf } from '../ordering';
import { customerRef } from './customer-ref';
import { amountOr0, currency, email, field, idOf, malformed, str, timestamp, type Json } from './read';

/** charge.succeeded | charge.refunded (and other charge events) → a `charge` record. */
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
  };
  return {
    records: [{ kind: 'charge', objectId: o.id as string, customerId: customer.id, version: versionOf(meta, 'charge', o), data }],
    customerId: customer.id,
    email: customer.email ?? data.email,
  };
}
