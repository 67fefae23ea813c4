import { defaultCrmObjectSettings } from '@stripe-hubspot-sync/contracts';
import type { CheckoutSessionData, ObjectRecord, SubscriptionData } from '../records';
import { desiredDeals, type DealFacts } from './deals';
import { DEAL_STAGES, fallbackStages, matchStages, stageOfStatus, type ExistingStage } from './deal-stages';

const T = 1_765_000_000;
const iso = (s: number) => new Date(s * 1000).toISOString();

function subscription(id: string, data: Partial<SubscriptionData>): ObjectRecord {
  return {
    kind: 'subscription',
    objectId: id,
    customerId: 'cus_1',
    version: { created: T, rank: 0, eventId: 'evt_1' },
    data: {
      status: 'active',
      created: T - 86_400,
      currency: 'eur',
      plan: 'Pro',
      monthlyAmount: 2900,
      mrr: 2900,
      currentPeriodEnd: T + 86_400,
      cancelAtPeriodEnd: false,
      cancelAt: null,
      endedAt: null,
      trialEnd: null,
      ...data,
    },
  };
}

function checkout(id: string, data: Partial<CheckoutSessionData>): ObjectRecord {
  return {
    kind: 'checkout_session',
    objectId: id,
    customerId: 'cus_1',
    version: { created: T, rank: 0, eventId: 'evt_2' },
    data: {
      email: 'a@example.com',
      name: null,
      mode: 'payment',
      paymentStatus: 'paid',
      status: 'complete',
      amountTotal: 4999,
      currency: 'usd',
      subscriptionId: null,
      invoiceId: null,
      paymentIntentId: null,
      created: T - 60,
      ...data,
    },
  };
}

const facts = (records: ObjectRecord[], customerName: string | null = 'Ada Lovelace'): DealFacts => ({ customerId: 'cus_1', customerName, records });
const settings = (over: Partial<ReturnType<typeof defaultCrmObjectSettings>['deals']> = {}) => ({ ...defaultCrmObjectSettings().deals, ...over });

describe('desiredDeals: a deal per subscription', () => {
  it('names the deal after the plan and the customer, with the monthly amount in the currency and the Stripe keys', () => {
    const [deal] = desiredDeals(facts([subscription('sub_A', {})]), settings());
    expect(deal).toEqual({
      key: 'sub_A',
      kind: 'subscription',
      stage: 'active',
      currency: 'EUR',
      properties: {
        dealname: 'Pro – Ada Lovelace',
        stripe_subscription_id: 'sub_A',
        stripe_customer_id: 'cus_1',
        stripe_subscription_status: 'active',
        amount: '29.00',
        stripe_currency: 'EUR',
        closedate: iso(T - 86_400),
      },
    });
  });

  it('ARR is twelve months; zero-decimal currencies have no decimals; a name-less customer gets the plan alone', () => {
    const [deal] = desiredDeals(facts([subscription('sub_A', { currency: 'jpy', monthlyAmount: 1500 })], null), settings({ amount: 'arr' }));
    expect(deal!.properties).toMatchObject({ dealname: 'Pro', amount: '18000', stripe_currency: 'JPY' });
  });

  it('follows the status: trialing closes at the trial end, canceled when it ended, incomplete makes no deal', () => {
    const deals = desiredDeals(
      facts([
        subscription('sub_T', { status: 'trialing', mrr: 0, trialEnd: T + 7 * 86_400 }),
        subscription('sub_C', { status: 'canceled', mrr: 0, endedAt: T - 10 }),
        subscription('sub_I', { status: 'incomplete', mrr: 0 }),
        subscription('sub_U', { status: 'unpaid', mrr: 0 }),
        subscription('sub_P', { status: 'past_due' }),
      ]),
      settings(),
    );
    expect(deals.map((d) => [d.key, d.stage, d.properties.closedate])).toEqual([
      ['sub_C', 'canceled', iso(T - 10)],
      ['sub_P', 'past_due', iso(T - 86_400)],
      ['sub_T', 'trialing', iso(T + 7 * 86_400)],
      ['sub_U', 'unpaid_paused', iso(T - 86_400)],
    ]);
    // A canceled deal keeps what it was worth: the amount lost.
    expect(deals[0]!.properties.amount).toBe('29.00');
  });

  it('a subscription that had a trial closed when the trial ended', () => {
    const [deal] = desiredDeals(facts([subscription('sub_A', { trialEnd: T - 3600 })]), settings());
    expect(deal!.properties.closedate).toBe(iso(T - 3600));
  });

  it('without a currency there is no amount (nothing to say it in)', () => {
    const [deal] = desiredDeals(facts([subscription('sub_A', { currency: null })]), settings());
    expect(deal!.currency).toBeNull();
    expect(deal!.properties).not.toHaveProperty('amount');
    expect(deal!.properties).not.toHaveProperty('stripe_currency');
  });

  it('a plan change is the same deal with a new name and amount', () => {
    const before = desiredDeals(facts([subscription('sub_A', { plan: 'Basic', monthlyAmount: 1000 })]), settings());
    const after = desiredDeals(facts([subscription('sub_A', { plan: 'Pro', monthlyAmount: 3000 })]), settings());
    expect(after.map((d) => d.key)).toEqual(before.map((d) => d.key));
    expect(after[0]!.properties).toMatchObject({ dealname: 'Pro – Ada Lovelace', amount: '30.00' });
  });
});

describe('desiredDeals: one-off Checkout payments', () => {
  const records = [checkout('cs_1', { products: [{ id: 'prod_1', name: 'Ebook' }] }), checkout('cs_sub', { mode: 'subscription' }), checkout('cs_open', { status: 'open', paymentStatus: 'unpaid' })];

  it('off by default', () => {
    expect(desiredDeals(facts(records), settings())).toEqual([]);
  });

  it('when on: a closed-won deal per paid one-off session, keyed by the session', () => {
    expect(desiredDeals(facts(records), settings({ checkoutDeals: true }))).toEqual([
      {
        key: 'cs_1',
        kind: 'checkout',
        stage: 'one_off_paid',
        currency: 'USD',
        properties: {
          dealname: 'Ebook – Ada Lovelace',
          stripe_checkout_session_id: 'cs_1',
          stripe_customer_id: 'cus_1',
          amount: '49.99',
          stripe_currency: 'USD',
          closedate: iso(T - 60),
        },
      },
    ]);
  });
});

describe('the stage model', () => {
  it('every subscription status has its stage (or none for incomplete)', () => {
    expect(
      (['trialing', 'active', 'past_due', 'unpaid', 'paused', 'canceled', 'incomplete', 'incomplete_expired', 'none'] as const).map(stageOfStatus),
    ).toEqual(['trialing', 'active', 'past_due', 'unpaid_paused', 'unpaid_paused', 'canceled', null, 'canceled', null]);
  });

  it('closed won is probability 1.0, closed lost 0.0, open stages in between', () => {
    for (const s of DEAL_STAGES) {
      const p = Number(s.probability);
      expect(s.closed).toBe(p === 0 || p === 1);
      expect(Math.round(p * 10)).toBeCloseTo(p * 10);
    }
  });

  const stage = (id: string, label: string, displayOrder: number, probability: string, isClosed = false): ExistingStage => ({
    id,
    label,
    displayOrder,
    metadata: { probability, isClosed: String(isClosed) },
  });

  it('matches our stages in our pipeline by label and lists the ones missing', () => {
    const { ids, missing } = matchStages([stage('11', 'trialing', 0, '0.5'), stage('12', 'Active', 1, '1.0', true)]);
    expect(ids).toEqual({ trialing: '11', active: '12' });
    expect(missing.map((m) => m.key)).toEqual(['past_due', 'unpaid_paused', 'canceled', 'one_off_paid']);
  });

  it("HubSpot's default pipeline stands in: closed won, closed lost, and the nearest open stage", () => {
    const sales = [
      stage('appointmentscheduled', 'Appointment Scheduled', 0, '0.2'),
      stage('qualifiedtobuy', 'Qualified To Buy', 1, '0.4'),
      stage('presentationscheduled', 'Presentation Scheduled', 2, '0.6'),
      stage('decisionmakerboughtin', 'Decision Maker Bought-In', 3, '0.8'),
      stage('contractsent', 'Contract Sent', 4, '0.9'),
      stage('closedwon', 'Closed Won', 5, '1.0', true),
      stage('closedlost', 'Closed Lost', 6, '0.0', true),
    ];
    expect(fallbackStages(sales)).toEqual({
      trialing: 'qualifiedtobuy',
      active: 'closedwon',
      past_due: 'decisionmakerboughtin',
      unpaid_paused: 'appointmentscheduled',
      canceled: 'closedlost',
      one_off_paid: 'closedwon',
    });
    expect(fallbackStages(sales.filter((s) => s.id !== 'closedlost'))).toBeNull();
  });
});
