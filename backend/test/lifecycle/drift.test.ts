import { completenessPlugin, type CompletenessHandle } from '../../src/jobs/backfill/plugin';
import { driftCheck, sameValue } from '../../src/jobs/drift-check';
import { createLogger } from '../../src/logger';
import { dbKinds } from '../helpers/db';
import { startSyncHarness, type SyncHarness } from '../helpers/sync-harness';
import { stripeEvent, stripeObject } from '../helpers/stripe-fixtures';

/**
 * The drift check reads a sample of linked contacts back from HubSpot and repairs what differs from what we
 * last wrote; a linked contact that is gone is forgotten (no re-creation behind the merchant's back).
 */
describe('sameValue', () => {
  it('allows for how HubSpot formats what we wrote', () => {
    expect(sameValue('12.5', '12.50')).toBe(true);
    expect(sameValue('1700000000000', '2023-11-14T22:13:20Z')).toBe(true);
    expect(sameValue(String(Date.UTC(2023, 10, 14)), '2023-11-14')).toBe(true);
    expect(sameValue('Ada@Example.com', 'ada@example.com')).toBe(true);
    expect(sameValue('', null)).toBe(true);
    expect(sameValue('active', 'canceled')).toBe(false);
    expect(sameValue('12.5', '13')).toBe(false);
    expect(sameValue('x', null)).toBe(false);
    expect(sameValue(String(Date.UTC(2023, 10, 14)), '2023-11-15')).toBe(false);
  });
});

describe.each(dbKinds())('drift check (%s)', (kind) => {
  let h: SyncHarness;
  let handle: CompletenessHandle | undefined;
  beforeAll(async () => {
    h = await startSyncHarness({
      kind,
      engine: { plugins: [completenessPlugin({ recovery: { tickMs: 3_600_000 }, expose: (x) => (handle = x) })] },
    });
    // The schedule's first run (a few seconds after start) checks drift too: it runs now, on no customers, and is
    // not due again for an hour, so only the tests' own checks compare contacts.
    await handle!.schedule.tick();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('repairs a contact edited in HubSpot and forgets one that was deleted', async () => {
    const created = 1_793_000_000;
    for (const id of ['cus_drift1', 'cus_drift2', 'cus_drift3']) {
      await h.send(stripeEvent('customer.created', stripeObject('customer', { id, email: `${id}@example.com`, created }), { created }));
    }
    await h.idle();
    const edited = h.contactOf('cus_drift1')!;
    const deleted = h.contactOf('cus_drift2')!;
    const original = edited.properties.stripe_dashboard_url;
    expect(original).toMatch(/^https:\/\/dashboard\.stripe\.com\//);
    edited.properties.stripe_dashboard_url = 'https://example.com/edited-by-hand';
    deleted.archived = true;

    const result = await handle!.driftCheck({ account: '', livemode: false });
    expect(result).toEqual({ checked: 3, repaired: 1, missing: 1 });
    await h.idle();
    expect(h.contactOf('cus_drift1')!.properties.stripe_dashboard_url).toBe(original);
    const { rows } = await h.server.db.query<{ customer_id: string; sync_state: string; linked: boolean }>(
      `SELECT c.customer_id, c.sync_state, EXISTS (SELECT 1 FROM contact_links l WHERE l.customer_id = c.customer_id) AS linked
         FROM customers c ORDER BY c.customer_id`,
    );
    expect(rows).toEqual([
      { customer_id: 'cus_drift1', sync_state: 'synced', linked: true },
      { customer_id: 'cus_drift2', sync_state: 'skipped', linked: false },
      { customer_id: 'cus_drift3', sync_state: 'synced', linked: true },
    ]);
    // Nothing re-created the deleted contact.
    expect(h.contacts().filter((c) => c.properties.email === 'cus_drift2@example.com')).toHaveLength(0);
    expect(await handle!.driftCheck({ account: '', livemode: false })).toEqual({ checked: 2, repaired: 0, missing: 0 });
    const metrics = await h.server.metrics.registry.getSingleMetricAsString('drift_repairs_total');
    expect(metrics).toMatch(/drift_repairs_total\{reason="differs"\} 1/);
    expect(metrics).toMatch(/drift_repairs_total\{reason="missing"\} 1/);
  });

  it('repairs nothing when our own newer write lands between the sample and the read', async () => {
    const created = 1_793_100_000;
    const customer = stripeObject('customer', { id: 'cus_drift_race', email: 'race-v1@example.com', created });
    await h.send(stripeEvent('customer.created', customer, { created }));
    await h.idle();
    const versionOf = async () =>
      (
        await h.server.db.query<{ version: string; synced_version: string; sync_state: string }>(
          `SELECT version, synced_version, sync_state FROM customers WHERE customer_id = 'cus_drift_race'`,
        )
      ).rows[0];
    const sampled = await versionOf();
    expect(sampled).toEqual({ version: sampled.synced_version, synced_version: sampled.synced_version, sync_state: 'synced' });

    // The check samples what we last wrote, then its read waits (the portal's budget): meanwhile the customer's
    // email changes and that newer write lands in HubSpot. HubSpot then differs from the sample, but it holds our
    // own newest write: no repair is queued.
    const changes: string[] = [];
    const result = await driftCheck(
      {
        db: h.server.db,
        logger: createLogger({ level: 'silent' }),
        sampleSize: 100,
        readerFor: async (account, livemode) => {
          const real = await handle!.readerFor(account, livemode);
          if (!real) return null;
          return {
            portalId: real.portalId,
            reader: {
              async readContacts(ids, properties) {
                const updated = { ...customer, email: 'race-v2@example.com' };
                await h.send(stripeEvent('customer.updated', updated, { created: created + 1 }));
                await h.idle();
                changes.push(h.contactOf('cus_drift_race')!.properties.email);
                return real.reader.readContacts(ids, properties);
              },
            },
          };
        },
      },
      { account: '', livemode: false },
    );
    expect(changes).toEqual(['race-v2@example.com']);
    expect(result.repaired).toBe(0);
    expect(result.checked).toBeGreaterThan(0);
    const after = await versionOf();
    expect(Number(after.version)).toBe(Number(sampled.version) + 1);
    expect(after).toEqual({ version: after.version, synced_version: after.version, sync_state: 'synced' });
  });
});
