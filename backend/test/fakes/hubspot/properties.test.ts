import type { Client } from '@hubspot/api-client';
import { startFakeHubSpot, type FakeHubSpot } from './server';
import { raw, sdkClient, sdkError } from './test-support';

/** Properties v3: groups and property definitions, duplicates, type/fieldType rules, batches. */

let fake: FakeHubSpot;
let hs: Client;

beforeAll(async () => {
  fake = await startFakeHubSpot();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.reset();
  hs = sdkClient(fake, 3);
});

const prop = (name: string, type: string, fieldType: string, extra: Record<string, unknown> = {}) => ({
  name, label: name, type: type as never, fieldType: fieldType as never, groupName: 'stripe', ...extra,
});

describe('groups', () => {
  it('creates, reads, lists and refuses a duplicate with 409', async () => {
    const g = await hs.crm.properties.groupsApi.create('contacts', { name: 'stripe', label: 'Stripe', displayOrder: 5 });
    expect(g).toMatchObject({ name: 'stripe', label: 'Stripe', displayOrder: 5, archived: false });
    expect(await hs.crm.properties.groupsApi.getByName('contacts', 'stripe')).toMatchObject({ name: 'stripe' });
    const all = await hs.crm.properties.groupsApi.getAll('contacts');
    expect(all.results.map((x) => x.name).sort()).toEqual(['contactinformation', 'stripe']);
    const dup = await sdkError(hs.crm.properties.groupsApi.create('contacts', { name: 'stripe', label: 'Again' }));
    expect(dup.code).toBe(409);
    expect(dup.body.category).toBe('OBJECT_ALREADY_EXISTS');
    expect((await sdkError(hs.crm.properties.groupsApi.getByName('contacts', 'nope'))).code).toBe(404);
  });
});

describe('properties', () => {
  beforeEach(async () => {
    await hs.crm.properties.groupsApi.create('contacts', { name: 'stripe', label: 'Stripe' });
  });

  it('starts with HubSpot’s built-ins, lifecyclestage with its stage options', async () => {
    const stage = await hs.crm.properties.coreApi.getByName('contacts', 'lifecyclestage');
    expect(stage).toMatchObject({ type: 'enumeration', hubspotDefined: true });
    expect(stage.options.map((o) => o.value)).toEqual(
      expect.arrayContaining(['subscriber', 'lead', 'marketingqualifiedlead', 'salesqualifiedlead', 'opportunity', 'customer', 'evangelist', 'other']),
    );
    const names = (await hs.crm.properties.coreApi.getAll('contacts')).results.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['email', 'firstname', 'lastname', 'phone', 'company', 'hs_object_id', 'createdate', 'lastmodifieddate']));
  });

  it('creates a property, keeps hasUniqueValue, refuses a duplicate with 409', async () => {
    const p = await hs.crm.properties.coreApi.create('contacts', prop('stripe_customer_id', 'string', 'text', { hasUniqueValue: true, description: 'Stripe id' }));
    expect(p).toMatchObject({ name: 'stripe_customer_id', hasUniqueValue: true, groupName: 'stripe', description: 'Stripe id' });
    expect(fake.portal(3).properties.get('stripe_customer_id')?.hasUniqueValue).toBe(true);
    const dup = await sdkError(hs.crm.properties.coreApi.create('contacts', prop('stripe_customer_id', 'string', 'text')));
    expect(dup.code).toBe(409);
    expect(dup.body).toMatchObject({ category: 'OBJECT_ALREADY_EXISTS', message: "Property named 'stripe_customer_id' already exists." });
  });

  it('validates type/fieldType combinations, names and the group', async () => {
    const combos: [string, string, number][] = [
      ['string', 'select', 400], ['number', 'text', 400], ['date', 'number', 400], ['bool', 'booleancheckbox', 201],
      ['enumeration', 'select', 201], ['datetime', 'date', 201], ['number', 'number', 201],
    ];
    for (const [i, [type, fieldType, status]] of combos.entries()) {
      const res = await raw(fake, 'POST', '/crm/v3/properties/contacts', { token: 'pat-3', json: prop(`p_${i}`, type, fieldType) });
      expect([type, fieldType, res.status]).toEqual([type, fieldType, status]);
    }
    expect((await sdkError(hs.crm.properties.coreApi.create('contacts', prop('Bad Name', 'string', 'text')))).code).toBe(400);
    expect((await sdkError(hs.crm.properties.coreApi.create('contacts', prop('hs_mine', 'string', 'text')))).code).toBe(400);
    const group = await sdkError(hs.crm.properties.coreApi.create('contacts', { ...prop('orphan', 'string', 'text'), groupName: 'none' }));
    expect(group.code).toBe(400);
    const badType = await raw(fake, 'POST', '/crm/v3/properties/contacts', { token: 'pat-3', json: prop('x', 'text', 'text') });
    expect(badType.status).toBe(400);
  });

  it('updates a property with PATCH and archives it', async () => {
    await hs.crm.properties.coreApi.create('contacts', prop('stripe_plan', 'enumeration', 'select', { options: [{ label: 'Pro', value: 'pro', hidden: false }] }));
    const updated = await hs.crm.properties.coreApi.update('contacts', 'stripe_plan', {
      label: 'Plan', options: [{ label: 'Pro', value: 'pro', hidden: false }, { label: 'Team', value: 'team', hidden: false }],
    });
    expect(updated.label).toBe('Plan');
    expect(updated.options.map((o) => o.value)).toEqual(['pro', 'team']);
    await hs.crm.contacts.basicApi.create({ properties: { email: 'p@example.com', stripe_plan: 'team' }, associations: [] });
    await hs.crm.properties.coreApi.archive('contacts', 'stripe_plan');
    expect((await sdkError(hs.crm.properties.coreApi.getByName('contacts', 'stripe_plan'))).code).toBe(404);
    const write = await sdkError(hs.crm.contacts.basicApi.create({ properties: { email: 'q@example.com', stripe_plan: 'pro' }, associations: [] }));
    expect(write.code).toBe(400);
  });

  it('batch/create answers 201, or 207 with the failed ones', async () => {
    const ok = await hs.crm.properties.batchApi.create('contacts', { inputs: [prop('a_one', 'string', 'text'), prop('a_two', 'number', 'number')] });
    expect(ok.results.map((p) => p.name).sort()).toEqual(['a_one', 'a_two']);
    const mixed = await raw(fake, 'POST', '/crm/v3/properties/contacts/batch/create', {
      token: 'pat-3', json: { inputs: [prop('a_one', 'string', 'text'), prop('a_three', 'string', 'text')] },
    });
    expect(mixed.status).toBe(207);
    expect((mixed.body.results as { name: string }[]).map((p) => p.name)).toEqual(['a_three']);
    expect(mixed.body.errors).toEqual([expect.objectContaining({ category: 'OBJECT_ALREADY_EXISTS', context: { name: ['a_one'] } })]);
  });
});
