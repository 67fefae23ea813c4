import type { SubscriptionStatusValue } from '@stripe-hubspot-sync/contracts';
import { subscriptionItems, type Item, type ItemPrice } from './prices';

/**
 * Monthly recurring revenue of a subscription, in minor units of its currency.
 *
 * Per item: billed units × unit amount, normalised to one month from the price's interval
 * (day ×365/12, week ×52/12, month ×1, year ÷12) and then ÷ interval_count. Items are summed and the total
 * rounded once to an integer (half away from zero).
 * - Unit amount: `unit_amount`, else `unit_amount_decimal` (fractions of a minor unit), else the legacy
 *   `plan.amount` / `plan.amount_decimal`.
 * - Billed units: `quantity` (1 when absent), through package pricing (`transform_quantity`: ÷ divide_by,
 *   rounded up or down) when the price has it.
 * - Tiered prices count when their tiers are in the payload (volume: the tier of the quantity; graduated: each
 *   tier's share, plus flat amounts); without tiers they count 0.
 * - Metered (usage-based) prices count 0: they bill what was used, which a subscription event does not tell.
 * - List prices: discounts, taxes and credits are not applied.
 * Which subscriptions count: `active` and `past_due` (still billing). `trialing` counts 0 — nothing is billed
 * yet, as in Stripe's own MRR; `unpaid`, `paused`, `incomplete`, `incomplete_expired` and `canceled` count 0.
 */

export const MRR_STATUSES: readonly SubscriptionStatusValue[] = ['active', 'past_due'];

export function countsTowardMrr(status: string | null | undefined): boolean {
  return status === 'active' || status === 'past_due';
}

/** Months per interval, as a fraction: numerator over 12. */
const PER_MONTH_TWELFTHS: Record<NonNullable<ItemPrice['interval']>, number> = {
  day: 365,
  week: 52,
  month: 12,
  year: 1,
};

function billedUnits(item: Item): number {
  const t = item.price.transform;
  if (!t) return item.quantity;
  const q = item.quantity / t.divideBy;
  return t.round === 'up' ? Math.ceil(q) : Math.floor(q);
}

function tieredAmount(tiers: NonNullable<ItemPrice['tiers']>, units: number): number {
  if (units <= 0) return 0;
  if (tiers.mode === 'volume') {
    const tier = tiers.tiers.find((t) => t.upTo === null || units <= t.upTo) ?? tiers.tiers[tiers.tiers.length - 1];
    return units * tier.unitAmount + tier.flatAmount;
  }
  let total = 0;
  let from = 0;
  for (const t of tiers.tiers) {
    if (units <= from) break;
    const to = t.upTo === null ? units : Math.min(units, t.upTo);
    if (to > from) total += (to - from) * t.unitAmount + t.flatAmount;
    from = t.upTo === null ? units : t.upTo;
  }
  return total;
}

/** One billing period's amount of one item, in (possibly fractional) minor units. */
export function itemPeriodAmount(item: Item): number {
  const p = item.price;
  if (p.metered) return 0;
  const units = billedUnits(item);
  if (p.unitAmount !== null) return p.unitAmount * units;
  if (p.tiers) return tieredAmount(p.tiers, units);
  return 0;
}

/** One item's monthly amount, unrounded. */
export function itemMonthlyAmount(item: Item): number {
  const p = item.price;
  if (!p.interval) return 0;
  // Multiply first, divide once: exact for integer amounts, so halves round the same way everywhere.
  return (itemPeriodAmount(item) * PER_MONTH_TWELFTHS[p.interval]) / (12 * p.intervalCount);
}

function roundHalfAwayFromZero(x: number): number {
  if (!Number.isFinite(x)) return 0;
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** What the subscription's items cost per month (minor units, integer), whatever its status. */
export function monthlyAmountOfItems(items: readonly Item[]): number {
  return roundHalfAwayFromZero(items.reduce((sum, i) => sum + itemMonthlyAmount(i), 0));
}

export function monthlyAmount(subscription: unknown): number {
  return monthlyAmountOfItems(subscriptionItems(subscription));
}

/** The subscription's contribution to MRR: its monthly amount when its status counts, else 0. */
export function subscriptionMrr(subscription: unknown): number {
  const status = (subscription as { status?: unknown } | null)?.status;
  return countsTowardMrr(typeof status === 'string' ? status : null) ? monthlyAmount(subscription) : 0;
}
