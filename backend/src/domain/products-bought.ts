import type { ProductBought } from '@stripe-hubspot-sync/contracts';
import type { ObjectRecord, ProductRefs } from './records';

/**
 * The products a customer has paid for, from its records (pure, order-independent):
 *
 * - a subscription's items, while it collects money (active, past_due) or once one of its invoices was paid with
 *   money — a trial that never converted bought nothing;
 * - an invoice's lines, once it is paid with money (a trial's zero invoice is `paid` too, and buys nothing);
 * - a Checkout session's line items, once it is paid (Stripe sends line items only when they are expanded).
 *
 * One entry per product id, sorted by id. The name is the one of the most recently versioned record that names
 * the product, with that record's time (`namedAt`): a product renamed in Stripe takes its new name when a payload
 * next names it. Null when no payload named it (webhooks name products by id unless they are expanded).
 */

const PAYING = new Set(['active', 'past_due']);

function paid(r: ObjectRecord): boolean {
  switch (r.kind) {
    case 'invoice':
      return r.data.status === 'paid' && r.data.amountPaid > 0;
    case 'checkout_session':
      return r.data.paymentStatus === 'paid';
    default:
      return false;
  }
}

function productsOf(r: ObjectRecord): ProductRefs {
  const products = 'products' in r.data ? r.data.products : undefined;
  return Array.isArray(products) ? products : [];
}

export function productsBought(records: readonly ObjectRecord[]): ProductBought[] {
  const paidSubscriptions = new Set<string>();
  for (const r of records) if (r.kind === 'invoice' && paid(r) && r.data.subscriptionId) paidSubscriptions.add(r.data.subscriptionId);
  const sources = records.filter((r) =>
    r.kind === 'subscription' ? PAYING.has(r.data.status) || paidSubscriptions.has(r.objectId) : paid(r),
  );
  const ids = new Set<string>();
  const names = new Map<string, { name: string; created: number; key: string }>();
  for (const r of sources) {
    const key = `${r.kind}:${r.objectId}`;
    for (const p of productsOf(r)) {
      if (typeof p?.id !== 'string' || p.id === '') continue;
      ids.add(p.id);
      if (typeof p.name !== 'string' || p.name === '') continue;
      const seen = names.get(p.id);
      if (!seen || r.version.created > seen.created || (r.version.created === seen.created && key > seen.key)) {
        names.set(p.id, { name: p.name, created: r.version.created, key });
      }
    }
  }
  return [...ids].sort().map((id) => {
    const named = names.get(id);
    return named ? { id, name: named.name, namedAt: named.created } : { id, name: null };
  });
}

/** Whether `a` names its product more recently than `b` (then by name, so the choice does not depend on order). */
export function namedLater(a: ProductBought, b: ProductBought | undefined): boolean {
  if (!a.name) return false;
  if (!b?.name) return true;
  const x = a.namedAt ?? -1;
  const y = b.namedAt ?? -1;
  return x !== y ? x > y : a.name > b.name;
}

/**
 * Several customers' products as one list: distinct ids, sorted, each with the newest name any of them knows.
 * Undefined when no customer's status has the fact (statuses derived before it existed).
 */
export function mergeProducts(lists: readonly (readonly ProductBought[] | undefined)[]): ProductBought[] | undefined {
  if (lists.every((l) => l === undefined)) return undefined;
  const byId = new Map<string, ProductBought>();
  for (const list of lists) {
    for (const p of list ?? []) {
      if (typeof p?.id !== 'string' || p.id === '') continue;
      const seen = byId.get(p.id);
      if (!seen || namedLater(p, seen)) byId.set(p.id, p);
    }
  }
  return [...byId.keys()].sort().map((id) => byId.get(id)!);
}

/** The latest of some times (unix seconds): null when none is known, undefined when none was even looked for. */
export function latestTime(times: readonly (number | null | undefined)[]): number | null | undefined {
  if (times.every((t) => t === undefined)) return undefined;
  const known = times.filter((t): t is number => typeof t === 'number' && Number.isFinite(t));
  return known.length > 0 ? Math.max(...known) : null;
}
