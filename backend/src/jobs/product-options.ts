import type { CustomerStatus, ProductBought, SyncSettings } from '@stripe-hubspot-sync/contracts';
import type { Queryable } from '../adapters/store/db';
import { accountProducts } from '../adapters/store/products-bought';
import { mergeProducts, namedLater } from '../domain/products-bought';

/**
 * The options the products-bought multi-select needs in a push pass: every product the account's customers bought
 * (HubSpot refuses a value that is not an option), named as Stripe last named it.
 *
 * Reading them means reading every customer of the account, so each process keeps the answer per database,
 * account and mode, and reads again only when it is older than `maxAgeMs`, or when a customer about to be written
 * has a product it does not list or a newer name for one. The list only changes when a product appears or is
 * renamed, so the property definitions (and their hash, property-guard.ts) stay the same between those moments and
 * no pass pays for provisioning. Options are never removed in HubSpot (adapters/hubspot/properties.ts keeps
 * every existing option), so instances whose lists differ for a moment never take an option away from another.
 */

const DEFAULT_MAX_AGE_MS = 60_000;

interface Known {
  products: Map<string, ProductBought>;
  readAt: number;
}

/** Per database (a test process runs several), then per `account|livemode`. */
const known = new WeakMap<object, Map<string, Known>>();

function covers(entry: Known, statuses: readonly CustomerStatus[]): boolean {
  for (const s of statuses) {
    for (const p of s.productsBought ?? []) {
      const have = entry.products.get(p.id);
      if (!have || namedLater(p, have)) return false;
    }
  }
  return true;
}

export async function productOptionsFor(
  db: Queryable,
  settings: SyncSettings,
  account: string,
  livemode: boolean,
  statuses: readonly CustomerStatus[],
  opts: { maxAgeMs?: number; now?: () => number } = {},
): Promise<ProductBought[]> {
  if (!settings.fields.productsBought?.enabled) return [];
  const now = (opts.now ?? Date.now)();
  let byAccount = known.get(db);
  if (!byAccount) known.set(db, (byAccount = new Map()));
  const key = `${account}|${livemode}`;
  let entry = byAccount.get(key);
  const fresh = entry !== undefined && now - entry.readAt < (opts.maxAgeMs ?? DEFAULT_MAX_AGE_MS);
  if (!entry || !fresh || !covers(entry, statuses)) {
    const read = await accountProducts(db, account, livemode);
    // What this pass writes counts too, whatever a concurrent transaction let the read see.
    const merged = mergeProducts([read, ...statuses.map((s) => s.productsBought ?? [])]) ?? [];
    entry = { products: new Map(merged.map((p) => [p.id, p])), readAt: now };
    byAccount.set(key, entry);
  }
  return [...entry.products.values()];
}
