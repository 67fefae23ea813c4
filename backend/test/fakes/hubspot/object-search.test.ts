import type { Client } from '@hubspot/api-client';
import { startFakeHubSpot, type FakeHubSpot } from './server';
import { sdkClient, sdkError } from './test-support';

/** Search of companies, deals and tickets: EQ/IN (domain included), query, the index lag and the search limit. */

// Long enough that a loaded CI machine still searches inside the lag.
const LAG_MS = 2000;
let fake: FakeHubSpot;
let hs: Client;
const PORTAL = 2101;

beforeAll(async () => {
  fake = await startFakeHubSpot({ searchLagMs: LAG_MS, searchPerSecond: 50 });
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.reset();
  hs = sdkClient(fake, PORTAL);
});

type Filter = { propertyName: string; operator: string; value?: string; values?: string[] };
const query = (filters: Filter[], properties: string[] = ['name', 'domain']) => ({
  filterGroups: filters.length > 0 ? [{ filters: filters as never }] : [], sorts: [], properties, limit: 100, after: '0',
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('companies', () => {
  beforeEach(() => {
    const p = fake.portal(PORTAL);
    p.addObject('companies', { name: 'Acme', domain: 'acme.example' });
    p.addObject('companies', { name: 'Acme Labs', domain: 'labs.acme.example' });
    p.addObject('companies', { name: 'Globex', domain: 'globex.example' });
  });

  it('EQ on domain (case-insensitive) and IN over several domains', async () => {
    const eq = await hs.crm.companies.searchApi.doSearch(query([{ propertyName: 'domain', operator: 'EQ', value: 'ACME.example' }]));
    expect(eq.results.map((r) => r.properties.name)).toEqual(['Acme']);
    const inRes = await hs.crm.companies.searchApi.doSearch(
      query([{ propertyName: 'domain', operator: 'IN', values: ['globex.example', 'labs.acme.example', 'none.example'] }]),
    );
    expect(inRes.results.map((r) => r.properties.name).sort()).toEqual(['Acme Labs', 'Globex']);
    const q = await hs.crm.companies.searchApi.doSearch({ ...query([]), query: 'acme' });
    expect(q.total).toBe(2);
  });

  it('rejects a filter on a property companies do not have', async () => {
    const e = await sdkError(hs.crm.companies.searchApi.doSearch(query([{ propertyName: 'email', operator: 'EQ', value: 'x' }])));
    expect(e.code).toBe(400);
    expect(e.body.category).toBe('VALIDATION_ERROR');
  });
});

describe('eventual consistency', () => {
  it('a company written through the API is found only after the index lag; an update shows its old values until then', async () => {
    const c = await hs.crm.companies.basicApi.create({ properties: { name: 'Late', domain: 'late.example' }, associations: [] });
    const byDomain = query([{ propertyName: 'domain', operator: 'EQ', value: 'late.example' }]);
    expect((await hs.crm.companies.searchApi.doSearch(byDomain)).total).toBe(0);
    await sleep(LAG_MS + 30);
    expect((await hs.crm.companies.searchApi.doSearch(byDomain)).results.map((r) => r.id)).toEqual([c.id]);
    await hs.crm.companies.basicApi.update(c.id, { properties: { domain: 'moved.example' } });
    expect((await hs.crm.companies.searchApi.doSearch(byDomain)).total).toBe(1);
    await sleep(LAG_MS + 30);
    expect((await hs.crm.companies.searchApi.doSearch(byDomain)).total).toBe(0);
  });

  it('deals and tickets are searched by their own properties', async () => {
    const p = fake.portal(PORTAL);
    p.addObject('deals', { dealname: 'Pro', dealstage: 'closedwon' });
    p.addObject('deals', { dealname: 'Team', dealstage: 'closedlost' });
    p.addObject('tickets', { subject: 'Card declined', hs_pipeline_stage: '1' });
    const won = await hs.crm.deals.searchApi.doSearch(query([{ propertyName: 'dealstage', operator: 'EQ', value: 'closedwon' }], ['dealname', 'pipeline']));
    expect(won.results.map((r) => r.properties.dealname)).toEqual(['Pro']);
    expect(won.results[0]!.properties.pipeline).toBe('default');
    const open = await hs.crm.tickets.searchApi.doSearch(query([{ propertyName: 'hs_pipeline_stage', operator: 'IN', values: ['1', '2'] }], ['subject']));
    expect(open.results.map((r) => r.properties.subject)).toEqual(['Card declined']);
    expect(fake.requestCount({ portalId: PORTAL, pathPrefix: '/crm/v3/objects/deals/search' })).toBe(1);
  });
});

describe('search rate limit', () => {
  it('counts company, deal and contact searches together against the per-second search limit', async () => {
    const small = await startFakeHubSpot({ searchPerSecond: 2 });
    try {
      const client = sdkClient(small, 8);
      await client.crm.companies.searchApi.doSearch(query([]));
      await client.crm.deals.searchApi.doSearch(query([], ['dealname']));
      const e = await sdkError(client.crm.contacts.searchApi.doSearch(query([], ['email'])));
      expect(e.code).toBe(429);
      expect(e.body).toMatchObject({ policyName: 'SECONDLY' });
    } finally {
      await small.close();
    }
  });
});
