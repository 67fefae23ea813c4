import { invalidRequest, resourceMissing } from './errors';
import { readLimit, readString, type Params } from './params';
import type { StripeJson } from './types';

/**
 * Stripe's cursor pagination over one collection: newest first (`created` descending; same-second
 * objects newest-added first), `limit` 1..100 (default 10), `starting_after` / `ending_before` (an
 * object id, mutually exclusive), answered as `{object:'list', data, has_more, url}`.
 */

export interface ListPage {
  object: 'list';
  data: StripeJson[];
  has_more: boolean;
  url: string;
}

interface Entry {
  obj: StripeJson;
  pos: number;
}

interface Order {
  ids: string[];
  objs: StripeJson[];
  created: number[];
}

const orders = new WeakMap<Map<string, StripeJson>, Order>();

/**
 * The collection's objects newest first. The order is cached per collection and re-checked on each
 * call (same ids, same objects, same `created`), so tests may change the maps directly.
 */
export function newestFirst(map: Map<string, StripeJson>): StripeJson[] {
  const cached = orders.get(map);
  if (cached && isCurrent(cached, map)) return cached.objs;
  const rows: { id: string; obj: StripeJson; created: number; idx: number }[] = [];
  let idx = 0;
  for (const [id, obj] of map) rows.push({ id, obj, created: Number(obj.created ?? 0), idx: idx++ });
  rows.sort((a, b) => b.created - a.created || b.idx - a.idx);
  const order = { ids: rows.map((r) => r.id), objs: rows.map((r) => r.obj), created: rows.map((r) => r.created) };
  orders.set(map, order);
  return order.objs;
}

function isCurrent(o: Order, map: Map<string, StripeJson>): boolean {
  if (o.ids.length !== map.size) return false;
  for (let i = 0; i < o.ids.length; i++) {
    const obj = map.get(o.ids[i] as string);
    if (obj !== o.objs[i] || Number(obj?.created ?? 0) !== o.created[i]) return false;
  }
  return true;
}

export function paginate(
  map: Map<string, StripeJson>,
  q: Params,
  url: string,
  resourceName: string,
  keep: (obj: StripeJson) => boolean,
): ListPage {
  const limit = readLimit(q);
  const after = readString(q, 'starting_after');
  const before = readString(q, 'ending_before');
  if (after !== undefined && before !== undefined) {
    throw invalidRequest('You may only specify one of these parameters: ending_before, starting_after.', undefined, 'ending_before');
  }
  const ordered = newestFirst(map);
  const cursorId = after ?? before;
  let cursorPos = -1;
  if (cursorId !== undefined) {
    cursorPos = ordered.findIndex((o) => o.id === cursorId);
    if (cursorPos < 0) throw resourceMissing(resourceName, cursorId, after !== undefined ? 'starting_after' : 'ending_before');
  }
  const kept: Entry[] = [];
  ordered.forEach((obj, pos) => {
    if (keep(obj)) kept.push({ obj, pos });
  });
  let page: Entry[];
  let hasMore: boolean;
  if (before !== undefined) {
    const newer = kept.filter((e) => e.pos < cursorPos);
    page = newer.slice(Math.max(0, newer.length - limit));
    hasMore = newer.length > limit;
  } else {
    const older = after !== undefined ? kept.filter((e) => e.pos > cursorPos) : kept;
    page = older.slice(0, limit);
    hasMore = older.length > limit;
  }
  return { object: 'list', data: page.map((e) => e.obj), has_more: hasMore, url };
}
