import { burstPlan, steadyPlan } from '../../bench/burst-lib/events';
import { callKind, callPaths, countCalls, objectFill, objectKind, type LoggedCall } from '../../bench/burst-lib/hubspot-calls';
import { contactWritesByCustomer, matchLatencies, type SentChange } from '../../bench/burst-lib/latency-match';
import { naiveProperties, NAIVE_PROPERTIES, RollingWindow, runNaive } from '../../bench/burst-lib/naive';
import { startFakeHubSpot, type FakeHubSpot } from '../fakes/hubspot/server';
import { stripeEvent, stripeObject } from '../helpers/stripe-fixtures';

/** The pieces of the burst and latency benches that decide their figures. */

const objectOf = (e: Record<string, unknown>) => (e.data as { object: Record<string, unknown> }).object;

describe('burstPlan', () => {
  const plan = burstPlan({ customers: 400, events: 2000, seed: 7, start: 1_760_000_000 });

  it('is deterministic for a seed and spreads 2,000 events over 400 customers, 5 each', () => {
    expect(burstPlan({ customers: 400, events: 2000, seed: 7, start: 1_760_000_000 }).map((p) => p.event.id)).toEqual(plan.map((p) => p.event.id));
    expect(burstPlan({ customers: 400, events: 2000, seed: 8, start: 1_760_000_000 })[0].event.id).not.toBe(plan[0].event.id);
    expect(plan).toHaveLength(2000);
    expect(new Set(plan.map((p) => p.event.id)).size).toBe(2000);
    const per = new Map<string, number>();
    for (const p of plan) per.set(p.customerId, (per.get(p.customerId) ?? 0) + 1);
    expect(per.size).toBe(400);
    expect([...per.values()].every((n) => n === 5)).toBe(true);
  });

  it("keeps each customer's order (created first, times rising) while interleaving customers", () => {
    const byCustomer = new Map<string, typeof plan>();
    for (const p of plan) byCustomer.set(p.customerId, [...(byCustomer.get(p.customerId) ?? []), p]);
    for (const events of byCustomer.values()) {
      expect(events[0].type).toBe('customer.created');
      const times = events.map((e) => e.event.created as number);
      expect([...times].sort((a, b) => a - b)).toEqual(times);
    }
    // Interleaved: the first 50 events touch many customers, not ten customers' whole stories.
    expect(new Set(plan.slice(0, 50).map((p) => p.customerId)).size).toBeGreaterThan(30);
  });

  it('mixes customers, subscriptions, invoices and charges, every event naming its customer', () => {
    const types = new Set(plan.map((p) => p.type));
    for (const t of ['customer.created', 'customer.updated', 'customer.subscription.created', 'customer.subscription.updated', 'invoice.paid', 'invoice.payment_failed', 'charge.succeeded', 'charge.refunded', 'checkout.session.completed']) {
      expect(types).toContain(t);
    }
    for (const p of plan) {
      const o = objectOf(p.event);
      expect(o.object === 'customer' ? o.id : o.customer).toBe(p.customerId);
    }
  });

  it('adds renewals when a customer has more than five events, and cuts stories short when fewer', () => {
    const long = burstPlan({ customers: 2, events: 14, seed: 1 });
    for (const cus of new Set(long.map((p) => p.customerId))) {
      const types = long.filter((p) => p.customerId === cus).map((p) => p.type);
      expect(types).toHaveLength(7);
      expect(types.slice(5)).toEqual(['invoice.paid', 'invoice.paid']);
    }
    expect(burstPlan({ customers: 3, events: 3, seed: 1 }).map((p) => p.type)).toEqual(['customer.created', 'customer.created', 'customer.created']);
  });

  it('with plan changes, a subscriber alternates renewals and plan changes (up to twice the price, then back), each renewal at the price of the moment', () => {
    const opts = { customers: 40, events: 400, seed: 16, start: 1_760_000_000 };
    const on = burstPlan({ ...opts, planChanges: true });
    const off = burstPlan(opts);
    expect(burstPlan({ ...opts, planChanges: true }).map((p) => JSON.stringify(p.event))).toEqual(on.map((p) => JSON.stringify(p.event)));
    // The same ids in the same order; only subscribers' later events differ.
    expect(on.map((p) => p.event.id)).toEqual(off.map((p) => p.event.id));
    const unitOf = (sub: Record<string, unknown>) => ((sub.items as { data: { price: { unit_amount: number } }[] }).data[0].price.unit_amount);
    let subscribers = 0;
    for (const cus of new Set(on.map((p) => p.customerId))) {
      const events = on.filter((p) => p.customerId === cus);
      const types = events.map((p) => p.type);
      if (types[1] !== 'customer.subscription.created') {
        expect(types).toEqual(off.filter((p) => p.customerId === cus).map((p) => p.type));
        continue;
      }
      subscribers++;
      expect(types.slice(5)).toEqual(['invoice.paid', 'customer.subscription.updated', 'invoice.paid', 'customer.subscription.updated', 'invoice.paid']);
      const unit = unitOf(objectOf(events[1].event));
      const up = events[6].event.data as { object: Record<string, unknown>; previous_attributes: Record<string, unknown> };
      const down = events[8].event.data as { object: Record<string, unknown>; previous_attributes: Record<string, unknown> };
      expect([unitOf(up.previous_attributes), unitOf(up.object)]).toEqual([unit, unit * 2]);
      expect([unitOf(down.previous_attributes), unitOf(down.object)]).toEqual([unit * 2, unit]);
      expect(up.object.status).toBe('active');
      expect([5, 7, 9].map((k) => objectOf(events[k].event).amount_paid)).toEqual([unit, unit * 2, unit]);
    }
    expect(subscribers).toBeGreaterThan(20);
  });
});

describe('steadyPlan', () => {
  it('names for every event the property and the value it changes, unique per customer and property', () => {
    const plan = steadyPlan({ customers: 20, events: 500, seed: 3, start: 1_760_000_000 });
    const firsts = new Set<string>();
    const seen = new Set<string>();
    for (const p of plan) {
      expect(p.expect).toBeDefined();
      if (!firsts.has(p.customerId)) {
        expect(p.type).toBe('customer.created');
        expect(p.expect).toEqual({ property: 'stripe_customer_id', value: p.customerId });
        firsts.add(p.customerId);
      }
      const key = `${p.customerId}|${p.expect!.property}|${p.expect!.value}`;
      expect(seen.has(key)).toBe(false);
      seen.add(key);
    }
    const invoice = plan.find((p) => p.type === 'invoice.paid')!;
    expect(invoice.expect!.value).toBe(((objectOf(invoice.event).amount_paid as number) / 100).toFixed(2));
  });
});

describe('counting HubSpot calls', () => {
  it('classifies setup, matching, search and writes', () => {
    expect(callKind('POST', '/crm/v3/properties/contacts')).toBe('setup');
    expect(callKind('GET', '/account-info/v3/details')).toBe('setup');
    expect(callKind('POST', '/crm/v3/objects/contacts/batch/read')).toBe('match');
    expect(callKind('POST', '/crm/v3/objects/contacts/search')).toBe('search');
    expect(callKind('POST', '/crm/v3/objects/contacts/batch/update')).toBe('write');
    expect(callKind('PATCH', '/crm/v3/objects/contacts/12')).toBe('write');
    expect(callKind('POST', '/crm/v3/objects/contacts')).toBe('write');
  });

  it('counts one portal in a time window, 429s included', () => {
    const log: LoggedCall[] = [
      { method: 'POST', path: '/crm/v3/objects/contacts/batch/create', status: 201, portalId: 1, at: 100 },
      { method: 'POST', path: '/crm/v3/objects/contacts/batch/update', status: 429, portalId: 1, at: 200 },
      { method: 'POST', path: '/crm/v3/objects/contacts/batch/update', status: 200, portalId: 2, at: 200 },
      { method: 'POST', path: '/crm/v3/objects/contacts/batch/read', status: 200, portalId: 1, at: 300 },
      { method: 'POST', path: '/crm/v3/objects/contacts/batch/read', status: 200, portalId: 1, at: 50 },
    ];
    expect(countCalls(log, { portalId: 1, from: 100 })).toEqual({
      total: 3,
      byKind: { setup: 0, match: 1, search: 0, write: 2, other: 0 },
      byObject: { contacts: 3, companies: 0, deals: 0, tickets: 0, tasks: 0, associations: 0, timeline: 0, provisioning: 0, other: 0 },
      rateLimited: 1,
      first: 100,
      last: 300,
    });
  });
});

describe('calls by object', () => {
  it('names what each call was about', () => {
    expect(objectKind('/crm/v3/objects/companies/batch/upsert')).toBe('companies');
    expect(objectKind('/crm/v3/objects/deals/search')).toBe('deals');
    expect(objectKind('/crm/v3/objects/tickets/batch/update')).toBe('tickets');
    expect(objectKind('/crm/v3/objects/contacts/batch/read?archived=false')).toBe('contacts');
    expect(objectKind('/crm/v4/associations/contacts/companies/batch/create')).toBe('associations');
    expect(objectKind('/crm/v4/objects/contacts/7/associations/notes')).toBe('associations');
    expect(objectKind('/crm/v3/objects/notes/batch/create')).toBe('timeline');
    expect(objectKind('/integrators/timeline/v3/events/batch/create')).toBe('timeline');
    expect(objectKind('/crm/v3/pipelines/deals')).toBe('provisioning');
    expect(objectKind('/crm/v3/properties/companies/batch/create')).toBe('provisioning');
    expect(objectKind('/account-info/v3/details')).toBe('provisioning');
    expect(objectKind('/crm/v3/objects/line_items')).toBe('other');
    expect(callKind('GET', '/crm/v3/pipelines/deals')).toBe('setup');
  });

  it('counts the records of batch calls per object', () => {
    const at = 1;
    const log = [
      { method: 'POST', path: '/crm/v3/objects/deals/batch/create', status: 201, portalId: 1, at, body: { inputs: [{}, {}, {}] } },
      { method: 'POST', path: '/crm/v3/objects/deals/batch/update', status: 200, portalId: 1, at, body: { inputs: [{}] } },
      { method: 'GET', path: '/crm/v3/pipelines/deals', status: 200, portalId: 1, at, body: undefined },
      { method: 'POST', path: '/crm/v3/objects/deals/batch/create', status: 201, portalId: 2, at, body: { inputs: [{}] } },
    ];
    const fill = objectFill(log, { portalId: 1 });
    expect(fill.deals).toEqual({ calls: 2, batchCalls: 2, records: 4, meanPerBatch: 2 });
    expect(fill.provisioning).toEqual({ calls: 1, batchCalls: 0, records: 0, meanPerBatch: 0 });
    expect(fill.contacts.calls).toBe(0);
  });

  it('counts calls per method and path, record ids folded', () => {
    const log = [
      { method: 'PATCH', path: '/crm/v3/objects/deals/123', status: 200, portalId: 1, at: 1 },
      { method: 'PATCH', path: '/crm/v3/objects/deals/456?idProperty=x', status: 200, portalId: 1, at: 1 },
      { method: 'POST', path: '/crm/v3/objects/deals/batch/read', status: 200, portalId: 1, at: 1 },
      { method: 'POST', path: '/crm/v3/objects/deals/batch/read', status: 200, portalId: 2, at: 1 },
    ];
    expect(callPaths(log, { portalId: 1 })).toEqual({ 'PATCH /crm/v3/objects/deals/{id}': 2, 'POST /crm/v3/objects/deals/batch/read': 1 });
  });
});

describe('latency matching', () => {
  const call = (at: number, path: string, body: unknown, status = 200) => ({ method: 'POST', path, status, portalId: 9, at, body });
  const log = [
    call(1_000, '/crm/v3/objects/contacts/batch/create', { inputs: [{ properties: { stripe_customer_id: 'cus_a', email: 'a@x.io' } }] }, 201),
    call(1_500, '/crm/v3/objects/contacts/batch/update', { inputs: [{ id: '101', properties: { stripe_last_payment_amount: '10.01' } }] }),
    call(2_000, '/crm/v3/objects/contacts/batch/update', { inputs: [{ id: '101', properties: { stripe_last_payment_amount: '10.03' } }] }),
    call(2_100, '/crm/v3/objects/contacts/batch/update', { inputs: [{ id: '101', properties: { stripe_mrr: '99.00' } }] }, 400),
  ];
  const writes = contactWritesByCustomer(log, 9, (id) => (id === '101' ? 'cus_a' : undefined));

  it('reads creates by the customer-id property and updates by the contact id; failed writes do not count', () => {
    expect(writes.get('cus_a')?.map((w) => w.at)).toEqual([1_000, 1_500, 2_000]);
  });

  it('matches each change to the first write carrying it, or a newer value folded into it', () => {
    const sent: SentChange[] = [
      { customerId: 'cus_a', property: 'stripe_customer_id', value: 'cus_a', sentAt: 900 },
      { customerId: 'cus_a', property: 'stripe_last_payment_amount', value: '10.01', sentAt: 1_200 },
      { customerId: 'cus_a', property: 'stripe_last_payment_amount', value: '10.02', sentAt: 1_600 },
      { customerId: 'cus_a', property: 'stripe_last_payment_amount', value: '10.03', sentAt: 1_700 },
      { customerId: 'cus_a', property: 'stripe_mrr', value: '99.00', sentAt: 1_800 },
    ];
    expect(matchLatencies(sent, writes)).toEqual({ latencies: [100, 300, 400, 300], superseded: 1, unmatched: 1 });
  });

  it('never matches a write that arrived before the send', () => {
    const sent: SentChange[] = [{ customerId: 'cus_a', property: 'stripe_last_payment_amount', value: '10.01', sentAt: 1_600 }];
    expect(matchLatencies(sent, writes)).toEqual({ latencies: [], superseded: 0, unmatched: 1 });
  });
});

describe('naive baseline', () => {
  it('maps payload facts to properties', () => {
    expect(naiveProperties('invoice.paid', { object: 'invoice', customer: 'cus_1', amount_paid: 4900 })).toEqual({
      stripe_customer_id: 'cus_1',
      stripe_last_payment_amount: '49.00',
      stripe_last_payment_status: 'succeeded',
    });
    expect(naiveProperties('customer.subscription.updated', { object: 'subscription', customer: 'cus_1', status: 'past_due' })).toEqual({
      stripe_customer_id: 'cus_1',
      stripe_subscription_status: 'past_due',
    });
  });

  it('a rolling window counts a call from its start to a window after its end', async () => {
    const w = new RollingWindow(2, 60_000);
    const a = await w.acquire();
    const b = await w.acquire();
    expect(w.waitMs(Date.now())).toBe(5); // both in flight: look again soon
    a();
    const ended = Date.now();
    expect(w.waitMs(ended)).toBeGreaterThan(59_000);
    expect(w.waitMs(ended + 60_001)).toBe(0);
    b();
  });

  describe('against the fake HubSpot', () => {
    let hubspot: FakeHubSpot;
    beforeAll(async () => {
      hubspot = await startFakeHubSpot();
      hubspot.addPrivateAppToken('pat-naive', 77);
      for (const p of NAIVE_PROPERTIES) {
        const res = await fetch(`${hubspot.url}/crm/v3/properties/contacts`, {
          method: 'POST',
          headers: { authorization: 'Bearer pat-naive', 'content-type': 'application/json' },
          body: JSON.stringify({ ...p, label: p.name, groupName: 'contactinformation' }),
        });
        expect(res.status).toBe(201);
      }
    });
    afterAll(async () => {
      await hubspot?.close();
    });

    it('makes one search and one write per event, and an email change creates a second contact', async () => {
      const customer = (email: string) => stripeObject('customer', { id: 'cus_n', email });
      const ev = (type: string, object: Record<string, unknown>) => ({ customerId: 'cus_n', type, event: stripeEvent(type, object) });
      const events = [
        ev('customer.created', customer('n@example.com')),
        ev('invoice.paid', stripeObject('invoice', { id: 'in_n', customer: 'cus_n', amount_paid: 1200, status: 'paid' })),
        ev('customer.updated', customer('n2@example.com')),
        ev('charge.refunded', stripeObject('charge', { id: 'ch_n', customer: 'cus_n', amount: 1200, amount_refunded: 200 })),
      ];
      const before = hubspot.requests.length;
      const r = await runNaive({ hubspotUrl: hubspot.url, token: 'pat-naive', events, budgetPer10s: 100, searchesPerSecond: 5 });
      expect(r).toMatchObject({ events: 4, searches: 4, creates: 2, updates: 2, duplicateContacts: 1, errors: [] });
      expect(hubspot.requests.length - before).toBe(8 + r.rateLimited);
      const contacts = [...hubspot.portal(77).contacts.values()];
      expect(contacts.map((c) => c.properties.email).sort()).toEqual(['n2@example.com', 'n@example.com']);
      expect(contacts.find((c) => c.properties.email === 'n@example.com')?.properties.stripe_last_payment_amount).toBe('12.00');
      expect(contacts.find((c) => c.properties.email === 'n2@example.com')?.properties.stripe_total_refunded).toBe('2.00');
    });
  });
});
