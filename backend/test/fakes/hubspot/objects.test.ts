import type { Client } from '@hubspot/api-client';
import { startFakeHubSpot, type FakeHubSpot } from './server';
import { oauthClient, raw, sdkClient, sdkError } from './test-support';

/** Companies, deals, tickets and notes v3 through the real @hubspot/api-client: reads, writes, upserts, unique values, properties. */

let fake: FakeHubSpot;
let hs: Client;
const PORTAL = 2001;

beforeAll(async () => {
  fake = await startFakeHubSpot();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.reset();
  hs = sdkClient(fake, PORTAL);
});

const uniqueProp = (name: string, groupName: string) => ({
  name, label: name, type: 'string' as never, fieldType: 'text' as never, groupName, hasUniqueValue: true,
});

describe('companies', () => {
  beforeEach(async () => {
    await hs.crm.properties.groupsApi.create('companies', { name: 'stripe', label: 'Stripe' });
    await hs.crm.properties.coreApi.create('companies', uniqueProp('stripe_customer_id', 'stripe'));
  });

  it('creates, reads by id and by a unique idProperty, with HubSpot’s system properties', async () => {
    const c = await hs.crm.companies.basicApi.create({ properties: { name: 'Acme', domain: 'acme.example', stripe_customer_id: 'cus_1' }, associations: [] });
    expect(c.properties).toMatchObject({ name: 'Acme', domain: 'acme.example', hs_object_id: c.id });
    expect(Date.parse(c.properties.hs_lastmodifieddate!)).not.toBeNaN();
    const byId = await hs.crm.companies.basicApi.getById(c.id, ['domain']);
    expect(byId.properties).toMatchObject({ domain: 'acme.example', hs_object_id: c.id });
    expect(byId.properties.name).toBeUndefined();
    const byCus = await hs.crm.companies.basicApi.getById('cus_1', ['name'], undefined, undefined, false, 'stripe_customer_id');
    expect(byCus.id).toBe(c.id);
    const nonUnique = await sdkError(hs.crm.companies.basicApi.getById('acme.example', undefined, undefined, undefined, false, 'domain'));
    expect(nonUnique.code).toBe(400);
    expect(nonUnique.body.message).toBe('Unable to perform read by non-unique 0-2 property');
    expect(fake.portal(PORTAL).companies().map((x) => x.id)).toEqual([c.id]);
    expect(fake.portal(PORTAL).objectByProperty('companies', 'stripe_customer_id', 'cus_1')?.id).toBe(c.id);
  });

  it('answers 409 for a second company with the same unique value, changing nothing; domain is not unique', async () => {
    const a = await hs.crm.companies.basicApi.create({ properties: { name: 'A', domain: 'same.example', stripe_customer_id: 'cus_1' }, associations: [] });
    const b = await hs.crm.companies.basicApi.create({ properties: { name: 'B', domain: 'same.example' }, associations: [] });
    const e = await sdkError(hs.crm.companies.basicApi.create({ properties: { name: 'C', stripe_customer_id: 'cus_1' }, associations: [] }));
    expect(e.code).toBe(409);
    expect(e.body).toMatchObject({ category: 'CONFLICT' });
    expect(e.body.message).toContain(`Existing ID: ${a.id}`);
    const moved = await sdkError(hs.crm.companies.basicApi.update(b.id, { properties: { stripe_customer_id: 'cus_1' } }));
    expect(moved.code).toBe(409);
    expect(fake.portal(PORTAL).companies()).toHaveLength(2);
    expect(fake.portal(PORTAL).object('companies', b.id)!.properties.stripe_customer_id).toBeUndefined();
  });

  it('batch/upsert by the unique property creates and updates, answering `new` per input', async () => {
    const existing = await hs.crm.companies.basicApi.create({ properties: { name: 'Old', stripe_customer_id: 'cus_old' }, associations: [] });
    const res = await hs.crm.companies.batchApi.upsert({
      inputs: [
        { id: 'cus_old', idProperty: 'stripe_customer_id', properties: { name: 'Old Co' } },
        { id: 'cus_new', idProperty: 'stripe_customer_id', properties: { name: 'New Co', domain: 'new.example' } },
      ],
    });
    const byCus = new Map(res.results.map((r) => [r.properties.stripe_customer_id, r]));
    expect(byCus.get('cus_old')).toMatchObject({ id: existing.id, _new: false, properties: { name: 'Old Co' } });
    expect(byCus.get('cus_new')).toMatchObject({ _new: true, properties: { name: 'New Co', domain: 'new.example' } });
    expect(fake.portal(PORTAL).companies()).toHaveLength(2);
    const byDomain = await sdkError(hs.crm.companies.batchApi.upsert({ inputs: [{ id: 'x.example', idProperty: 'domain', properties: {} }] }));
    expect(byDomain.code).toBe(400);
    expect(byDomain.body.message).toContain('non-unique');
  });

  it('batch/read by idProperty answers 207 listing the missing values; batch/create and batch/update', async () => {
    const created = await hs.crm.companies.batchApi.create({
      inputs: [
        { properties: { name: 'One', stripe_customer_id: 'cus_a' }, associations: [] },
        { properties: { name: 'Two', stripe_customer_id: 'cus_b' }, associations: [] },
      ],
    });
    expect(created.results).toHaveLength(2);
    const read = await hs.crm.companies.batchApi.read({
      idProperty: 'stripe_customer_id', inputs: [{ id: 'cus_a' }, { id: 'cus_zz' }], properties: ['name'], propertiesWithHistory: [],
    });
    expect(read.results.map((r) => r.properties.name)).toEqual(['One']);
    const errors = (read as typeof read & { errors: { category: string; context: { ids: string[] }; message: string }[] }).errors;
    expect(errors[0]).toMatchObject({ category: 'OBJECT_NOT_FOUND', context: { ids: ['cus_zz'] } });
    expect(errors[0]!.message).toContain('COMPANY');
    const two = created.results.find((r) => r.properties.name === 'Two')!;
    const updated = await hs.crm.companies.batchApi.update({ inputs: [{ id: 'cus_b', idProperty: 'stripe_customer_id', properties: { domain: 'two.example' } }] });
    expect(updated.results[0]).toMatchObject({ id: two.id, properties: { domain: 'two.example' } });
  });

  it('validates bodies against the Companies spec and property values like contacts', async () => {
    const noAssoc = await raw(fake, 'POST', '/crm/v3/objects/companies', { token: `pat-${PORTAL}`, json: { properties: { name: 'X' } } });
    expect(noAssoc.status).toBe(400);
    expect(String(noAssoc.body.message)).toContain('Some required fields were not set: [associations]');
    const unknown = await sdkError(hs.crm.companies.basicApi.create({ properties: { name: 'X', stripe_mrr: '1' }, associations: [] }));
    expect(unknown.code).toBe(400);
    expect(unknown.body.errors).toEqual([expect.objectContaining({ code: 'PROPERTY_DOESNT_EXIST', context: { propertyName: ['stripe_mrr'] } })]);
    const number = await sdkError(hs.crm.companies.basicApi.create({ properties: { name: 'X', numberofemployees: 'ten' }, associations: [] }));
    expect((number.body.errors as { code: string }[])[0]!.code).toBe('INVALID_INTEGER');
    const readOnly = await sdkError(hs.crm.companies.basicApi.create({ properties: { name: 'X', hs_lastmodifieddate: '1' }, associations: [] }));
    expect((readOnly.body.errors as { code: string }[])[0]!.code).toBe('READ_ONLY_VALUE');
    expect(fake.portal(PORTAL).companies()).toHaveLength(0);
  });

  it('is also answered under the type id (0-2), and archives', async () => {
    const c = await hs.crm.companies.basicApi.create({ properties: { name: 'Typed' }, associations: [] });
    const res = await raw(fake, 'GET', `/crm/v3/objects/0-2/${c.id}?properties=name`, { token: `pat-${PORTAL}` });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: c.id, properties: { name: 'Typed' } });
    await hs.crm.companies.basicApi.archive(c.id);
    expect((await sdkError(hs.crm.companies.basicApi.getById(c.id))).code).toBe(404);
    expect(fake.portal(PORTAL).companies()).toHaveLength(0);
    expect(fake.portal(PORTAL).object('companies', c.id)?.archived).toBe(true);
  });
});

describe('deals, tickets and notes', () => {
  it('creates a deal in the default pipeline and upserts one by its unique stripe_subscription_id', async () => {
    await hs.crm.properties.coreApi.create('deals', { ...uniqueProp('stripe_subscription_id', 'dealinformation') });
    const res = await hs.crm.deals.batchApi.upsert({
      inputs: [{ id: 'sub_1', idProperty: 'stripe_subscription_id', properties: { dealname: 'Pro plan', dealstage: 'closedwon', amount: '49.00' } }],
    });
    expect(res.results[0]).toMatchObject({ _new: true, properties: { pipeline: 'default', dealstage: 'closedwon', stripe_subscription_id: 'sub_1' } });
    const again = await hs.crm.deals.batchApi.upsert({
      inputs: [{ id: 'sub_1', idProperty: 'stripe_subscription_id', properties: { amount: '99.00' } }],
    });
    expect(again.results[0]).toMatchObject({ id: res.results[0]!.id, _new: false, properties: { amount: '99.00', dealname: 'Pro plan' } });
    expect(fake.portal(PORTAL).deals()).toHaveLength(1);
    const dup = await sdkError(hs.crm.deals.basicApi.create({ properties: { dealname: 'Copy', dealstage: 'closedwon', stripe_subscription_id: 'sub_1' }, associations: [] }));
    expect(dup.code).toBe(409);
  });

  it('requires a deal’s dealname and dealstage, a ticket’s subject and stage, a note’s hs_timestamp', async () => {
    const deal = await sdkError(hs.crm.deals.basicApi.create({ properties: { amount: '1' }, associations: [] }));
    expect(deal.code).toBe(400);
    expect((deal.body.errors as { code: string; context: { propertyName: string[] } }[]).map((e) => [e.code, e.context.propertyName[0]])).toEqual([
      ['REQUIRED_PROPERTY', 'dealname'],
      ['REQUIRED_PROPERTY', 'dealstage'],
    ]);
    const ticket = await sdkError(hs.crm.tickets.basicApi.create({ properties: { content: 'x' }, associations: [] }));
    expect(ticket.code).toBe(400);
    const note = await sdkError(hs.crm.objects.notes.basicApi.create({ properties: { hs_note_body: 'x' }, associations: [] }));
    expect((note.body.errors as { code: string }[])[0]!.code).toBe('REQUIRED_PROPERTY');
    const t = await hs.crm.tickets.basicApi.create({ properties: { subject: 'Payment failed', hs_pipeline_stage: '1', hs_ticket_priority: 'HIGH' }, associations: [] });
    expect(t.properties).toMatchObject({ hs_pipeline: '0', hs_pipeline_stage: '1' });
    const n = await hs.crm.objects.notes.basicApi.create({ properties: { hs_note_body: 'MRR +10', hs_timestamp: String(Date.UTC(2026, 0, 1)) }, associations: [] });
    expect(n.properties.hs_createdate).toBeDefined();
    expect(fake.portal(PORTAL).tickets().map((x) => x.id)).toEqual([t.id]);
    expect(fake.portal(PORTAL).notes().map((x) => x.id)).toEqual([n.id]);
    expect(fake.portal(PORTAL).deals()).toHaveLength(0);
  });

  it('answers deals under /crm/v3/objects/0-3 as the Deals spec writes it', async () => {
    const res = await raw(fake, 'POST', '/crm/v3/objects/0-3', {
      token: `pat-${PORTAL}`, json: { properties: { dealname: 'Typed', dealstage: 'appointmentscheduled' }, associations: [] },
    });
    expect(res.status).toBe(201);
    expect((await hs.crm.deals.basicApi.getById(String(res.body.id))).properties.dealname).toBe('Typed');
  });
});

describe('properties of other object types', () => {
  it('keeps each type’s own built-ins, groups and definitions', async () => {
    const dealProps = (await hs.crm.properties.coreApi.getAll('deals')).results.map((p) => p.name);
    expect(dealProps).toEqual(expect.arrayContaining(['dealname', 'amount', 'pipeline', 'dealstage', 'closedate', 'hs_object_id']));
    expect(dealProps).not.toContain('email');
    await hs.crm.properties.groupsApi.create('0-5', { name: 'stripe', label: 'Stripe' });
    await hs.crm.properties.coreApi.create('tickets', uniqueProp('stripe_invoice_id', 'stripe'));
    expect(fake.portal(PORTAL).propertiesOf('tickets').get('stripe_invoice_id')?.hasUniqueValue).toBe(true);
    expect(fake.portal(PORTAL).propertiesOf('companies').has('stripe_invoice_id')).toBe(false);
    expect(fake.portal(PORTAL).properties.has('stripe_invoice_id')).toBe(false);
    const noGroup = await sdkError(hs.crm.properties.coreApi.create('companies', uniqueProp('stripe_customer_id', 'stripe')));
    expect(noGroup.code).toBe(400);
    const dup = await sdkError(hs.crm.properties.groupsApi.create('tickets', { name: 'stripe', label: 'Again' }));
    expect(dup.code).toBe(409);
    expect((await sdkError(hs.crm.properties.coreApi.getAll('line_items'))).code).toBe(400);
  });

  it('refuses a property creation per object type', async () => {
    fake.portal(PORTAL).refusePropertyCreation('stripe_mrr', 'Limit reached', 'companies');
    const e = await sdkError(hs.crm.properties.coreApi.create('companies', { ...uniqueProp('stripe_mrr', 'companyinformation'), hasUniqueValue: false }));
    expect(e.body).toMatchObject({ category: 'VALIDATION_ERROR', message: 'Limit reached' });
    await hs.crm.properties.coreApi.create('contacts', { ...uniqueProp('stripe_mrr', 'contactinformation'), hasUniqueValue: false });
  });
});

describe('scopes and counting', () => {
  it('needs the companies, deals and tickets scopes of an OAuth token; counts requests by path prefix', async () => {
    const contactsOnly = await oauthClient(fake, PORTAL, ['oauth', 'crm.objects.contacts.read', 'crm.objects.contacts.write']);
    const e = await sdkError(contactsOnly.crm.companies.basicApi.create({ properties: { name: 'X' }, associations: [] }));
    expect(e.code).toBe(403);
    expect(e.body).toMatchObject({ category: 'MISSING_SCOPES' });
    expect(e.body.errors).toEqual([expect.objectContaining({ context: { requiredGranularScopes: ['crm.objects.companies.write'] } })]);
    expect((await sdkError(contactsOnly.crm.tickets.basicApi.getPage())).code).toBe(403);
    expect((await sdkError(contactsOnly.crm.properties.coreApi.create('deals', uniqueProp('x_id', 'dealinformation')))).code).toBe(403);
    // Notes use the contacts scopes, as HubSpot's Notes spec says.
    await contactsOnly.crm.objects.notes.basicApi.getPage();
    const readOnly = await oauthClient(fake, PORTAL, ['oauth', 'crm.objects.companies.read']);
    await readOnly.crm.companies.basicApi.getPage();
    expect((await sdkError(readOnly.crm.companies.basicApi.create({ properties: { name: 'X' }, associations: [] }))).code).toBe(403);
    expect(fake.requestCount({ portalId: PORTAL, pathPrefix: '/crm/v3/objects/companies' })).toBe(3);
    expect(fake.requestCount({ portalId: PORTAL, pathPrefix: '/crm/v3/objects/notes' })).toBe(1);
    expect(fake.portal(PORTAL).companies()).toHaveLength(0);
  });
});
