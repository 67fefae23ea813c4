import fc from 'fast-check';
import { stripeEvent, stripeObject } from '../../test/helpers/stripe-fixtures';
import { FIELD_CATALOG, SUBSCRIPTION_STATUSES } from '@stripe-hubspot-sync/contracts';
import { defaultSettings } from '@stripe-hubspot-sync/contracts';
import { deriveCustomerStatus } from './customer-view';
import { mapEvent } from './events';
import { isNewer } from './ordering';
import { toHubSpotProperties } from './properties';
import { recordKey, type ObjectRecord } from './records';

type Json = Record<string, unknown>;
const CUS = 'cus_P';
const META = { accountId: 'acct_1', livemode: false, lastSyncedAt: null, updatedAt: '2026-01-01T00:00:00.000Z' };

// ---------- Arbitraries: Stripe's fixture shapes with random facts ----------

const amountArb = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 0, max: 1_000_000 }),
  fc.constant(Number.MAX_SAFE_INTEGER),
  fc.integer({ min: -1_000_000, max: -1 }),
  fc.constant(null),
  fc.double(),
  fc.string({ maxLength: 4 }),
);
const timestampArb = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 1_000_000_000, max: 2_000_000_000 }),
  fc.constant(Number.MAX_SAFE_INTEGER),
  fc.constant(1e300),
  fc.constant(-1),
  fc.constant(null),
);
const currencyArb = fc.constantFrom('usd', 'jpy', 'kwd', 'EUR', 'isk', null, 'zz', 'us dollars');
const emailArb = fc.oneof(fc.constant(null), fc.emailAddress(), fc.string({ maxLength: 6 }));
const statusArb = (known: readonly string[]) => fc.oneof(fc.constantFrom(...known), fc.string({ maxLength: 12 }), fc.constant(null));
const customerArb = fc.oneof(
  fc.constant(CUS),
  fc.constant(null),
  emailArb.map((email) => stripeObject('customer', { id: CUS, email })),
  fc.constant({ id: CUS, object: 'customer', deleted: true }),
);

const priceArb = fc.record({
  unit_amount: amountArb,
  unit_amount_decimal: fc.oneof(fc.constant(null), fc.constant('12.5'), fc.constant('9'.repeat(40)), fc.string({ maxLength: 5 })),
  currency: currencyArb,
  billing_scheme: fc.constantFrom('per_unit', 'tiered'),
  tiers_mode: fc.constantFrom('volume', 'graduated', null),
  tiers: fc.array(fc.record({ up_to: fc.oneof(fc.constant(null), fc.integer({ min: -5, max: 50 })), unit_amount: amountArb, flat_amount: amountArb }), { maxLength: 3 }),
  transform_quantity: fc.oneof(fc.constant(null), fc.record({ divide_by: fc.integer({ min: -2, max: 10 }), round: fc.constantFrom('up', 'down', 'x') })),
  recurring: fc.record({
    interval: fc.constantFrom('day', 'week', 'month', 'year', 'fortnight', null),
    interval_count: fc.oneof(fc.integer({ min: -1, max: 36 }), fc.constant(null)),
    usage_type: fc.constantFrom('licensed', 'metered'),
    meter: fc.constantFrom(null, 'mtr_1'),
  }),
  nickname: fc.oneof(fc.constant(null), fc.string({ maxLength: 8 })),
});
const itemArb = fc.record({
  id: fc.constant('si_1'),
  quantity: amountArb,
  current_period_end: timestampArb,
  price: priceArb.map((p) => stripeObject('price', p)),
});

const subscriptionArb = fc.record({
  id: fc.constantFrom('sub_1', 'sub_2'),
  customer: customerArb,
  status: statusArb(SUBSCRIPTION_STATUSES),
  currency: currencyArb,
  created: timestampArb,
  current_period_end: timestampArb,
  cancel_at_period_end: fc.boolean(),
  items: fc.array(itemArb, { maxLength: 3 }).map((data) => ({ object: 'list', data })),
});
const invoiceArb = fc.record({
  id: fc.constantFrom('in_1', 'in_2'),
  customer: customerArb,
  status: statusArb(['draft', 'open', 'paid', 'uncollectible', 'void']),
  amount_due: amountArb,
  amount_paid: amountArb,
  amount_remaining: amountArb,
  attempt_count: amountArb,
  currency: currencyArb,
  created: timestampArb,
  next_payment_attempt: timestampArb,
  customer_email: emailArb,
  status_transitions: fc.record({ paid_at: timestampArb }),
  subscription: fc.constantFrom('sub_1', 'sub_2', null),
});
const chargeArb = fc.record({
  id: fc.constantFrom('ch_1', 'ch_2'),
  customer: customerArb,
  status: statusArb(['pending', 'failed', 'succeeded']),
  amount: amountArb,
  amount_captured: amountArb,
  amount_refunded: amountArb,
  refunded: fc.boolean(),
  currency: currencyArb,
  created: timestampArb,
  failure_message: fc.oneof(fc.constant(null), fc.string({ maxLength: 10 })),
});
const disputeArb = fc.record({
  id: fc.constantFrom('dp_1'),
  charge: fc.constantFrom('ch_1', 'ch_2', null),
  amount: amountArb,
  currency: currencyArb,
  status: statusArb(['needs_response', 'under_review', 'won', 'lost']),
});
const checkoutArb = fc.record({
  id: fc.constantFrom('cs_1'),
  customer: customerArb,
  customer_details: fc.record({ email: emailArb, name: fc.oneof(fc.constant(null), fc.string({ maxLength: 6 })) }),
  payment_status: statusArb(['paid', 'unpaid', 'no_payment_required']),
});
const customerObjArb = fc.record({
  id: fc.constant(CUS),
  email: emailArb,
  currency: currencyArb,
  created: timestampArb,
  delinquent: fc.oneof(fc.boolean(), fc.constant(null)),
});

/** [event type, Stripe resource, arbitrary of overrides] for every catalog event type. */
const EVENT_KINDS: [string, string, fc.Arbitrary<Json>][] = [
  ['customer.created', 'customer', customerObjArb],
  ['customer.updated', 'customer', customerObjArb],
  ['customer.deleted', 'customer', customerObjArb],
  ['checkout.session.completed', 'checkout.session', checkoutArb],
  ['customer.subscription.created', 'subscription', subscriptionArb],
  ['customer.subscription.updated', 'subscription', subscriptionArb],
  ['customer.subscription.deleted', 'subscription', subscriptionArb],
  ['invoice.paid', 'invoice', invoiceArb],
  ['invoice.payment_failed', 'invoice', invoiceArb],
  ['invoice.upcoming', 'invoice', invoiceArb],
  ['charge.succeeded', 'charge', chargeArb],
  ['charge.refunded', 'charge', chargeArb],
  ['charge.dispute.created', 'dispute', disputeArb],
];

/** One event; ids are made unique per history by `withUniqueIds` (Stripe never reuses an event id). */
const eventArb = (created: fc.Arbitrary<number>) =>
  fc.tuple(fc.constantFrom(...EVENT_KINDS), created, fc.nat()).chain(([[type, resource, overrides], at, n]) =>
    overrides.map((o) => {
      const object = stripeObject(resource, o);
      if (type === 'invoice.upcoming') delete object.id;
      return stripeEvent(type, object, { id: `evt_${n.toString(36)}`, created: at, livemode: false });
    }),
  );

const withUniqueIds = (events: Json[]): Json[] => events.map((e, i) => ({ ...e, id: `${String(e.id)}_${i}` }));

// ---------- Checks ----------

function finiteNumbersOnly(value: unknown, path = 'data'): void {
  if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`${path} is ${value}`);
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) finiteNumbersOnly(v, `${path}.${k}`);
  }
}

const DECIMAL = /^-?\d+(\.\d+)?$/;
function checkProperties(props: Record<string, string>): void {
  for (const f of FIELD_CATALOG) {
    const v = props[f.defaultProperty];
    expect(typeof v).toBe('string');
    if (v === '') continue;
    // Free text (plan names, failure messages) may say anything; every other value is generated by us.
    if (f.type !== 'string') expect(v).not.toMatch(/NaN|undefined|Infinity|null|e\+/);
    if (f.type === 'number') expect(v).toMatch(DECIMAL);
    if (f.type === 'date') expect(Number(v) % 86_400_000).toBe(0);
    if (f.type === 'date' || f.type === 'datetime') {
      expect(v).toMatch(/^\d+$/);
      expect(Number.isNaN(new Date(Number(v)).getTime())).toBe(false);
    }
    if ('options' in f && f.options) expect(f.options as readonly string[]).toContain(v);
  }
}

function statusOf(records: ObjectRecord[]) {
  return deriveCustomerStatus(records, { ...META, customerId: CUS });
}

function mapAll(events: Json[]): ObjectRecord[] {
  const out: ObjectRecord[] = [];
  for (const e of events) {
    const m = mapEvent(e);
    if ('skip' in m) continue;
    // The engine resolves a dispute's customer from its charge; here every object is this customer's.
    out.push(...m.records.map((r) => ({ ...r, customerId: r.customerId ?? CUS }) as ObjectRecord));
  }
  return out;
}

/** Folds records in the given order as the store does (a record only moves to a greater version). */
function fold(records: ObjectRecord[]): ObjectRecord[] {
  const stored = new Map<string, ObjectRecord>();
  for (const r of records) {
    const key = recordKey(r);
    if (isNewer(r.version, stored.get(key)?.version)) stored.set(key, r);
  }
  return [...stored.values()];
}

describe('domain properties (fast-check)', () => {
  it('mappers never throw on random objects of the fixture shapes, and properties never carry NaN or bad dates', () => {
    fc.assert(
      fc.property(fc.array(eventArb(timestampArb.filter((t): t is number => typeof t === 'number' && t >= 0 && t < 1e16)), { minLength: 1, maxLength: 8 }).map(withUniqueIds), (events) => {
        for (const e of events) {
          const out = mapEvent(e);
          if ('skip' in out) {
            expect(out.skip).not.toMatch(/^could not map/);
            continue;
          }
          for (const r of out.records) {
            finiteNumbersOnly(r.data);
            expect(Number.isInteger(r.version.rank) && r.version.rank >= 0 && r.version.rank < 2 ** 31).toBe(true);
          }
        }
        const status = statusOf(fold(mapAll(events)));
        finiteNumbersOnly(status);
        checkProperties(toHubSpotProperties(status, defaultSettings()));
      }),
      { numRuns: 200 },
    );
  });

  it('folding a history with same-second ties in any order (and with duplicates) gives the same status', () => {
    const history = fc.array(eventArb(fc.integer({ min: 1_700_000_000, max: 1_700_000_002 })), { minLength: 1, maxLength: 25 }).map(withUniqueIds);
    fc.assert(
      fc.property(
        history.chain((events) => {
          const records = mapAll(events);
          return fc.tuple(
            fc.constant(records),
            fc.shuffledSubarray(records, { minLength: records.length, maxLength: records.length }),
            fc.shuffledSubarray(records, { minLength: records.length, maxLength: records.length }),
            fc.subarray(records),
          );
        }),
        ([records, orderA, orderB, duplicates]) => {
          if (records.length === 0) return;
          const a = statusOf(fold(orderA));
          const b = statusOf(fold([...orderB, ...duplicates]));
          expect(b).toEqual(a);
          expect(statusOf(fold(records).reverse())).toEqual(a);
        },
      ),
      { numRuns: 200 },
    );
  });
});
