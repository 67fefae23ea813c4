import { DELETION_CHOICES, DESTINATION_KINDS } from '@stripe-hubspot-sync/contracts';
import { DESTINATION_ADAPTERS, DESTINATION_PORT } from '../../src/adapters/destinations/registry';
import { checkHubSpot, hubspotErrorClass, hubspotRecordClass, hubspotTraits } from '../../src/adapters/hubspot/destination';
import { hubspotGateway } from '../../src/adapters/hubspot/gateway';
import { staticTokenAuth } from '../../src/adapters/hubspot/adapter';
import { DestinationError, type DestinationPortKind, type RatePacer } from '../../src/domain/destinations/port';
import { useHubSpotAdapter } from '../helpers/hubspot-adapter';

/**
 * The destination port: every destination, HubSpot included, declares what it holds, how a customer is found, its
 * batching and its rate budget, and its failures fall into the port's four classes. HubSpot's classes are read from
 * the real adapter's errors against the fake HubSpot.
 */

const ALL: readonly DestinationPortKind[] = ['hubspot', ...DESTINATION_KINDS];

describe('every destination of the port', () => {
  it('is registered with its traits, HubSpot included', () => {
    expect(Object.keys(DESTINATION_PORT).sort()).toEqual([...ALL].sort());
    for (const kind of ALL) {
      const { traits } = DESTINATION_PORT[kind];
      expect(traits.kind).toBe(kind);
      // Found by the Stripe customer id, then by email, never by email alone.
      expect(traits.identity).toContain('customer_id');
      expect(traits.identity.at(-1)).toBe('email');
      expect(traits.identity.indexOf('customer_id')).toBeLessThan(traits.identity.indexOf('email'));
      expect(traits.maxProfilesPerCall).toBeGreaterThan(0);
      expect(traits.maxEventsPerCall).toBeGreaterThan(0);
      expect(traits.rateBudget.length).toBeGreaterThan(0);
      for (const l of traits.rateBudget) {
        expect(l.count).toBeGreaterThan(0);
        expect(l.windowMs).toBeGreaterThan(0);
      }
    }
  });

  it("offers in its traits exactly the deletion choices the Stripe App offers for it", () => {
    for (const kind of DESTINATION_KINDS) {
      expect([...DESTINATION_PORT[kind].traits.holds.removal]).toEqual(DELETION_CHOICES[kind].filter((c) => c !== 'keep'));
    }
    expect(DESTINATION_PORT.hubspot.traits.holds.removal).toEqual([]);
  });

  it('makes profile adapters that carry the traits the port registers for them', () => {
    const pacer: RatePacer = { acquire: async () => undefined, penalize: async () => undefined };
    for (const kind of DESTINATION_KINDS) {
      const adapter = DESTINATION_ADAPTERS[kind]({ apiKey: 'key-for-tests', baseUrl: 'http://127.0.0.1:9', pacer });
      const { traits } = DESTINATION_PORT[kind];
      expect(adapter.kind).toBe(kind);
      expect(adapter.maxProfilesPerCall).toBe(traits.maxProfilesPerCall);
      expect(adapter.maxEventsPerCall).toBe(traits.maxEventsPerCall);
      expect(adapter.identity).toEqual(traits.identity);
      expect(adapter.rateBudget).toEqual(traits.rateBudget);
    }
  });

  it("classifies a profile adapter's failures by the class it threw (anything else is retryable)", () => {
    const { classify } = DESTINATION_PORT.klaviyo;
    expect(classify(new DestinationError('connection', 'key refused'))).toBe('connection');
    expect(classify(new DestinationError('rate_limited', '429', { retryAfterMs: 1000 }))).toBe('rate_limited');
    expect(classify(new DestinationError('record', 'invalid email'))).toBe('record');
    expect(classify(new Error('socket hang up'))).toBe('retryable');
  });
});

describe('HubSpot as an adapter of the port (real adapter, fake HubSpot)', () => {
  const hs = useHubSpotAdapter({ retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, rateLimitDelayMs: 1, lockedDelayMs: 1 } });

  it("declares this backend's rate budget per portal, and HubSpot's batch size", () => {
    const traits = hubspotTraits(hs.adapter.budget);
    expect(traits.rateBudget).toEqual([
      { bucket: 'crm', count: hs.adapter.budget.limitPer10s, windowMs: 10_000, per: 'HubSpot portal' },
      { bucket: 'search', count: hs.adapter.budget.searchPerSecond, windowMs: 1000, per: 'HubSpot portal' },
    ]);
    expect(traits.maxProfilesPerCall).toBe(100);
    expect(DESTINATION_PORT.hubspot.classify).toBe(hubspotErrorClass);
  });

  it('checks the connection: a label when HubSpot answers, `connection` when it refuses the token', async () => {
    const { portalId } = hs.newPortal();
    const auth = staticTokenAuth(portalId, `pat-${portalId}`);
    await expect(checkHubSpot(hs.adapter.callHubSpot, auth)).resolves.toEqual({ label: `HubSpot portal ${portalId}` });
    const refused = await checkHubSpot(hs.adapter.callHubSpot, staticTokenAuth(portalId, 'pat-revoked')).catch((e: unknown) => e);
    expect(hubspotErrorClass(refused)).toBe('connection');
  });

  it.each([
    [401, 'connection'],
    [429, 'rate_limited'],
    [503, 'retryable'],
    [423, 'retryable'],
    [400, 'record'],
  ] as const)('a whole call answered %i is `%s`', async (status, expected) => {
    const { portal } = hs.newPortal();
    hs.fake.inject.failNext(1, status);
    const err = await hubspotGateway(portal)
      .findByEmail(['ada@example.com'])
      .then(() => null, (e: unknown) => e);
    expect(err).not.toBeNull();
    expect(hubspotErrorClass(err)).toBe(expected);
  });

  it('classifies per-record results: a refused email is `record`, a batch HubSpot rate limited is `rate_limited`', async () => {
    const { portal } = hs.newPortal();
    const gw = hubspotGateway(portal);
    const refused = (await gw.create([{ key: 'cus_bad', properties: { email: 'not-an-email' } }])).get('cus_bad');
    expect(refused?.ok).toBe(false);
    expect(hubspotRecordClass(refused && !refused.ok ? refused : undefined)).toBe('record');

    hs.fake.inject.failNext(1, 429);
    const limited = (await gw.create([{ key: 'cus_ok', properties: { email: 'grace@example.com' } }])).get('cus_ok');
    expect(limited?.ok).toBe(false);
    expect(hubspotRecordClass(limited && !limited.ok ? limited : undefined)).toBe('rate_limited');

    const written = (await gw.create([{ key: 'cus_ok', properties: { email: 'grace@example.com' } }])).get('cus_ok');
    expect(written?.ok).toBe(true);
  });

  it('treats a record HubSpot answered nothing for as a dead letter (`record`), not an endless retry', () => {
    expect(hubspotRecordClass(undefined)).toBe('record');
  });
});
