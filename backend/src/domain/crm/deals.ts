import { minorToDecimalString, PROPERTY_GROUP, type CrmObjectSettings } from '@stripe-hubspot-sync/contracts';
import type { ObjectRecord, RecordOf } from '../records';
import { stageOfStatus, type DealStageKey } from './deal-stages';

/**
 * The deals a customer's facts call for, as HubSpot deal properties: one per subscription (keyed by the unique
 * `stripe_subscription_id`), and, when the merchant turns it on, one closed-won deal per paid one-off Checkout
 * session (keyed by its own unique `stripe_checkout_session_id`, so that subscription deals stay easy to tell
 * apart in lists and reports). Pure: the records only move forward (ordering.ts), so the deals derived from them
 * never move back whatever order the events arrived in.
 *
 * - Name: the plan (price nickname, lookup key, product name…), then the customer's name when Stripe has one.
 * - Amount: what the subscription's items cost per month (`monthlyAmount`, whatever the status: a trial's deal is
 *   worth what it will bill, a canceled one what was lost), or per year (×12) when the merchant chose ARR; in the
 *   subscription's currency, as a decimal of major units. A Checkout deal's amount is the session's total.
 * - Close date: a trialing subscription closes when its trial ends; a subscription that had a trial closed then;
 *   otherwise when it was created. A canceled one closed when it ended (else when it was created). A Checkout deal
 *   closed when the session was created.
 * - The currency is given apart (`currency`, upper-case): whether the portal accepts it as `deal_currency_code`
 *   is for the writer to decide; `stripe_currency` always says it.
 */

export type DealKind = 'subscription' | 'checkout';

export const DEAL_KEY_PROPERTY: Record<DealKind, string> = {
  subscription: 'stripe_subscription_id',
  checkout: 'stripe_checkout_session_id',
};

export interface DesiredDeal {
  /** The Stripe object the deal stands for: a subscription id or a Checkout session id. */
  key: string;
  kind: DealKind;
  stage: DealStageKey;
  /** Upper-case ISO code of the amount, or null when Stripe named none. */
  currency: string | null;
  /** Deal properties, without `pipeline`, `dealstage` and `deal_currency_code` (the writer adds them). */
  properties: Record<string, string>;
}

export interface DealFacts {
  customerId: string;
  /** The customer's name in Stripe (null when none, or the customer was deleted). */
  customerName: string | null;
  records: readonly ObjectRecord[];
}

export function desiredDeals(facts: DealFacts, settings: CrmObjectSettings['deals']): DesiredDeal[] {
  const out: DesiredDeal[] = [];
  for (const r of facts.records) {
    if (r.kind === 'subscription') {
      const deal = subscriptionDeal(facts, r, settings.amount);
      if (deal) out.push(deal);
    } else if (r.kind === 'checkout_session' && settings.checkoutDeals) {
      const deal = checkoutDeal(facts, r);
      if (deal) out.push(deal);
    }
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function subscriptionDeal(facts: DealFacts, r: RecordOf<'subscription'>, basis: 'mrr' | 'arr'): DesiredDeal | null {
  const s = r.data;
  const stage = stageOfStatus(s.status);
  if (!stage) return null;
  const currency = s.currency ? s.currency.toUpperCase() : null;
  const closeAt =
    stage === 'canceled' ? (s.endedAt ?? s.created) : s.trialEnd !== null ? s.trialEnd : s.created;
  const properties: Record<string, string> = {
    dealname: withCustomer(s.plan ?? 'Subscription', facts.customerName),
    [DEAL_KEY_PROPERTY.subscription]: r.objectId,
    stripe_customer_id: facts.customerId,
    stripe_subscription_status: s.status,
  };
  if (s.currency) {
    properties.amount = minorToDecimalString(s.monthlyAmount * (basis === 'arr' ? 12 : 1), s.currency);
    properties.stripe_currency = currency!;
  }
  if (closeAt !== null) properties.closedate = isoOf(closeAt);
  return { key: r.objectId, kind: 'subscription', stage, currency, properties };
}

/** A paid one-off payment (mode `payment`, complete and paid); subscription and setup sessions make none. */
function checkoutDeal(facts: DealFacts, r: RecordOf<'checkout_session'>): DesiredDeal | null {
  const c = r.data;
  if (c.mode !== 'payment' || c.status !== 'complete' || c.paymentStatus !== 'paid') return null;
  const currency = c.currency ? c.currency.toUpperCase() : null;
  const named = (c.products ?? []).map((p) => p.name).filter((n): n is string => !!n);
  const properties: Record<string, string> = {
    dealname: withCustomer(named.length > 0 ? named.join(' + ') : 'One-off payment', facts.customerName),
    [DEAL_KEY_PROPERTY.checkout]: r.objectId,
    stripe_customer_id: facts.customerId,
  };
  if (c.currency && c.amountTotal !== null) {
    properties.amount = minorToDecimalString(c.amountTotal, c.currency);
    properties.stripe_currency = currency!;
  }
  if (c.created !== null) properties.closedate = isoOf(c.created);
  return { key: r.objectId, kind: 'checkout', stage: 'one_off_paid', currency, properties };
}

function withCustomer(title: string, name: string | null): string {
  const who = name?.trim();
  return who ? `${title} – ${who}` : title;
}

function isoOf(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString();
}

/** Our deal properties, created once per portal in a "Stripe" group on deals. */
export interface DealPropertyDefinition {
  name: string;
  label: string;
  description: string;
  type: 'string';
  fieldType: 'text';
  hasUniqueValue?: boolean;
}

export const DEAL_PROPERTY_GROUP = PROPERTY_GROUP;

export const DEAL_PROPERTIES: readonly DealPropertyDefinition[] = [
  {
    name: DEAL_KEY_PROPERTY.subscription,
    label: 'Stripe subscription ID',
    description: 'The Stripe subscription this deal stands for (set by the Stripe sync).',
    type: 'string',
    fieldType: 'text',
    hasUniqueValue: true,
  },
  {
    name: DEAL_KEY_PROPERTY.checkout,
    label: 'Stripe Checkout session ID',
    description: 'The one-off Stripe Checkout payment this deal stands for (set by the Stripe sync).',
    type: 'string',
    fieldType: 'text',
    hasUniqueValue: true,
  },
  { name: 'stripe_customer_id', label: 'Stripe customer ID', description: 'The Stripe customer who pays this deal.', type: 'string', fieldType: 'text' },
  {
    name: 'stripe_subscription_status',
    label: 'Stripe subscription status',
    description: "The subscription's status in Stripe (trialing, active, past_due, unpaid, paused, canceled…).",
    type: 'string',
    fieldType: 'text',
  },
  {
    name: 'stripe_currency',
    label: 'Stripe currency',
    description: 'The currency of the amount, as Stripe bills it (the deal currency is set too when the portal has it).',
    type: 'string',
    fieldType: 'text',
  },
];
