import fc from 'fast-check';
import { deriveMovements, MRR_MOVEMENT_KINDS, type Movement } from './movements';
import { historyOf, invoiceEvent, refundEvent, subscriptionEvent, type SubState } from '../../test/helpers/movement-events';

/**
 * Properties of the derivation over random but realistic histories: subscriptions walking Stripe's status graph
 * with price changes (every `*.updated` carrying its `previous_attributes`), sometimes ended by a deletion, with
 * invoices failing and recovering and charges refunded in parts.
 */

type Json = Record<string, unknown>;
const CUS = 'cus_prop';
const T = 1_750_000_000;

const NEXT: Record<string, string[]> = {
  incomplete: ['active', 'incomplete_expired'],
  trialing: ['active', 'past_due', 'paused', 'canceled'],
  active: ['past_due', 'canceled', 'paused'],
  past_due: ['active', 'unpaid', 'canceled'],
  unpaid: ['active', 'canceled'],
  paused: ['active', 'canceled'],
};
const PLANS: SubState[] = [
  { status: 'active', amount: 1000, plan: 'Basic' },
  { status: 'active', amount: 2000, plan: 'Plus' },
  { status: 'active', amount: 3000, plan: 'Pro' },
];

const subscriptionArb = fc.record({
  start: fc.constantFrom('active', 'trialing', 'incomplete'),
  plan: fc.nat({ max: 2 }),
  steps: fc.array(fc.record({ priceChange: fc.boolean(), pick: fc.nat({ max: 9 }) }), { maxLength: 6 }),
  deleteAtEnd: fc.boolean(),
});
const invoiceArb = fc.record({ failures: fc.nat({ max: 3 }), paid: fc.boolean() });
const refundArb = fc.array(fc.integer({ min: 1, max: 2000 }), { maxLength: 3 });

type SubPlan = { start: string; plan: number; steps: { priceChange: boolean; pick: number }[]; deleteAtEnd: boolean };

/** One subscription's events, at times T + 100·step + offset (so several subscriptions interleave). */
function subscriptionEvents(index: number, p: SubPlan, opts: { deletions: boolean }): Json[] {
  const sub = { id: `sub_${index}`, customer: CUS };
  const at = (step: number) => ({ id: `evt_s${index}_${step}`, created: T + 100 * step + index });
  let state: SubState = { ...PLANS[p.plan], status: p.start };
  const events = [subscriptionEvent('created', sub, state, at(0))];
  let step = 1;
  for (const s of p.steps) {
    const next = NEXT[state.status];
    if (!next) break;
    const before = state;
    const priced = s.priceChange && ['active', 'past_due', 'trialing'].includes(state.status);
    state = priced ? { ...PLANS[s.pick % 3], status: state.status } : { ...state, status: next[s.pick % next.length] };
    if (state.amount === before.amount && state.status === before.status) continue;
    events.push(subscriptionEvent('updated', sub, state, { ...at(step++), before }));
  }
  if (opts.deletions && p.deleteAtEnd && NEXT[state.status]) {
    events.push(subscriptionEvent('deleted', sub, { ...state, status: 'canceled' }, at(step)));
  }
  return events;
}

function paymentEvents(invoices: { failures: number; paid: boolean }[], refunds: number[][]): Json[] {
  const events: Json[] = [];
  invoices.forEach((inv, i) => {
    const invoice = { id: `in_${i}`, customer: CUS, amount: 1000 + i };
    for (let a = 1; a <= inv.failures; a++) events.push(invoiceEvent('payment_failed', invoice, { id: `evt_i${i}_${a}`, created: T + 50 + 100 * a, attempt: a }));
    if (inv.paid) events.push(invoiceEvent('paid', invoice, { id: `evt_i${i}_p`, created: T + 50 + 100 * (inv.failures + 1), attempt: inv.failures + 1 }));
  });
  refunds.forEach((parts, i) => {
    const charge = { id: `ch_${i}`, customer: CUS, amount: 10_000 };
    let total = 0;
    parts.forEach((part, j) => {
      const previous = total;
      total += part;
      events.push(refundEvent(charge, total, { id: `evt_r${i}_${j}`, created: T + 70 + 100 * j, previousRefunded: previous }));
    });
  });
  return events;
}

const historyArb = (opts: { maxSubscriptions: number; deletions: boolean }) =>
  fc
    .record({
      subscriptions: fc.array(subscriptionArb, { minLength: 1, maxLength: opts.maxSubscriptions }),
      invoices: fc.array(invoiceArb, { maxLength: 2 }),
      refunds: fc.array(refundArb, { maxLength: 2 }),
    })
    .map((h) => [...h.subscriptions.flatMap((s, i) => subscriptionEvents(i, s, opts)), ...paymentEvents(h.invoices, h.refunds)]);

/** A delivery: `events` shuffled by `keys`, some delivered two or three times. */
function delivery(events: Json[], keys: number[]): Json[] {
  const copies = events.flatMap((e, i) => Array.from({ length: 1 + (keys[i % keys.length] % 3) }, (_, c) => ({ e, k: keys[(i * 7 + c) % keys.length] * 1000 + i * 3 + c })));
  return copies.sort((a, b) => a.k - b.k).map((x) => x.e);
}
const keysArb = fc.array(fc.nat({ max: 10_000 }), { minLength: 1, maxLength: 60 });

const byId = (ms: Movement[]) => new Map(ms.map((m) => [m.id, m]));

describe('revenue movements: properties', () => {
  it('the same events in any order, duplicated, give the same movements', () => {
    fc.assert(
      fc.property(historyArb({ maxSubscriptions: 3, deletions: true }), keysArb, (events, keys) => {
        expect(deriveMovements(CUS, historyOf(delivery(events, keys)))).toEqual(deriveMovements(CUS, historyOf(events)));
      }),
      { numRuns: 150 },
    );
  });

  it('when every event says what it changed, nothing derived along any delivery is ever spurious or changes meaning', () => {
    fc.assert(
      fc.property(historyArb({ maxSubscriptions: 1, deletions: false }), keysArb, (events, keys) => {
        const final = byId(deriveMovements(CUS, historyOf(events)));
        const arrived: Json[] = [];
        for (const e of delivery(events, keys)) {
          arrived.push(e);
          for (const m of deriveMovements(CUS, historyOf(arrived))) {
            const f = final.get(m.id);
            expect(f).toBeDefined();
            expect({ kind: m.kind, amount: m.amount, occurredAt: m.occurredAt }).toEqual({ kind: f!.kind, amount: f!.amount, occurredAt: f!.occurredAt });
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it('a complete history’s MRR movements chain: each starts where the previous ended, and the last ends at the customer’s MRR', () => {
    fc.assert(
      fc.property(historyArb({ maxSubscriptions: 3, deletions: true }), (events) => {
        const history = historyOf(events);
        const mrr = deriveMovements(CUS, history).filter((m) => MRR_MOVEMENT_KINDS.includes(m.kind));
        let total = 0;
        for (const m of mrr) {
          expect(m.mrrBefore).toBe(total);
          expect(m.amount).toBe((m.mrrAfter as number) - (m.mrrBefore as number));
          total = m.mrrAfter as number;
        }
        const latest = new Map<string, { mrr: number; created: number }>();
        for (const e of history) {
          if (e.kind !== 'subscription') continue;
          const seen = latest.get(e.objectId);
          if (!seen || seen.created < e.version.created) latest.set(e.objectId, { mrr: e.data.mrr, created: e.version.created });
        }
        expect(total).toBe([...latest.values()].reduce((s, x) => s + x.mrr, 0));
      }),
      { numRuns: 200 },
    );
  });
});
