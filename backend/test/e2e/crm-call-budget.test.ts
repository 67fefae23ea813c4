import { dbKinds } from '../helpers/db';
import { waitFor } from '../helpers/server';
import { startSyncHarness, type SyncHarness } from '../helpers/sync-harness';
import { subscriptionEvent, type SubState } from '../helpers/movement-events';
import { stripeEvent, stripeObject } from '../helpers/stripe-fixtures';
import { startPusher } from '../../src/jobs/push-contacts';
import type { SyncEngine } from '../../src/sync/engine';

/**
 * The HubSpot calls of one push pass with companies, deals and timeline on (the default settings; a private-app
 * connection, so movements are notes): the regression guard of issue 13's budget (≤ 3 calls per 100 events in the
 * burst). A pass of 100 new customers, each on a company domain of its own with a subscription, makes one call per
 * kind of write — the contacts' two identity reads and their create, one domain search, the companies created with
 * their contacts associated in the same call, the deals created with theirs, the movements' notes — and no read
 * before a create, no separate association call. A later pass on the same customers searches no known domain and
 * reads nothing. A company or deal HubSpot already holds under its unique key (batch creates are atomic: 409 for
 * the whole batch) costs one batch read and one create more, and is never made twice.
 *
 * Each burst is applied with the server's pusher loop stopped, then written by one pass (`runOnce`).
 */

const T = 1_780_000_000;
const N = 100;
const PLAN: SubState = { status: 'active', amount: 2000, plan: 'Team' };
const BIGGER: SubState = { status: 'active', amount: 5000, plan: 'Business' };

describe.each(dbKinds())('HubSpot calls of one pass with companies, deals and timeline on %s', (kind) => {
  let h: SyncHarness;
  let engine: SyncEngine | undefined;

  beforeAll(async () => {
    h = await startSyncHarness({ kind, engine: { plugins: [(_ctx, e) => void (engine = e)] } });
    // One-time setup (properties, deal pipeline, note association types…) on a customer of its own.
    await h.send(customer('cus_warm', 'warm@warmup.example'), subscriptionEvent('created', { id: 'sub_warm', customer: 'cus_warm' }, PLAN, { created: T }));
    await h.idle();
    await engine!.pusher.stop();
  });
  afterAll(async () => {
    await h?.stop();
  });

  const portal = () => h.hubspot.portal(h.portalId);
  function customer(id: string, email: string) {
    return stripeEvent('customer.created', stripeObject('customer', { id, email, name: `Name ${id}`, created: T - 100 }), { created: T - 100 });
  }
  const created = (prefix: string, i: number) => subscriptionEvent('created', { id: `sub_${prefix}${i}`, customer: `cus_${prefix}${i}` }, PLAN, { created: T + i });

  /** Sends the events, waits until they are applied, runs one pass; answers its requests as "METHOD path" → count. */
  async function onePass(events: object[]): Promise<Record<string, number>> {
    await h.send(...events);
    const ids = events.map((e) => (e as { id: string }).id);
    await waitFor(async () => {
      const { rows } = await h.server.db.query<{ n: string }>(`SELECT count(*) AS n FROM stripe_events WHERE id = ANY($1::text[]) AND status <> 'received'`, [ids]);
      return Number(rows[0]!.n) === ids.length;
    }, { timeoutMs: 60_000, what: 'events applied' });
    const from = h.hubspot.requests.length;
    const pusher = startPusher({ db: h.server.db, logger: h.server.logger, gatewayFor: engine!.gatewayFor, settleMs: 0 }, { loop: false });
    try {
      expect(await pusher.runOnce()).toBe(N);
    } finally {
      await pusher.stop();
    }
    await h.idle();
    const out: Record<string, number> = {};
    for (const r of h.hubspot.requests.slice(from)) out[`${r.method} ${r.path}`] = (out[`${r.method} ${r.path}`] ?? 0) + 1;
    return out;
  }
  const total = (p: Record<string, number>) => Object.values(p).reduce((a, b) => a + b, 0);
  const associated = (from: 'contacts' | 'deals', to: 'companies' | 'contacts', fromId: string) =>
    portal().associations(from, to).filter((a) => a.fromId === fromId).map((a) => a.toId);
  const dealOf = (subscriptionId: string) => portal().deals().filter((d) => d.properties.stripe_subscription_id === subscriptionId);
  const companiesHolding = (customerId: string) => portal().companies().filter((c) => c.properties.stripe_customer_id === customerId);

  it('100 new customers on companies of their own: 7 calls, no read before a create, associations in the creates', async () => {
    const p = await onePass(Array.from({ length: N }, (_, i) => [customer(`cus_nw${i}`, `user${i}@nw${i}.example`), created('nw', i)]).flat());
    expect(p).toEqual({
      'POST /crm/v3/objects/contacts/batch/read': 2, // by our customer-id property, then by email
      'POST /crm/v3/objects/contacts/batch/create': 1,
      'POST /crm/v3/objects/companies/search': 1, // the 100 new domains, in one IN filter
      'POST /crm/v3/objects/companies/batch/create': 1, // with their contacts
      'POST /crm/v3/objects/deals/batch/create': 1, // with their contact and company
      'POST /crm/v3/objects/notes/batch/create': 1, // the "new" movements
    });
    expect(total(p)).toBe(7);
    // Every record there once, associated with the others.
    for (const i of [0, 57, 99]) {
      const contact = h.contactOf(`cus_nw${i}`)!;
      const [company, ...moreCompanies] = companiesHolding(`cus_nw${i}`);
      expect(moreCompanies).toEqual([]);
      expect(company!.properties).toMatchObject({ domain: `nw${i}.example`, stripe_mrr: '20.00' });
      expect(associated('contacts', 'companies', contact.id)).toEqual([company!.id]);
      const [deal, ...moreDeals] = dealOf(`sub_nw${i}`);
      expect(moreDeals).toEqual([]);
      expect(associated('deals', 'contacts', deal!.id)).toEqual([contact.id]);
      expect(associated('deals', 'companies', deal!.id)).toEqual([company!.id]);
    }
    const { rows } = await h.server.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM crm_company_members WHERE customer_id LIKE 'cus_nw%' AND associated_contact_id IS NOT NULL`,
    );
    expect(Number(rows[0]!.n)).toBe(N);
  });

  it('the same 100 customers upgrade: 4 calls (updates and notes), no search of known domains, no read', async () => {
    const p = await onePass(
      Array.from({ length: N }, (_, i) =>
        subscriptionEvent('updated', { id: `sub_nw${i}`, customer: `cus_nw${i}` }, BIGGER, { created: T + 1000 + i, before: PLAN }),
      ),
    );
    expect(p).toEqual({
      'POST /crm/v3/objects/contacts/batch/update': 1,
      'POST /crm/v3/objects/companies/batch/update': 1,
      'POST /crm/v3/objects/deals/batch/update': 1,
      'POST /crm/v3/objects/notes/batch/create': 1, // the upgrades
    });
    expect(companiesHolding('cus_nw3')[0]!.properties.stripe_mrr).toBe('50.00');
    expect(dealOf('sub_nw3')[0]!.properties.amount).toBe('50.00');
  });

  it('a company and a deal HubSpot holds already under their unique keys: found after the 409, not made twice', async () => {
    // As left by creates whose answers were lost before our records were (a restore of the database, a reinstall).
    const company = portal().addObject('companies', { name: 'Left over', stripe_customer_id: 'cus_cf7' });
    const pipeline = dealOf('sub_nw0')[0]!.properties;
    const deal = portal().addObject('deals', { dealname: 'Left over', pipeline: pipeline.pipeline!, dealstage: pipeline.dealstage!, stripe_subscription_id: 'sub_cf42' });

    const p = await onePass(Array.from({ length: N }, (_, i) => [customer(`cus_cf${i}`, `user${i}@cf${i}.example`), created('cf', i)]).flat());
    expect(p).toEqual({
      'POST /crm/v3/objects/contacts/batch/read': 2,
      'POST /crm/v3/objects/contacts/batch/create': 1,
      'POST /crm/v3/objects/companies/search': 1,
      'POST /crm/v3/objects/companies/batch/create': 2, // refused as a whole (409), then the 99 others
      'POST /crm/v3/objects/companies/batch/read': 1, // the refused batch's customer ids
      'POST /crm/v3/objects/companies/batch/update': 1, // the company found, written in full
      'POST /crm/v4/associations/contacts/companies/batch/create': 1, // and associated with its contact
      'POST /crm/v3/objects/deals/batch/create': 2,
      'POST /crm/v3/objects/deals/batch/read': 1,
      'POST /crm/v3/objects/deals/batch/update': 1,
      'POST /crm/v4/associations/deals/contacts/batch/create': 1,
      'POST /crm/v4/associations/deals/companies/batch/create': 1,
      'POST /crm/v3/objects/notes/batch/create': 1,
    });
    expect(companiesHolding('cus_cf7').map((c) => c.id)).toEqual([company.id]);
    expect(portal().object('companies', company.id)!.properties).toMatchObject({ stripe_mrr: '20.00', stripe_customer_ids: 'cus_cf7' });
    expect(associated('contacts', 'companies', h.contactOf('cus_cf7')!.id)).toEqual([company.id]);
    expect(dealOf('sub_cf42').map((d) => d.id)).toEqual([deal.id]);
    expect(dealOf('sub_cf42')[0]!.properties.amount).toBe('20.00');
    expect(associated('deals', 'contacts', deal.id)).toEqual([h.contactOf('cus_cf42')!.id]);
    expect(associated('deals', 'companies', deal.id)).toEqual(companiesHolding('cus_cf42').map((c) => c.id));
    expect(companiesHolding('cus_cf8')).toHaveLength(1);
    expect(dealOf('sub_cf43')).toHaveLength(1);
  });
});
