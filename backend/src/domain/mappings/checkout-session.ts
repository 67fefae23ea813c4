import type { CheckoutSessionData, EventMeta, MapOutcome } from '../records';
import { versionOf } from '../ordering';
import { customerRef } from './customer-ref';
import { checkoutProducts } from './products';
import { amount, currency, email, field, idOf, malformed, str, timestamp, type Json } from './read';

/**
 * checkout.session.completed → a `checkout_session` record. It links a buyer's email to a customer; a session
 * without a customer (a guest payment with `customer_creation: if_required`) is skipped.
 */
export function mapCheckoutSession(object: unknown, meta: EventMeta): MapOutcome {
  const bad = malformed(object, 'checkout.session');
  if (bad) return { skip: bad };
  const o = object as Json;
  const customer = customerRef(o.customer);
  if (!customer.id) return { skip: 'checkout session has no customer' };
  const data: CheckoutSessionData = {
    email: email(field(o, 'customer_details', 'email')) ?? email(o.customer_email) ?? customer.email,
    name: str(field(o, 'customer_details', 'name')),
    mode: str(o.mode),
    paymentStatus: str(o.payment_status),
    status: str(o.status),
    amountTotal: amount(o.amount_total),
    currency: currency(o.currency),
    subscriptionId: idOf(o.subscription),
    invoiceId: idOf(o.invoice),
    paymentIntentId: idOf(o.payment_intent),
    created: timestamp(o.created),
    products: checkoutProducts(o),
  };
  return {
    records: [
      { kind: 'checkout_session', objectId: o.id as string, customerId: customer.id, version: versionOf(meta, 'checkout_session', o), data },
    ],
    customerId: customer.id,
    email: data.email,
  };
}
