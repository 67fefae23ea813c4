import type { Client } from '@hubspot/api-client';
import { AssociationSpecAssociationCategoryEnum as Category } from '@hubspot/api-client/lib/codegen/crm/associations/v4';
import { startFakeHubSpot, type FakeHubSpot } from './server';
import { oauthClient, raw, sdkClient, sdkError } from './test-support';

/** Associations v4: default and labelled, on create, batch read, missing records, inspection. */

let fake: FakeHubSpot;
let hs: Client;
const PORTAL = 2301;

beforeAll(async () => {
  fake = await startFakeHubSpot();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.reset();
  hs = sdkClient(fake, PORTAL);
});

const HS = Category.HubspotDefined;

function seed() {
  const p = fake.portal(PORTAL);
  const contact = p.addContact({ email: 'ada@example.com' });
  const company = p.addObject('companies', { name: 'Acme', domain: 'acme.example' });
  const deal = p.addObject('deals', { dealname: 'Pro', dealstage: 'closedwon' });
  return { p, contact, company, deal };
}

describe('batch create and associate default', () => {
  it('associates a contact with its company as Primary: the unlabeled type comes along, and the inverse direction exists', async () => {
    const { p, contact, company } = seed();
    const res = await hs.crm.associations.v4.batchApi.create('contacts', 'companies', {
      inputs: [{ _from: { id: contact.id }, to: { id: company.id }, types: [{ associationCategory: HS, associationTypeId: 1 }] }],
    });
    expect(res.results).toEqual([
      expect.objectContaining({ fromObjectTypeId: '0-1', fromObjectId: contact.id, toObjectTypeId: '0-2', toObjectId: company.id, labels: ['Primary'] }),
    ]);
    expect(p.associations('contacts', 'companies')).toEqual([
      {
        fromId: contact.id,
        toId: company.id,
        types: [
          { category: 'HUBSPOT_DEFINED', typeId: 279, label: null },
          { category: 'HUBSPOT_DEFINED', typeId: 1, label: 'Primary' },
        ],
      },
    ]);
    expect(p.associations('companies', 'contacts')[0]!.types.map((t) => t.typeId)).toEqual([280, 2]);
  });

  it('associate/default creates the unlabeled types (deal→contact 3, deal→company 341)', async () => {
    const { p, contact, company, deal } = seed();
    const toContact = await hs.crm.associations.v4.batchApi.createDefault('deals', 'contacts', { inputs: [{ _from: { id: deal.id }, to: { id: contact.id } }] });
    expect(toContact.results).toEqual([
      expect.objectContaining({ _from: { id: deal.id }, to: { id: contact.id }, associationSpec: { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 3 } }),
    ]);
    await hs.crm.associations.v4.batchApi.createDefault('0-3', '0-2', { inputs: [{ _from: { id: deal.id }, to: { id: company.id } }] });
    expect(p.associations('deals', 'companies').map((a) => [a.fromId, a.toId, a.types.map((t) => t.typeId)])).toEqual([[deal.id, company.id, [341]]]);
    expect(p.associations('contacts', 'deals').map((a) => a.types.map((t) => t.typeId))).toEqual([[4]]);
  });

  it('a missing record: batch create answers 207 and creates the rest; associate default answers 400 and creates nothing', async () => {
    const { p, contact, company } = seed();
    const res = await hs.crm.associations.v4.batchApi.create('contacts', 'companies', {
      inputs: [
        { _from: { id: contact.id }, to: { id: company.id }, types: [{ associationCategory: HS, associationTypeId: 279 }] },
        { _from: { id: contact.id }, to: { id: '999999' }, types: [{ associationCategory: HS, associationTypeId: 279 }] },
      ],
    });
    const errors = (res as typeof res & { errors: { category: string; context: { ids: string[] } }[] }).errors;
    expect(errors).toEqual([expect.objectContaining({ category: 'OBJECT_NOT_FOUND', context: { ids: ['999999'] } })]);
    expect(res.results).toHaveLength(1);
    const e = await sdkError(hs.crm.associations.v4.batchApi.createDefault('deals', 'contacts', { inputs: [{ _from: { id: '888888' }, to: { id: contact.id } }] }));
    expect(e.code).toBe(400);
    expect(e.body.category).toBe('VALIDATION_ERROR');
    expect(p.associations('deals', 'contacts')).toEqual([]);
    expect(p.associations('contacts', 'companies')).toHaveLength(1);
  });

  it('refuses an association type that does not exist between the two object types, and a body that breaks the spec', async () => {
    const { p, contact, company } = seed();
    const e = await sdkError(
      hs.crm.associations.v4.batchApi.create('contacts', 'companies', {
        inputs: [{ _from: { id: contact.id }, to: { id: company.id }, types: [{ associationCategory: HS, associationTypeId: 3 }] }],
      }),
    );
    expect(e.code).toBe(400);
    const noTypes = await raw(fake, 'POST', '/crm/v4/associations/contacts/companies/batch/create', {
      token: `pat-${PORTAL}`, json: { inputs: [{ from: { id: contact.id }, to: { id: company.id } }] },
    });
    expect(noTypes.status).toBe(400);
    expect(String(noTypes.body.message)).toContain('inputs.0.types');
    expect(p.associations('contacts', 'companies')).toEqual([]);
  });

  it('user-defined labels from defineAssociationLabel', async () => {
    const { p, contact, deal } = seed();
    const billing = p.defineAssociationLabel('deals', 'contacts', 'Billing contact', 'Billed deal');
    await hs.crm.associations.v4.batchApi.create('deals', 'contacts', {
      inputs: [{ _from: { id: deal.id }, to: { id: contact.id }, types: [{ associationCategory: Category.UserDefined, associationTypeId: billing }] }],
    });
    expect(p.associations('deals', 'contacts')[0]!.types).toEqual([
      { category: 'HUBSPOT_DEFINED', typeId: 3, label: null },
      { category: 'USER_DEFINED', typeId: billing, label: 'Billing contact' },
    ]);
    expect(p.associations('contacts', 'deals')[0]!.types.map((t) => t.label)).toEqual([null, 'Billed deal']);
  });
});

describe('associations on create', () => {
  it('creates a deal associated with a contact and a company, and a ticket and a note with a contact', async () => {
    const { p, contact, company } = seed();
    const deal = await hs.crm.deals.basicApi.create({
      properties: { dealname: 'Team', dealstage: 'closedwon' },
      associations: [
        { to: { id: contact.id }, types: [{ associationCategory: HS as never, associationTypeId: 3 }] },
        { to: { id: company.id }, types: [{ associationCategory: HS as never, associationTypeId: 5 }] },
      ],
    });
    expect(p.associations('deals', 'contacts').map((a) => [a.fromId, a.toId])).toEqual([[deal.id, contact.id]]);
    expect(p.associations('deals', 'companies')[0]!.types.map((t) => t.label)).toEqual([null, 'Primary']);
    const ticket = await hs.crm.tickets.basicApi.create({
      properties: { subject: 'Payment failed', hs_pipeline_stage: '1' },
      associations: [{ to: { id: contact.id }, types: [{ associationCategory: HS as never, associationTypeId: 16 }] }],
    });
    const note = await hs.crm.objects.notes.basicApi.create({
      properties: { hs_note_body: 'MRR +10', hs_timestamp: '1767225600000' },
      associations: [{ to: { id: contact.id }, types: [{ associationCategory: HS as never, associationTypeId: 202 }] }],
    });
    expect(p.associations('tickets', 'contacts').map((a) => a.fromId)).toEqual([ticket.id]);
    expect(p.associations('contacts', 'notes').map((a) => a.toId)).toEqual([note.id]);
  });

  it('a contact created with its company; a missing target or a wrong type fails the create, which creates nothing', async () => {
    const { p, company } = seed();
    const c = await hs.crm.contacts.basicApi.create({
      properties: { email: 'grace@example.com' },
      associations: [{ to: { id: company.id }, types: [{ associationCategory: HS as never, associationTypeId: 279 }] }],
    });
    expect(p.associations('companies', 'contacts').map((a) => a.toId)).toEqual([c.id]);
    const missing = await sdkError(
      hs.crm.companies.basicApi.create({ properties: { name: 'X' }, associations: [{ to: { id: '777777' }, types: [{ associationCategory: HS as never, associationTypeId: 280 }] }] }),
    );
    expect(missing.code).toBe(400);
    const wrongType = await sdkError(
      hs.crm.tickets.basicApi.create({
        properties: { subject: 'X', hs_pipeline_stage: '1' },
        associations: [{ to: { id: c.id }, types: [{ associationCategory: HS as never, associationTypeId: 279 }] }],
      }),
    );
    expect(wrongType.code).toBe(400);
    expect(p.companies()).toHaveLength(1);
    expect(p.tickets()).toHaveLength(0);
  });
});

describe('associations on batch create', () => {
  it('companies created in a batch with their contacts (company → contact 280): both directions; one conflict fails the batch, nothing made', async () => {
    const { p, contact } = seed();
    const other = p.addContact({ email: 'grace@example.com' });
    await hs.crm.properties.coreApi.create('companies', {
      name: 'stripe_customer_id', label: 'Stripe customer id', type: 'string' as never, fieldType: 'text' as never, groupName: 'companyinformation', hasUniqueValue: true,
    });
    const toContact = (id: string) => ({ to: { id }, types: [{ associationCategory: HS as never, associationTypeId: 280 }] });
    const created = await hs.crm.companies.batchApi.create({
      inputs: [
        { properties: { name: 'One', stripe_customer_id: 'cus_1' }, associations: [toContact(contact.id), toContact(other.id)] },
        { properties: { name: 'Two', stripe_customer_id: 'cus_2' }, associations: [toContact(other.id)] },
      ],
    });
    const byName = new Map(created.results.map((r) => [r.properties.name, r.id]));
    const links = (from: 'contacts' | 'companies', to: 'contacts' | 'companies') =>
      p.associations(from, to).map((a) => `${a.fromId}>${a.toId}:${a.types.map((t) => t.typeId).join(',')}`).sort();
    expect(links('companies', 'contacts')).toEqual(
      [`${byName.get('One')}>${contact.id}:280`, `${byName.get('One')}>${other.id}:280`, `${byName.get('Two')}>${other.id}:280`].sort(),
    );
    expect(links('contacts', 'companies')).toEqual(
      [`${contact.id}>${byName.get('One')}:279`, `${other.id}>${byName.get('One')}:279`, `${other.id}>${byName.get('Two')}:279`].sort(),
    );

    // Atomic: a unique value that exists fails the whole batch with 409 naming the holder; nothing is created or associated.
    const companies = p.companies().length;
    const conflict = await sdkError(
      hs.crm.companies.batchApi.create({
        inputs: [
          { properties: { name: 'Three', stripe_customer_id: 'cus_3' }, associations: [toContact(contact.id)] },
          { properties: { name: 'Again', stripe_customer_id: 'cus_2' }, associations: [toContact(contact.id)] },
        ],
      }),
    );
    expect(conflict.code).toBe(409);
    expect(conflict.body).toMatchObject({ category: 'CONFLICT' });
    expect(String(conflict.body.message)).toContain(`Existing ID: ${byName.get('Two')}`);
    expect(p.companies()).toHaveLength(companies);
    expect(links('companies', 'contacts')).toHaveLength(3);
  });
});

describe('reading associations', () => {
  it('batch read lists each record’s associations with their types; a missing record is a 207 error', async () => {
    const { contact, company, deal } = seed();
    await hs.crm.associations.v4.batchApi.createDefault('contacts', 'companies', { inputs: [{ _from: { id: contact.id }, to: { id: company.id } }] });
    const res = await hs.crm.associations.v4.batchApi.getPage('contacts', 'companies', { inputs: [{ id: contact.id }, { id: '999999' }] });
    expect(res.results).toEqual([
      expect.objectContaining({
        _from: { id: contact.id },
        to: [expect.objectContaining({ toObjectId: company.id, associationTypes: [expect.objectContaining({ category: 'HUBSPOT_DEFINED', typeId: 279 })] })],
      }),
    ]);
    expect((res as typeof res & { errors: { context: { ids: string[] } }[] }).errors[0]!.context.ids).toEqual(['999999']);
    const one = await hs.crm.associations.v4.basicApi.getPage('companies', company.id, 'contacts');
    expect(one.results.map((r) => r.toObjectId)).toEqual([contact.id]);
    expect((await hs.crm.associations.v4.basicApi.getPage('deals', deal.id, 'contacts')).results).toEqual([]);
  });

  it('hides associations of archived records; batch archive removes them', async () => {
    const { p, contact, company, deal } = seed();
    await hs.crm.associations.v4.batchApi.createDefault('deals', 'companies', { inputs: [{ _from: { id: deal.id }, to: { id: company.id } }] });
    await hs.crm.associations.v4.batchApi.createDefault('contacts', 'companies', { inputs: [{ _from: { id: contact.id }, to: { id: company.id } }] });
    await hs.crm.deals.basicApi.archive(deal.id);
    expect(p.associations('companies', 'deals')).toEqual([]);
    await hs.crm.associations.v4.batchApi.archive('contacts', 'companies', { inputs: [{ _from: { id: contact.id }, to: [{ id: company.id }] }] });
    expect(p.associations('companies', 'contacts')).toEqual([]);
  });

  it('needs the object scopes of both sides', async () => {
    const { contact, company } = seed();
    const contactsOnly = await oauthClient(fake, PORTAL, ['oauth', 'crm.objects.contacts.write']);
    const e = await sdkError(
      contactsOnly.crm.associations.v4.batchApi.createDefault('contacts', 'companies', { inputs: [{ _from: { id: contact.id }, to: { id: company.id } }] }),
    );
    expect(e.code).toBe(403);
    expect(e.body.errors).toEqual([expect.objectContaining({ context: { requiredGranularScopes: ['crm.objects.companies.write'] } })]);
  });
});
