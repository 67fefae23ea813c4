import { defaultSettings } from '@stripe-hubspot-sync/contracts';
import { dbKinds } from '../helpers/db';
import { startSyncHarness, type SyncHarness } from '../helpers/sync-harness';
import { chargeSucceeded, subscriptionEvent, type SubState } from '../helpers/movement-events';
import { stripeEvent, stripeObject } from '../helpers/stripe-fixtures';
import { dealsWriter } from '../../src/jobs/crm-objects/deals';
import { dealsOf } from '../../src/adapters/store/deals-store';
import { DEAL_PIPELINE_LABEL, DEAL_STAGES } from '../../src/domain/crm/deal-stages';
import type { CrmObjectWriter } from '../../src/jobs/crm-objects/stage';
import type { FakeObject } from '../fakes/hubspot/server';

type Json = Record<string, unknown>;

/**
 * A deal per subscription, end to end: signed webhooks in, the fake HubSpot's deals, pipeline and associations out.
 * The pipeline "Stripe subscriptions" is provisioned once; each subscription is one deal keyed by its id, named
 * after the plan, worth its MRR (or ARR) in its currency, in the stage of its status, associated with the contact
 * and company; shuffled and duplicated delivery never moves a deal back; nothing changed → no deal call.
 */
describe.each(dbKinds())('a deal per subscription on %s', (kind) => {
  let h: SyncHarness;
  /** Stands in for the companies writer: the company each customer belongs to, for the deals that follow. */
  const companies = new Map<string, string>();
  const companyStub: CrmObjectWriter = {
    name: 'companies',
    enabled: () => true,
    async write(ctx, contacts) {
      for (const c of contacts) {
        const company = companies.get(c.customerId);
        if (company) ctx.companyOf.set(c.customerId, company);
      }
      return new Map();
    },
  };

  beforeAll(async () => {
    h = await startSyncHarness({
      kind,
      engine: {
        objectWriters: [companyStub, dealsWriter],
        pusher: { settleMs: 20, pollMs: 50, minPassIntervalMs: 50, retry: { baseMs: 50, maxMs: 200 } },
      },
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  const T = 1_770_000_000;
  const basic: SubState = { status: 'active', amount: 1000, plan: 'Basic' };
  const pro: SubState = { status: 'active', amount: 3000, plan: 'Pro' };
  const plus: SubState = { status: 'active', amount: 2000, plan: 'Plus' };

  const portal = () => h.hubspot.portal(h.portalId);
  const pipeline = () => portal().pipelines('deals').find((p) => p.label === DEAL_PIPELINE_LABEL);
  const dealOf = (subscriptionId: string): FakeObject[] =>
    portal()
      .deals()
      .filter((d) => d.properties.stripe_subscription_id === subscriptionId);
  const stageOf = (deal: FakeObject) => pipeline()?.stages.find((s) => s.id === deal.properties.dealstage)?.label;
  const dealCalls = () =>
    h.hubspot.requests.filter((r) => /^\/crm\/(v3\/objects\/(deals|0-3)|v4\/associations\/deals|v3\/pipelines|v3\/properties\/deals)/.test(r.path)).length;
  const dealWrites = (subscriptionId: string) =>
    h.hubspot.requests
      .filter((r) => r.method === 'POST' && /^\/crm\/v3\/objects\/deals\/batch\/(create|update)$/.test(r.path))
      .flatMap((r) => (r.body as { inputs: { id?: string; properties: Record<string, string> }[] }).inputs)
      .filter((i) => i.properties.stripe_subscription_id === subscriptionId);

  async function customer(id: string, name: string, created = T - 1000) {
    await h.send(stripeEvent('customer.created', stripeObject('customer', { id, email: `${id}@example.com`, name, created }), { created }));
  }
  async function deliver(...events: Json[]) {
    for (const e of events) {
      await h.send(e);
      await h.idle();
    }
  }

  it('provisions the pipeline once and makes one deal, in its stage, associated with the contact and the company', async () => {
    const company = portal().addObject('companies', { name: 'Analytical Engines', domain: 'engines.example' });
    companies.set('cus_d1', company.id);
    await customer('cus_d1', 'Ada Lovelace');
    await deliver(subscriptionEvent('created', { id: 'sub_d1', customer: 'cus_d1' }, basic, { created: T }));

    const p = pipeline()!;
    expect(p.stages.map((s) => [s.label, s.metadata.probability, s.metadata.isClosed])).toEqual(
      DEAL_STAGES.map((s) => [s.label, s.probability, String(s.closed)]),
    );
    const [deal, ...more] = dealOf('sub_d1');
    expect(more).toEqual([]);
    expect(deal!.properties).toMatchObject({
      dealname: 'Basic – Ada Lovelace',
      amount: '10.00',
      deal_currency_code: 'USD',
      stripe_currency: 'USD',
      stripe_customer_id: 'cus_d1',
      stripe_subscription_status: 'active',
      pipeline: p.id,
    });
    expect(stageOf(deal!)).toBe('Active');
    const contact = h.contactOf('cus_d1')!;
    expect(portal().associations('deals', 'contacts').filter((a) => a.fromId === deal!.id).map((a) => a.toId)).toEqual([contact.id]);
    expect(portal().associations('deals', 'companies').filter((a) => a.fromId === deal!.id).map((a) => a.toId)).toEqual([company.id]);
    const unique = portal().propertiesOf('deals').get('stripe_subscription_id');
    expect(unique).toMatchObject({ groupName: 'stripe', hasUniqueValue: true });
    expect(await dealsOf(h.server.db, '', false, 'cus_d1')).toEqual([{ subscriptionId: 'sub_d1', kind: 'subscription', dealId: deal!.id, portalId: h.portalId }]);
  });

  it('a pass where nothing changed for the deal makes no deal call, and the pipeline is not provisioned again', async () => {
    const before = dealCalls();
    const contactWrites = h.hubspot.requestCount({ pathPrefix: '/crm/v3/objects/contacts/batch/update' });
    await deliver(chargeSucceeded({ id: 'ch_d1', customer: 'cus_d1', amount: 1000 }, { created: T + 10 }));
    expect(h.hubspot.requestCount({ pathPrefix: '/crm/v3/objects/contacts/batch/update' })).toBeGreaterThan(contactWrites);
    expect(dealCalls()).toBe(before);
    expect(portal().pipelines('deals').filter((p) => p.label === DEAL_PIPELINE_LABEL)).toHaveLength(1);
  });

  it('a plan upgrade then downgrade delivered shuffled and twice: one deal in the right stage, never moved back', async () => {
    await customer('cus_d2', 'Charles Babbage');
    const created = subscriptionEvent('created', { id: 'sub_d2', customer: 'cus_d2' }, basic, { created: T });
    const upgrade = subscriptionEvent('updated', { id: 'sub_d2', customer: 'cus_d2' }, pro, { created: T + 100, before: basic });
    const downgrade = subscriptionEvent('updated', { id: 'sub_d2', customer: 'cus_d2' }, plus, { created: T + 200, before: pro });
    await deliver(downgrade, created, downgrade, upgrade, created, upgrade);

    const deals = dealOf('sub_d2');
    expect(deals).toHaveLength(1);
    expect(deals[0]!.properties).toMatchObject({ dealname: 'Plus – Charles Babbage', amount: '20.00' });
    expect(stageOf(deals[0]!)).toBe('Active');
    // The newest state was the first written and nothing older was ever sent.
    expect(dealWrites('sub_d2').map((w) => w.properties.dealname)).toEqual(['Plus – Charles Babbage']);
    const { rows } = await h.server.db.query(`SELECT deal_id FROM hubspot_deals WHERE deal_key = 'sub_d2'`);
    expect(rows).toEqual([{ deal_id: deals[0]!.id }]);
  });

  it('the stage follows the status, and a late update never moves a canceled deal back', async () => {
    await customer('cus_d3', 'Grace Hopper');
    const sub = { id: 'sub_d3', customer: 'cus_d3' };
    await deliver(subscriptionEvent('created', sub, { ...basic, status: 'trialing' }, { created: T }));
    expect(stageOf(dealOf('sub_d3')[0]!)).toBe('Trialing');
    await deliver(subscriptionEvent('updated', sub, { ...basic, status: 'past_due' }, { created: T + 200, before: { ...basic, status: 'active' } }));
    expect(stageOf(dealOf('sub_d3')[0]!)).toBe('Past due');
    await deliver(subscriptionEvent('deleted', sub, { ...basic, status: 'canceled' }, { created: T + 300 }));
    expect(stageOf(dealOf('sub_d3')[0]!)).toBe('Canceled');
    // Stripe resends the older activation late: the deal stays lost, and nothing is written for it.
    const writes = dealWrites('sub_d3').length;
    await deliver(subscriptionEvent('updated', sub, basic, { created: T + 100, before: { ...basic, status: 'trialing' } }));
    expect(dealOf('sub_d3')).toHaveLength(1);
    expect(stageOf(dealOf('sub_d3')[0]!)).toBe('Canceled');
    expect(dealOf('sub_d3')[0]!.properties.stripe_subscription_status).toBe('canceled');
    expect(dealWrites('sub_d3')).toHaveLength(writes);
  });

  it('a currency the portal does not have: the deal is kept, without deal_currency_code, and says its currency', async () => {
    await customer('cus_d4', 'Yukihiro Matsumoto');
    const price = stripeObject('price', {
      id: 'price_yen',
      nickname: 'Yen plan',
      unit_amount: 1500,
      unit_amount_decimal: '1500',
      currency: 'jpy',
      billing_scheme: 'per_unit',
      transform_quantity: null,
      recurring: { interval: 'month', interval_count: 1, usage_type: 'licensed', meter: null },
    });
    const object = stripeObject('subscription', {
      id: 'sub_d4',
      customer: 'cus_d4',
      status: 'active',
      currency: 'jpy',
      items: { object: 'list', has_more: false, data: [{ object: 'subscription_item', id: 'si_yen', quantity: 1, price }] },
    });
    await deliver(stripeEvent('customer.subscription.created', object, { created: T }));
    const [deal] = dealOf('sub_d4');
    expect(deal!.properties).toMatchObject({ dealname: 'Yen plan – Yukihiro Matsumoto', amount: '1500', stripe_currency: 'JPY' });
    expect(deal!.properties).not.toHaveProperty('deal_currency_code');
    const dead = await h.server.db.query(`SELECT count(*)::int AS n FROM dead_letters WHERE customer_id = 'cus_d4'`);
    expect(dead.rows[0]).toEqual({ n: 0 });
  });

  it('ARR and one-off Checkout payments as the merchant chooses: amounts in ARR, a closed-won deal per paid session', async () => {
    const settings = defaultSettings();
    settings.crm.deals.amount = 'arr';
    settings.crm.deals.checkoutDeals = true;
    await h.server.db.query(`INSERT INTO sync_settings (account_key, livemode, settings) VALUES ('', false, $1)`, [JSON.stringify(settings)]);
    await customer('cus_d5', 'Katherine Johnson');
    const session = stripeObject('checkout.session', {
      id: 'cs_d5',
      customer: 'cus_d5',
      customer_details: { email: 'cus_d5@example.com', name: 'Katherine Johnson' },
      mode: 'payment',
      status: 'complete',
      payment_status: 'paid',
      amount_total: 4999,
      currency: 'usd',
      subscription: null,
      invoice: null,
      created: T,
    });
    await deliver(
      stripeEvent('checkout.session.completed', session, { created: T }),
      subscriptionEvent('created', { id: 'sub_d5', customer: 'cus_d5' }, pro, { created: T + 5 }),
    );
    const [oneOff, ...more] = portal()
      .deals()
      .filter((d) => d.properties.stripe_checkout_session_id === 'cs_d5');
    expect(more).toEqual([]);
    expect(oneOff!.properties).toMatchObject({ dealname: 'One-off payment – Katherine Johnson', amount: '49.99', deal_currency_code: 'USD' });
    expect(stageOf(oneOff!)).toBe('One-off payment');
    expect(dealOf('sub_d5')[0]!.properties.amount).toBe('360.00');
    expect((await dealsOf(h.server.db, '', false, 'cus_d5')).map((d) => [d.subscriptionId, d.kind])).toEqual([
      ['cs_d5', 'checkout'],
      ['sub_d5', 'subscription'],
    ]);
  });
});
