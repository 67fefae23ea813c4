import { stripeEvent, stripeObject } from '../../../test/helpers/stripe-fixtures';
import { mapEvent } from '../events';
import type { SubscriptionData } from '../records';

type Json = Record<string, unknown>;

function item(price: Json, extra: Json = {}): Json {
  return { object: 'subscription_item', id: 'si_1', quantity: 1, price: stripeObject('price', { transform_quantity: null, ...price }), ...extra };
}

function mapSub(type: string, overrides: Json): { data: SubscriptionData; customerId: string | null; email: string | null } {
  const out = mapEvent(stripeEvent(type, stripeObject('subscription', overrides)));
  if ('skip' in out) throw new Error(out.skip);
  return { data: out.records[0].data as SubscriptionData, customerId: out.customerId, email: out.email };
}

describe('subscription mapper', () => {
  it('maps status, plan, MRR, renewal and cancellation (period end on items: API 2025-03-31 and later)', () => {
    const { data, customerId } = mapSub('customer.subscription.created', {
      id: 'sub_1',
      customer: 'cus_A',
      status: 'active',
      cancel_at_period_end: false,
      items: { object: 'list', data: [item({ unit_amount: 2000, nickname: 'Pro' }, { current_period_end: 1_800_000_000 })] },
    });
    expect(customerId).toBe('cus_A');
    expect(data).toMatchObject({
      status: 'active',
      plan: 'Pro',
      currency: 'usd',
      monthlyAmount: 2000,
      mrr: 2000,
      currentPeriodEnd: 1_800_000_000,
      cancelAtPeriodEnd: false,
    });
  });

  it('reads current_period_end on the subscription (older API versions), else the earliest item end', () => {
    expect(mapSub('customer.subscription.updated', { current_period_end: 1_750_000_000 }).data.currentPeriodEnd).toBe(1_750_000_000);
    const items = [item({ unit_amount: 1 }, { current_period_end: 1_900_000_000 }), item({ unit_amount: 1 }, { current_period_end: 1_800_000_000 })];
    expect(mapSub('customer.subscription.updated', { items: { data: items } }).data.currentPeriodEnd).toBe(1_800_000_000);
  });

  it('takes the customer as an id, an expanded customer or a deleted customer', () => {
    const expanded = mapSub('customer.subscription.updated', { customer: stripeObject('customer', { id: 'cus_X', email: 'x@x.io' }) });
    expect(expanded).toMatchObject({ customerId: 'cus_X', email: 'x@x.io' });
    const deleted = mapSub('customer.subscription.updated', { customer: { id: 'cus_D', object: 'customer', deleted: true } });
    expect(deleted).toMatchObject({ customerId: 'cus_D', email: null });
  });

  it('is canceled with no MRR once deleted; trialing counts 0', () => {
    const items = { data: [item({ unit_amount: 2000 })] };
    expect(mapSub('customer.subscription.deleted', { status: 'active', items }).data).toMatchObject({ status: 'canceled', mrr: 0, monthlyAmount: 2000 });
    expect(mapSub('customer.subscription.updated', { status: 'trialing', items }).data).toMatchObject({ status: 'trialing', mrr: 0 });
    expect(mapSub('customer.subscription.updated', { status: 'past_due', items }).data.mrr).toBe(2000);
  });

  it('skips unknown statuses and subscriptions without a customer', () => {
    expect(mapEvent(stripeEvent('customer.subscription.updated', stripeObject('subscription', { status: 'sleeping' })))).toEqual({
      skip: 'malformed subscription: unknown status "sleeping"',
    });
    expect(mapEvent(stripeEvent('customer.subscription.updated', stripeObject('subscription', { customer: null })))).toEqual({
      skip: 'subscription has no customer',
    });
  });
});

describe('subscription mapper: trial end, pause and resume', () => {
  const items = { data: [item({ unit_amount: 2000 })] };

  it('keeps the trial end of customer.subscription.trial_will_end', () => {
    expect(mapSub('customer.subscription.trial_will_end', { status: 'trialing', trial_end: 1_800_000_000, items }).data).toMatchObject({
      status: 'trialing',
      trialEnd: 1_800_000_000,
      mrr: 0,
    });
  });

  it('is paused with no MRR on customer.subscription.paused, and counts again once resumed', () => {
    expect(mapSub('customer.subscription.paused', { status: 'paused', items }).data).toMatchObject({ status: 'paused', mrr: 0, monthlyAmount: 2000 });
    expect(mapSub('customer.subscription.resumed', { status: 'active', items }).data).toMatchObject({ status: 'active', mrr: 2000 });
  });

  it('leaves a paused payment collection (pause_collection) at the status Stripe reports', () => {
    const data = mapSub('customer.subscription.updated', { status: 'active', pause_collection: { behavior: 'void', resumes_at: null }, items }).data;
    expect(data).toMatchObject({ status: 'active', mrr: 2000 });
  });
});
