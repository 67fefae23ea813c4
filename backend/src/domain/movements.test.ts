import { deriveMovements, lastMrrChange, type Movement } from './movements';
import { historyEntry, subscriptionBefore } from './movements-history';
import {
  chargeSucceeded,
  disputeEvent,
  historyOf,
  invoiceEvent,
  refundEvent,
  subscriptionEvent,
} from '../../test/helpers/movement-events';

const CUS = 'cus_M';
const T = 1_760_000_000;
const DAY = 86_400;
const sub = { id: 'sub_1', customer: CUS };
const basic = { status: 'active', amount: 1000, plan: 'Basic' };
const pro = { status: 'active', amount: 3000, plan: 'Pro' };
const plus = { status: 'active', amount: 2000, plan: 'Plus' };

const summary = (ms: Movement[]) => ms.map((m) => ({ id: m.id, kind: m.kind, amount: m.amount, mrrBefore: m.mrrBefore, mrrAfter: m.mrrAfter }));

describe('revenue movements from a subscription history', () => {
  const e0 = subscriptionEvent('created', sub, basic, { id: 'evt_0', created: T });
  const e1 = subscriptionEvent('updated', sub, pro, { id: 'evt_1', created: T + DAY, before: basic });
  const e2 = subscriptionEvent('updated', sub, plus, { id: 'evt_2', created: T + 2 * DAY, before: pro });

  it('new, upgrade, downgrade with amounts and the customer’s MRR before and after', () => {
    expect(summary(deriveMovements(CUS, historyOf([e0, e1, e2])))).toEqual([
      { id: 'sub_1:evt_0:new', kind: 'new', amount: 1000, mrrBefore: 0, mrrAfter: 1000 },
      { id: 'sub_1:evt_1:upgrade', kind: 'upgrade', amount: 2000, mrrBefore: 1000, mrrAfter: 3000 },
      { id: 'sub_1:evt_2:downgrade', kind: 'downgrade', amount: -1000, mrrBefore: 3000, mrrAfter: 2000 },
    ]);
  });

  it('the downgrade delivered before the upgrade is a downgrade from its own before (never A→C), and nothing spurious appears in between', () => {
    const partial = deriveMovements(CUS, historyOf([e2, e0]));
    expect(summary(partial)).toEqual([
      { id: 'sub_1:evt_0:new', kind: 'new', amount: 1000, mrrBefore: 0, mrrAfter: 1000 },
      // Before it is told about e1, the MRR figures are what e2 itself says (3000 → 2000).
      { id: 'sub_1:evt_2:downgrade', kind: 'downgrade', amount: -1000, mrrBefore: 3000, mrrAfter: 2000 },
    ]);
    const full = deriveMovements(CUS, historyOf([e2, e1, e0, e2, e1]));
    expect(full.map((m) => m.id)).toEqual(['sub_1:evt_0:new', 'sub_1:evt_1:upgrade', 'sub_1:evt_2:downgrade']);
    expect(full).toEqual(deriveMovements(CUS, historyOf([e0, e1, e2])));
  });

  it('an update that changes neither status nor price is no movement', () => {
    const meta = subscriptionEvent('updated', sub, basic, { id: 'evt_m', created: T + 5, before: basic });
    expect(deriveMovements(CUS, historyOf([e0, meta])).map((m) => m.kind)).toEqual(['new']);
  });

  it('trial started, then converted; a trial canceled before converting is no MRR movement', () => {
    const trial = { ...pro, status: 'trialing' };
    const created = subscriptionEvent('created', sub, trial, { id: 'evt_t0', created: T });
    const converted = subscriptionEvent('updated', sub, pro, { id: 'evt_t1', created: T + 14 * DAY, before: trial });
    const ms = deriveMovements(CUS, historyOf([converted, created]));
    expect(summary(ms)).toEqual([
      { id: 'sub_1:evt_t0:trial_started', kind: 'trial_started', amount: 3000, mrrBefore: 0, mrrAfter: 0 },
      { id: 'sub_1:evt_t1:trial_converted', kind: 'trial_converted', amount: 3000, mrrBefore: 0, mrrAfter: 3000 },
    ]);
    const canceled = subscriptionEvent('deleted', sub, { ...trial, status: 'canceled' }, { id: 'evt_t2', created: T + 3 * DAY });
    expect(deriveMovements(CUS, historyOf([created, canceled])).map((m) => m.kind)).toEqual(['trial_started']);
  });

  it('churn on deletion takes the status before from the previous version; a deletion of a subscription never seen is nothing', () => {
    const deleted = subscriptionEvent('deleted', sub, { ...pro, status: 'canceled' }, { id: 'evt_d', created: T + 3 * DAY });
    expect(summary(deriveMovements(CUS, historyOf([deleted, e0, e1])))).toContainEqual({
      id: 'sub_1:evt_d:churn',
      kind: 'churn',
      amount: -3000,
      mrrBefore: 3000,
      mrrAfter: 0,
    });
    expect(deriveMovements(CUS, historyOf([deleted]))).toEqual([]);
  });

  it('reactivation: an ended subscription live again, and a new subscription after churn', () => {
    const unpaid = subscriptionEvent('updated', sub, { ...basic, status: 'unpaid' }, { id: 'evt_u', created: T + DAY, before: { ...basic, status: 'past_due' } });
    const back = subscriptionEvent('updated', sub, basic, { id: 'evt_b', created: T + 2 * DAY, before: { ...basic, status: 'unpaid' } });
    expect(deriveMovements(CUS, historyOf([e0, unpaid, back])).map((m) => m.id)).toEqual([
      'sub_1:evt_0:new',
      'sub_1:evt_u:churn',
      'sub_1:evt_b:reactivation',
    ]);

    const deleted = subscriptionEvent('deleted', sub, { ...basic, status: 'canceled' }, { id: 'evt_d', created: T + DAY });
    const sub2 = subscriptionEvent('created', { id: 'sub_2', customer: CUS }, pro, { id: 'evt_n', created: T + 30 * DAY });
    expect(summary(deriveMovements(CUS, historyOf([sub2, deleted, e0])))).toEqual([
      { id: 'sub_1:evt_0:new', kind: 'new', amount: 1000, mrrBefore: 0, mrrAfter: 1000 },
      { id: 'sub_1:evt_d:churn', kind: 'churn', amount: -1000, mrrBefore: 1000, mrrAfter: 0 },
      { id: 'sub_2:evt_n:reactivation', kind: 'reactivation', amount: 3000, mrrBefore: 0, mrrAfter: 3000 },
    ]);
  });

  it('a second subscription adds to the customer’s MRR; another currency does not', () => {
    const second = subscriptionEvent('created', { id: 'sub_2', customer: CUS }, pro, { id: 'evt_s', created: T + DAY });
    const eur = subscriptionEvent('created', { id: 'sub_3', customer: CUS }, plus, { id: 'evt_e', created: T + 2 * DAY });
    ((eur.data as { object: Record<string, unknown> }).object).currency = 'eur';
    expect(summary(deriveMovements(CUS, historyOf([eur, second, e0])))).toEqual([
      { id: 'sub_1:evt_0:new', kind: 'new', amount: 1000, mrrBefore: 0, mrrAfter: 1000 },
      { id: 'sub_2:evt_s:new', kind: 'new', amount: 3000, mrrBefore: 1000, mrrAfter: 4000 },
      { id: 'sub_3:evt_e:new', kind: 'new', amount: 2000, mrrBefore: 0, mrrAfter: 2000 },
    ]);
  });

  it('versions read from the API are context, never a movement', () => {
    const snapshot = historyOf([subscriptionEvent('updated', sub, basic, { id: 'refresh_1', created: T })], false);
    const deleted = subscriptionEvent('deleted', sub, { ...basic, status: 'canceled' }, { id: 'evt_d', created: T + DAY });
    expect(deriveMovements(CUS, snapshot)).toEqual([]);
    expect(deriveMovements(CUS, [...snapshot, ...historyOf([deleted])]).map((m) => m.id)).toEqual(['sub_1:evt_d:churn']);
  });

  it('ignores versions of other customers', () => {
    expect(deriveMovements('cus_other', historyOf([e0, e1]))).toEqual([]);
  });
});

describe('payment movements', () => {
  const inv = { id: 'in_1', customer: CUS, amount: 1500, subscription: 'sub_1' };
  it('one failure per attempt, then recovered when paid', () => {
    const f1 = invoiceEvent('payment_failed', inv, { id: 'evt_f1', created: T, attempt: 1 });
    const f2 = invoiceEvent('payment_failed', inv, { id: 'evt_f2', created: T + 3 * DAY, attempt: 2 });
    const paid = invoiceEvent('paid', inv, { id: 'evt_p', created: T + 5 * DAY, attempt: 3 });
    const ms = deriveMovements(CUS, historyOf([paid, f2, f1, f2]));
    expect(ms.map((m) => [m.id, m.kind, m.amount, m.occurredAt])).toEqual([
      ['in_1:failed:1', 'payment_failed', 1500, T],
      ['in_1:failed:2', 'payment_failed', 1500, T + 3 * DAY],
      ['in_1:recovered', 'payment_recovered', 1500, T + 5 * DAY],
    ]);
    expect(ms[0]).toMatchObject({ currency: 'usd', mrrBefore: null, mrrAfter: null, subjectId: 'in_1', details: { attempt: 1, subscriptionId: 'sub_1' } });
    // Paid at the first attempt: no recovery.
    expect(deriveMovements(CUS, historyOf([invoiceEvent('paid', inv, { id: 'evt_ok', created: T, attempt: 1 })]))).toEqual([]);
  });

  it('refunds: each refund once, from the event’s own previous total, else the previous version', () => {
    const ch = { id: 'ch_1', customer: CUS, amount: 5000 };
    const r1 = refundEvent(ch, 1000, { id: 'evt_r1', created: T + DAY, previousRefunded: 0 });
    const r2 = refundEvent(ch, 3000, { id: 'evt_r2', created: T + 2 * DAY, previousRefunded: 1000 });
    const expected = [
      ['ch_1:refund:1000', 1000],
      ['ch_1:refund:3000', 2000],
    ];
    expect(deriveMovements(CUS, historyOf([r2, r1, r2])).map((m) => [m.id, m.amount])).toEqual(expected);
    expect(deriveMovements(CUS, historyOf([r2])).map((m) => [m.id, m.amount])).toEqual([['ch_1:refund:3000', 2000]]);
    const bare1 = refundEvent(ch, 1000, { id: 'evt_r1', created: T + DAY });
    const bare2 = refundEvent(ch, 3000, { id: 'evt_r2', created: T + 2 * DAY });
    const paid = chargeSucceeded(ch, { id: 'evt_c', created: T });
    expect(deriveMovements(CUS, historyOf([bare2, paid, bare1])).map((m) => [m.id, m.amount])).toEqual(expected);
  });

  it('a dispute once, at its creation', () => {
    const dp = disputeEvent({ id: 'dp_1', charge: 'ch_1', customer: CUS, amount: 5000 }, { id: 'evt_dp', created: T });
    expect(deriveMovements(CUS, historyOf([dp, dp]))).toEqual([
      expect.objectContaining({ id: 'dp_1', kind: 'dispute', amount: 5000, occurredAt: T, details: expect.objectContaining({ chargeId: 'ch_1', reason: 'fraudulent' }) }),
    ]);
  });
});

describe('versions that cannot move revenue are not kept', () => {
  it('a charge with nothing refunded, an invoice neither failed nor paid', () => {
    expect(historyOf([chargeSucceeded({ id: 'ch_0', customer: CUS, amount: 100 }, { created: T })])).toEqual([]);
    // An open invoice no attempt of which failed (here: an `invoice.paid` delivery of a still-open invoice).
    const open = invoiceEvent('paid', { id: 'in_o', customer: CUS, amount: 100 }, { created: T, attempt: 0 });
    ((open.data as { object: Record<string, unknown> }).object).status = 'open';
    expect(historyOf([open])).toEqual([]);
    expect(historyOf([invoiceEvent('payment_failed', { id: 'in_f', customer: CUS, amount: 100 }, { created: T, attempt: 1 })])).toHaveLength(1);
  });
});

describe('last MRR change', () => {
  it('is the latest movement that changed MRR', () => {
    const e0 = subscriptionEvent('created', sub, basic, { id: 'evt_0', created: T });
    const e1 = subscriptionEvent('updated', sub, plus, { id: 'evt_1', created: T + DAY, before: basic });
    const refund = refundEvent({ id: 'ch_9', customer: CUS, amount: 900 }, 900, { id: 'evt_r', created: T + 2 * DAY, previousRefunded: 0 });
    expect(lastMrrChange(deriveMovements(CUS, historyOf([e0, e1, refund])))).toEqual({
      at: T + DAY,
      date: new Date((T + DAY) * 1000).toISOString(),
      amount: 1000,
      currency: 'usd',
      kind: 'upgrade',
    });
    expect(lastMrrChange(deriveMovements(CUS, historyOf([refund])))).toBeNull();
  });

  it('never throws on a time beyond what a date holds', () => {
    const far = subscriptionEvent('created', sub, basic, { id: 'evt_far', created: 2 ** 52 });
    expect(lastMrrChange(deriveMovements(CUS, historyOf([far])))).toMatchObject({ at: 2 ** 52, date: '9999-12-31T23:59:59.999Z', kind: 'new' });
  });
});

describe('what an event says the subscription was before it', () => {
  const after = { status: 'active' as const, monthlyAmount: 2000, plan: 'Plus', currency: 'usd' };
  it('created: nothing; updated: previous_attributes over the object; otherwise unknown', () => {
    expect(subscriptionBefore('customer.subscription.created', null, after)).toBeNull();
    expect(subscriptionBefore('customer.subscription.updated', { metadata: {} }, after)).toEqual({ status: 'active', monthlyAmount: 2000, plan: 'Plus' });
    expect(subscriptionBefore('customer.subscription.updated', { status: 'trialing' }, after)).toEqual({ status: 'trialing', monthlyAmount: 2000, plan: 'Plus' });
    expect(subscriptionBefore('customer.subscription.deleted', null, after)).toBeUndefined();
    expect(subscriptionBefore('customer.subscription.updated', { status: 'sleeping' }, after)).toBeUndefined();
    expect(subscriptionBefore('customer.subscription.updated', { plan: { amount: 1 } }, after)).toBeUndefined();
    expect(subscriptionBefore('customer.subscription.updated', { items: 'garbage' }, after)).toBeUndefined();
  });

  it('keeps no personal data in a version', () => {
    const [inv] = historyOf([invoiceEvent('paid', { id: 'in_p', customer: CUS, amount: 1 }, { created: T, attempt: 1 })]);
    expect(inv.data).not.toHaveProperty('email');
    expect(inv.data).not.toHaveProperty('name');
    expect(Object.keys(inv.data).sort()).toEqual(
      ['amountDue', 'amountPaid', 'amountRemaining', 'attemptCount', 'currency', 'failureReason', 'lastAttemptFailed', 'number', 'paidAt', 'paidOutOfBand', 'status', 'subscriptionId'].sort(),
    );
    const customer = { kind: 'customer', objectId: CUS, customerId: CUS, version: { created: T, rank: 0, eventId: 'e' }, data: {} };
    expect(historyEntry(customer as never, { fromEvent: true, eventType: 'customer.created', previous: null })).toBeNull();
  });
});
