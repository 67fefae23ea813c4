import type { ProductRefs } from '../records';
import { field, idOf, isObject, list, str } from './read';

/**
 * The products a Stripe object names, kept compact: `{id, name}` per product, sorted by id. Webhook payloads
 * name a product by id (a string) unless it is expanded; the name is known only from an expanded product, or
 * from a Checkout line item's description (which defaults to the product's name).
 */

/** A product id usable as a HubSpot multi-select option value (`;` separates the values there). */
function productId(v: unknown): string | null {
  const id = idOf(v);
  return id && !id.includes(';') && id.length <= 255 ? id : null;
}

function productName(v: unknown): string | null {
  if (!isObject(v) || v.deleted === true) return null;
  const name = str(v.name)?.trim();
  return name ? name : null;
}

/** A product reference (an id or an expanded product), or null. */
function productRef(v: unknown, fallbackName: string | null = null): { id: string; name: string | null } | null {
  const id = productId(v);
  return id ? { id, name: productName(v) ?? fallbackName } : null;
}

/** The product of something priced: its `price.product`, else its legacy `plan.product`. */
function pricedProduct(o: unknown, fallbackName: string | null = null) {
  return productRef(field(o, 'price', 'product'), fallbackName) ?? productRef(field(o, 'plan', 'product'), fallbackName);
}

/** Distinct by id (the first name found wins), sorted by id. */
export function distinctProducts(refs: Iterable<{ id: string; name: string | null } | null>): ProductRefs {
  const byId = new Map<string, string | null>();
  for (const r of refs) {
    if (!r) continue;
    if (!byId.has(r.id) || (byId.get(r.id) === null && r.name !== null)) byId.set(r.id, r.name);
  }
  return [...byId.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([id, name]) => ({ id, name }));
}

/** A subscription's products: its items' prices (or plans), else the legacy subscription-level plan. */
export function subscriptionProducts(subscription: unknown): ProductRefs {
  const items = list(field(subscription, 'items')).map((i) => pricedProduct(i));
  return distinctProducts(items.length > 0 ? items : [pricedProduct(subscription)]);
}

/**
 * An invoice's products, from the lines the payload carries: `pricing.price_details.product` (API
 * 2025-03-31.basil and later), else the line's `price` or `plan` (earlier versions).
 */
export function invoiceProducts(invoice: unknown): ProductRefs {
  return distinctProducts(
    list(field(invoice, 'lines')).map((line) => productRef(field(line, 'pricing', 'price_details', 'product')) ?? pricedProduct(line)),
  );
}

/** A Checkout session's products, when its `line_items` are included (a line item's description names its product). */
export function checkoutProducts(session: unknown): ProductRefs {
  return distinctProducts(list(field(session, 'line_items')).map((item) => pricedProduct(item, str(field(item, 'description')))));
}
