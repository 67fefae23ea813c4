import { PROPERTY_GROUP } from '@stripe-hubspot-sync/contracts';
import { useHubSpotAdapter } from '../../test/helpers/hubspot-adapter';
import { hubspotGateway } from '../adapters/hubspot/gateway';
import type { CrmGateway, PropertyDefinitionInput, WriteResult } from '../domain/sync/ports';
import { guardProperties } from './property-guard';

/**
 * The property guard against the fake HubSpot, through the real adapter: a pass's create and update refused at
 * the same time for a property a HubSpot user deleted share one provisioning, and both are sent again.
 */

const hs = useHubSpotAdapter({
  rateLimitPer10s: 1000,
  retry: { baseDelayMs: 10, maxDelayMs: 50, rateLimitDelayMs: 20, maxAttempts: 2 },
  firstPortal: 7300,
});

const definitions: PropertyDefinitionInput[] = [
  { name: 'stripe_customer_id', label: 'Stripe customer ID', type: 'string', fieldType: 'text', groupName: PROPERTY_GROUP.name, hasUniqueValue: true },
  { name: 'stripe_delinquent', label: 'Delinquent', type: 'string', fieldType: 'text', groupName: PROPERTY_GROUP.name },
];

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
  const { portalId: PORTAL, portal } = hs.newPortal();
  const gateway = hubspotGateway(portal);
  // A first pass provisions the properties; the next passes trust that for the recheck period.
  await guardProperties(hs.db, gateway, definitions, { recheckMs: 60_000, passToken: 'pass-guard-test' });
  const existing = hs.fake.portal(PORTAL).addContact({ email: 'existing@example.com', stripe_customer_id: 'cus_old', stripe_delinquent: 'false' });

  const r = await fetch(`${hs.fake.url}/crm/v3/properties/contacts/stripe_delinquent`, {
    method: 'DELETE',
    headers: { Authorization: `Bearer pat-${PORTAL}` },
  });
  expect(r.status).toBe(204);

  const guard = await guardProperties(hs.db, answeredTogether(gateway), definitions, { recheckMs: 60_000, passToken: 'pass-guard-test' });
  const ensureCalls = () => hs.fake.requestCount({ portalId: PORTAL, pathPrefix: '/crm/v3/properties/contacts', method: 'POST' });
  const before = ensureCalls();
  const [created, updated] = await Promise.all([
    guard.gateway.create([{ key: 'cus_new', properties: { email: 'new@example.com', stripe_customer_id: 'cus_new', stripe_delinquent: 'true' } }]),
    guard.gateway.update([{ key: 'cus_old', contactId: existing.id, properties: { stripe_delinquent: 'true' } }]),
  ]);

  expect(created.get('cus_new')).toEqual({ ok: true, contactId: expect.any(String) });
  expect(updated.get('cus_old')).toEqual({ ok: true, contactId: existing.id });
  expect(hs.fake.portal(PORTAL).contacts.get(existing.id)?.properties.stripe_delinquent).toBe('true');
  const fresh = hs.fake.portal(PORTAL).contactByProperty('stripe_customer_id', 'cus_new');
  expect(fresh?.properties.stripe_delinquent).toBe('true');
  // One provisioning for both: the deleted property created once.
  expect(ensureCalls() - before).toBe(1);
  expect(guard.recreated).toEqual(['stripe_delinquent']);
});
