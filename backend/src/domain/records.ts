import type { ProductBought, SubscriptionStatusValue } from '@stripe-hubspot-sync/contracts';

/**
 * The normalised facts of Stripe objects that the sync engine stores, one record per (account, mode, kind,
 * object id), and folds: a record only ever moves to a greater `Version` (see ordering.ts). Money is in minor
 * units of the record's `currency`; timestamps are unix seconds. Records are small JSON (stored as jsonb).
 *
 * Fields marked optional were added after records were first stored: a record stored before them lacks them,
 * and readers treat the absence as "not known".
 */

/** The products an object names (id, and the name when the payload expands the product), sorted by id. */
export type ProductRefs = ProductBought[];

export type RecordKind =
  | 'customer'
  | 'subscription'
  | 'invoice'
  | 'upcoming_invoice'
  | 'charge'
  | 'dispute'
  | 'checkout_session'
  | 'payment_intent';

export const RECORD_KINDS: readonly RecordKind[] = [
  'customer',
  'subscription',
  'invoice',
  'upcoming_invoice',
  'charge',
  'dispute',
  'checkout_session',
  'payment_intent',
];

/** Version of the Stripe event that produced a record: a TOTAL order, see ordering.ts. */
export interface Version {
  /** The event's `created` (unix seconds). */
  created: number;
  /** Same-second tie rank, a 31-bit integer (fits PostgreSQL `integer`): see ordering.ts. */
  rank: number;
  eventId: string;
}

export interface CustomerData {
  email: string | null;
  name: string | null;
  created: number | null;
  /** Lower-case ISO code, or null when the customer has no default currency yet. */
  currency: string | null;
  delinquent: boolean | null;
  deleted: boolean;
  /** The customer's `business_name` (API 2025-09-30 and later); absent when the payload has none. */
  businessName?: string;
}

export type SubscriptionStatus = Exclude<SubscriptionStatusValue, 'none'>;

export interface SubscriptionData {
  status: SubscriptionStatus;
  created: number | null;
  currency: string | null;
  /** Plan name: price nickname, lookup key, product name, or a label such as "USD 20.00 / month". */
  plan: string | null;
  /** What the items cost per month (minor units), whatever the status; see mrr.ts. */
  monthlyAmount: number;
  /** Contribution to MRR: `monthlyAmount` when the status counts (active, past_due), else 0. */
  mrr: number;
  currentPeriodEnd: number | null;
  cancelAtPeriodEnd: boolean;
  cancelAt: number | null;
  endedAt: number | null;
  trialEnd: number | null;
  /** The products of its items. */
  products?: ProductRefs;
}

export interface InvoiceData {
  /** draft | open | paid | uncollectible | void (null on old objects without status). */
  status: string | null;
  subscriptionId: string | null;
  number: string | null;
  amountDue: number;
  amountPaid: number;
  amountRemaining: number;
  currency: string | null;
  attemptCount: number;
  attempted: boolean;
  paidAt: number | null;
  paidOutOfBand: boolean;
  created: number | null;
  /** The most recent payment attempt failed and the invoice is not paid. */
  lastAttemptFailed: boolean;
  /** Why it failed, when the payload says (an expanded charge or payment intent); else null. */
  failureReason: string | null;
  /** Links to the paying charge / payment intent, when the API version or payload names them. */
  chargeId: string | null;
  paymentIntentId: string | null;
  email: string | null;
  name: string | null;
  /** The products of its lines (of the lines the payload carries: Stripe includes the first ten). */
  products?: ProductRefs;
}

export interface UpcomingInvoiceData {
  subscriptionId: string | null;
  amountDue: number;
  currency: string | null;
  /** When Stripe will try to collect it (next_payment_attempt, else period_end). */
  nextPaymentAttempt: number | null;
  periodEnd: number | null;
}

export interface ChargeData {
  /** pending | failed | succeeded */
  status: string | null;
  amount: number;
  amountCaptured: number;
  amountRefunded: number;
  refunded: boolean;
  currency: string | null;
  created: number | null;
  /** failure_message, else outcome.seller_message, for failed charges. */
  failureMessage: string | null;
  invoiceId: string | null;
  paymentIntentId: string | null;
  email: string | null;
  disputed: boolean;
  /**
   * When the latest refund was issued: the newest refund of the payload's `refunds` list, else the time of the
   * `charge.refunded` event that carried it; null when neither says (e.g. a charge read from the API).
   */
  refundedAt?: number | null;
}

export interface DisputeData {
  chargeId: string | null;
  paymentIntentId: string | null;
  amount: number;
  currency: string | null;
  status: string | null;
  reason: string | null;
  created: number | null;
}

export interface CheckoutSessionData {
  email: string | null;
  name: string | null;
  /** payment | subscription | setup */
  mode: string | null;
  /** paid | unpaid | no_payment_required */
  paymentStatus: string | null;
  /** open | complete | expired */
  status: string | null;
  amountTotal: number | null;
  currency: string | null;
  subscriptionId: string | null;
  invoiceId: string | null;
  paymentIntentId: string | null;
  created: number | null;
  /** The products of its line items, when the payload includes them (`line_items` is not sent by default). */
  products?: ProductRefs;
}

/**
 * A PaymentIntent whose latest attempt failed (payment_intent.payment_failed). How it is counted without counting
 * its charge twice: see payment-history.ts.
 */
export interface PaymentIntentData {
  /** requires_payment_method | canceled | … */
  status: string | null;
  amount: number;
  currency: string | null;
  created: number | null;
  /** When the failure was reported (the event's `created`). */
  failedAt: number;
  /** last_payment_error.message, else its code; null when the intent carries no error. */
  failureMessage: string | null;
  /**
   * The charge the failure belongs to (last_payment_error.charge, else latest_charge); null when the attempt
   * made no charge (e.g. a failed card authentication).
   */
  chargeId: string | null;
  /** The invoice it pays, when the API version still names it. */
  invoiceId: string | null;
}

export interface RecordDataByKind {
  customer: CustomerData;
  subscription: SubscriptionData;
  invoice: InvoiceData;
  upcoming_invoice: UpcomingInvoiceData;
  charge: ChargeData;
  dispute: DisputeData;
  checkout_session: CheckoutSessionData;
  payment_intent: PaymentIntentData;
}

/** One record of kind K. */
export interface RecordOf<K extends RecordKind> {
  kind: K;
  /** The Stripe object id; for `upcoming_invoice` (no id) the subscription id, else the customer id. */
  objectId: string;
  /** The owning Stripe customer; null when the object does not say (a dispute: resolve it from the charge). */
  customerId: string | null;
  version: Version;
  data: RecordDataByKind[K];
}

/** The normalised facts of one Stripe object, as of one event. */
export type ObjectRecord = { [K in RecordKind]: RecordOf<K> }[RecordKind];

/** The key a record is stored under (with the account and mode). */
export function recordKey(r: Pick<ObjectRecord, 'kind' | 'objectId'>): string {
  return `${r.kind}:${r.objectId}`;
}

/** The event fields a mapper needs. */
export interface EventMeta {
  id: string;
  type: string;
  created: number;
  livemode: boolean;
  account?: string | null;
  previousAttributes?: Record<string, unknown> | null;
}

export type MapOutcome =
  | {
      records: ObjectRecord[];
      /** The customer the event is about; null when only the engine can tell (a dispute). */
      customerId: string | null;
      /** The best-known email of that customer in this event. */
      email: string | null;
      /** On `customer.updated` that changed the email: the email before. */
      previousEmail?: string | null;
    }
  | { skip: string };

export type Mapper = (object: unknown, meta: EventMeta) => MapOutcome;
