import { minorToDecimalString } from '@stripe-hubspot-sync/contracts';
import { amount, count, currency, field, idOf, isObject, list, str } from './mappings/read';

/**
 * What a subscription item costs, read from its `price` (current API) or its legacy `plan`, whichever the
 * payload has (the price wins when both are there: the plan copy can be partial).
 */

export type Interval = 'day' | 'week' | 'month' | 'year';

export interface Tier {
  upTo: number | null;
  unitAmount: number;
  flatAmount: number;
}

export interface ItemPrice {
  /** Per-unit amount in minor units; may be fractional (unit_amount_decimal); null when tiered or unknown. */
  unitAmount: number | null;
  /** The exact per-unit amount as a decimal string of minor units, for labels. */
  unitAmountText: string | null;
  currency: string | null;
  interval: Interval | null;
  intervalCount: number;
  /** Usage-based (metered) prices bill what was used: they have no fixed monthly amount. */
  metered: boolean;
  tiers: { mode: 'graduated' | 'volume'; tiers: Tier[] } | null;
  /** Package pricing: billed units = quantity ÷ divideBy, rounded up or down. */
  transform: { divideBy: number; round: 'up' | 'down' } | null;
  nickname: string | null;
  lookupKey: string | null;
  productName: string | null;
}

export interface Item {
  price: ItemPrice;
  quantity: number;
}

const INTERVALS = new Set<string>(['day', 'week', 'month', 'year']);
const DECIMAL = /^\d+(\.\d+)?$/;

function decimalAmount(exact: unknown, decimal: unknown): { value: number; text: string } | null {
  const a = amount(exact);
  if (a !== null && a >= 0) return { value: a, text: String(a) };
  if (typeof decimal === 'string' && DECIMAL.test(decimal)) {
    const value = Number(decimal);
    if (value <= Number.MAX_SAFE_INTEGER) return { value, text: decimal };
  }
  return null;
}

function readTiers(source: Record<string, unknown>): ItemPrice['tiers'] {
  const mode = source.tiers_mode;
  if (mode !== 'graduated' && mode !== 'volume') return null;
  const tiers: Tier[] = [];
  for (const t of Array.isArray(source.tiers) ? source.tiers : []) {
    const upTo = field(t, 'up_to');
    tiers.push({
      upTo: typeof upTo === 'number' && Number.isFinite(upTo) ? upTo : null,
      unitAmount: decimalAmount(field(t, 'unit_amount'), field(t, 'unit_amount_decimal'))?.value ?? 0,
      flatAmount: decimalAmount(field(t, 'flat_amount'), field(t, 'flat_amount_decimal'))?.value ?? 0,
    });
  }
  return tiers.length > 0 ? { mode, tiers } : null;
}

function readTransform(v: unknown): ItemPrice['transform'] {
  const divideBy = field(v, 'divide_by');
  const round = field(v, 'round');
  if (typeof divideBy !== 'number' || !Number.isSafeInteger(divideBy) || divideBy < 1) return null;
  return { divideBy, round: round === 'up' ? 'up' : 'down' };
}

function productName(product: unknown): string | null {
  if (!isObject(product) || product.deleted === true) return null;
  return str(product.name);
}

/** The price facts of a `price` object (current API). */
function fromPrice(p: Record<string, unknown>): ItemPrice {
  const recurring = field(p, 'recurring');
  const interval = str(field(recurring, 'interval'));
  const unit = decimalAmount(p.unit_amount, p.unit_amount_decimal);
  return {
    unitAmount: unit?.value ?? null,
    unitAmountText: unit?.text ?? null,
    currency: currency(p.currency),
    interval: interval && INTERVALS.has(interval) ? (interval as Interval) : null,
    intervalCount: count(field(recurring, 'interval_count')) || 1,
    metered: field(recurring, 'usage_type') === 'metered' || idOf(field(recurring, 'meter')) !== null,
    tiers: p.billing_scheme === 'tiered' ? readTiers(p) : null,
    transform: readTransform(p.transform_quantity),
    nickname: str(p.nickname),
    lookupKey: str(p.lookup_key),
    productName: productName(p.product),
  };
}

/** The price facts of a legacy `plan` object. */
function fromPlan(p: Record<string, unknown>): ItemPrice {
  const interval = str(p.interval);
  const unit = decimalAmount(p.amount, p.amount_decimal);
  return {
    unitAmount: unit?.value ?? null,
    unitAmountText: unit?.text ?? null,
    currency: currency(p.currency),
    interval: interval && INTERVALS.has(interval) ? (interval as Interval) : null,
    intervalCount: count(p.interval_count) || 1,
    metered: p.usage_type === 'metered' || typeof p.meter === 'string',
    tiers: p.billing_scheme === 'tiered' ? readTiers(p) : null,
    transform: readTransform(p.transform_usage),
    nickname: str(p.nickname),
    lookupKey: null,
    productName: productName(p.product),
  };
}

function readItem(raw: unknown, fallbackQuantity?: unknown): Item | null {
  const price = field(raw, 'price');
  const plan = field(raw, 'plan');
  const facts = isObject(price) ? fromPrice(price) : isObject(plan) ? fromPlan(plan) : null;
  if (!facts) return null;
  const q = field(raw, 'quantity') ?? fallbackQuantity;
  const quantity = typeof q === 'number' && Number.isSafeInteger(q) && q >= 0 ? q : 1;
  return { price: facts, quantity };
}

/**
 * The priced items of a subscription: `items.data[]`, or for very old payloads without items the
 * subscription's own `plan` and `quantity`.
 */
export function subscriptionItems(subscription: unknown): Item[] {
  const items = list(field(subscription, 'items'))
    .map((i) => readItem(i))
    .filter((i): i is Item => i !== null);
  if (items.length > 0) return items;
  const legacy = readItem(subscription, field(subscription, 'quantity'));
  return legacy ? [legacy] : [];
}

/** "USD 20.00 / month", "JPY 500 / 3 months", "EUR usage-based / month". */
export function priceLabel(price: ItemPrice, fallbackCurrency: string | null): string {
  const cur = price.currency ?? fallbackCurrency;
  const code = cur ? cur.toUpperCase() : '';
  let amountText: string;
  if (price.metered) amountText = 'usage-based';
  else if (price.unitAmountText !== null && cur) amountText = minorToDecimalString(price.unitAmountText, cur);
  else if (price.tiers) amountText = 'tiered';
  else amountText = 'price';
  const every = price.interval
    ? price.intervalCount > 1
      ? ` / ${price.intervalCount} ${price.interval}s`
      : ` / ${price.interval}`
    : '';
  return `${code ? `${code} ` : ''}${amountText}${every}`;
}

/** An item's name: price nickname, else lookup key, else the expanded product's name, else a price label. */
export function itemName(item: Item, fallbackCurrency: string | null): string {
  const p = item.price;
  return p.nickname ?? p.lookupKey ?? p.productName ?? priceLabel(p, fallbackCurrency);
}

/** The plan name of a subscription: its items' distinct names joined with " + ", or null without items. */
export function planName(subscription: unknown): string | null {
  const fallback = currency(field(subscription, 'currency'));
  const names = [...new Set(subscriptionItems(subscription).map((i) => itemName(i, fallback)))];
  return names.length > 0 ? names.join(' + ') : null;
}
