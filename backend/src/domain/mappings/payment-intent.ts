import type { EventMeta, MapOutcome, PaymentIntentData } from '../records';
import { versionOf } from '../ordering';
import { customerRef } from './customer-ref';
import { amountOr0, currency, field, idOf, list, malformed, obj, str, timestamp, type Json } from './read';

/**
 * payment_intent.payment_failed → a `payment_intent` record: the attempt failed, with Stripe's reason and the
 * charge the failure belongs to, if the attempt made one. For a card decline Stripe also sends charge.failed for
 * that charge; payment-history.ts counts the failure once (the charge when we have it, else the intent standing
 * in for it). An attempt that made no charge (a failed card authentication, a payment method Stripe could not
 * use) is known only from this event. A payment intent without a customer (a guest payment) is skipped.
 */
export function mapPaymentIntent(object: unknown, meta: EventMeta): MapOutcome {
  const bad = malformed(object, 'payment_intent');
  if (bad) return { skip: bad };
  const o = object as Json;
  const customer = customerRef(o.customer);
  if (!customer.id) return { skip: 'payment intent has no customer (a guest payment)' };
  const error = obj(o.last_payment_error);
  const data: PaymentIntentData = {
    status: str(o.status),
    amount: amountOr0(o.amount),
    currency: currency(o.currency),
    created: timestamp(o.created),
    failedAt: meta.created,
    failureMessage: str(field(error, 'message')) ?? str(field(error, 'decline_code')) ?? str(field(error, 'code')),
    // Older API versions list the intent's charges (`charges.data`, newest first) instead of `latest_charge`.
    chargeId: idOf(field(error, 'charge')) ?? idOf(o.latest_charge) ?? idOf(list(o.charges)[0]),
    invoiceId: idOf(o.invoice),
  };
  return {
    records: [
      { kind: 'payment_intent', objectId: o.id as string, customerId: customer.id, version: versionOf(meta, 'payment_intent', o), data },
    ],
    customerId: customer.id,
    email: customer.email,
  };
}
