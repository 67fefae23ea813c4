import type { Client } from '@hubspot/api-client';
import { AssociationSpecAssociationCategoryEnum } from '@hubspot/api-client/lib/codegen/crm/objects/tasks';
import { startFakeHubSpot, type FakeHubSpot } from './server';
import { raw, sdkClient, sdkError } from './test-support';

/** Request bodies checked against HubSpot's OpenAPI schemas; tasks; unknown routes. */

let fake: FakeHubSpot;
let hs: Client;
const TOKEN = 'pat-4';

beforeAll(async () => {
  fake = await startFakeHubSpot();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.reset();
  hs = sdkClient(fake, 4, TOKEN);
});

describe('spec validation', () => {
  it('rejects a malformed batch body with 400 VALIDATION_ERROR naming the missing field, changing nothing', async () => {
    const res = await raw(fake, 'POST', '/crm/v3/objects/contacts/batch/upsert', {
      token: TOKEN,
      json: { inputs: [{ idProperty: 'email', properties: { firstname: 'No id' } }] },
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR' });
    expect(String(res.body.message)).toContain('Some required fields were not set: [inputs.0.id]');
    expect(fake.portal(4).contacts.size).toBe(0);
  });

  it('rejects wrong types: inputs not a list, a numeric property value', async () => {
    const notList = await raw(fake, 'POST', '/crm/v3/objects/contacts/batch/update', { token: TOKEN, json: { inputs: { id: '1' } } });
    expect(notList.status).toBe(400);
    const numeric = await raw(fake, 'POST', '/crm/v3/objects/contacts', {
      token: TOKEN,
      json: { properties: { email: 'n@example.com', amount: 5 }, associations: [] },
    });
    expect(numeric.status).toBe(400);
    expect(String(numeric.body.message)).toContain('properties.amount');
  });

  it('rejects an operator outside the enum and a body that is not JSON', async () => {
    const e = await sdkError(
      hs.crm.contacts.searchApi.doSearch({
        filterGroups: [{ filters: [{ propertyName: 'email', operator: 'LIKE' as never, value: 'x' }] }],
        sorts: [], properties: [], limit: 10, after: '0',
      }),
    );
    expect(e.code).toBe(400);
    expect(String(e.body.message)).toContain('must be one of');
    const res = await fetch(`${fake.url}/crm/v3/objects/contacts/batch/read`, {
      method: 'POST', headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' }, body: '{"inputs": [',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { category: string }).category).toBe('VALIDATION_ERROR');
  });

  it('follows the spec’s required fields (search needs after/sorts/properties/limit; create needs associations)', async () => {
    const search = await raw(fake, 'POST', '/crm/v3/objects/contacts/search', { token: TOKEN, json: { filterGroups: [] } });
    expect(search.status).toBe(400);
    expect(String(search.body.message)).toMatch(/Some required fields were not set: \[.*after.*\]/);
  });

  it('validateBodies: false accepts bodies the spec would refuse', async () => {
    const lax = await startFakeHubSpot({ validateBodies: false });
    try {
      lax.addPrivateAppToken('t', 1);
      const res = await raw(lax, 'POST', '/crm/v3/objects/contacts', { token: 't', json: { properties: { email: 'lax@example.com' } } });
      expect(res.status).toBe(201);
    } finally {
      await lax.close();
    }
  });

  it('answers 404 for an endpoint it does not model and 405 for a wrong method', async () => {
    expect((await raw(fake, 'GET', '/crm/v3/objects/line_items', { token: TOKEN })).status).toBe(404);
    expect((await raw(fake, 'GET', '/crm/v3/objects/contacts/batch/upsert', { token: TOKEN })).status).toBe(405);
    expect((await raw(fake, 'PUT', '/crm/v3/objects/contacts', { token: TOKEN })).status).toBe(405);
  });
});

describe('tasks', () => {
  const toContact = (id: string) => [
    { to: { id }, types: [{ associationCategory: AssociationSpecAssociationCategoryEnum.HubspotDefined, associationTypeId: 204 }] },
  ];

  it('creates a task associated with a contact', async () => {
    const contact = fake.portal(4).addContact({ email: 't@example.com' });
    const due = String(Date.UTC(2030, 0, 1, 9));
    const task = await hs.crm.objects.tasks.basicApi.create({
      properties: { hs_timestamp: due, hs_task_subject: 'Payment failed', hs_task_body: 'Invoice in_1 failed', hs_task_priority: 'HIGH' },
      associations: toContact(contact.id),
    });
    expect(task.id).toMatch(/^\d+$/);
    expect(task.properties).toMatchObject({ hs_task_subject: 'Payment failed', hs_task_status: 'NOT_STARTED' });
    expect(fake.portal(4).tasks).toEqual([
      expect.objectContaining({ id: task.id, associations: [expect.objectContaining({ to: { id: contact.id } })] }),
    ]);
  });

  it('refuses a task without hs_timestamp, with a bad option, or associated with a missing contact', async () => {
    const contact = fake.portal(4).addContact({ email: 't2@example.com' });
    const noTime = await sdkError(hs.crm.objects.tasks.basicApi.create({ properties: { hs_task_subject: 'x' }, associations: toContact(contact.id) }));
    expect(noTime.code).toBe(400);
    const option = await sdkError(
      hs.crm.objects.tasks.basicApi.create({ properties: { hs_timestamp: '1700000000000', hs_task_priority: 'URGENT' }, associations: [] }),
    );
    expect((option.body.errors as { code: string }[])[0]!.code).toBe('INVALID_OPTION');
    const missing = await sdkError(hs.crm.objects.tasks.basicApi.create({ properties: { hs_timestamp: '1700000000000' }, associations: toContact('424242') }));
    expect(missing.code).toBe(400);
    expect(fake.portal(4).tasks).toHaveLength(0);
  });
});
