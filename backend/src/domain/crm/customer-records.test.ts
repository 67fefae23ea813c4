import { REVENUE_MOVEMENT_KINDS } from '@stripe-hubspot-sync/contracts';
import { MOVEMENT_KINDS } from '../movements';
import {
  companyLabel,
  customerCrmRecords,
  MAX_MOVEMENTS,
  MAX_SUBSCRIPTIONS,
  NO_CRM_FACTS,
  type StoredMovementFacts,
  type StoredSubscriptionFacts,
} from './customer-records';

const ORIGIN = 'https://app-eu1.hubspot.com';
const ctx = { origin: ORIGIN, portalId: 4242, currency: 'usd' };

function sub(id: string, over: Partial<StoredSubscriptionFacts> = {}): StoredSubscriptionFacts {
  return {
    id,
    status: 'active',
    plan: 'Pro',
    mrr: 2000,
    currency: 'usd',
    currentPeriodEnd: 1_760_000_000,
    cancelAtPeriodEnd: false,
    at: 1_750_000_000,
    dealId: null,
    ...over,
  };
}

function movement(id: string, over: Partial<StoredMovementFacts> = {}): StoredMovementFacts {
  return { id, kind: 'upgrade', occurredAt: 1_760_000_000, amount: '1000', currency: 'usd', mrrBefore: '1000', mrrAfter: '2000', ...over };
}

describe('a customer’s HubSpot records as shown', () => {
  it('movement kinds are the same in the contract and in the domain', () => {
    expect([...REVENUE_MOVEMENT_KINDS]).toEqual([...MOVEMENT_KINDS]);
  });

  it('nothing stored: no subscription, company or movement', () => {
    expect(customerCrmRecords(NO_CRM_FACTS, ctx)).toEqual({ subscriptions: [], company: null, movements: [] });
  });

  it('lists every subscription, live ones first then the newest, each with its deal link in the contact’s portal', () => {
    const records = customerCrmRecords(
      {
        subscriptions: [
          sub('sub_old_canceled', { status: 'canceled', mrr: 0, at: 1_700_000_000, dealId: '301' }),
          sub('sub_new_canceled', { status: 'canceled', mrr: 0, at: 1_790_000_000 }),
          sub('sub_trial', { status: 'trialing', mrr: 0, at: 1_740_000_000, plan: 'Basic', dealId: '302' }),
          sub('sub_main', { at: 1_750_000_000, dealId: '303', cancelAtPeriodEnd: true }),
        ],
        company: null,
        movements: [],
      },
      ctx,
    );
    expect(records.subscriptions.map((s) => s.id)).toEqual(['sub_main', 'sub_trial', 'sub_new_canceled', 'sub_old_canceled']);
    expect(records.subscriptions[0]).toEqual({
      id: 'sub_main',
      status: 'active',
      plan: 'Pro',
      mrr: 2000,
      currency: 'usd',
      currentPeriodEnd: 1_760_000_000,
      cancelAtPeriodEnd: true,
      hubspotDealUrl: 'https://app-eu1.hubspot.com/contacts/4242/record/0-3/303',
    });
    expect(records.subscriptions.map((s) => s.hubspotDealUrl)).toEqual([
      'https://app-eu1.hubspot.com/contacts/4242/record/0-3/303',
      'https://app-eu1.hubspot.com/contacts/4242/record/0-3/302',
      null,
      'https://app-eu1.hubspot.com/contacts/4242/record/0-3/301',
    ]);
  });

  it('ties on time go to the larger id, as the main subscription is picked', () => {
    const records = customerCrmRecords({ ...NO_CRM_FACTS, subscriptions: [sub('sub_a'), sub('sub_b')] }, ctx);
    expect(records.subscriptions.map((s) => s.id)).toEqual(['sub_b', 'sub_a']);
  });

  it('without a contact there is no portal: no deal link', () => {
    const records = customerCrmRecords({ ...NO_CRM_FACTS, subscriptions: [sub('sub_x', { dealId: '9' })] }, { ...ctx, portalId: null });
    expect(records.subscriptions[0]!.hubspotDealUrl).toBeNull();
  });

  it('stored values it cannot read become "not known" instead of failing the answer', () => {
    const [s] = customerCrmRecords(
      {
        ...NO_CRM_FACTS,
        subscriptions: [sub('sub_odd', { status: 'mystery', plan: 42, mrr: 'x', currency: null, currentPeriodEnd: null, cancelAtPeriodEnd: 'yes', dealId: 'not-an-id' })],
      },
      ctx,
    ).subscriptions;
    expect(s).toEqual({ id: 'sub_odd', status: 'none', plan: null, mrr: 0, currency: 'usd', currentPeriodEnd: null, cancelAtPeriodEnd: false, hubspotDealUrl: null });
  });

  it('keeps at most 25 subscriptions and 10 movements', () => {
    const subscriptions = Array.from({ length: 30 }, (_, i) => sub(`sub_${String(i).padStart(2, '0')}`, { at: 1_700_000_000 + i }));
    const movements = Array.from({ length: 12 }, (_, i) => movement(`m${i}`));
    const records = customerCrmRecords({ subscriptions, company: null, movements }, ctx);
    expect(records.subscriptions).toHaveLength(MAX_SUBSCRIPTIONS);
    expect(records.subscriptions[0]!.id).toBe('sub_29');
    expect(records.movements).toHaveLength(MAX_MOVEMENTS);
  });

  it('movements keep their order, numbers parsed, and unknown kinds left out', () => {
    const records = customerCrmRecords(
      {
        ...NO_CRM_FACTS,
        movements: [
          movement('sub_x:evt_2:downgrade', { kind: 'downgrade', amount: '-500', mrrBefore: '2000', mrrAfter: '1500', occurredAt: '1760000100' }),
          movement('in_x:failed:1', { kind: 'payment_failed', amount: 4000, mrrBefore: null, mrrAfter: null, currency: null }),
          movement('weird', { kind: 'teleport' }),
        ],
      },
      ctx,
    );
    expect(records.movements).toEqual([
      { id: 'sub_x:evt_2:downgrade', kind: 'downgrade', occurredAt: 1_760_000_100, amount: -500, currency: 'usd', mrrBefore: 2000, mrrAfter: 1500 },
      { id: 'in_x:failed:1', kind: 'payment_failed', occurredAt: 1_760_000_000, amount: 4000, currency: null, mrrBefore: null, mrrAfter: null },
    ]);
  });

  it('the company links to its page, named as we named it, else by its domain, else by the business name', () => {
    const company = { companyId: '8801', key: 'domain:engines.example', writtenName: null, businessName: 'Analytical Engines Ltd' };
    expect(customerCrmRecords({ ...NO_CRM_FACTS, company }, ctx).company).toEqual({
      name: 'engines.example',
      hubspotUrl: 'https://app-eu1.hubspot.com/contacts/4242/record/0-2/8801',
    });
    expect(companyLabel({ ...company, writtenName: 'Analytical Engines' })).toBe('Analytical Engines');
    expect(companyLabel({ key: 'customer:cus_1', writtenName: '  ', businessName: 'Babbage & Co' })).toBe('Babbage & Co');
    expect(companyLabel({ key: 'customer:cus_1', writtenName: null, businessName: null })).toBe('Company');
    expect(customerCrmRecords({ ...NO_CRM_FACTS, company }, { ...ctx, portalId: null }).company).toBeNull();
    expect(customerCrmRecords({ ...NO_CRM_FACTS, company: { ...company, companyId: 'x' } }, ctx).company).toBeNull();
  });
});
