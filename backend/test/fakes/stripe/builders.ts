import { deepMerge, stripeObject } from '../../helpers/stripe-fixtures';
import type { StripeJson } from './types';

/**
 * Builders of Stripe objects in the current API shape, starting from Stripe's own example objects
 * (`stripeObject`), with the example's placeholder values (obj_123 discounts, odd plans) replaced by
 * consistent ones. Each builder derives dependent fields (amounts, status timestamps) from the few
 * values the caller gives, then deep-merges the caller's overrides last.
 */

export interface BuildContext {
  livemode: boolean;
  accountId: string;
  /** A new unique id with that prefix (`cus`, `sub`, …). */
  newId(prefix: string): string;
  /** The same id every time for the same prefix+key (prices and products shared by subscriptions). */
  sharedId(prefix: string, key: string): string;
}

export type Interval = 'day' | 'week' | 'month' | 'year';

const DAY = 86_400;

/**
 * `ts` moved forward by `count` intervals (UTC). Months and years keep the day of month, clamped to
 * the month's last day as Stripe bills (Jan 31 + 1 month = Feb 28); count from the anchor, not from
 * the previous period, to keep the anchor day.
 */
export function addInterval(ts: number, interval: Interval, count = 1): number {
  if (interval === 'day') return ts + count * DAY;
  if (interval === 'week') return ts + count * 7 * DAY;
  const d = new Date(ts * 1000);
  const months = interval === 'month' ? count : 12 * count;
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  const day = Math.min(d.getUTCDate(), lastDay);
  return Math.floor(Date.UTC(y, m, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()) / 1000);
}

/** Currencies without minor units (amounts are whole yen, not cents). */
export const ZERO_DECIMAL = new Set(['jpy', 'krw', 'vnd', 'clp', 'pyg', 'xaf', 'xof', 'ugx', 'rwf', 'mga', 'kmf', 'gnf', 'djf', 'bif', 'vuv', 'xpf']);

export function defaultAmount(currency: string): number {
  return ZERO_DECIMAL.has(currency) ? 1500 : 2000;
}

// Templates: Stripe's examples with placeholder sub-objects made consistent, built once. A new object
// copies its template deeply, except the large settings blocks below: those are shared between objects
// and frozen (mutating one throws a TypeError: replace it, `obj.payment_settings = {...}`). This keeps
// seeding thousands of objects fast; the builders' own patches copy a shared block before writing.
type TemplateName = 'customer' | 'subscription' | 'subscription_item' | 'invoice' | 'line_item' | 'charge' | 'refund';
const SHARED: Record<TemplateName, readonly string[]> = {
  customer: [],
  subscription: ['payment_settings', 'invoice_settings', 'trial_settings', 'billing_mode', 'automatic_tax'],
  subscription_item: [],
  invoice: ['automatic_tax', 'issuer', 'payment_settings', 'rendering'],
  line_item: ['pricing'],
  charge: ['payment_method_details', 'fraud_details'],
  refund: [],
};
let templates: Record<string, { tpl: StripeJson; deep: string[] }> | undefined;

function template(name: TemplateName): StripeJson {
  if (!templates) {
    // A JSON round trip gives fast-mode objects (a `delete` leaves dictionary mode, slow to copy).
    const built = JSON.parse(JSON.stringify(buildTemplates())) as Record<string, StripeJson>;
    templates = {};
    for (const [n, tpl] of Object.entries(built)) {
      const shared = SHARED[n as TemplateName];
      for (const k of shared) deepFreeze(tpl[k]);
      const deep = Object.keys(tpl).filter((k) => typeof tpl[k] === 'object' && tpl[k] !== null && !shared.includes(k));
      templates[n] = { tpl, deep };
    }
  }
  const { tpl, deep } = templates[name] as { tpl: StripeJson; deep: string[] };
  const out: StripeJson = { ...tpl };
  for (const k of deep) out[k] = cloneJson(tpl[k]);
  return out;
}

function cloneJson(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map(cloneJson);
  const out: StripeJson = {};
  for (const k in v) out[k] = cloneJson((v as StripeJson)[k]);
  return out;
}

function deepFreeze(v: unknown): void {
  if (typeof v === 'object' && v !== null) {
    for (const child of Object.values(v)) deepFreeze(child);
    Object.freeze(v);
  }
}

const isPlain = (v: unknown): v is StripeJson => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `deepMerge` semantics written into `target`, copying any frozen (shared) object on the way. */
function mergeInto(target: StripeJson, patch: StripeJson): StripeJson {
  for (const k in patch) {
    const v = patch[k];
    const t = target[k];
    if (isPlain(v) && isPlain(t)) target[k] = mergeInto(Object.isFrozen(t) ? { ...t } : t, v);
    else target[k] = v;
  }
  return target;
}

function buildTemplates(): Record<string, StripeJson> {
  const invoice = stripeObject('invoice', {
    account_name: null, from_invoice: null, last_finalization_error: null, shipping_cost: null, shipping_details: null,
    customer_shipping: null, customer_address: null, amount_overpaid: 0, due_date: null, total_taxes: [],
    total_pretax_credit_amounts: [], payment_settings: { payment_method_options: null, payment_method_types: null, default_mandate: null },
  });
  const lines = invoice.lines as { data: StripeJson[] };
  const lineItem = deepMerge(lines.data[0] as StripeJson, { pretax_credit_amounts: [], taxes: [], discount_amounts: [], parent: null });
  delete invoice.subscription; // removed from the API (2025-03-31.basil): read parent.subscription_details.
  invoice.lines = null; // the builder sets lines
  return {
    customer: stripeObject('customer', { discount: null, address: null, shipping: null }),
    subscription: stripeObject('subscription', {
      cancel_at: null, canceled_at: null, ended_at: null, trial_start: null, trial_end: null, cancel_at_period_end: false,
      next_pending_invoice_item_invoice: null, pending_invoice_item_interval: null, pending_update: null,
      transfer_data: null, pause_collection: null, billing_cycle_anchor_config: null, billing_schedules: [],
      billing_thresholds: null, managed_payments: { enabled: false }, items: null, // the builder sets items
      automatic_tax: { enabled: false, liability: null, disabled_reason: null },
    }),
    subscription_item: stripeObject('subscription_item', { billing_thresholds: null, price: null, plan: null }),
    invoice,
    line_item: lineItem,
    charge: stripeObject('charge', { source: null, transfer_data: null, shipping: null, application_fee: null, outcome: null, refunds: null }),
    refund: stripeObject('refund', { destination_details: null }),
  };
}

export function buildCustomer(ctx: BuildContext, created: number, overrides: StripeJson = {}): StripeJson {
  const id = (overrides.id as string | undefined) ?? ctx.newId('cus');
  const base = mergeInto(template('customer'), {
    id, created, livemode: ctx.livemode, currency: null,
    invoice_prefix: id.slice(4, 12).toUpperCase().replace(/[^A-Z0-9]/g, 'X'),
  });
  return mergeInto(base, overrides);
}

export interface ItemSpec {
  subscriptionId: string;
  created: number;
  currency: string;
  unitAmount: number;
  interval: Interval;
  intervalCount: number;
  quantity: number;
  periodStart: number;
  periodEnd: number;
}

/** A subscription item with its price (recurring) and the legacy `plan` mirror of that price. */
export function buildSubscriptionItem(ctx: BuildContext, spec: ItemSpec): StripeJson {
  const key = `${spec.currency}:${spec.unitAmount}:${spec.interval}:${spec.intervalCount}`;
  const priceId = ctx.sharedId('price', key);
  const productId = ctx.sharedId('prod', key);
  const recurring = { interval: spec.interval, interval_count: spec.intervalCount, meter: null, usage_type: 'licensed', trial_period_days: null };
  const price = {
    id: priceId, object: 'price', active: true, billing_scheme: 'per_unit', created: spec.created - DAY, currency: spec.currency,
    custom_unit_amount: null, livemode: ctx.livemode, lookup_key: null, metadata: {}, nickname: null, product: productId,
    recurring, tax_behavior: 'unspecified', tiers_mode: null, transform_quantity: null, type: 'recurring',
    unit_amount: spec.unitAmount, unit_amount_decimal: String(spec.unitAmount),
  };
  const plan = {
    id: priceId, object: 'plan', active: true, amount: spec.unitAmount, amount_decimal: String(spec.unitAmount),
    billing_scheme: 'per_unit', created: spec.created - DAY, currency: spec.currency, interval: spec.interval,
    interval_count: spec.intervalCount, livemode: ctx.livemode, metadata: {}, meter: null, nickname: null,
    product: productId, tiers_mode: null, transform_usage: null, trial_period_days: null, usage_type: 'licensed',
  };
  const item = template('subscription_item');
  return Object.assign(item, {
    id: ctx.newId('si'), created: spec.created, subscription: spec.subscriptionId, quantity: spec.quantity, price, plan,
    current_period_start: spec.periodStart, current_period_end: spec.periodEnd, metadata: {}, discounts: [], tax_rates: [],
  });
}

const SUBSCRIPTION_STATUSES = new Set(['active', 'trialing', 'past_due', 'unpaid', 'canceled', 'incomplete', 'incomplete_expired', 'paused']);

/**
 * A subscription of `customerId`. Defaults: active, usd 20.00 (jpy 1500) monthly, quantity 1, one
 * period from `created`. `overrides.status`/`currency` shape the derived fields; `overrides.items`
 * replaces the items (build them with `buildSubscriptionItem`).
 */
export function buildSubscription(ctx: BuildContext, customerId: string, created: number, overrides: StripeJson = {}): StripeJson {
  const id = (overrides.id as string | undefined) ?? ctx.newId('sub');
  const status = (overrides.status as string | undefined) ?? 'active';
  if (!SUBSCRIPTION_STATUSES.has(status)) throw new Error(`fake stripe: unknown subscription status ${status}`);
  const currency = (overrides.currency as string | undefined) ?? 'usd';
  const periodEnd = addInterval(created, 'month');
  const items = overrides.items !== undefined ? [] : [buildSubscriptionItem(ctx, {
    subscriptionId: id, created, currency, unitAmount: defaultAmount(currency), interval: 'month', intervalCount: 1,
    quantity: 1, periodStart: created, periodEnd,
  })];
  const ended = status === 'canceled' || status === 'incomplete_expired';
  const base = mergeInto(template('subscription'), {
    id, customer: customerId, status, created, start_date: created, billing_cycle_anchor: created, currency,
    livemode: ctx.livemode, latest_invoice: null, discounts: [], metadata: {},
    items: { object: 'list', data: items, has_more: false, total_count: items.length, url: `/v1/subscription_items?subscription=${id}` },
    canceled_at: ended ? periodEnd : null, ended_at: ended ? periodEnd : null,
    trial_start: status === 'trialing' ? created : null, trial_end: status === 'trialing' ? periodEnd : null,
    cancellation_details: { comment: null, feedback: null, reason: ended ? 'cancellation_requested' : null },
  });
  return mergeInto(base, overrides);
}

const INVOICE_STATUSES = new Set(['draft', 'open', 'paid', 'uncollectible', 'void']);

export interface InvoiceParties {
  customer: StripeJson;
  /** The subscription the invoice bills, when it does. */
  subscription?: StripeJson;
  number?: string;
}

/**
 * An invoice of `parties.customer`. Defaults: paid, one line of 20.00 usd (the subscription's price ×
 * quantity when one is given). `status`, `currency`, `amount_due`, `amount_paid`, `attempt_count`
 * in overrides drive the derived amounts and `status_transitions`.
 */
export function buildInvoice(ctx: BuildContext, parties: InvoiceParties, created: number, overrides: StripeJson = {}): StripeJson {
  const id = (overrides.id as string | undefined) ?? ctx.newId('in');
  const status = (overrides.status as string | undefined) ?? 'paid';
  if (!INVOICE_STATUSES.has(status)) throw new Error(`fake stripe: unknown invoice status ${status}`);
  const sub = parties.subscription;
  const subItem = sub ? ((sub.items as { data: StripeJson[] }).data[0] as StripeJson | undefined) : undefined;
  const subPrice = subItem?.price as StripeJson | undefined;
  const currency = (overrides.currency as string | undefined) ?? (subPrice?.currency as string | undefined)
    ?? (parties.customer.currency as string | null | undefined) ?? 'usd';
  const subAmount = subPrice ? (subPrice.unit_amount as number) * ((subItem?.quantity as number | undefined) ?? 1) : undefined;
  const amountDue = (overrides.amount_due as number | undefined) ?? subAmount ?? defaultAmount(currency);
  const finalized = status !== 'draft';
  const amountPaid = (overrides.amount_paid as number | undefined) ?? (status === 'paid' ? amountDue : 0);
  const amountRemaining = status === 'paid' || status === 'void' ? 0 : amountDue - amountPaid;
  const attemptCount = (overrides.attempt_count as number | undefined) ?? (status === 'paid' ? 1 : 0);
  const at = created + 3600;
  const periodStart = (subItem?.current_period_start as number | undefined) ?? created;
  const periodEnd = (subItem?.current_period_end as number | undefined) ?? created;
  const line = mergeInto(template('line_item'), {
    id: ctx.newId('il'), amount: amountDue, subtotal: amountDue, currency, invoice: id, livemode: ctx.livemode, quantity: 1,
    description: sub ? `1 × subscription (at ${amountDue} ${currency} / ${(subPrice?.recurring as StripeJson).interval})` : 'One-off charge',
    period: { start: periodStart, end: periodEnd },
    parent: sub
      ? { type: 'subscription_item_details', invoice_item_details: null, subscription_item_details: { invoice_item: null, proration: false, proration_details: { credited_items: null }, subscription: sub.id, subscription_item: subItem?.id ?? null } }
      : { type: 'invoice_item_details', subscription_item_details: null, invoice_item_details: { invoice_item: ctx.newId('ii'), proration: false, proration_details: { credited_items: null }, subscription: null } },
    pricing: { type: 'price_details', price_details: { price: subPrice?.id ?? null, product: subPrice?.product ?? null }, unit_amount_decimal: String(amountDue) },
  });
  const host = `https://invoice.stripe.com/i/${ctx.accountId}/${ctx.livemode ? 'live' : 'test'}_${id.slice(3)}`;
  const base = mergeInto(template('invoice'), {
    id, customer: parties.customer.id, customer_email: parties.customer.email ?? null, customer_name: parties.customer.name ?? null,
    created, currency, livemode: ctx.livemode, status, number: finalized ? (parties.number ?? null) : null,
    amount_due: amountDue, amount_paid: amountPaid, amount_remaining: amountRemaining, attempt_count: attemptCount,
    attempted: attemptCount > 0 || status === 'paid', auto_advance: status === 'draft' || status === 'open',
    subtotal: amountDue, subtotal_excluding_tax: amountDue, total: amountDue, total_excluding_tax: amountDue,
    billing_reason: sub ? 'subscription_cycle' : 'manual', period_start: periodStart, period_end: periodEnd,
    effective_at: finalized ? at : null, webhooks_delivered_at: finalized ? at : null,
    automatically_finalizes_at: status === 'draft' ? at : null, next_payment_attempt: status === 'open' ? at + 3 * DAY : null,
    hosted_invoice_url: finalized ? host : null, invoice_pdf: finalized ? `${host}/pdf` : null,
    status_transitions: {
      finalized_at: finalized ? at : null, paid_at: status === 'paid' ? at : null,
      marked_uncollectible_at: status === 'uncollectible' ? at : null, voided_at: status === 'void' ? at : null,
    },
    parent: sub
      ? { type: 'subscription_details', quote_details: null, subscription_details: { metadata: null, subscription: sub.id } }
      : null,
    lines: { object: 'list', data: [line], has_more: false, total_count: 1, url: `/v1/invoices/${id}/lines` },
  });
  return mergeInto(base, overrides);
}

/**
 * A card charge of `customer`. Defaults: succeeded, 20.00 usd (1500 jpy). `status`
 * (succeeded|failed|pending), `amount`, `currency`, `amount_refunded` in overrides drive `paid`,
 * `captured`, `refunded`, the refunds list and the outcome.
 */
export function buildCharge(ctx: BuildContext, customer: StripeJson, created: number, overrides: StripeJson = {}): StripeJson {
  const id = (overrides.id as string | undefined) ?? ctx.newId('ch');
  const status = (overrides.status as string | undefined) ?? 'succeeded';
  const currency = (overrides.currency as string | undefined) ?? (customer.currency as string | null | undefined) ?? 'usd';
  const amount = (overrides.amount as number | undefined) ?? defaultAmount(currency);
  if (!['succeeded', 'failed', 'pending'].includes(status)) throw new Error(`fake stripe: unknown charge status ${status}`);
  const succeeded = status === 'succeeded';
  const failed = status === 'failed';
  const refunded = succeeded ? ((overrides.amount_refunded as number | undefined) ?? 0) : 0;
  const refunds = refunded > 0
    ? [mergeInto(template('refund'), {
      id: ctx.newId('re'), amount: refunded, charge: id, currency, created: created + DAY, reason: 'requested_by_customer',
      status: 'succeeded', balance_transaction: ctx.newId('txn'), customer: customer.id, payment_intent: null,
    })]
    : [];
  const outcome = status === 'pending' ? null : !failed
    ? { type: 'authorized', network_status: 'approved_by_network', reason: null, risk_level: 'normal', seller_message: 'Payment complete.', advice_code: null, network_advice_code: null, network_decline_code: null }
    : { type: 'issuer_declined', network_status: 'declined_by_network', reason: 'generic_decline', risk_level: 'normal', seller_message: 'The bank did not return any further details with this decline.', advice_code: 'try_again_later', network_advice_code: null, network_decline_code: null };
  const base = mergeInto(template('charge'), {
    id, customer: customer.id, created, currency, amount, livemode: ctx.livemode, status,
    paid: succeeded, captured: succeeded, amount_captured: succeeded ? amount : 0,
    amount_refunded: refunded, refunded: refunded > 0 && refunded >= amount,
    refunds: { object: 'list', data: refunds, has_more: false, total_count: refunds.length, url: `/v1/charges/${id}/refunds` },
    balance_transaction: succeeded ? ctx.newId('txn') : null, payment_method: ctx.newId('pm'),
    failure_code: failed ? 'card_declined' : null, failure_message: failed ? 'Your card was declined.' : null,
    outcome, description: null, receipt_email: customer.email ?? null,
    receipt_url: `https://pay.stripe.com/receipts/payment/${id}`,
    billing_details: { email: customer.email ?? null, name: customer.name ?? null },
  });
  return mergeInto(base, overrides);
}
