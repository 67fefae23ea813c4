import type { SyncEventType } from '@stripe-hubspot-sync/contracts';
import type { EventMeta, MapOutcome, Mapper } from './records';
import { mapCharge } from './mappings/charge';
import { mapCheckoutSession } from './mappings/checkout-session';
import { mapCustomer } from './mappings/customer';
import { mapDispute } from './mappings/dispute';
import { mapInvoice, mapUpcomingInvoice } from './mappings/invoice';
import { mapPaymentIntent } from './mappings/payment-intent';
import { isObject, str } from './mappings/read';
import { mapSubscription } from './mappings/subscription';

/** Which mapper reads each event type we sync (every type of EVENT_CATALOG; the compiler checks it). */
export const EVENT_MAPPERS = {
  'customer.created': mapCustomer,
  'customer.updated': mapCustomer,
  'customer.deleted': mapCustomer,
  'checkout.session.completed': mapCheckoutSession,
  'customer.subscription.created': mapSubscription,
  'customer.subscription.updated': mapSubscription,
  'customer.subscription.trial_will_end': mapSubscription,
  'customer.subscription.paused': mapSubscription,
  'customer.subscription.resumed': mapSubscription,
  'customer.subscription.deleted': mapSubscription,
  'invoice.finalized': mapInvoice,
  'invoice.paid': mapInvoice,
  'invoice.payment_failed': mapInvoice,
  'invoice.voided': mapInvoice,
  'invoice.marked_uncollectible': mapInvoice,
  'invoice.upcoming': mapUpcomingInvoice,
  'charge.succeeded': mapCharge,
  'charge.failed': mapCharge,
  'payment_intent.payment_failed': mapPaymentIntent,
  'charge.refunded': mapCharge,
  'charge.dispute.created': mapDispute,
} as const satisfies Record<SyncEventType, Mapper>;

/** Which mapper reads each Stripe object type (for objects listed from the API, e.g. a backfill). */
export const OBJECT_MAPPERS: Readonly<Record<string, Mapper>> = {
  customer: mapCustomer,
  subscription: mapSubscription,
  invoice: mapInvoice,
  charge: mapCharge,
  dispute: mapDispute,
  'checkout.session': mapCheckoutSession,
};

/** The Stripe event shape mapEvent reads (the webhook payload as Stripe sends it). */
export interface StripeEventInput {
  id: string;
  type: string;
  created: number;
  livemode: boolean;
  account?: string | null;
  data: { object: unknown; previous_attributes?: Record<string, unknown> | null };
}

function eventMeta(event: unknown): EventMeta | string {
  if (!isObject(event)) return 'malformed event: not an object';
  const id = str(event.id);
  const type = str(event.type);
  const created = event.created;
  if (!id) return 'malformed event: no id';
  if (!type) return 'malformed event: no type';
  if (typeof created !== 'number' || !Number.isSafeInteger(created) || created < 0) {
    return 'malformed event: created is not a unix timestamp';
  }
  if (!isObject(event.data) || !('object' in event.data)) return 'malformed event: no data.object';
  const previous = event.data.previous_attributes;
  return {
    id,
    type,
    created,
    livemode: event.livemode === true,
    account: str(event.account),
    previousAttributes: isObject(previous) ? previous : null,
  };
}

function run(mapper: Mapper, object: unknown, meta: EventMeta): MapOutcome {
  try {
    return mapper(object, meta);
  } catch (e) {
    // Mappers read through safe readers and should never throw; if one does, the event is skipped, not retried.
    return { skip: `could not map ${meta.type}: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/**
 * A Stripe event → the records it carries and the customer it is about, or `{skip: reason}` (an event type we
 * do not sync, a malformed event or object, an object without a customer). Pure: never throws, no I/O.
 */
export function mapEvent(event: StripeEventInput | unknown): MapOutcome {
  const meta = eventMeta(event);
  if (typeof meta === 'string') return { skip: meta };
  const table: Readonly<Record<string, Mapper>> = EVENT_MAPPERS;
  const mapper = Object.hasOwn(table, meta.type) ? table[meta.type] : undefined;
  if (!mapper) return { skip: `${meta.type} is not an event type we sync` };
  return run(mapper, (event as { data: { object: unknown } }).data.object, meta);
}

/**
 * A Stripe object read from the API (not from an event) → its records, with `meta` standing for the event
 * (e.g. `{id: 'backfill_<run>', type: '<object>.backfill', created: <object's created or now>}`).
 */
export function mapStripeObject(object: unknown, meta: EventMeta): MapOutcome {
  const type = isObject(object) ? str(object.object) : null;
  const mapper = type && Object.hasOwn(OBJECT_MAPPERS, type) ? OBJECT_MAPPERS[type] : undefined;
  if (!mapper) return { skip: `no mapper for Stripe object ${type ?? '(unknown)'}` };
  return run(mapper, object, meta);
}
