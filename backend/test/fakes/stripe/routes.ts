import type { FakeAccount } from './account';
import { invalidRequest, resourceMissing } from './errors';
import { expandPaths } from './expand';
import { paginate } from './list';
import { readBoolean, readEnum, readRange, readString, readStringArray, rejectUnknown, type Params } from './params';
import type { StripeJson } from './types';

/**
 * The GET endpoints the fake answers: retrieve and list of customers, subscriptions, invoices,
 * charges and events, with the list filters Stripe documents for each.
 */

type Predicate = (obj: StripeJson) => boolean;

interface Resource {
  name: string;
  collection(acc: FakeAccount): Map<string, StripeJson>;
  /** List parameters besides limit/starting_after/ending_before/expand. */
  params: readonly string[];
  /** The list filter; throws a 400 for a bad parameter value. */
  filter(q: Params, acc: FakeAccount): Predicate;
}

export interface RouteContext {
  account: FakeAccount;
  /** Events created before this (unix s) are gone, as after Stripe's 30 days. */
  eventsSince: number;
}

const SUBSCRIPTION_STATUS = ['active', 'past_due', 'unpaid', 'canceled', 'incomplete', 'incomplete_expired', 'trialing', 'paused', 'all', 'ended'] as const;
const INVOICE_STATUS = ['draft', 'open', 'paid', 'uncollectible', 'void'] as const;

const all = (...preds: (Predicate | undefined)[]): Predicate => {
  const ps = preds.filter((p): p is Predicate => p !== undefined);
  return (o) => ps.every((p) => p(o));
};
const field = (name: string, value: string | undefined): Predicate | undefined =>
  value === undefined ? undefined : (o) => o[name] === value;
const createdIn = (q: Params): Predicate | undefined => {
  const r = readRange(q, 'created');
  return r && ((o) => r(Number(o.created)));
};

const RESOURCES: Record<string, Resource> = {
  customers: {
    name: 'customer',
    collection: (a) => a.customers,
    params: ['email', 'created', 'test_clock'],
    filter: (q) => all((o) => !o.deleted, field('email', readString(q, 'email')), createdIn(q), field('test_clock', readString(q, 'test_clock'))),
  },
  subscriptions: {
    name: 'subscription',
    collection: (a) => a.subscriptions,
    params: ['customer', 'status', 'price', 'created', 'collection_method', 'test_clock'],
    filter: (q) => {
      const status = readEnum(q, 'status', SUBSCRIPTION_STATUS);
      const price = readString(q, 'price');
      const byStatus: Predicate =
        status === 'all' ? () => true
          : status === 'ended' ? (o) => o.status === 'canceled' || o.status === 'incomplete_expired'
            : status !== undefined ? (o) => o.status === status
              : (o) => o.status !== 'canceled';
      const byPrice: Predicate | undefined = price === undefined ? undefined
        : (o) => ((o.items as { data: { price: { id: string } }[] }).data ?? []).some((i) => i.price.id === price);
      return all(field('customer', readString(q, 'customer')), byStatus, byPrice, createdIn(q),
        field('collection_method', readString(q, 'collection_method')), field('test_clock', readString(q, 'test_clock')));
    },
  },
  invoices: {
    name: 'invoice',
    collection: (a) => a.invoices,
    params: ['customer', 'status', 'subscription', 'created', 'collection_method', 'due_date'],
    filter: (q) => {
      const sub = readString(q, 'subscription');
      const due = readRange(q, 'due_date');
      const bySub: Predicate | undefined = sub === undefined ? undefined
        : (o) => (o.parent as { subscription_details?: { subscription?: string } | null } | null)?.subscription_details?.subscription === sub;
      return all(field('customer', readString(q, 'customer')), field('status', readEnum(q, 'status', INVOICE_STATUS)), bySub,
        createdIn(q), field('collection_method', readString(q, 'collection_method')),
        due && ((o) => typeof o.due_date === 'number' && due(o.due_date)));
    },
  },
  charges: {
    name: 'charge',
    collection: (a) => a.charges,
    params: ['customer', 'created', 'payment_intent', 'transfer_group'],
    filter: (q) => all(field('customer', readString(q, 'customer')), createdIn(q),
      field('payment_intent', readString(q, 'payment_intent')), field('transfer_group', readString(q, 'transfer_group'))),
  },
  events: {
    name: 'event',
    collection: (a) => a.events,
    params: ['type', 'types', 'created', 'delivery_success'],
    filter: (q, acc) => {
      const type = readString(q, 'type');
      const types = readStringArray(q, 'types');
      if (type !== undefined && types !== undefined) throw invalidRequest('You may only specify one of these parameters: type, types.', undefined, 'types');
      if (types !== undefined && types.length > 20) throw invalidRequest('You may pass at most 20 types.', undefined, 'types');
      const delivered = readBoolean(q, 'delivery_success');
      const byType: Predicate | undefined = type === undefined ? undefined
        : type.includes('*') ? typePattern(type)
          : (o) => o.type === type;
      return all(byType, types && ((o) => types.includes(o.type as string)), createdIn(q),
        delivered === undefined ? undefined : (o) => acc.undeliveredEvents.has(o.id as string) !== delivered);
    },
  },
};

/** `customer.*`, `*.created`: `*` stands for any run of characters. */
function typePattern(pattern: string): Predicate {
  const re = new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return (o) => re.test(o.type as string);
}

/** Answers `GET /v1/<resource>[/<id>]`; undefined when the path is not one of ours. */
export function route(path: string, q: Params, ctx: RouteContext): StripeJson | undefined {
  const m = /^\/v1\/([a-z_]+)(?:\/([^/]+))?\/?$/.exec(path);
  const res = m ? RESOURCES[m[1] as string] : undefined;
  if (!m || !res) return undefined;
  const expand = readStringArray(q, 'expand') ?? [];
  const resolve = (id: string) => ctx.account.resolve(id);
  const isEvent = res.name === 'event';
  const visible = (o: StripeJson) => !isEvent || Number(o.created) >= ctx.eventsSince;
  if (m[2] !== undefined) {
    rejectUnknown(q, ['expand']);
    const id = decodeURIComponent(m[2]);
    const obj = res.collection(ctx.account).get(id);
    if (!obj || !visible(obj)) throw resourceMissing(res.name, id);
    return expandPaths(obj, expand, resolve);
  }
  rejectUnknown(q, ['limit', 'starting_after', 'ending_before', 'expand', ...res.params]);
  const keep = all(visible, res.filter(q, ctx.account));
  const page = paginate(res.collection(ctx.account), q, `/v1/${m[1]}`, res.name, keep);
  return expandPaths(page as unknown as StripeJson, expand, resolve);
}
