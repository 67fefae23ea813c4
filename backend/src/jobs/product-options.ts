import type { CustomerStatus, ProductBought, SyncSettings } from '@stripe-hubspot-sync/contracts';
import type { Queryable } from '../adapters/store/db';
import { accountProducts } from '../adapters/store/products-bought';
import { mergeProducts, namedLater } from '../domain/products-bought';
import { propertyDefinitions } from '../domain/properties';
import type { ContactWrite, CrmGateway } from '../domain/sync/ports';

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
 *
 * The list is read before the pass writes, and a contact is written from its customers' statuses as they are
 * when it is leased (a customer may have bought something since, or share the contact with one who did), so the
 * gateway of the pass (`withProductOptions`) also looks at the very values it sends: a product that is not an
 * option yet is added to the property first (one update, kept for the rest of the pass).
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

/**
 * `inner` whose contact writes first make every product they name an option of the products-bought property
 * (`known`: the options provisioned for this pass). `reread` gives the account's products again, for the names of
 * those that were not known; a product no customer's status names yet is labelled with its id until a later
 * pass knows its name.
 */
export function withProductOptions(
  inner: CrmGateway,
  settings: SyncSettings,
  known: readonly ProductBought[],
  reread: () => Promise<readonly ProductBought[]>,
): CrmGateway {
  const setting = settings.fields.productsBought;
  if (!setting?.enabled) return inner;
  const property = setting.property;
  const products = new Map(known.map((p) => [p.id, p]));
  const ensure = async (writes: readonly ContactWrite[]): Promise<void> => {
    const missing = new Set<string>();
    for (const w of writes) {
      for (const id of (w.properties[property] ?? '').split(';')) if (id !== '' && !products.has(id)) missing.add(id);
    }
    if (missing.size === 0) return;
    for (const p of await reread()) if (!products.has(p.id) || namedLater(p, products.get(p.id))) products.set(p.id, p);
    for (const id of missing) if (!products.has(id)) products.set(id, { id, name: null });
    const definition = propertyDefinitions(settings, [...products.values()]).find((d) => d.name === property);
    // A refusal (reported, not thrown) leaves the write to HubSpot's answer, as for any other property.
    if (definition) await inner.ensureProperties([definition]);
  };
  return {
    ...inner,
    async create(inputs) {
      await ensure(inputs);
      return inner.create(inputs);
    },
    async update(inputs) {
      await ensure(inputs);
      return inner.update(inputs);
    },
  };
}

/**
 * The options of this pass (`productOptionsFor`) and `gateway` made to add any product its writes name that is
 * not one of them yet (`withProductOptions`).
 */
export async function productOptionsGateway(
  db: Queryable,
  gateway: CrmGateway,
  settings: SyncSettings,
  account: string,
  livemode: boolean,
  statuses: readonly CustomerStatus[],
): Promise<{ gateway: CrmGateway; products: ProductBought[] }> {
  const products = await productOptionsFor(db, settings, account, livemode, statuses);
  const reread = () => productOptionsFor(db, settings, account, livemode, [], { maxAgeMs: 0 });
  return { gateway: withProductOptions(gateway, settings, products, reread), products };
}
