import { stripeObject } from '../../test/helpers/stripe-fixtures';
import { countsTowardMrr, monthlyAmount, subscriptionMrr } from './mrr';
import { planName } from './prices';

type Json = Record<string, unknown>;

/** A subscription item with a price of Stripe's fixture shape (no package pricing unless asked). */
function item(price: Json, quantity: number | null = 1, extra: Json = {}): Json {
  return {
    object: 'subscription_item',
    id: 'si_1',
    price: stripeObject('price', { transform_quantity: null, ...price }),
    quantity,
    ...extra,
  };
}

function sub(items: Json[], overrides: Json = {}): Json {
  return stripeObject('subscription', { status: 'active', items: { object: 'list', data: items }, ...overrides });
}

const recurring = (interval: string, interval_count = 1, usage_type = 'licensed'): Json => ({
  recurring: { interval, interval_count, usage_type, meter: null, trial_period_days: null },
});

describe('monthlyAmount', () => {
  it('normalises every interval to a month', () => {
    expect(monthlyAmount(sub([item({ unit_amount: 2000, ...recurring('month') })]))).toBe(2000);
    expect(monthlyAmount(sub([item({ unit_amount: 12000, ...recurring('year') })]))).toBe(1000);
    expect(monthlyAmount(sub([item({ unit_amount: 1000, ...recurring('year') })]))).toBe(83); // 83.33
    expect(monthlyAmount(sub([item({ unit_amount: 1000, ...recurring('week') })]))).toBe(4333); // ×52/12
    expect(monthlyAmount(sub([item({ unit_amount: 100, ...recurring('day') })]))).toBe(3042); // ×365/12 = 3041.67
  });

  it('multiplies by quantity and divides by interval_count', () => {
    expect(monthlyAmount(sub([item({ unit_amount: 2000, ...recurring('month') }, 3)]))).toBe(6000);
    expect(monthlyAmount(sub([item({ unit_amount: 3000, ...recurring('month', 3) })]))).toBe(1000);
    expect(monthlyAmount(sub([item({ unit_amount: 1000, ...recurring('week', 2) })]))).toBe(2167); // 2166.67
    expect(monthlyAmount(sub([item({ unit_amount: 6000, ...recurring('year', 2) }, 2)]))).toBe(500);
    expect(monthlyAmount(sub([item({ unit_amount: 2000, ...recurring('month') }, 0)]))).toBe(0);
  });

  it('sums items and rounds once', () => {
    const yearly = item({ unit_amount: 1000, ...recurring('year') });
    expect(monthlyAmount(sub([yearly, yearly]))).toBe(167); // 166.67, not 83 + 83
    expect(monthlyAmount(sub([item({ unit_amount: 6, ...recurring('year') })]))).toBe(1); // 0.5 rounds up
  });

  it('reads unit_amount_decimal and the legacy plan', () => {
    expect(monthlyAmount(sub([item({ unit_amount: null, unit_amount_decimal: '1999.5', ...recurring('month') }, 2)]))).toBe(3999);
    const legacy = { id: 'si_1', quantity: 2, plan: stripeObject('plan', { amount: 5000, interval: 'month', interval_count: 1, transform_usage: null }) };
    expect(monthlyAmount(sub([legacy]))).toBe(10000);
    const ancient = stripeObject('subscription', {
      items: { object: 'list', data: [] },
      plan: stripeObject('plan', { amount: 1200, interval: 'year', interval_count: 1, transform_usage: null }),
      quantity: 5,
    });
    expect(monthlyAmount(ancient)).toBe(500);
  });

  it('prefers the price over the plan copy on the same item', () => {
    const both = item({ unit_amount: 2000, ...recurring('month') });
    both.plan = stripeObject('plan', { amount: 999_999, interval: 'day', interval_count: 7 });
    expect(monthlyAmount(sub([both]))).toBe(2000);
  });

  it('counts metered prices as 0', () => {
    expect(monthlyAmount(sub([item({ unit_amount: 50, ...recurring('month', 1, 'metered') })]))).toBe(0);
    const meter = { recurring: { interval: 'month', interval_count: 1, usage_type: 'licensed', meter: 'mtr_1' } };
    expect(monthlyAmount(sub([item({ unit_amount: 50, ...meter })]))).toBe(0);
  });

  it('applies package pricing (transform_quantity)', () => {
    const pkg = (): Json => item({ unit_amount: 1000, ...recurring('month') }, 12);
    const up = pkg();
    (up.price as Json).transform_quantity = { divide_by: 5, round: 'up' };
    expect(monthlyAmount(sub([up]))).toBe(3000);
    const down = pkg();
    (down.price as Json).transform_quantity = { divide_by: 5, round: 'down' };
    expect(monthlyAmount(sub([down]))).toBe(2000);
  });

  it('prices tiers when the payload has them, else counts 0', () => {
    const tiers = [
      { up_to: 10, unit_amount: 100, flat_amount: 0 },
      { up_to: null, unit_amount: 50, flat_amount: 1000 },
    ];
    const tiered = (mode: string, q: number): Json =>
      item({ billing_scheme: 'tiered', tiers_mode: mode, tiers, unit_amount: null, unit_amount_decimal: null, ...recurring('month') }, q);
    expect(monthlyAmount(sub([tiered('volume', 5)]))).toBe(500);
    expect(monthlyAmount(sub([tiered('volume', 20)]))).toBe(20 * 50 + 1000);
    expect(monthlyAmount(sub([tiered('graduated', 20)]))).toBe(10 * 100 + 10 * 50 + 1000);
    const noTiers = item({ billing_scheme: 'tiered', tiers_mode: 'volume', unit_amount: null, unit_amount_decimal: null, ...recurring('month') });
    expect(monthlyAmount(sub([noTiers]))).toBe(0);
  });

  it('gives 0, not NaN, for garbage', () => {
    expect(monthlyAmount(null)).toBe(0);
    expect(monthlyAmount({ items: { data: [{ price: { unit_amount: 'x', recurring: { interval: 'fortnight' } } }] } })).toBe(0);
  });
});

describe('which subscriptions count', () => {
  it('counts active and past_due; trialing and the rest count 0', () => {
    const items = [item({ unit_amount: 2000, ...recurring('month') })];
    expect(subscriptionMrr(sub(items, { status: 'active' }))).toBe(2000);
    expect(subscriptionMrr(sub(items, { status: 'past_due' }))).toBe(2000);
    for (const s of ['trialing', 'unpaid', 'paused', 'incomplete', 'incomplete_expired', 'canceled']) {
      expect(subscriptionMrr(sub(items, { status: s }))).toBe(0);
      expect(countsTowardMrr(s)).toBe(false);
    }
  });
});

describe('planName', () => {
  it('uses nickname, then lookup key, then the expanded product, then a readable label', () => {
    const base = { unit_amount: 2000, ...recurring('month') };
    expect(planName(sub([item({ ...base, nickname: 'Pro', lookup_key: 'pro_m' })]))).toBe('Pro');
    expect(planName(sub([item({ ...base, lookup_key: 'pro_monthly' })]))).toBe('pro_monthly');
    expect(planName(sub([item({ ...base, product: { id: 'prod_1', object: 'product', name: 'Pro plan' } })]))).toBe('Pro plan');
    expect(planName(sub([item(base)]))).toBe('USD 20.00 / month');
    expect(planName(sub([item({ ...base, currency: 'jpy', unit_amount: 500, ...recurring('month', 3) })]))).toBe('JPY 500 / 3 months');
    expect(planName(sub([item({ ...base, ...recurring('month', 1, 'metered') })]))).toBe('USD usage-based / month');
    expect(planName(sub([item({ ...base, nickname: 'Pro' }), item({ ...base, nickname: 'Seats' }), item({ ...base, nickname: 'Pro' })]))).toBe(
      'Pro + Seats',
    );
    expect(planName(sub([]))).toBeNull();
  });
});
