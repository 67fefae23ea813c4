import { PROPERTY_GROUP } from '@stripe-hubspot-sync/contracts';
import type { Db } from '../adapters/store/db';
import { migratedDb, type TestDatabase } from '../../test/helpers/db';
import { startFakeHubSpot, type FakeHubSpot } from '../../test/fakes/hubspot/server';
import { createHubSpotAdapter, staticTokenAuth, type HubSpotAdapter } from '../adapters/hubspot/adapter';
import { hubspotGateway } from '../adapters/hubspot/gateway';
import type { CrmGateway, PropertyDefinitionInput, WriteResult } from '../domain/sync/ports';
import { guardProperties } from './property-guard';

/**
 * The property guard against the fake HubSpot, through the real adapter: a pass's create and update refused at
 * the same time for a property a HubSpot user deleted share one provisioning, and both are sent again.
 */

let db: Db;
let target: TestDatabase;
let fake: FakeHubSpot;
let adapter: HubSpotAdapter;
const PORTAL = 7301;

const definitions: PropertyDefinitionInput[] = [
  { name: 'stripe_customer_id', label: 'Stripe customer ID', type: 'string', fieldType: 'text', groupName: PROPERTY_GROUP.name, hasUniqueValue: true },
  { name: 'stripe_delinquent', label: 'Delinquent', type: 'string', fieldType: 'text', groupName: PROPERTY_GROUP.name },
];

beforeAll(async () => {
  ({ db, target } = await migratedDb('pglite'));
  fake = await startFakeHubSpot();
  adapter = createHubSpotAdapter({
    db,
    apiBaseUrl: fake.url,
    rateLimitPer10s: 1000,
    retry: { baseDelayMs: 10, maxDelayMs: 50, rateLimitDelayMs: 20, maxAttempts: 2 },
  });
  fake.addPrivateAppToken('pat-guard', PORTAL);
});
afterAll(async () => {
  adapter.close();
  await fake.close();
  await db.close();
  await target.drop();
});

/**
 * `inner`, with the answers of the first create and the first update held until both have come back: their
 * refusals reach the guard together, as when a pass's two batches are answered at once.
 */
function answeredTogether(inner: CrmGateway): CrmGateway {
  let release!: () => void;
  const both = new Promise<void>((r) => (release = r));
  let waiting = 2;
  const held = async (answer: Promise<Map<string, WriteResult>>) => {
    const a = await answer;
    if (--waiting === 0) release();
    await both;
    return a;
  };
  let firstCreate = true;
  let firstUpdate = true;
  return {
    ...inner,
    portalId: inner.portalId,
    create: (inputs) => (firstCreate ? ((firstCreate = false), held(inner.create(inputs))) : inner.create(inputs)),
    update: (inputs) => (firstUpdate ? ((firstUpdate = false), held(inner.update(inputs))) : inner.update(inputs)),
  };
}

it('sends again both of two writes refused together for a deleted property, after one provisioning', async () => {
  const gateway = hubspotGateway(adapter.portal(staticTokenAuth(PORTAL, 'pat-guard')));
  // A first pass provisions the properties; the next passes trust that for the recheck period.
  await guardProperties(db, gateway, definitions, { recheckMs: 60_000 });
  const existing = fake.portal(PORTAL).addContact({ email: 'existing@example.com', stripe_customer_id: 'cus_old', stripe_delinquent: 'false' });

  const r = await fetch(`${fake.url}/crm/v3/properties/contacts/stripe_delinquent`, {
    method: 'DELETE',
    headers: { Authorization: 'Bearer pat-guard' },
  });
  expect(r.status).toBe(204);

  const guard = await guardProperties(db, answeredTogether(gateway), definitions, { recheckMs: 60_000 });
  const ensureCalls = () => fake.requestCount({ portalId: PORTAL, pathPrefix: '/crm/v3/properties/contacts', method: 'POST' });
  const before = ensureCalls();
  const [created, updated] = await Promise.all([
    guard.gateway.create([{ key: 'cus_new', properties: { email: 'new@example.com', stripe_customer_id: 'cus_new', stripe_delinquent: 'true' } }]),
    guard.gateway.update([{ key: 'cus_old', contactId: existing.id, properties: { stripe_delinquent: 'true' } }]),
  ]);

  expect(created.get('cus_new')).toEqual({ ok: true, contactId: expect.any(String) });
  expect(updated.get('cus_old')).toEqual({ ok: true, contactId: existing.id });
  expect(fake.portal(PORTAL).contacts.get(existing.id)?.properties.stripe_delinquent).toBe('true');
  const fresh = fake.portal(PORTAL).contactByProperty('stripe_customer_id', 'cus_new');
  expect(fresh?.properties.stripe_delinquent).toBe('true');
  // One provisioning for both: the deleted property created once.
  expect(ensureCalls() - before).toBe(1);
  expect(guard.recreated).toEqual(['stripe_delinquent']);
});
