/**
 * What can be synced: the Stripe event types we handle and the Stripe facts we can write to HubSpot.
 * Shared by the backend, the Stripe App and the HubSpot card; no runtime dependencies.
 */

export const STRIPE_OBJECT_GROUPS = ['customer', 'checkout', 'subscription', 'invoice', 'charge'] as const;
export type StripeObjectGroup = (typeof STRIPE_OBJECT_GROUPS)[number];

export interface EventDefinition {
  type: string;
  group: StripeObjectGroup;
  /** Plain-language description for the settings view. */
  description: string;
  defaultEnabled: boolean;
}

export const EVENT_CATALOG = [
  { type: 'customer.created', group: 'customer', description: 'A new customer is created: find or create the HubSpot contact.', defaultEnabled: true },
  { type: 'customer.updated', group: 'customer', description: 'Customer details change (email, delinquency): update the linked contact.', defaultEnabled: true },
  { type: 'customer.deleted', group: 'customer', description: 'A customer is deleted in Stripe: mark the contact as no longer subscribed.', defaultEnabled: true },
  { type: 'checkout.session.completed', group: 'checkout', description: 'A Checkout purchase completes: link the buyer to a contact.', defaultEnabled: true },
  { type: 'customer.subscription.created', group: 'subscription', description: 'A subscription starts: plan, status and MRR.', defaultEnabled: true },
  { type: 'customer.subscription.updated', group: 'subscription', description: 'A subscription changes plan, status or renewal.', defaultEnabled: true },
  { type: 'customer.subscription.trial_will_end', group: 'subscription', description: 'A trial ends in three days: trial end date.', defaultEnabled: true },
  { type: 'customer.subscription.paused', group: 'subscription', description: 'A subscription is paused (e.g. a trial ended without a payment method): status paused, no MRR.', defaultEnabled: true },
  { type: 'customer.subscription.resumed', group: 'subscription', description: 'A paused subscription resumes: status and MRR again.', defaultEnabled: true },
  { type: 'customer.subscription.deleted', group: 'subscription', description: 'A subscription is canceled: status canceled, MRR 0.', defaultEnabled: true },
  { type: 'invoice.finalized', group: 'invoice', description: 'An invoice is finalized and awaits payment: open amount due.', defaultEnabled: true },
  { type: 'invoice.paid', group: 'invoice', description: 'An invoice is paid: last payment, open amount due.', defaultEnabled: true },
  { type: 'invoice.payment_failed', group: 'invoice', description: 'An invoice payment fails: failure reason and count, optional task.', defaultEnabled: true },
  { type: 'invoice.voided', group: 'invoice', description: 'An invoice is voided: it no longer counts in the open amount due.', defaultEnabled: true },
  { type: 'invoice.marked_uncollectible', group: 'invoice', description: 'An invoice is marked uncollectible: it no longer counts in the open amount due.', defaultEnabled: true },
  { type: 'invoice.upcoming', group: 'invoice', description: 'An invoice is about to be created: next renewal and amount.', defaultEnabled: true },
  { type: 'charge.succeeded', group: 'charge', description: 'A payment succeeds: last payment and lifetime value.', defaultEnabled: true },
  { type: 'charge.failed', group: 'charge', description: 'A payment fails: failure reason and failed payment count (a failed invoice payment counts once, with its invoice).', defaultEnabled: true },
  { type: 'payment_intent.payment_failed', group: 'charge', description: 'A payment attempt fails, also when no charge was made (e.g. failed card authentication); never counted twice with its charge.', defaultEnabled: true },
  { type: 'charge.refunded', group: 'charge', description: 'A payment is refunded: total refunded and lifetime value.', defaultEnabled: true },
  { type: 'charge.dispute.created', group: 'charge', description: 'A customer disputes a payment: disputed amount.', defaultEnabled: true },
] as const satisfies readonly EventDefinition[];

export type SyncEventType = (typeof EVENT_CATALOG)[number]['type'];
export const SYNC_EVENT_TYPES = EVENT_CATALOG.map((e) => e.type) as unknown as readonly [SyncEventType, ...SyncEventType[]];

export function isSyncEventType(type: string): type is SyncEventType {
  return (SYNC_EVENT_TYPES as readonly string[]).includes(type);
}

/** HubSpot property types we create (crm-properties-v3). */
export type HubSpotPropertyType = 'string' | 'number' | 'date' | 'datetime' | 'enumeration' | 'bool';
/** `checkbox` on an enumeration is a multi-select: its value lists options joined with `;`. */
export type HubSpotFieldType = 'text' | 'textarea' | 'number' | 'date' | 'select' | 'checkbox' | 'booleancheckbox';

export const SUBSCRIPTION_STATUSES = [
  'active',
  'trialing',
  'past_due',
  'unpaid',
  'canceled',
  'incomplete',
  'incomplete_expired',
  'paused',
  'none',
] as const;
export type SubscriptionStatusValue = (typeof SUBSCRIPTION_STATUSES)[number];

export const PAYMENT_STATUSES = ['succeeded', 'failed', 'refunded'] as const;
export type PaymentStatusValue = (typeof PAYMENT_STATUSES)[number];

/** The revenue movements that change MRR (the options of the last MRR movement property). */
export const MRR_MOVEMENT_KINDS = ['new', 'upgrade', 'downgrade', 'churn', 'reactivation', 'trial_converted'] as const;

export interface FieldDefinition {
  key: string;
  label: string;
  description: string;
  /** Default internal name of the HubSpot contact property. */
  defaultProperty: string;
  type: HubSpotPropertyType;
  fieldType: HubSpotFieldType;
  /**
   * Enumeration options (values), for enumeration and bool properties. Absent on an enumeration whose options
   * come from the merchant's Stripe data (products bought).
   */
  options?: readonly string[];
  /** Money fields are written as decimals in the customer's currency. */
  money?: boolean;
  defaultEnabled: boolean;
}

export const FIELD_CATALOG = [
  { key: 'customerId', label: 'Stripe customer ID', description: 'The Stripe customer id (cus_…), of the first-created customer when several share the contact; unique, used to match the contact.', defaultProperty: 'stripe_customer_id', type: 'string', fieldType: 'text', defaultEnabled: true },
  { key: 'customerIds', label: 'Stripe customer IDs', description: 'Every Stripe customer on this contact (customers sharing an email), the primary one first; the other Stripe properties add them up.', defaultProperty: 'stripe_customer_ids', type: 'string', fieldType: 'text', defaultEnabled: true },
  { key: 'customerSince', label: 'Customer since', description: 'When the Stripe customer was created.', defaultProperty: 'stripe_customer_since', type: 'date', fieldType: 'date', defaultEnabled: true },
  { key: 'subscriptionStatus', label: 'Subscription status', description: 'Status of the main subscription, or none.', defaultProperty: 'stripe_subscription_status', type: 'enumeration', fieldType: 'select', options: SUBSCRIPTION_STATUSES, defaultEnabled: true },
  { key: 'plan', label: 'Plan', description: 'Name of the plan (product and price) of the main subscription.', defaultProperty: 'stripe_plan', type: 'string', fieldType: 'text', defaultEnabled: true },
  { key: 'mrr', label: 'MRR', description: 'Monthly recurring revenue of the active subscriptions.', defaultProperty: 'stripe_mrr', type: 'number', fieldType: 'number', money: true, defaultEnabled: true },
  { key: 'currency', label: 'Currency', description: 'The customer’s currency (ISO code, upper case).', defaultProperty: 'stripe_currency', type: 'string', fieldType: 'text', defaultEnabled: true },
  { key: 'nextRenewalDate', label: 'Next renewal date', description: 'End of the current period of the main subscription.', defaultProperty: 'stripe_next_renewal_date', type: 'date', fieldType: 'date', defaultEnabled: true },
  { key: 'cancelAtPeriodEnd', label: 'Cancels at period end', description: 'The subscription is set to cancel at the end of its period.', defaultProperty: 'stripe_cancel_at_period_end', type: 'bool', fieldType: 'booleancheckbox', options: ['true', 'false'], defaultEnabled: true },
  { key: 'nextInvoiceAmount', label: 'Next invoice amount', description: 'Amount of the upcoming invoice.', defaultProperty: 'stripe_next_invoice_amount', type: 'number', fieldType: 'number', money: true, defaultEnabled: true },
  { key: 'lastPaymentAmount', label: 'Last payment amount', description: 'Amount of the most recent payment attempt.', defaultProperty: 'stripe_last_payment_amount', type: 'number', fieldType: 'number', money: true, defaultEnabled: true },
  { key: 'lastPaymentDate', label: 'Last payment date', description: 'When the most recent payment attempt happened.', defaultProperty: 'stripe_last_payment_date', type: 'datetime', fieldType: 'date', defaultEnabled: true },
  { key: 'lastPaymentStatus', label: 'Last payment status', description: 'succeeded, failed or refunded.', defaultProperty: 'stripe_last_payment_status', type: 'enumeration', fieldType: 'select', options: PAYMENT_STATUSES, defaultEnabled: true },
  { key: 'lastFailureReason', label: 'Last failure reason', description: 'Why the most recent failed payment failed.', defaultProperty: 'stripe_last_failure_reason', type: 'string', fieldType: 'textarea', defaultEnabled: true },
  { key: 'failedPaymentCount', label: 'Failed payments', description: 'Number of failed payment attempts.', defaultProperty: 'stripe_failed_payment_count', type: 'number', fieldType: 'number', defaultEnabled: true },
  { key: 'openAmountDue', label: 'Open amount due', description: 'Sum still due on open invoices.', defaultProperty: 'stripe_open_amount_due', type: 'number', fieldType: 'number', money: true, defaultEnabled: true },
  { key: 'lifetimeValue', label: 'Lifetime value', description: 'Sum of successful payments less refunds.', defaultProperty: 'stripe_lifetime_value', type: 'number', fieldType: 'number', money: true, defaultEnabled: true },
  { key: 'totalRefunded', label: 'Total refunded', description: 'Sum of all refunds.', defaultProperty: 'stripe_total_refunded', type: 'number', fieldType: 'number', money: true, defaultEnabled: true },
  { key: 'disputedAmount', label: 'Disputed amount', description: 'Sum of payments under an open dispute.', defaultProperty: 'stripe_disputed_amount', type: 'number', fieldType: 'number', money: true, defaultEnabled: true },
  { key: 'delinquent', label: 'Delinquent', description: 'Stripe marks the customer delinquent (an invoice is past due).', defaultProperty: 'stripe_delinquent', type: 'bool', fieldType: 'booleancheckbox', options: ['true', 'false'], defaultEnabled: true },
  { key: 'trialEndDate', label: 'Trial end date', description: 'When the trial of the main subscription ends, while it is trialing.', defaultProperty: 'stripe_trial_end_date', type: 'date', fieldType: 'date', defaultEnabled: true },
  { key: 'productsBought', label: 'Products bought', description: 'Every Stripe product the customer has paid for (paying subscriptions, paid invoices, paid Checkout sessions); one option per product, named as in Stripe.', defaultProperty: 'stripe_products_bought', type: 'enumeration', fieldType: 'checkbox', defaultEnabled: true },
  { key: 'refundIssuedDate', label: 'Refund issued date', description: 'When the most recent refund was issued.', defaultProperty: 'stripe_refund_issued_date', type: 'date', fieldType: 'date', defaultEnabled: true },
  { key: 'lastMrrChangeDate', label: 'Last MRR change date', description: 'When MRR last changed (a new subscription, an upgrade or downgrade, a churn, a reactivation or a converted trial).', defaultProperty: 'stripe_last_mrr_change_date', type: 'datetime', fieldType: 'date', defaultEnabled: true },
  { key: 'lastMrrChangeAmount', label: 'Last MRR change amount', description: 'By how much MRR last changed (negative for a downgrade or churn).', defaultProperty: 'stripe_last_mrr_change_amount', type: 'number', fieldType: 'number', money: true, defaultEnabled: true },
  { key: 'lastMovement', label: 'Last MRR movement', description: 'What last changed MRR: new, upgrade, downgrade, churn, reactivation or trial converted.', defaultProperty: 'stripe_last_mrr_movement', type: 'enumeration', fieldType: 'select', options: MRR_MOVEMENT_KINDS, defaultEnabled: true },
  { key: 'dashboardUrl', label: 'Stripe Dashboard link', description: 'Link to the customer in the Stripe Dashboard.', defaultProperty: 'stripe_dashboard_url', type: 'string', fieldType: 'text', defaultEnabled: true },
] as const satisfies readonly FieldDefinition[];

export type FieldKey = (typeof FIELD_CATALOG)[number]['key'];
export const FIELD_KEYS = FIELD_CATALOG.map((f) => f.key) as unknown as readonly [FieldKey, ...FieldKey[]];

export function fieldDefinition(key: FieldKey): FieldDefinition {
  return FIELD_CATALOG.find((f) => f.key === key) as FieldDefinition;
}

/** The HubSpot property group our properties live in. */
export const PROPERTY_GROUP = { name: 'stripe', label: 'Stripe' } as const;
