import type { Client } from '@hubspot/api-client';
import type { PublicObjectSearchRequest } from '@hubspot/api-client/lib/codegen/crm/contacts';
import { startFakeHubSpot, type FakeHubSpot } from './server';
import { sdkClient, sdkError } from './test-support';

/** Contacts search: filters, paging, eventual consistency (index lag) and the per-second search limit. */

// Long enough that a loaded CI machine still searches inside the lag.
const LAG_MS = 2000;
let fake: FakeHubSpot;
let hs: Client;

beforeAll(async () => {
  fake = await startFakeHubSpot({ searchLagMs: LAG_MS, searchPerSecond: 50 });
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.reset();
  hs = sdkClient(fake, 7);
});

type Filter = { propertyName: string; operator: string; value?: string; values?: string[] };

function query(filters: Filter[], extra: Partial<PublicObjectSearchRequest> = {}): PublicObjectSearchRequest {
  return { filterGroups: [{ filters: filters as never }], sorts: [], properties: ['email', 'firstname'], limit: 100, after: '0', ...extra };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('filters over seeded contacts', () => {
  beforeEach(() => {
    const p = fake.portal(7);
    p.addContact({ email: 'ada@example.com', firstname: 'Ada', lifecyclestage: 'customer' });
    p.addContact({ email: 'bob@example.com', firstname: 'Bob' });
    p.addContact({ email: 'cy@example.com', lifecyclestage: 'lead' });
  });

  it('EQ on email is case-insensitive', async () => {
    const res = await hs.crm.contacts.searchApi.doSearch(query([{ propertyName: 'email', operator: 'EQ', value: 'ADA@Example.com' }]));
    expect(res.total).toBe(1);
    expect(res.results[0]!.properties).toMatchObject({ email: 'ada@example.com', firstname: 'Ada' });
  });

  it('IN, HAS_PROPERTY and OR-ed filter groups', async () => {
    const inRes = await hs.crm.contacts.searchApi.doSearch(
      query([{ propertyName: 'email', operator: 'IN', values: ['bob@example.com', 'cy@example.com', 'zz@example.com'] }]),
    );
    expect(inRes.results.map((r) => r.properties.email).sort()).toEqual(['bob@example.com', 'cy@example.com']);
    const has = await hs.crm.contacts.searchApi.doSearch(query([{ propertyName: 'lifecyclestage', operator: 'HAS_PROPERTY' }]));
    expect(has.total).toBe(2);
    const or = await hs.crm.contacts.searchApi.doSearch({
      ...query([]),
      filterGroups: [
        { filters: [{ propertyName: 'firstname', operator: 'EQ' as never, value: 'bob' }] },
        { filters: [{ propertyName: 'lifecyclestage', operator: 'EQ' as never, value: 'lead' }] },
      ],
    });
    expect(or.results.map((r) => r.properties.email).sort()).toEqual(['bob@example.com', 'cy@example.com']);
  });

  it('pages with `after` and reports the total', async () => {
    const first = await hs.crm.contacts.searchApi.doSearch(query([], { limit: 2, sorts: ['email'] }));
    expect(first.total).toBe(3);
    expect(first.results.map((r) => r.properties.email)).toEqual(['ada@example.com', 'bob@example.com']);
    expect(first.paging?.next?.after).toBe('2');
    const second = await hs.crm.contacts.searchApi.doSearch(query([], { limit: 2, sorts: ['email'], after: first.paging!.next!.after }));
    expect(second.results.map((r) => r.properties.email)).toEqual(['cy@example.com']);
    expect(second.paging).toBeUndefined();
  });

  it('rejects a limit over 200 and a filter on an unknown property', async () => {
    expect((await sdkError(hs.crm.contacts.searchApi.doSearch(query([], { limit: 201 })))).code).toBe(400);
    const e = await sdkError(hs.crm.contacts.searchApi.doSearch(query([{ propertyName: 'nope', operator: 'EQ', value: 'x' }])));
    expect(e.code).toBe(400);
    expect(e.body.category).toBe('VALIDATION_ERROR');
  });
});

describe('eventual consistency', () => {
  it('a contact written through the API is found only after the index lag', async () => {
    const c = await hs.crm.contacts.basicApi.create({ properties: { email: 'late@example.com' }, associations: [] });
    const byEmail = query([{ propertyName: 'email', operator: 'EQ', value: 'late@example.com' }]);
    expect((await hs.crm.contacts.searchApi.doSearch(byEmail)).total).toBe(0);
    await sleep(LAG_MS + 30);
    const later = await hs.crm.contacts.searchApi.doSearch(byEmail);
    expect(later.results.map((r) => r.id)).toEqual([c.id]);
  });

  it('an update is searchable with its old values until the lag passes', async () => {
    const seeded = fake.portal(7).addContact({ email: 'move@example.com', firstname: 'Before' });
    await hs.crm.contacts.basicApi.update(seeded.id, { properties: { firstname: 'After' } });
    const before = query([{ propertyName: 'firstname', operator: 'EQ', value: 'Before' }]);
    const after = query([{ propertyName: 'firstname', operator: 'EQ', value: 'After' }]);
    expect((await hs.crm.contacts.searchApi.doSearch(before)).total).toBe(1);
    expect((await hs.crm.contacts.searchApi.doSearch(after)).total).toBe(0);
    await sleep(LAG_MS + 30);
    expect((await hs.crm.contacts.searchApi.doSearch(before)).total).toBe(0);
    expect((await hs.crm.contacts.searchApi.doSearch(after)).total).toBe(1);
  });
});

describe('search rate limit', () => {
  it('answers 429 past the per-second search limit, separately from the burst limit', async () => {
    const small = await startFakeHubSpot({ searchPerSecond: 2 });
    try {
      const client = sdkClient(small, 8);
      const q = query([]);
      await client.crm.contacts.searchApi.doSearch(q);
      await client.crm.contacts.searchApi.doSearch(q);
      const e = await sdkError(client.crm.contacts.searchApi.doSearch(q));
      expect(e.code).toBe(429);
      expect(e.body).toMatchObject({ status: 'error', errorType: 'RATE_LIMIT', policyName: 'SECONDLY' });
      // Other CRM calls are still allowed.
      await client.crm.contacts.basicApi.getPage(1);
      await sleep(1050);
      await client.crm.contacts.searchApi.doSearch(q);
      expect(small.requestCount({ pathPrefix: '/crm/v3/objects/contacts/search' })).toBe(4);
    } finally {
      await small.close();
    }
  });
});
