import { dbKinds, useMigratedDb } from '../../../test/helpers/db';
import { owePropertyResends, takePropertyResends } from './push-store';

/**
 * Properties created again in a portal are owed the rewrite of the contacts linked before then: recorded with the
 * creation, taken (and cleared) by the pass that created them, or — when that pass stopped first — by a later pass
 * once the row is old enough to be abandoned. A rewrite queues only the customers linked in that portal before the
 * creation.
 */
const PORTAL = 4711;

async function linkedCustomer(db: ReturnType<ReturnType<typeof useMigratedDb>>, customerId: string, portalId: number, linkedAt: string) {
  await db.query(
    `INSERT INTO customers (account_key, livemode, customer_id, status, version, synced_version, sync_state, synced_properties)
     VALUES ('', false, $1, '{"customerId":"x"}', 3, 3, 'synced', '{"stripe_delinquent":"false","email":"x@example.com"}')`,
    [customerId],
  );
  await db.query(
    `INSERT INTO contact_links (account_key, livemode, customer_id, portal_id, contact_id, matched_by, linked_at) VALUES ('', false, $1, $2, $3, 'created', $4)`,
    [customerId, portalId, `c-${customerId}`, linkedAt],
  );
}

describe.each(dbKinds())('owed property rewrites (%s)', (kind) => {
  const db = useMigratedDb(kind);

  it('are taken once by the creating pass, and a stopped pass leaves them to a later one', async () => {
    await linkedCustomer(db(), 'cus_before', PORTAL, '2026-01-01T00:00:00Z');
    await linkedCustomer(db(), 'cus_other_portal', PORTAL + 1, '2026-01-01T00:00:00Z');
    const createdAt = new Date('2026-02-01T00:00:00Z');
    await linkedCustomer(db(), 'cus_after', PORTAL, '2026-03-01T00:00:00Z');

    await owePropertyResends(db(), PORTAL, ['stripe_delinquent'], createdAt);
    // Another pass that created nothing does not take a fresh row (its creator is still running).
    expect(await takePropertyResends(db(), PORTAL, [], 600)).toEqual({ properties: [], resent: 0 });
    // The creating pass takes it: only the customer linked in that portal before the creation is queued, without
    // the recreated property in what it last wrote.
    expect(await takePropertyResends(db(), PORTAL, ['stripe_delinquent'], 600)).toEqual({ properties: ['stripe_delinquent'], resent: 1 });
    const { rows } = await db().query<{ customer_id: string; pending: boolean; props: Record<string, string> }>(
      `SELECT customer_id, version > synced_version AS pending, synced_properties AS props FROM customers ORDER BY customer_id`,
    );
    expect(rows).toEqual([
      { customer_id: 'cus_after', pending: false, props: { stripe_delinquent: 'false', email: 'x@example.com' } },
      { customer_id: 'cus_before', pending: true, props: { email: 'x@example.com' } },
      { customer_id: 'cus_other_portal', pending: false, props: { stripe_delinquent: 'false', email: 'x@example.com' } },
    ]);
    expect(await takePropertyResends(db(), PORTAL, ['stripe_delinquent'], 600)).toEqual({ properties: [], resent: 0 });

    // A pass that stopped after creating a property: its row is taken over once abandoned.
    await owePropertyResends(db(), PORTAL + 1, ['stripe_delinquent', 'stripe_customer_id'], createdAt);
    expect((await db().query('SELECT name FROM property_resends WHERE portal_id = $1', [PORTAL + 1])).rows).toHaveLength(2);
    expect(await takePropertyResends(db(), PORTAL + 1, [], 600)).toEqual({ properties: [], resent: 0 });
    await db().query(`UPDATE property_resends SET owed_at = now() - interval '11 minutes'`);
    expect(await takePropertyResends(db(), PORTAL + 1, [], 600)).toEqual({ properties: ['stripe_customer_id', 'stripe_delinquent'], resent: 1 });
    expect((await db().query('SELECT 1 FROM property_resends')).rows).toEqual([]);
  });
});
