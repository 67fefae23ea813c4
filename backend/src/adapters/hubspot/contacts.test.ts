import { useHubSpotAdapter } from '../../../test/helpers/hubspot-adapter';
import { batchCreate, batchUpdate, batchUpsert, readByEmail, readByProperty } from './contacts';
import type { HubSpotPortal } from './portal';
import { ensurePropertyGroupAndProperties } from './properties';

/** Batch contact reads and writes against the fake HubSpot, through the real SDK. */

const hs = useHubSpotAdapter({
  rateLimitPer10s: 1000,
  retry: { baseDelayMs: 10, maxDelayMs: 50, rateLimitDelayMs: 20, maxAttempts: 2 },
});

afterEach(() => hs.fake.inject.clear());

async function newPortal(): Promise<{ portalId: number; portal: HubSpotPortal }> {
  const { portalId, portal } = hs.newPortal();
  await ensurePropertyGroupAndProperties(portal, { name: 'stripe', label: 'Stripe' }, [
    { name: 'stripe_customer_id', label: 'Stripe customer ID', type: 'string', fieldType: 'text', hasUniqueValue: true },
    {
      name: 'stripe_status',
      label: 'Status',
      type: 'enumeration',
      fieldType: 'select',
      options: ['active', 'canceled'].map((v) => ({ label: v, value: v })),
    },
  ]);
  return { portalId, portal };
}

const calls = (portalId: number, path: string) => hs.fake.requestCount({ portalId, pathPrefix: `/crm/v3/objects/contacts/batch/${path}` });

describe('contacts', () => {
  it('reads by email case-insensitively; missing emails are simply absent; large inputs are chunked', async () => {
    const { portalId, portal } = await newPortal();
    const ann = hs.fake.portal(portalId).addContact({ email: 'ann@example.com', firstname: 'Ann' });
    const emails = ['ANN@Example.com', ...Array.from({ length: 149 }, (_, i) => `nobody${i}@example.com`)];
    const found = await readByEmail(portal, emails, ['firstname']);
    expect([...found.keys()]).toEqual(['ann@example.com']);
    expect(found.get('ann@example.com')).toMatchObject({ id: ann.id, properties: { firstname: 'Ann' } });
    expect(calls(portalId, 'read')).toBe(2);
  });

  it('reads by a unique property', async () => {
    const { portalId, portal } = await newPortal();
    const c = hs.fake.portal(portalId).addContact({ email: 'b@example.com', stripe_customer_id: 'cus_B' });
    const found = await readByProperty(portal, 'stripe_customer_id', ['cus_B', 'cus_missing']);
    expect(found.size).toBe(1);
    expect(found.get('cus_B')?.id).toBe(c.id);
  });

  it('creates 250 contacts in three calls, one result per input, in order', async () => {
    const { portalId, portal } = await newPortal();
    const inputs = Array.from({ length: 250 }, (_, i) => ({ properties: { email: `n${i}@example.com`, stripe_customer_id: `cus_${i}` } }));
    const results = await batchCreate(portal, inputs);
    expect(calls(portalId, 'create')).toBe(3);
    expect(results.every((r) => r.ok)).toBe(true);
    results.forEach((r, i) => {
      const contact = hs.fake.portal(portalId).contacts.get((r as { id: string }).id);
      expect(contact?.properties.email).toBe(`n${i}@example.com`);
    });
  });

  it('isolates the one duplicate email (409) in a batch of 100, creating the other 99', async () => {
    const { portalId, portal } = await newPortal();
    const existing = hs.fake.portal(portalId).addContact({ email: 'taken@example.com' });
    const inputs = Array.from({ length: 100 }, (_, i) => ({ properties: { email: i === 37 ? 'Taken@example.com' : `u${i}@example.com` } }));
    const results = await batchCreate(portal, inputs);
    expect(results.filter((r) => r.ok)).toHaveLength(99);
    expect(results[37]).toMatchObject({ ok: false, permanent: true, category: 'CONFLICT', status: 409, existingId: existing.id });
    expect((results[37] as { message: string }).message).toMatch(/already exists/);
    expect(hs.fake.portal(portalId).contacts.size).toBe(100);
    // Halving finds one bad record in about 2·log2(100) calls, not 100.
    expect(calls(portalId, 'create')).toBeLessThanOrEqual(16);
  });

  it('isolates one invalid property value among valid ones', async () => {
    const { portal } = await newPortal();
    const inputs = Array.from({ length: 10 }, (_, i) => ({
      properties: { email: `v${i}@example.com`, stripe_status: i === 4 ? 'bogus' : 'active' },
    }));
    const results = await batchCreate(portal, inputs);
    expect(results.filter((r) => r.ok)).toHaveLength(9);
    expect(results[4]).toMatchObject({ ok: false, permanent: true, category: 'VALIDATION_ERROR', status: 400 });
    expect((results[4] as { message: string }).message).toMatch(/bogus/);
  });

  it('fails every record of a batch whose fault is in every record, without splitting down to singles', async () => {
    const { portalId, portal } = await newPortal();
    const inputs = Array.from({ length: 64 }, (_, i) => ({ properties: { email: `w${i}@example.com`, stripe_status: `bogus-${i % 2}` } }));
    const results = await batchCreate(portal, inputs);
    expect(results.every((r) => !r.ok && r.permanent && r.category === 'VALIDATION_ERROR')).toBe(true);
    expect(calls(portalId, 'create')).toBeLessThanOrEqual(7);
  });

  it('does not split a batch naming a property that does not exist: one call, every record PROPERTY_DOESNT_EXIST', async () => {
    const { portalId, portal } = await newPortal();
    const inputs = Array.from({ length: 64 }, (_, i) => ({ properties: { email: `m${i}@example.com`, no_such_property: 'x' } }));
    const results = await batchCreate(portal, inputs);
    expect(results.every((r) => !r.ok && r.category === 'PROPERTY_DOESNT_EXIST')).toBe(true);
    expect(calls(portalId, 'create')).toBe(1);
  });

  it('updates by id and handles a 207 record by record (missing ids fail, others succeed)', async () => {
    const { portalId, portal } = await newPortal();
    const a = hs.fake.portal(portalId).addContact({ email: 'a@example.com' });
    const b = hs.fake.portal(portalId).addContact({ email: 'b@example.com' });
    const results = await batchUpdate(portal, [
      { id: a.id, properties: { firstname: 'A' } },
      { id: '999999999', properties: { firstname: 'X' } },
      { id: b.id, properties: { firstname: 'B' } },
    ]);
    expect(results[0]).toEqual({ ok: true, id: a.id });
    expect(results[1]).toMatchObject({ ok: false, permanent: true, category: 'OBJECT_NOT_FOUND' });
    expect(results[2]).toEqual({ ok: true, id: b.id });
    expect(hs.fake.portal(portalId).contacts.get(b.id)?.properties.firstname).toBe('B');
    expect(calls(portalId, 'update')).toBe(1);
  });

  it('never sends the same id twice in one batch', async () => {
    const { portalId, portal } = await newPortal();
    const a = hs.fake.portal(portalId).addContact({ email: 'dup@example.com' });
    const results = await batchUpdate(portal, [
      { id: a.id, properties: { firstname: 'First' } },
      { id: a.id, properties: { lastname: 'Second' } },
    ]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(calls(portalId, 'update')).toBe(2);
    expect(hs.fake.portal(portalId).contacts.get(a.id)?.properties).toMatchObject({ firstname: 'First', lastname: 'Second' });
  });

  it('upserts by a unique property and tells new contacts from existing ones', async () => {
    const { portalId, portal } = await newPortal();
    const old = hs.fake.portal(portalId).addContact({ email: 'old@example.com', stripe_customer_id: 'cus_old' });
    const results = await batchUpsert(portal, 'stripe_customer_id', [
      { id: 'cus_new', properties: { email: 'new@example.com' } },
      { id: 'cus_old', properties: { firstname: 'Old' } },
    ]);
    expect(results[0]).toMatchObject({ ok: true, isNew: true });
    expect(results[1]).toEqual({ ok: true, id: old.id, isNew: false });
    expect(hs.fake.portal(portalId).contactByProperty('stripe_customer_id', 'cus_new')?.id).toBe((results[0] as { id: string }).id);
  });

  it('answers a retryable failure per record when HubSpot stays down', async () => {
    const { portal } = await newPortal();
    hs.fake.inject.failNext(5, 503);
    const results = await batchCreate(portal, [{ properties: { email: 'down@example.com' } }]);
    expect(results[0]).toMatchObject({ ok: false, permanent: false, category: 'SERVER', status: 503 });
  });
});
