import { startFakeHubSpot, type FakeHubSpot } from './server';
import { raw, sdkClient, sdkError } from './test-support';

/** Refusals that last: revoked tokens, an uninstalled app, deleted properties and property creation refused. */

let fake: FakeHubSpot;

beforeAll(async () => {
  fake = await startFakeHubSpot();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const form = (p: Record<string, string>) => ({ ...p, client_id: 'test-client-id', client_secret: 'test-client-secret' });

describe('tokens', () => {
  it('a revoked private-app token answers 401 until it is added again', async () => {
    const hs = sdkClient(fake, 21, 'pat-21');
    await hs.crm.contacts.basicApi.getPage(1);
    fake.revokePrivateAppToken('pat-21');
    const err = await sdkError(hs.crm.contacts.basicApi.getPage(1));
    expect(err.code).toBe(401);
    expect(err.body.category).toBe('INVALID_AUTHENTICATION');
    fake.addPrivateAppToken('pat-21', 21);
    expect((await hs.crm.contacts.basicApi.getPage(1)).results).toEqual([]);
  });

  it('uninstalling the app kills its access tokens (401) and refresh tokens (BAD_REFRESH_TOKEN), for that portal only', async () => {
    fake.issueAuthorizationCode('code-a', 31);
    fake.issueAuthorizationCode('code-b', 32);
    const grant = async (code: string) =>
      (await raw(fake, 'POST', '/oauth/v1/token', { form: form({ grant_type: 'authorization_code', code, redirect_uri: 'https://x.example/cb' }) })).body as {
        access_token: string;
        refresh_token: string;
      };
    const a = await grant('code-a');
    const b = await grant('code-b');
    fake.uninstallApp(31);
    expect((await raw(fake, 'GET', '/crm/v3/objects/contacts', { token: a.access_token })).status).toBe(401);
    const refused = await raw(fake, 'POST', '/oauth/v1/token', { form: form({ grant_type: 'refresh_token', refresh_token: a.refresh_token }) });
    expect(refused.status).toBe(400);
    expect(refused.body.status).toBe('BAD_REFRESH_TOKEN');
    expect((await raw(fake, 'GET', '/crm/v3/objects/contacts', { token: b.access_token })).status).toBe(200);
    expect((await raw(fake, 'POST', '/oauth/v1/token', { form: form({ grant_type: 'refresh_token', refresh_token: b.refresh_token }) })).status).toBe(200);
  });
});

describe('properties', () => {
  const prop = { name: 'stripe_plan', label: 'Plan', type: 'string' as never, fieldType: 'text' as never, groupName: 'stripe' };

  it('a deleted property is unknown to writes and lookups; created again it starts empty', async () => {
    const hs = sdkClient(fake, 41);
    await hs.crm.properties.groupsApi.create('contacts', { name: 'stripe', label: 'Stripe' });
    await hs.crm.properties.coreApi.create('contacts', { ...prop, name: 'stripe_customer_id', hasUniqueValue: true });
    await hs.crm.properties.coreApi.create('contacts', prop);
    const c = await hs.crm.contacts.basicApi.create({ properties: { email: 'a@example.com', stripe_plan: 'Pro', stripe_customer_id: 'cus_1' }, associations: [] });

    await hs.crm.properties.coreApi.archive('contacts', 'stripe_plan');
    const write = await sdkError(hs.crm.contacts.batchApi.update({ inputs: [{ id: c.id, properties: { stripe_plan: 'Max' } }] }));
    expect(write.code).toBe(400);
    expect(write.body.category).toBe('VALIDATION_ERROR');
    expect(String(write.body.message)).toMatch(/^Property values were not valid: .*PROPERTY_DOESNT_EXIST/);
    expect(write.body.errors).toEqual([expect.objectContaining({ code: 'PROPERTY_DOESNT_EXIST', context: { propertyName: ['stripe_plan'] } })]);

    await hs.crm.properties.coreApi.archive('contacts', 'stripe_customer_id');
    const lookup = await sdkError(
      hs.crm.contacts.batchApi.read({ idProperty: 'stripe_customer_id', inputs: [{ id: 'cus_1' }], properties: [], propertiesWithHistory: [] }),
    );
    expect(lookup.code).toBe(400);
    expect(lookup.body.errors).toEqual([expect.objectContaining({ code: 'PROPERTY_DOESNT_EXIST' })]);

    await hs.crm.properties.coreApi.create('contacts', prop);
    expect(fake.portal(41).contacts.get(c.id)!.properties.stripe_plan).toBeUndefined();
    expect(fake.portal(41).contacts.get(c.id)!.properties.email).toBe('a@example.com');
  });

  it('refuses to create a property it was told to, alone and in a batch', async () => {
    const hs = sdkClient(fake, 42);
    await hs.crm.properties.groupsApi.create('contacts', { name: 'stripe', label: 'Stripe' });
    fake.portal(42).refusePropertyCreation('stripe_plan', 'No more custom properties in this portal');
    const one = await sdkError(hs.crm.properties.coreApi.create('contacts', prop));
    expect(one.code).toBe(400);
    expect(one.body).toMatchObject({ category: 'VALIDATION_ERROR', message: 'No more custom properties in this portal' });
    const batch = await hs.crm.properties.batchApi.create('contacts', { inputs: [prop, { ...prop, name: 'stripe_mrr', label: 'MRR' }] });
    expect(batch.results.map((p) => p.name)).toEqual(['stripe_mrr']);
    expect(fake.portal(42).properties.has('stripe_plan')).toBe(false);
  });
});
