import type { Client } from '@hubspot/api-client';
import { startFakeHubSpot, type FakeHubSpot } from './server';
import { sdkClient, sdkError } from './test-support';

/** Contacts v3 through the real @hubspot/api-client: create, read, update, upsert, batches, conflicts. */

let fake: FakeHubSpot;
let hs: Client;
const PORTAL = 1001;

beforeAll(async () => {
  fake = await startFakeHubSpot();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.reset();
  hs = sdkClient(fake, PORTAL);
});

const create = (properties: Record<string, string>) => hs.crm.contacts.basicApi.create({ properties, associations: [] });

describe('single contacts', () => {
  it('creates a contact with a lower-cased email and maintained system properties', async () => {
    const c = await create({ email: 'Ada@Example.COM', firstname: 'Ada' });
    expect(c.id).toMatch(/^\d+$/);
    expect(c.properties).toMatchObject({ email: 'ada@example.com', firstname: 'Ada', hs_object_id: c.id });
    expect(Date.parse(c.properties.createdate!)).not.toBeNaN();
    expect(c.createdAt).toBeInstanceOf(Date);
    expect(fake.portal(PORTAL).contactByEmail('ADA@example.com')?.id).toBe(c.id);
  });

  it('reads by id and by email (idProperty), with null for a defined but unset property', async () => {
    const c = await create({ email: 'grace@example.com', firstname: 'Grace' });
    const byId = await hs.crm.contacts.basicApi.getById(c.id, ['firstname', 'phone']);
    expect(byId.properties).toMatchObject({ firstname: 'Grace', phone: null, hs_object_id: c.id });
    const byEmail = await hs.crm.contacts.basicApi.getById('GRACE@example.com', undefined, undefined, undefined, false, 'email');
    expect(byEmail.id).toBe(c.id);
    expect(byEmail.properties.email).toBe('grace@example.com');
  });

  it('answers 404 for an unknown id and 400 for a non-unique idProperty', async () => {
    expect((await sdkError(hs.crm.contacts.basicApi.getById('999999'))).code).toBe(404);
    const e = await sdkError(hs.crm.contacts.basicApi.getById('Ada', undefined, undefined, undefined, false, 'firstname'));
    expect(e.code).toBe(400);
    expect(e.body.message).toContain('non-unique');
  });

  it('updates by id and by email, bumping lastmodifieddate', async () => {
    const c = await create({ email: 'linus@example.com' });
    await new Promise((r) => setTimeout(r, 5));
    const u = await hs.crm.contacts.basicApi.update(c.id, { properties: { lastname: 'T', lifecyclestage: 'customer' } });
    expect(u.properties).toMatchObject({ lastname: 'T', lifecyclestage: 'customer' });
    expect(Date.parse(u.properties.lastmodifieddate!)).toBeGreaterThan(Date.parse(c.properties.lastmodifieddate!));
    await hs.crm.contacts.basicApi.update('LINUS@example.com', { properties: { firstname: 'Linus' } }, 'email');
    expect(fake.portal(PORTAL).contacts.get(c.id)?.properties.firstname).toBe('Linus');
  });

  it('clears a property written as an empty string', async () => {
    const c = await create({ email: 'x@example.com', firstname: 'X' });
    await hs.crm.contacts.basicApi.update(c.id, { properties: { firstname: '' } });
    expect(fake.portal(PORTAL).contacts.get(c.id)?.properties.firstname).toBeUndefined();
  });
});

describe('duplicates', () => {
  it('answers 409 CONFLICT naming the existing id on a second contact with the same email', async () => {
    const first = await create({ email: 'dup@example.com' });
    const e = await sdkError(create({ email: 'DUP@example.com' }));
    expect(e.code).toBe(409);
    expect(e.body).toMatchObject({ status: 'error', category: 'CONFLICT', message: `Contact already exists. Existing ID: ${first.id}` });
    expect(typeof e.body.correlationId).toBe('string');
    expect(fake.portal(PORTAL).contacts.size).toBe(1);
  });

  it('answers 409 when an update moves a contact onto another one’s email', async () => {
    const a = await create({ email: 'a@example.com' });
    const b = await create({ email: 'b@example.com' });
    const e = await sdkError(hs.crm.contacts.basicApi.update(b.id, { properties: { email: 'A@example.com' } }));
    expect(e.code).toBe(409);
    expect(e.body.message).toBe(`Contact already exists. Existing ID: ${a.id}`);
    expect(fake.portal(PORTAL).contacts.get(b.id)?.properties.email).toBe('b@example.com');
  });

  it('enforces hasUniqueValue properties too', async () => {
    await hs.crm.properties.coreApi.create('contacts', {
      name: 'stripe_customer_id', label: 'Stripe customer', type: 'string' as never, fieldType: 'text' as never,
      groupName: 'contactinformation', hasUniqueValue: true,
    });
    const a = await create({ email: 'u1@example.com', stripe_customer_id: 'cus_1' });
    const e = await sdkError(create({ email: 'u2@example.com', stripe_customer_id: 'cus_1' }));
    expect(e.code).toBe(409);
    expect(e.body.message).toContain(`Existing ID: ${a.id}`);
  });
});

describe('property values', () => {
  it('answers 400 VALIDATION_ERROR with PROPERTY_DOESNT_EXIST for an unknown property, changing nothing', async () => {
    const e = await sdkError(create({ email: 'p@example.com', stripe_mrr: '10' }));
    expect(e.code).toBe(400);
    expect(e.body.category).toBe('VALIDATION_ERROR');
    expect(e.body.message).toMatch(/^Property values were not valid: \[.*"error":"PROPERTY_DOESNT_EXIST".*"name":"stripe_mrr"/);
    expect(e.body.errors).toEqual([expect.objectContaining({ code: 'PROPERTY_DOESNT_EXIST', context: { propertyName: ['stripe_mrr'] } })]);
    expect(fake.portal(PORTAL).contacts.size).toBe(0);
  });

  it('checks numbers, dates, datetimes, options, booleans and emails', async () => {
    const props = hs.crm.properties.coreApi;
    const def = (name: string, type: string, fieldType: string, options?: { label: string; value: string; hidden: boolean }[]) =>
      props.create('contacts', { name, label: name, type: type as never, fieldType: fieldType as never, groupName: 'contactinformation', options });
    await def('amount', 'number', 'number');
    await def('paid_on', 'date', 'date');
    await def('paid_at', 'datetime', 'date');
    await def('plan', 'enumeration', 'select', [{ label: 'Pro', value: 'pro', hidden: false }]);
    await def('delinquent', 'bool', 'booleancheckbox');
    const errorOf = async (properties: Record<string, string>) => {
      const e = await sdkError(create({ email: 'v@example.com', ...properties }));
      expect(e.code).toBe(400);
      return (e.body.errors as { code: string }[])[0]!.code;
    };
    expect(await errorOf({ amount: '12abc' })).toBe('INVALID_INTEGER');
    expect(await errorOf({ amount: '1e5' })).toBe('INVALID_INTEGER');
    expect(await errorOf({ paid_on: String(Date.UTC(2024, 0, 2, 10)) })).toBe('INVALID_DATE');
    expect(await errorOf({ paid_at: 'yesterday' })).toBe('INVALID_DATETIME');
    expect(await errorOf({ plan: 'enterprise' })).toBe('INVALID_OPTION');
    expect(await errorOf({ lifecyclestage: 'Customer' })).toBe('INVALID_OPTION');
    expect(await errorOf({ delinquent: 'yes' })).toBe('INVALID_OPTION');
    expect(await errorOf({ email: 'not-an-email' })).toBe('INVALID_EMAIL');
    expect(await errorOf({ hs_object_id: '5' })).toBe('READ_ONLY_VALUE');
    const ok = await create({
      email: 'v@example.com', amount: '-12.50', paid_on: String(Date.UTC(2024, 0, 2)), paid_at: String(Date.UTC(2024, 0, 2, 10, 3)),
      plan: 'pro', delinquent: 'false', lifecyclestage: 'customer',
    });
    expect(ok.properties).toMatchObject({ amount: '-12.50', plan: 'pro', delinquent: 'false' });
  });
});

describe('batches', () => {
  it('batch/create answers 201 with every contact; a duplicate fails the whole batch with 409', async () => {
    const res = await hs.crm.contacts.batchApi.create({
      inputs: [{ properties: { email: 'b1@example.com' }, associations: [] }, { properties: { email: 'b2@example.com' }, associations: [] }],
    });
    expect(res.status).toBe('COMPLETE');
    expect(res.results.map((r) => r.properties.email).sort()).toEqual(['b1@example.com', 'b2@example.com']);
    const e = await sdkError(
      hs.crm.contacts.batchApi.create({
        inputs: [{ properties: { email: 'b3@example.com' }, associations: [] }, { properties: { email: 'b1@example.com' }, associations: [] }],
      }),
    );
    expect(e.code).toBe(409);
    expect(fake.portal(PORTAL).contactByEmail('b3@example.com')).toBeUndefined();
  });

  it('batch/read by email returns the found ones and a 207 error listing the missing', async () => {
    const a = await create({ email: 'r1@example.com', firstname: 'R' });
    const res = await hs.crm.contacts.batchApi.read({
      idProperty: 'email', inputs: [{ id: 'R1@example.com' }, { id: 'nobody@example.com' }], properties: ['firstname'], propertiesWithHistory: [],
    });
    expect(res.results).toHaveLength(1);
    expect(res.results[0]).toMatchObject({ id: a.id, properties: { firstname: 'R' } });
    const withErrors = res as typeof res & { errors?: { category: string; context: Record<string, string[]> }[] };
    expect(withErrors.errors).toEqual([expect.objectContaining({ category: 'OBJECT_NOT_FOUND', context: { ids: ['nobody@example.com'] } })]);
  });

  it('batch/update answers 207: results for existing ids, OBJECT_NOT_FOUND with context.ids for the rest', async () => {
    const a = await create({ email: 'u@example.com' });
    const res = await hs.crm.contacts.batchApi.update({
      inputs: [{ id: a.id, properties: { firstname: 'U' } }, { id: '987654321', properties: { firstname: 'Z' } }],
    });
    expect(res.results.map((r) => r.id)).toEqual([a.id]);
    const errors = (res as typeof res & { errors: { category: string; context: { ids: string[] } }[] }).errors;
    expect(errors[0]).toMatchObject({ category: 'OBJECT_NOT_FOUND', context: { ids: ['987654321'] } });
    expect(fake.portal(PORTAL).contacts.get(a.id)?.properties.firstname).toBe('U');
  });

  it('batch/upsert by email creates and updates, with `new` mapped to `_new` by the SDK', async () => {
    const existing = await create({ email: 'old@example.com' });
    const res = await hs.crm.contacts.batchApi.upsert({
      inputs: [
        { id: 'OLD@example.com', idProperty: 'email', properties: { firstname: 'Old' } },
        { id: 'new@example.com', idProperty: 'email', properties: { firstname: 'New' } },
      ],
    });
    const byEmail = new Map(res.results.map((r) => [r.properties.email, r]));
    expect(byEmail.get('old@example.com')).toMatchObject({ id: existing.id, _new: false });
    expect(byEmail.get('new@example.com')).toMatchObject({ _new: true, properties: { firstname: 'New' } });
    expect(fake.portal(PORTAL).contacts.size).toBe(2);
  });

  it('rejects duplicate ids in an upsert and more than 100 inputs', async () => {
    const dup = await sdkError(hs.crm.contacts.batchApi.upsert({
      inputs: [
        { id: 'a@example.com', idProperty: 'email', properties: {} },
        { id: 'A@example.com', idProperty: 'email', properties: {} },
      ],
    }));
    expect(dup.code).toBe(400);
    expect(dup.body.message).toContain('Duplicate IDs');
    const inputs = Array.from({ length: 101 }, (_, i) => ({ id: `c${i}@example.com`, idProperty: 'email', properties: {} }));
    const big = await sdkError(hs.crm.contacts.batchApi.upsert({ inputs }));
    expect(big.code).toBe(400);
    expect(fake.portal(PORTAL).contacts.size).toBe(0);
  });

  it('archives and GDPR-deletes', async () => {
    const a = await create({ email: 'gone@example.com' });
    const b = await create({ email: 'purge@example.com' });
    await hs.crm.contacts.batchApi.archive({ inputs: [{ id: a.id }] });
    expect((await sdkError(hs.crm.contacts.basicApi.getById(a.id))).code).toBe(404);
    expect(fake.portal(PORTAL).contactByEmail('gone@example.com')).toBeUndefined();
    await hs.crm.contacts.basicApi.purge({ objectId: 'purge@example.com', idProperty: 'email' });
    expect(fake.portal(PORTAL).contacts.has(b.id)).toBe(false);
  });
});
