import type { StripeJson } from './types';

/**
 * Stripe's `expand[]`: each dotted path names a field holding an object id, which is replaced by the
 * object. Arrays on the path (a list's `data`) apply the rest of the path to each element; an id met
 * midway is expanded first (`customer.default_source`). Ids the fake does not store (prices,
 * products, payment intents, …) stay ids. Stored objects are never mutated: the path is copied.
 */
export function expandPaths(root: StripeJson, paths: readonly string[], resolve: (id: string) => StripeJson | undefined): StripeJson {
  let out = root;
  for (const path of paths) out = expandAt(out, path.split('.'), resolve) as StripeJson;
  return out;
}

function expandAt(node: unknown, segs: string[], resolve: (id: string) => StripeJson | undefined): unknown {
  if (Array.isArray(node)) return node.map((el) => expandAt(el, segs, resolve));
  if (typeof node !== 'object' || node === null) return node;
  const obj = node as StripeJson;
  const [seg, ...rest] = segs;
  if (seg === undefined || !(seg in obj)) return obj;
  let val = obj[seg];
  if (typeof val === 'string') val = resolve(val) ?? val;
  if (rest.length > 0) val = expandAt(val, rest, resolve);
  return val === obj[seg] ? obj : { ...obj, [seg]: val };
}
