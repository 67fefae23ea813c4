import type { DisputeData, EventMeta, MapOutcome } from '../records';
import { versionOf } from '../ordering';
import { customerRef } from './customer-ref';
import { amountOr0, currency, field, idOf, malformed, str, timestamp, type Json } from './read';

/**
 * charge.dispute.created (and other dispute events) → a `dispute` record. A dispute names its charge, not its
 * customer: `customerId` is null unless the charge is expanded, and the engine resolves it from the stored charge.
 */
export function mapDispute(object: unknown, meta: EventMeta): MapOutcome {
  const bad = malformed(object, 'dispute');
  if (bad) return { skip: bad };
  const o = object as Json;
  const chargeId = idOf(o.charge);
  const customer = customerRef(field(o.charge, 'customer'));
  if (!chargeId && !customer.id) return { skip: 'dispute names no charge' };
  const data: DisputeData = {
    chargeId,
    paymentIntentId: idOf(o.payment_intent),
    amount: amountOr0(o.amount),
    currency: currency(o.currency),
    status: str(o.status),
    reason: str(o.reason),
    created: timestamp(o.created),
  };
  return {
    records: [{ kind: 'dispute', objectId: o.id as string, customerId: customer.id, version: versionOf(meta, 'dispute', o), data }],
    customerId: customer.id,
    email: customer.email,
  };
}
